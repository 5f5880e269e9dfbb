"""The API check: every use of the migrated libraries' names in a service, production code included, checked
against the release installed in the environment, beside the tests.

A suite does not reach every path: a loop that needs a broker, a query that needs a database. mypy, run from
its own environment with `--python-executable` pointing at the service's environment, reads the installed
release (the migrated libraries ship their types) and says which names do not exist any more, which
properties are called as methods, which keyword arguments are gone and which awaitables are not awaited.

On the baseline (old pins, original files) the check runs on the files that import the migrated libraries and
keeps every diagnostic; after the migration it runs on the files the migration touched and keeps the
diagnostics that involve the migrated libraries' names (a name the library exports, a class member of it, a
name the file imports from it). A diagnostic after that the baseline did not have (same file, code and
message: lines move) is a regression like a failing test. Test tooling (pytest and its plugins) is left to the
tests themselves.

The checker is a pinned mypy installed once with uv into `<fleet>/.fleetshift/cache/apicheck/`, its cache (the
standard library's types read once for every service) under the same folder; only the files that matter are
checked, following (silently) the migrated libraries and the service's own modules, skipping the rest.
Never raises: a check that cannot run says why (`ApiCheck.error`) and is no regression.
"""

from __future__ import annotations

import ast
import builtins
import json
import posixpath
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from uv import find_uv_bin

from fleetshift import astparse
from fleetshift.model import ApiCheck, ApiDiagnostic, Service
from fleetshift.proc import run_captured
from fleetshift.resolve import uv_env
from fleetshift.verify.coverage import module_names

MYPY = "mypy==1.13.0"
CHECKER = "mypy 1.13.0"
CHECK_DIR = ".fleetshift/cache/apicheck"
TIMEOUT = 240.0
TEST_TOOLS = re.compile(r"^(pytest|pytest-.*|py|nose2?|hypothesis|coverage|tox|nox)$")
_install_lock = threading.Lock()
# what the check is for: names that do not exist (attr-defined, union-attr; a module's too), properties called
# as methods (operator: "... not callable"), removed keyword arguments (call-arg), awaitables not awaited
# (unused-coroutine), modules gone (import-not-found). Type mismatches (arg-type ...) are left to the tests.
API_CODES = frozenset({"attr-defined", "union-attr", "operator", "call-arg", "unused-coroutine", "import-not-found"})
# an attribute looked up on a function: decorators (tenacity's `f.statistics`) add them at runtime, unseen
_ON_A_FUNCTION = re.compile(r'^"(Callable\[|def |Overload\(|overloaded function)')

# Run in the service's environment: the migrated distributions' top-level modules and the names they define
# (module attributes, and the members of the classes they define). The library is imported, not the service.
_NAMES = r"""
import importlib, importlib.metadata as md, inspect, json, sys
out, dists = sys.argv[1], sys.argv[2:]
modules, names = set(), set()
for d in dists:
    try:
        dist = md.distribution(d)
    except md.PackageNotFoundError:
        continue
    top = (dist.read_text("top_level.txt") or "").split()
    if not top:
        for f in dist.files or ():
            parts = str(f).split("/")
            if parts[0].endswith((".dist-info", ".data")) or parts[0] == "..":
                continue
            if len(parts) > 1 or parts[0].endswith(".py"):
                top.append(parts[0][:-3] if parts[0].endswith(".py") else parts[0])
    for m in dict.fromkeys(t for t in top if t.isidentifier() and not t.startswith("_")):
        modules.add(m)
        try:
            mod = importlib.import_module(m)
        except BaseException:
            continue
        for sub in [mod, *[v for v in vars(mod).values() if inspect.ismodule(v) and v.__name__.startswith(m + ".")]]:
            for k, v in list(vars(sub).items()):
                if k.startswith("_"):
                    continue
                names.add(k)
                if inspect.isclass(v) and getattr(v, "__module__", "").split(".")[0] == m:
                    names.update(n for n in dir(v) if not n.startswith("_"))
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"modules": sorted(modules), "names": sorted(names)}, fh)
"""

# names too common to say anything about a library by themselves
_COMMON = set(dir(builtins)) | set(dir(object)) | {
    "Any", "Optional", "Union", "Callable", "Coroutine", "Awaitable", "Iterator", "AsyncIterator", "Generator",
    "List", "Dict", "Tuple", "Set", "Type", "self", "cls", "get", "set", "items", "keys", "values", "copy",
    "append", "update", "pop", "name", "value", "args", "kwargs", "data", "result", "run", "main", "close",
    "start", "stop", "open", "read", "write", "send", "connect", "logger", "log", "os", "sys", "json", "time",
}  # fmt: skip


def check_packages(packages: Iterable[str]) -> tuple[str, ...]:
    """The migrated distributions the API check is about: all but test tooling, canonical, sorted."""
    return tuple(sorted({canonicalize_name(p) for p in packages if p and not TEST_TOOLS.match(canonicalize_name(p))}))


