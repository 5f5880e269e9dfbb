"""What a fresh `fleetshift scan --json` process loads: only what the scan of the fleet needs. Every module below is
imported on first use by the commands or files that need it (the command line, TOML and YAML readers, the entry
points of installed distributions, the rewriting), so a scan of a fleet that has no such files never pays for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fleet_factory import make_fleet

import fleetshift

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(fleetshift.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}

# requirements files and Python only: no TOML, INI, YAML or compose file anywhere
PLAIN_FLEET: dict[str, str | bytes] = {
    "services/alpha/requirements.txt": "tenacity==8.2.3\nasyncio-mqtt==0.16.2\npytest==8.3.5\n",
    "services/alpha/alpha/__init__.py": "",
    "services/alpha/alpha/jobs.py": """
        from tenacity import retry, stop_after_attempt


        @retry(stop=stop_after_attempt(3))
        def fetch():
            return 1


        def stats():
            return fetch.retry.statistics
        """,
    "services/alpha/alpha/bus.py": """
        from asyncio_mqtt import Client


        async def listen():
            async with Client("broker") as client:
                async with client.messages() as messages:
                    await client.subscribe("a/#")
                    async for message in messages:
                        print(message.payload)
        """,
    "services/beta/requirements.txt": "python-dotenv==1.0.1\npytest==8.3.5\npytest-asyncio==0.23.8\n",
    "services/beta/beta/__init__.py": "",
    "services/beta/beta/settings.py": "from dotenv import load_dotenv\n\nload_dotenv()\n",
    "services/beta/tests/test_settings.py": """
        import pytest


        @pytest.mark.asyncio
        async def test_load(event_loop):
            assert True
        """,
}

# the modules `scan --json` of that fleet must not import (by itself or in the process it forks)
NEVER = (
    "libcst", "typer", "click", "rich", "pydantic", "networkx",  # rewriting, the command line, rendering, planning
    "yaml", "tomlkit", "tomllib",  # readers of files the fleet has none of
    "importlib.metadata", "email",  # entry points: no distribution on the path declares a recipe
    "fleetshift.cli", "fleetshift.gitops", "fleetshift.plan", "fleetshift.rewrite", "fleetshift.recipes.fixes",
)


PROBE = """
import atexit, os, runpy, sys

folder, argv = sys.argv[1], sys.argv[2:]


