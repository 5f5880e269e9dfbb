"""`fleetshift scan --json FLEET` on a fleet unchanged since the last such scan: the stored answer, given before
the command line, the recipes or discovery are even imported.

Each full `scan --json` that may use the cache first records the fleet's state: every folder and file under the
root (all but the folders discovery never enters and `.fleetshift` itself) with its size, mtime_ns, ctime_ns
and mode bits, and the code that will answer (the Python, its import path and the mtimes of those folders, so
an install or an uninstall counts; fleetshift's own files; plugin recipes' modules). After the scan, the state
and the exact output go to `.fleetshift/cache/snapshot.pickle`, but only when every file was already `SETTLED_NS` old
by its mtime and its ctime when the scan began (a file written within its mtime tick could change again unseen),
no link was met (discovery may follow one where this walk does not), the fleet is not a multi-repo workspace and
the scan printed no warning. The walk may run while the scan reads the fleet (`state_aside`): a file changed
after the scan began has a ctime after that moment (no write, chmod or utime can set it back), so such a state
is never settled and no output is kept under it.

The next `scan --json` walks the fleet again and, when the state and the code are exactly as recorded, prints
the stored output. Any difference (a file edited, added or removed, a folder added, fleetshift or a package
changed) falls through to the full scan, which reads only what changed (fleetshift.scancache). The snapshot
is read with an unpickler that builds nothing but plain containers; an unreadable one is ignored.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 2
NAME = "snapshot.pickle"
SETTLED_NS = 2_000_000_000  # as fleetshift.scancache: coarser than any file system's timestamp granularity
# folders discovery never enters, and so no scan reads (hidden folders are walked: project files such as
# .github/workflows/*.yml are read)
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".fleetshift", ".venv", "venv", "env", ".env", ".tox", ".nox", "node_modules",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "site-packages", ".eggs",
})


class _Plain(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name}: a snapshot holds plain values only")


def scan_json_path(argv: list[str]) -> Path | None:
    """The fleet of exactly `scan --json FLEET` (in either order); None for any other command line."""
    found = scan_json_args(argv)
    return found[0] if found is not None and not found[1] else None


def scan_json_args(argv: list[str]) -> tuple[Path, bool] | None:
    """The fleet of exactly `scan --json FLEET` or `scan --json --no-cache FLEET` (in any order), and whether the
    cache is off; None for any other command line."""
    if len(argv) not in (3, 4) or argv[0] != "scan":
        return None
    flags = [a for a in argv[1:] if a in ("--json", "--no-cache")]
    rest = [a for a in argv[1:] if a not in ("--json", "--no-cache")]
    if "--json" not in flags or len(set(flags)) != len(flags):
        return None
    if len(rest) != 1 or rest[0].startswith("-") or not rest[0]:
        return None
    return Path(rest[0]), "--no-cache" in flags


def fleet_state(root: Path, since: int | None = None) -> tuple[dict[str, tuple[int, ...]], bool] | None:
    """Every folder ((-1,)) and file (size, mtime_ns, ctime_ns, mode) under the root that a scan could read,
    by relative path, and whether every file is settled (its mtime and ctime `SETTLED_NS` before `since`, a
    time_ns, else now); None when a link or an unreadable folder is met."""
    now = time.time_ns() if since is None else since
    state: dict[str, tuple[int, ...]] = {}
    settled = True
    stack = [""]
    top = str(root)
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(top, rel) if rel else top) as it:
                for e in it:
                    if e.name == ".fleetshift":  # fleetshift's own records: the scan itself writes there
                        continue
                    path = f"{rel}/{e.name}" if rel else e.name
                    if e.is_symlink():
                        return None
                    if e.is_dir(follow_symlinks=False):
                        state[path] = (-1,)
                        if e.name not in SKIP_DIRS:
                            stack.append(path)
                        continue
                    st = e.stat(follow_symlinks=False)
                    state[path] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
                    if st.st_mtime_ns + SETTLED_NS >= now or st.st_ctime_ns + SETTLED_NS >= now:
                        settled = False
        except OSError:
            return None
    return state, settled


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-2, 0)
    return (st.st_size, st.st_mtime_ns)


_PACKAGE: list[tuple[str, tuple[int, int]]] = []


def package_files() -> list[tuple[str, tuple[int, int]]]:
    """fleetshift's own files (all but `__pycache__`), in the order of a walk of its folders with names sorted, each
    with its (size, mtime_ns) (-2, 0 when it cannot be stat-ed): walked once per process, when first asked (the
    scan cache's signature and the snapshot's code state both ask; the process runs the code it loaded then)."""
    if not _PACKAGE:
        import fleetshift

        for folder in fleetshift.__path__:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    _PACKAGE.append((path, _stat(path)))
    return _PACKAGE


def code_state(plugins: tuple[str, ...] = ()) -> str:
    """The Python, its import path (and the mtimes of those folders), fleetshift's modules and the plugin
    recipes' module files: what decides the answer besides the fleet."""
    import fleetshift

    h = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{sys.executable}\0{fleetshift.__version__}".encode())
    for entry in sys.path:
        h.update(f"{entry}:{_stat(entry or '.')}\0".encode())
    for path, stat in package_files():
        h.update(f"{path}:{stat}\0".encode())
    for path in plugins:
        h.update(f"{path}:{_stat(path)}\0".encode())
    return h.hexdigest()