def _module_guess(dist: str) -> str:
    return canonicalize_name(dist).replace("-", "_")


def imported_modules(source: str) -> dict[str, str]:
    """Local name -> module it comes from, for a file's imports (`import a.b as c`, `from a import b`)."""
    try:
        tree = astparse.parse(source)
    except (SyntaxError, ValueError):
        return {}
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def _top(module: str) -> str:
    return module.split(".")[0]


def files_using(root: Path, service: Service, modules: Iterable[str]) -> tuple[str, ...]:
    """The service's Python files (fleet-relative) that import any of `modules` (top-level names)."""
    wanted = {_top(m) for m in modules}
    found = []
    for rel in service.python_files:
        try:
            text = (Path(root) / rel).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not any(m in text for m in wanted):
            continue
        if {_top(m) for m in imported_modules(text).values()} & wanted:
            found.append(rel)
    return tuple(found)


def checker_python(root: Path, log: list[str]) -> Path | None:
    """The pinned mypy's interpreter, installed once per fleet with uv (None when it cannot be installed)."""
    folder = Path(root) / CHECK_DIR / MYPY.replace("==", "-")
    python = folder / "bin" / "python"
    marker = folder / ".installed"
    with _install_lock:
        if marker.is_file() and python.is_file():
            return python
        uv = find_uv_bin()
        for cmd in ([uv, "venv", "--quiet", "--allow-existing", str(folder)],
                    [uv, "pip", "install", "--quiet", "--python", str(python), MYPY]):  # fmt: skip
            done = run_captured([str(c) for c in cmd], TIMEOUT, env=uv_env())  # as every uv call of fleetshift
            log.append(f"$ {' '.join(str(c) for c in cmd)}\n{done.stdout}{done.stderr}{done.error}")
            if not done.ok:
                return None
        marker.write_text(MYPY + "\n", encoding="utf-8")
    return python


def library_names(env_python: Path, packages: Iterable[str], scratch: Path) -> tuple[set[str], set[str]]:
    """(top-level modules, names) of the installed `packages`, read by importing them in the environment."""
    out = scratch / "api-names.json"
    out.unlink(missing_ok=True)
    run_captured([str(env_python), "-c", _NAMES, str(out), *packages], 120.0)
    try:
        data = json.loads(out.read_text("utf-8"))
        return set(data["modules"]), set(data["names"])
    except (OSError, ValueError, KeyError):
        return set(), set()


def involves(diag: ApiDiagnostic, line: str, names: set[str], modules: set[str], imported: Mapping[str, str]) -> bool:
    """Whether a diagnostic is about the migrated libraries' API: one of `API_CODES` (not an attribute looked up
    on a function, which decorators add at runtime), whose message quotes one of their names or modules, or
    whose line uses a name the file imports from them or an attribute their classes define."""
    if diag.code not in API_CODES or (diag.code == "attr-defined" and _ON_A_FUNCTION.match(diag.message)):
        return False
    quoted = {w for q in re.findall(r'"([^"]+)"', diag.message) for w in re.findall(r"[A-Za-z_][\w.]*", q)}
    for word in quoted:
        if _top(word) in modules or (word.split(".")[-1] in names and word.split(".")[-1] not in _COMMON):
            return True
    from_lib = {local for local, mod in imported.items() if _top(mod) in modules}
    idents = set(re.findall(r"(?<![\w.])([A-Za-z_]\w*)", line))
    if idents & from_lib:
        return True
    attrs = set(re.findall(r"\.\s*([A-Za-z_]\w*)", line))
    return bool({a for a in attrs if a in names and a not in _COMMON})