def dump():  # this process's modules, by pid: the scan may fork a second process, which leaves by os._exit
    with open(os.path.join(folder, f"{os.getpid()}.txt"), "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))


leave = os._exit
os._exit = lambda code: (dump(), leave(code))
atexit.register(dump)
sys.argv = ["fleetshift", *argv]
runpy.run_module("fleetshift", run_name="__main__", alter_sys=True)
"""


def imported(argv: list[str], folder: Path) -> tuple[set[str], str]:
    """Every module a fresh `python -m fleetshift ARGV` holds at its end (and any process it forks), and its
    output. (`-X importtime` does not tell: it leaves out what `importlib.import_module` loads.)"""
    folder.mkdir()
    proc = subprocess.run([sys.executable, "-c", PROBE, str(folder), *argv], capture_output=True, text=True, env=ENV,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name for f in folder.iterdir() for name in f.read_text().split()}, proc.stdout


def test_scan_json_imports_only_what_the_scan_needs(tmp_path: Path) -> None:
    root = make_fleet(tmp_path / "fleet", PLAIN_FLEET)
    for round_ in ("cold", "cache"):  # the full scan, then the scan reading its cache (the snapshot is not kept:
        (root / "services" / "alpha" / "alpha" / "jobs.py").touch()  # a file is not settled yet)
        names, out = imported(["scan", "--json", str(root)], tmp_path / round_)
        sites = {s["rule"] for svc in json.loads(out)["services"] for s in svc["sites"]}
        assert {"tenacity/retry-statistics", "aiomqtt/messages-iterator"} <= sites, (round_, sites)  # it really scanned
        assert "fleetshift.scan" in names and "fleetshift.recipes.tenacity" in names, round_
        loaded = sorted(n for n in names if n in NEVER or n.split(".")[0] in NEVER)
        assert loaded == [], (round_, loaded)


def test_scan_json_without_the_cache_runs_without_the_command_line(tmp_path: Path) -> None:
    """`scan --json --no-cache` (the options in any order) loads no more than `scan --json`, prints the same
    inventory, and writes nothing in the fleet: no cache, no snapshot."""
    root = make_fleet(tmp_path / "fleet", PLAIN_FLEET)
    outputs = []
    for i, argv in enumerate((["scan", "--json", "--no-cache", str(root)], ["scan", str(root), "--no-cache", "--json"])):
        names, out = imported(argv, tmp_path / f"nocache{i}")
        loaded = sorted(n for n in names if n in NEVER or n.split(".")[0] in NEVER)
        assert loaded == [], (argv, loaded)
        assert not (root / ".fleetshift").exists(), argv
        outputs.append(json.loads(out))
    _, out = imported(["scan", "--json", str(root)], tmp_path / "cached")
    assert outputs == [json.loads(out)] * 2


def test_a_fleet_with_toml_and_yaml_still_reads_them(tmp_path: Path) -> None:
    """The readers are imported where they are needed: a pyproject.toml and a CI workflow are still read."""
    root = make_fleet(tmp_path / "fleet", {
        **PLAIN_FLEET,
        "services/alpha/pyproject.toml": '[project]\nname = "alpha"\nrequires-python = ">=3.9"\n',
        "services/alpha/.github/workflows/ci.yml": (
            "on: push\njobs:\n  test:\n    strategy:\n      matrix:\n        python-version: ['3.10', '3.12']\n"
            "    steps:\n      - run: python -m pytest -q\n"
        ),
    })  # fmt: skip
    names, out = imported(["scan", "--json", str(root)], tmp_path / "modules")
    assert {"tomllib", "yaml"} <= names and "tomlkit" not in names  # tomlkit: only for a text tomllib refuses
    alpha = next(s for s in json.loads(out)["services"] if s["service"] == "alpha")
    declared = {(d["kind"], d["value"]) for d in alpha["project"]["pythons"]["declarations"]}
    assert {("requires-python", ">=3.9"), ("github-actions", "3.10"), ("github-actions", "3.12")} <= declared, declared


PLUGIN = '''
from fleetshift.recipes.base import Recipe


class Extra(Recipe):
    id = "extra"
    title = "Extra"
    package = "extra-lib"
    migrates_from = "<2"
    migrates_to = ">=2"
    tokens = (b"extra_lib",)


RECIPE = Extra()
'''


def test_recipe_plugins_are_still_found(tmp_path: Path) -> None:
    """A distribution on the path declaring a `fleetshift.recipes` entry point is loaded as before (then
    importlib.metadata is imported); without one it is not imported at all."""
    probe = (
        "import sys\nfrom fleetshift.recipes import all_recipes\n"
        "print(sorted(r.id for r in all_recipes()), 'importlib.metadata' in sys.modules)\n"
    )

    def run(extra: Path | None) -> str:
        env = dict(ENV)
        if extra is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(extra), env["PYTHONPATH"]])
        proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    plain = run(None)
    assert plain.endswith("False") and "'extra'" not in plain, plain
    plugins = make_fleet(tmp_path / "plugins", {
        "extra_recipe.py": PLUGIN,
        "extra_recipe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: extra-recipe\nVersion: 1.0\n",
        "extra_recipe-1.0.dist-info/entry_points.txt": "[fleetshift.recipes]\nextra = extra_recipe\n",
    })  # fmt: skip
    found = run(plugins)
    assert "'extra'" in found and found.endswith("True"), found
    # a distribution with entry points of other groups only: nothing to load, importlib.metadata not asked
    other = make_fleet(tmp_path / "other", {
        "other-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n",
        "other-1.0.dist-info/entry_points.txt": "[console_scripts]\nother = other:main\n",
    })  # fmt: skip
    assert run(other) == plain


def test_the_answered_process_ends_as_any_process_does(tmp_path: Path) -> None:
    """`python -m fleetshift scan --json` (and the `fleetshift` command) leaves without the interpreter's teardown once
    it has answered: the whole output is out, the exit handlers ran, the exit code is 0; a reader that leaves early
    is no error. The command line's commands end as they always did."""
    root = make_fleet(tmp_path / "fleet", PLAIN_FLEET)
    past = time.time() - 60  # settled files: the first scan keeps a snapshot, the second is answered from it
    for path in root.rglob("*.*"):
        os.utime(path, (past, past))
    time.sleep(2.1)  # and their ctime, which no utime sets back
    mark, torn = tmp_path / "atexit-ran", tmp_path / "torn-down"
    probe = (
        "import atexit, pathlib, runpy, sys\n"
        f"atexit.register(lambda: pathlib.Path({str(mark)!r}).write_text('yes'))\n"
        "class Held:  # freed only by the interpreter's teardown\n"
        f"    def __del__(self, path={str(torn)!r}, open=open): open(path, 'w').close()\n"
        "sys.held = Held()\n"
        "sys.argv = ['fleetshift', *sys.argv[1:]]\n"
        "runpy.run_module('fleetshift', run_name='__main__', alter_sys=True)\n"
        "raise SystemExit(3)  # not reached: the answered process ended above\n"
    )
    for round_ in ("full", "snapshot"):
        proc = subprocess.run([sys.executable, "-c", probe, "scan", "--json", str(root)], capture_output=True,
                              text=True, env=ENV, timeout=120)
        assert proc.returncode == 0 and proc.stderr == "", (round_, proc.returncode, proc.stderr)
        assert json.loads(proc.stdout)["services"] and mark.read_text() == "yes", round_
        assert not torn.exists(), round_
        mark.unlink()
    assert (root / ".fleetshift" / "cache" / "snapshot.pickle").is_file()
    # the `fleetshift` command (its console script calls `run`) ends the same way after an answered scan --json ...
    script = probe.replace("runpy.run_module('fleetshift', run_name='__main__', alter_sys=True)",
                           "from fleetshift.__main__ import run\nsys.exit(run())")
    assert script != probe
    proc = subprocess.run([sys.executable, "-c", script, "scan", "--json", str(root)], capture_output=True, text=True,
                          env=ENV, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout) and mark.read_text() == "yes" and not torn.exists()
    mark.unlink()
    # ... and a command of the command line ends the ordinary way (it may hold what only a finalizer closes: the
    # journal's database), with its own exit code (check: 1, sites to migrate)
    for way in (probe, script):
        proc = subprocess.run([sys.executable, "-c", way, "check", "--json", str(root)], capture_output=True,
                              text=True, env=ENV, timeout=120)
        assert proc.returncode == 1 and json.loads(proc.stdout) and mark.read_text() == "yes", proc.stderr[-2000:]
        assert torn.exists()
        mark.unlink()
        torn.unlink()
    # the reader takes a few bytes and leaves
    reader = subprocess.Popen([sys.executable, "-m", "fleetshift", "scan", "--json", str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(1)
    reader.stdout.close()
    assert reader.wait(timeout=120) == 0
    assert b"Traceback" not in reader.stderr.read()


def test_the_state_taken_aside_is_the_state(tmp_path: Path) -> None:
    """The fleet's state walked by a forked process while the scan's modules load is the state walked here."""
    from fleetshift import quickscan

    root = make_fleet(tmp_path / "fleet", PLAIN_FLEET).resolve()
    taken = quickscan.state_aside(root)()
    assert taken is not None and isinstance(taken[0], bytes)  # the entries as the walking process pickled them
    assert (quickscan._entries(taken), taken[1]) == quickscan.fleet_state(root)
    assert set(quickscan._entries(taken)) >= {"services/alpha/requirements.txt", "services/beta/tests/test_settings.py"}
    # a file changed once the walk was asked for, even with its mtime set back (its ctime moves): never settled
    past = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    time.sleep(2.1)
    assert quickscan.fleet_state(root)[1]  # type: ignore[index]
    since = time.time_ns()  # (as `state_aside` notes the moment it is asked, before the scan reads anything)
    jobs = root / "services" / "alpha" / "alpha" / "jobs.py"
    jobs.write_text("x = 1\n")
    os.utime(jobs, (past, past))
    taken = quickscan.fleet_state(root, since)
    assert taken is not None and not taken[1]
    (root / "services" / "link").symlink_to(root / "services" / "alpha")  # no state (a link): none either way
    assert quickscan.state_aside(root)() is None
