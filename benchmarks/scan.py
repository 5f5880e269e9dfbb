"""Scan benchmark: fleetshift scan (cold and warm) against ast-grep and ruff, measured in the same run on the
same generated fleet, and against `grep -rl` and LibCST-parsing every file.

Generates a fleet shaped like real services with benchmarks/fleetgen.py (default 300 services of 34 files: about
half the Python files tests, module lengths lognormal with median ~150 lines, mean ~195, up to ~1,500; ~10 % of
the Python files holding a site of a migrated library blended into a long module; 300 services are ~10,200
files, ~60 MB, ~5.8 kB per file), prints its size, then times, in the same run on the same machine, rounds of:

  ast-grep  `ast-grep scan` with one import rule per migrated library's module (pytest, pytest_asyncio,
            tenacity, asyncio_mqtt, aiomqtt, influxdb_client, dotenv): `import X[.y]` and `from X[.y] import ...`
  ruff      `ruff check --no-cache --select TID251` with those modules as flake8-tidy-imports banned-api
  cold      `fleetshift scan --json` by a fresh process after deleting .fleetshift/cache (interpreter start-up
            and imports included: the scan as a user runs it)
  warm      a second `fleetshift scan --json` by a fresh process, with the cache of the first, nothing changed
            (answered from the snapshot the first scan kept, fleetshift.quickscan)
  edit1     a third, after one file was edited: the full scan, which reads only that file (fleetshift.scancache)
  grep      grep -rl with every recipe token over the fleet (the floor: read every byte once)

The same cold and warm scans are also timed in this process (`survey` plus the JSON rendering, without
interpreter start-up and imports), and LibCST's `parse_module` on every Python file (measured on a sample,
scaled to all files). Each figure is the median of its rounds; the rounds interleave the tools, so a busy
machine slows every tool alike. ast-grep and ruff are installed with `uv` into the benchmark's own
environment (reused from --tools-dir), never into fleetshift's.

Targets (verdict on the fresh-process figures): cold <= 1.0x ast-grep, warm <= 0.5x ast-grep.

    python benchmarks/scan.py [--services 300] [--files-per-service 34] [--repeat 5] [--keep DIR] [--tools-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fleetgen_small
import libcst
from fleetgen import describe, generate  # generate: re-exported for the tests that build a fleet with it

from fleetshift.recipes import all_recipes

MODULES = {  # the migrated libraries' import names, as ast-grep and ruff are told of them
    "pytest": "pytest", "pytest_asyncio": "pytest-asyncio", "tenacity": "tenacity", "asyncio_mqtt": "asyncio-mqtt",
    "aiomqtt": "aiomqtt", "influxdb_client": "influxdb-client", "dotenv": "python-dotenv",
}
AST_GREP_RULE = """id: import-{module}
language: python
severity: info
message: imports {module} ({package})
rule:
  any:
    - kind: import_statement
      has:
        stopBy: end
        kind: dotted_name
        regex: ^{module}(\\.|$)
    - kind: import_from_statement
      has:
        field: module_name
        regex: ^{module}(\\.|$)
"""


def tools_env(folder: Path) -> tuple[Path, Path]:
    """ast-grep and ruff in the benchmark's own `uv` virtual environment (created once, then reused)."""
    bindir = folder / ("Scripts" if os.name == "nt" else "bin")
    ast_grep, ruff = bindir / "ast-grep", bindir / "ruff"
    if not (ast_grep.exists() and ruff.exists()):
        uv = shutil.which("uv")
        if uv is None:
            sys.exit("benchmarks/scan.py needs uv (https://docs.astral.sh/uv/) to install ast-grep and ruff")
        subprocess.run([uv, "venv", "-q", str(folder)], check=True)
        subprocess.run([uv, "pip", "install", "-q", "--python", str(bindir / "python"), "ast-grep-cli", "ruff"],
                       check=True)
    return ast_grep, ruff