def run_check(
    root: Path,
    service: Service,
    env_python: Path,
    files: Iterable[str],
    packages: Iterable[str],
    scratch: Path,
    *,
    label: str,
    python_version: str = "",
    keep_all: bool = False,
    extra_modules: Iterable[str] = (),
    library: tuple[set[str], set[str]] | None = None,
) -> ApiCheck:
    """Check `files` (fleet-relative, the service's) in the environment of `env_python`. `keep_all` (the
    baseline) keeps every diagnostic; otherwise only those that involve the migrated libraries (`packages`,
    plus `extra_modules`: the modules of replaced libraries the environment no longer has). `library` is
    `library_names` of the packages when the caller has it. Never raises.

    Only the migrated libraries and the service's own modules are followed (silently); every other import is
    skipped (Any), so a service on pandas or pyarrow is not type-checked through them: that is what keeps a
    check to a few seconds."""
    started = time.monotonic()
    root = Path(root).resolve()
    folder = root / service.path
    files = tuple(dict.fromkeys(f for f in files if f.endswith(".py") and (root / f).is_file()))
    packages = tuple(packages)
    scratch.mkdir(parents=True, exist_ok=True)
    log_path = scratch / f"{label}-apicheck.log"
    lines: list[str] = []

    def done(diags: tuple[ApiDiagnostic, ...] = (), error: str = "") -> ApiCheck:
        log_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ApiCheck(CHECKER, files, packages, diags, error, str(log_path), time.monotonic() - started)

    if not files or not packages:
        return done()
    python = checker_python(root, lines)
    if python is None:
        return done(error=f"{MYPY} could not be installed (see {log_path})")
    rel = [posixpath.relpath(f, service.path or ".") for f in files]
    modules, names = library if library is not None else library_names(env_python, packages, scratch)
    modules = set(modules) | {_module_guess(p) for p in packages} | {_top(m) for m in extra_modules}
    own = {name.split(".")[0] for name in module_names(service)}
    followed = sorted(m for m in modules | own if m.isidentifier())
    config = scratch / f"{label}-mypy.ini"
    config.write_text("[mypy]\nfollow_imports = skip\n"
                      + (f"[mypy-{','.join(f'{m},{m}.*' for m in followed)}]\nfollow_imports = silent\n" if followed else ""),
                      encoding="utf-8")  # fmt: skip
    lines.append(f"{config}:\n{config.read_text('utf-8')}")
    cache = root / CHECK_DIR / "mypy-cache"  # shared: mypy writes it atomically and checks every entry's source
    minor = ".".join(python_version.split(".")[:2]) if python_version else ""
    cmd = [str(python), "-m", "mypy", "--config-file", str(config), "--python-executable", str(env_python),
           "--check-untyped-defs", "--explicit-package-bases", "--show-error-codes", "--show-column-numbers",
           "--no-error-summary", "--hide-error-context", "-O", "json", "--cache-dir", str(cache),
           *(["--python-version", minor] if minor and tuple(map(int, minor.split("."))) >= (3, 8) else []),
           *rel]  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "MYPYPATH": "src" if (folder / "src").is_dir() else ""}
    result = run_captured(cmd, TIMEOUT, cwd=folder, env=env)
    lines.append(f"$ {' '.join(cmd)}\n  (cwd {folder})\n{result.stdout}{result.stderr}{result.error}")
    if result.code not in (0, 1):
        why = result.error or (result.stderr.strip().splitlines() or result.stdout.strip().splitlines() or ["?"])[-1]
        return done(error=f"mypy could not check the files (exit code {result.code}): {why[:300]}")
    found: list[ApiDiagnostic] = []
    for raw in result.stdout.splitlines():
        try:
            d = json.loads(raw)
        except ValueError:
            continue
        if d.get("severity") != "error":
            continue
        file = posixpath.normpath(posixpath.join(service.path or ".", str(d.get("file", ""))))
        found.append(ApiDiagnostic(file, int(d.get("line", 0)), int(d.get("column", 0)) + 1, str(d.get("code") or ""),
                                   str(d.get("message", "")), str(d.get("hint") or "")))  # fmt: skip
    if keep_all:
        return done(tuple(found))
    kept = []
    texts: dict[str, list[str]] = {}
    for d in found:
        if d.file not in texts:
            try:
                texts[d.file] = (root / d.file).read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                texts[d.file] = []
        src = texts[d.file]
        line = src[d.line - 1] if 0 < d.line <= len(src) else ""
        if involves(d, line, names, modules, imported_modules("\n".join(src))):
            kept.append(d)
    return done(tuple(kept))


def new_diagnostics(baseline: ApiCheck | None, after: ApiCheck | None) -> tuple[ApiDiagnostic, ...]:
    """The after-check's diagnostics the baseline did not have (file, code and message; as many as it had).
    Only files checked on both sides are compared; without a baseline at all, every one counts."""
    if after is None or not after.ran:
        return ()
    if baseline is None:
        return after.diagnostics
    if not baseline.ran:
        return ()
    seen = Counter(d.key() for d in baseline.diagnostics if d.file in after.files)
    out = []
    for d in after.diagnostics:
        if d.file not in baseline.files:
            continue
        if seen[d.key()]:
            seen[d.key()] -= 1
        else:
            out.append(d)
    return tuple(out)


def api_from_json(data: Mapping[str, object] | None) -> ApiCheck | None:
    """An ApiCheck back from its `to_jsonable` form."""
    if not data:
        return None
    d = dict(data)
    diags = tuple(ApiDiagnostic(**x) for x in d.pop("diagnostics", []) or [])  # type: ignore[arg-type, union-attr]
    d["files"] = tuple(d.get("files", ()) or ())  # type: ignore[arg-type]
    d["packages"] = tuple(d.get("packages", ()) or ())  # type: ignore[arg-type]
    return ApiCheck(diagnostics=diags, **d)  # type: ignore[arg-type]


__all__ = [
    "CHECKER",
    "MYPY",
    "api_from_json",
    "check_packages",
    "checker_python",
    "files_using",
    "imported_modules",
    "involves",
    "library_names",
    "new_diagnostics",
    "run_check",
]