_TAKEN: dict[Path, tuple[dict[str, tuple[int, ...]], bool] | None] = {}  # states `answer` took (and found changed)


def state_before_scan(root: Path) -> tuple[dict[str, tuple[int, ...]], bool] | None:
    """The fleet's state now, before the full scan reads it (the one `answer` just took, when it took one)."""
    return _TAKEN.pop(root) if root in _TAKEN else fleet_state(root)


# a fleet's state: its entries (or those entries pickled, as the process that walked them sent them: they are
# only compared with a later state's, and kept in the snapshot as they are) and whether every file is settled
State = tuple[dict[str, tuple[int, ...]] | bytes, bool]


def _entries(state: State) -> dict[str, tuple[int, ...]]:
    return _Plain(io.BytesIO(state[0])).load() if isinstance(state[0], bytes) else state[0]


def _walked(root: Path, since: int) -> State | None:
    """`fleet_state(root, since)` with its entries pickled (by the forked process that walks them: the process
    that keeps the snapshot neither reads them nor writes them again)."""
    state = fleet_state(root, since)
    return None if state is None else (pickle.dumps(state[0], protocol=pickle.HIGHEST_PROTOCOL), state[1])


def state_aside(root: Path) -> Callable[[], State | None]:
    """The fleet's state (`state_before_scan`) walked by a forked process while this one goes on: it imports the
    scan, and the scan may read the fleet meanwhile (the state is settled only for files unchanged since this
    call, by their ctime: see the module's doc); the function returned waits for that process and gives the
    state. Call it before the scan reads anything of the fleet. Where no process may be forked (no fork, another
    thread running) or the child fails, the state is walked here, when the function is called, settled only for
    files unchanged since this call as well; a state `answer` took already is that state."""
    from fleetshift import forked

    since = time.time_ns()  # before the scan reads anything
    if root in _TAKEN:
        return lambda: state_before_scan(root)
    if not forked.may_fork():
        return lambda: fleet_state(root, since)
    child = forked.start(lambda: _walked(root, since))

    def taken() -> State | None:
        state = child.result(lambda data: _Plain(io.BytesIO(data)).load())
        return fleet_state(root, since) if state is None else state

    return taken


def _snapshot_path(root: Path) -> Path:
    return root / ".fleetshift" / "cache" / NAME


def answer(argv: list[str]) -> bool:
    """Print the stored output of `scan --json FLEET` when the fleet and the code are as they were; True
    when it did (the caller is done), False to run the command in full."""
    path = scan_json_path(argv)
    if path is None:
        return False
    try:
        root = path.resolve()
        with open(_snapshot_path(root), "rb") as fh:
            snap = _Plain(io.BytesIO(fh.read())).load()
        if not (isinstance(snap, dict) and snap.get("format") == FORMAT and snap.get("root") == str(root)):
            return False
        plugins, output = snap["plugins"], snap["output"]
        if not (isinstance(plugins, tuple) and all(isinstance(p, str) for p in plugins) and isinstance(output, str)):
            return False
        if snap.get("code") != code_state(plugins):
            return False
        now = _TAKEN[root] = fleet_state(root)
        stored = snap.get("state")
        if isinstance(stored, bytes):  # the entries as the walking process pickled them
            stored = _Plain(io.BytesIO(stored)).load()
        if now is None or now[0] != stored:
            return False
    except Exception:  # no snapshot, an unreadable or planted one: the full scan decides
        return False
    if sys.stdout.isatty():  # as fleetshift.cli prints JSON: indented for a person
        import json

        output = json.dumps(json.loads(output), indent=2)
    sys.stdout.write(output + "\n")
    sys.stdout.flush()
    return True