def tool_configs(folder: Path) -> tuple[Path, Path]:
    """The ast-grep project (sgconfig.yml and one rule file per module) and the ruff.toml, outside the fleet."""
    rules = folder / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    for module, package in MODULES.items():
        (rules / f"{module}.yml").write_text(AST_GREP_RULE.format(module=module, package=package))
    sgconfig = folder / "sgconfig.yml"
    sgconfig.write_text("ruleDirs:\n  - rules\n")
    ruff_toml = folder / "ruff.toml"
    ruff_toml.write_text("[lint.flake8-tidy-imports.banned-api]\n"
                         + "".join(f'"{m}".msg = "{p} is migrated"\n' for m, p in MODULES.items()))
    return sgconfig, ruff_toml


def timed(cmd: list[str], out: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all threads) of one command; its stdout goes to `out` (or nowhere)."""
    with open(out or os.devnull, "wb") as sink:
        before = os.times()
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=sink, stderr=subprocess.PIPE, check=False, env=env)
        took = time.perf_counter() - start
        after = os.times()
    if done.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    return took, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def in_process(root: Path, cold: bool) -> float:
    """Seconds of one scan in this process: the survey (config, discovery, scan) and its JSON rendering."""
    from fleetshift.model import to_jsonable
    from fleetshift.pipeline import survey

    if cold:
        shutil.rmtree(root / ".fleetshift", ignore_errors=True)
    start = time.perf_counter()
    json.dumps(to_jsonable(survey(root).inventory))
    return time.perf_counter() - start


def verdict(ratio: float, target: float) -> str:
    return f"(target <= {target:.1f}x: {'met' if ratio <= target else 'NOT met'})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=300)
    ap.add_argument("--files-per-service", type=int, default=34)
    ap.add_argument("--share", type=float, default=0.10, help="share of files that touch a migrated library")
    ap.add_argument("--shape", choices=("real", "small"), default="real",
                    help="real: fleetgen.py, modules shaped like real services (default); small: fleetgen_small.py, "
                         "the ~25-line modules the first targets were measured on")
    ap.add_argument("--libcst-sample", type=int, default=600, help="files parsed with LibCST (0 = all)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds; each figure is the median of its rounds")
    ap.add_argument("--keep", type=Path, help="generate the fleet here and keep it")
    ap.add_argument("--tools-dir", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "fleetshift-bench" / "tools", help="the uv environment holding ast-grep and ruff")
    args = ap.parse_args()

    ast_grep, ruff = tools_env(args.tools_dir)
    versions = [subprocess.run([t, "--version"], capture_output=True, text=True).stdout.strip() for t in (ast_grep, ruff)]
    work = Path(tempfile.mkdtemp(prefix="fleetshift-bench-tools-"))
    sgconfig, ruff_toml = tool_configs(work)
    root = (args.keep or Path(tempfile.mkdtemp(prefix="fleetshift-bench-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    make = fleetgen_small.generate if args.shape == "small" else generate
    n = make(root, args.services, args.files_per_service, args.share)
    py_files = sorted(root.rglob("*.py"))
    print(f"fleet: {root}  services={args.services}  files={n}  python={len(py_files)}  cores={os.cpu_count()}  "
          f"load={os.getloadavg()[0]:.1f}")
    print(f"fleet ({args.shape}): {describe(root)}  share={args.share}")
    print(f"peers: {', '.join(versions)}")

    tokens = sorted({t.decode() for r in all_recipes() for t in r.tokens})
    grep = ["grep", "-rlF", "--include=*.py", *[a for t in tokens for a in ("-e", t)], str(root)]
    scan = [sys.executable, "-m", "fleetshift", "scan", "--json", str(root)]
    sg = [str(ast_grep), "scan", "-c", str(sgconfig), "--json=compact", str(root)]
    rf = [str(ruff), "check", "--config", str(ruff_toml), "--no-cache", "--select", "TID251", "--output-format",
          "json", "--exit-zero", str(root)]
    cache = root / ".fleetshift"
    # fleetshift runs as installed: its modules' bytecode cached (as pip's install writes it), here in a folder
    # of the benchmark's own, so a PYTHONDONTWRITEBYTECODE in the caller's environment does not make every
    # fresh process compile fleetshift from source
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    timed(scan, env=env)  # writes the bytecode
    in_process(root, cold=True)  # loads every module the scan needs once, so the in-process rounds time the work
    names = ("ast-grep", "ruff", "grep", "cold", "warm", "edit1")
    edited = next((p for p in sorted((root / "services" / "svc-000").rglob("*.py"))  # no token of any recipe
                  if not any(t.encode() in p.read_bytes() for t in tokens)), py_files[0])
    wall: dict[str, list[float]] = {k: [] for k in (*names, "in-cold", "in-warm")}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    outputs = {k: work / f"{k}.json" for k in ("ast-grep", "ruff", "cold", "warm")}
    edited_at = time.time()  # the fleet was just written
    for _ in range(args.repeat):
        for name, cmd in (("ast-grep", sg), ("ruff", rf), ("grep", grep), ("cold", scan), ("warm", scan),
                          ("edit1", scan)):
            if name == "cold":
                shutil.rmtree(cache, ignore_errors=True)
                # the last round's edit settles first (untimed): a scan keeps no snapshot of a fleet holding a file
                # modified within the last 2 s (fleetshift.quickscan.SETTLED_NS), and the warm round is the scan
                # of a fleet unchanged since its last scan, not of one edited a moment ago
                time.sleep(max(0.0, edited_at + 2.1 - time.time()))
            if name == "edit1":  # one file edited since the warm scan: the full scan, reading only that file
                with open(edited, "a") as fh:
                    fh.write("\n")
                edited_at = time.time()
            took, used = timed(cmd, outputs.get(name), env=env)
            wall[name].append(took)
            cpu[name].append(used)
        wall["in-cold"].append(in_process(root, cold=True))
        wall["in-warm"].append(in_process(root, cold=False))
    t = {k: statistics.median(v) for k, v in wall.items()}
    c = {k: statistics.median(v) for k, v in cpu.items()}

    sample = py_files if args.libcst_sample == 0 else random.Random(1).sample(py_files, min(args.libcst_sample, len(py_files)))
    start = time.perf_counter()
    for path in sample:
        libcst.parse_module(path.read_bytes())
    t_libcst = (time.perf_counter() - start) * len(py_files) / len(sample)

    found = {k: json.loads(outputs[k].read_text() or "[]") for k in outputs}
    importing = {k: len({m["file"] if k == "ast-grep" else m["filename"] for m in found[k]}) for k in ("ast-grep", "ruff")}
    same = "identical" if found["cold"] == found["warm"] else "DIFFERENT"
    sites = sum(len(s["sites"]) for s in found["cold"]["services"])
    print(f"{'':16} {'wall':>8}   {'cpu':>8}")
    print(f"ast-grep         {t['ast-grep']:8.3f} s {c['ast-grep']:8.3f} s   {len(found['ast-grep'])} imports in "
          f"{importing['ast-grep']} files")
    print(f"ruff             {t['ruff']:8.3f} s {c['ruff']:8.3f} s   {len(found['ruff'])} imports in {importing['ruff']} files")
    print(f"grep -rl         {t['grep']:8.3f} s {c['grep']:8.3f} s")
    for name, target in (("cold", 1.0), ("warm", 0.5)):
        ratio = t[name] / t["ast-grep"]
        print(f"scan {name}        {t[name]:8.3f} s {c[name]:8.3f} s   {ratio:5.2f}x ast-grep {verdict(ratio, target)}"
              f"   {t[name] / t['ruff']:5.1f}x ruff   {t[name] / t['grep']:5.1f}x grep")
    print(f"scan 1 edit      {t['edit1']:8.3f} s {c['edit1']:8.3f} s   {t['edit1'] / t['ast-grep']:5.2f}x ast-grep"
          "   (warm, one file edited since: the full scan, reading only that file)")
    print(f"  in-process     cold {t['in-cold']:.3f} s ({t['in-cold'] / t['ast-grep']:.2f}x ast-grep), "
          f"warm {t['in-warm']:.3f} s ({t['in-warm'] / t['ast-grep']:.2f}x ast-grep)")
    print(f"  scan found {sites} usage sites; cold and warm output {same}")
    label = "all files" if len(sample) == len(py_files) else f"{len(sample)}-file sample, scaled"
    print(f"libcst all files {t_libcst:8.3f} s   cold scan is {t_libcst / t['cold']:6.1f}x faster   ({label})")
    print("verdict: fresh-process figures (interpreter start-up and imports included), medians of "
          f"{args.repeat} interleaved rounds")
    shutil.rmtree(work, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