def scan_json(argv: list[str]) -> bool:
    """The full `scan --json FLEET` (or `scan --json --no-cache FLEET`: the cache neither read nor written, no
    snapshot kept) without loading the command line (typer builds a validator for every option of every command,
    about a tenth of a cold scan), the recipes loaded while the services are discovered: True when it printed
    the inventory. False, having printed nothing, for any other command line and whenever the command line must
    speak (a bad path or config, a fleet without targets): it then runs the command again and says so as it
    always does."""
    found = scan_json_args(argv)
    if found is None:
        return False
    path, no_cache = found
    root = path.resolve()
    if not root.is_dir():
        return False
    # the state is walked by a second process while this one imports, discovers and scans (not without the cache:
    # no snapshot is kept then)
    taking = _no_state if no_cache else state_aside(root)
    # a scan makes almost no cyclic garbage (the peak memory of a 300-service scan is the same without the
    # collector), but the collector's passes over every ast node it allocates cost a twentieth of the scan
    gc.disable()
    try:
        surveyed = _survey(root, taking, use_cache=not no_cache)
        if surveyed is None:
            return False
        emit(*surveyed, use_cache=not no_cache)
    finally:
        gc.enable()
    return True


def _no_state() -> State | None:
    return None


def _survey(root: Path, taking: Callable[[], State | None], *, use_cache: bool = True
            ) -> tuple[Any, State | None] | None:
    """`pipeline.survey(root)`, the recipes loaded while the services are discovered, and the fleet's state taken
    before it read the fleet; None when the command line must speak (a bad config, a fleet without targets, ...)."""
    from fleetshift.pipeline import survey

    try:
        a = survey(root, use_cache=use_cache, recipes_meanwhile=True)
    except Exception:  # ConfigError, DiscoveryError, RecipeError, ...: reported by the command line
        return None
    finally:
        before = taking()  # walked meanwhile (see `state_aside`)
    if not a.config.targets:  # the command line warns about that
        return None
    return a, before


def emit(a: Any, before: State | None, *, use_cache: bool) -> None:
    """Print the inventory of a survey as JSON (indented for a person at a terminal) and, with the cache on,
    keep it as the snapshot of the fleet's state `before` the survey read it."""
    import json

    from fleetshift.model import to_json
    from fleetshift.recipes import all_recipes

    text = to_json(a.inventory)
    sys.stdout.write((json.dumps(json.loads(text), indent=2) if sys.stdout.isatty() else text) + "\n")
    sys.stdout.flush()
    if not use_cache:
        return
    plugins = tuple(sorted({str(getattr(sys.modules.get(type(r).__module__), "__file__", "") or "")
                            for r in all_recipes() if not type(r).__module__.startswith("fleetshift.")}))
    quiet = before is not None and bool(a.config.targets) and not a.config.repos
    record(Path(a.fleet.root), before if quiet else None, text, plugins)


def record(root: Path, state: State | None, output: str,
           plugins: tuple[str, ...]) -> None:
    """Keep the output of a full scan whose fleet was in `state` (walked as the scan began: see the module's doc)
    when every file was settled; otherwise drop any older snapshot."""
    target = _snapshot_path(root)
    try:
        if state is None or not state[1]:
            target.unlink(missing_ok=True)
            return
        data = {"format": FORMAT, "root": str(root), "code": code_state(plugins), "plugins": plugins,
                "state": state[0], "output": output}
        target.parent.mkdir(parents=True, exist_ok=True)
        gitignore = target.parent.parent / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")
        tmp = target.with_name(f".{NAME}.{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only fleet can still be scanned
