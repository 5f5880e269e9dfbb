"""Let the resolver decide: `uv pip compile` a service's requirements with the campaign's targets, for each
Python the service supports, and read what it chose or why it could not.

Every answer is cached in `.fleetshift/cache/resolve/` by a hash of its inputs (requirements, Python, mode
and uv's version), so a second dry run asks uv nothing. uv's own cache makes a first answer cheap too, and a
question on packages whose index pages this run fetched already is answered from it (`Resolver._from_fetched`).
When uv cannot reach the index the answer says so (`unavailable`), and callers fall back to what the
recipes know, with a Finding.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fleetshift.proc import run_captured

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

CACHE_DIR = Path(".fleetshift") / "cache" / "resolve"
_LINE_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BUILDS_RE = re.compile(r"Using Python \S+ interpreter at `([^`]+)` for builds")
# uv's resolver's debug log (`RUST_LOG=uv_resolver=debug`): a package it looks through, a release it chooses
_SEARCHING = "DEBUG Searching for a compatible version of "
_SELECTING = "DEBUG Selecting: "
_SELECTED_RE = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) ")
# off: every question is asked online (tests compare the answers)
FROM_FETCHED = True
# how long a package's index page an online answer of this run fetched is read from uv's cache instead: PyPI's own
# Cache-Control (max-age=600), which uv honours online too
FETCHED_FOR = 600.0
# this process and the workers it forks: the interpreters uv finds are looked up once per run (`Resolver._interpreter`)
_SCOPE = f"{os.getpid()}-{time.time_ns()}"
_interpreters: dict[str, str] = {}
NAME_INTERPRETER = True  # off: uv looks for the interpreter itself on every question (tests compare the answers)
# uv's words when the index (or the network) could not be reached, as opposed to "no solution"
_UNREACHABLE = ("error sending request", "dns error", "failed to fetch", "network", "connect", "timed out",
                "offline", "not found in the cache", "no such file", "os error")


@cache
def uv_bin() -> str:
    """The uv executable of the `uv` package fleetshift depends on (PATH's uv as a fallback)."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return "uv"


_version_lock = threading.Lock()
_versions: dict[str, str] = {}  # uv executable -> its version line, in this process


def uv_version(folder: Path | None = None) -> str:
    """uv's version line, asked once per process (the threads asking ahead at once wait for the first) and, given a
    resolver's cache `folder`, once per run: the processes this one forks (the pins-ahead process, the rewrite
    workers) read it from there (`_SCOPE`, as the interpreters of `Resolver._interpreter`), rather than each
    running `uv --version`."""
    uv = uv_bin()
    with _version_lock:
        if uv in _versions:
            return _versions[uv]
        name = hashlib.sha256(uv.encode()).hexdigest()[:16]
        shared = folder.parent / "uv-python" / f"{_SCOPE}-version-{name}" if folder is not None else None
        found = _read_text(shared)
        if not found:
            found = run_captured([uv, "--version"], 30).stdout.strip() or "uv"
            _write_scoped(shared, found)
        _versions[uv] = found
        return found


# glibc's resolver waits 5 s before it asks again for a lookup the name server dropped; a DNS server that drops
# lookups sent close together (as the uv runs of a fleet's questions are) then costs 5 s a uv run. A user's own
# RES_OPTIONS is kept.
DNS_OPTIONS = "timeout:1 attempts:4"


def uv_env() -> dict[str, str]:
    """The environment every uv call of fleetshift runs in: never download a Python, no progress bars, a dropped
    DNS lookup asked again after 1 s (`DNS_OPTIONS`) unless RES_OPTIONS says otherwise."""
    env = dict(os.environ)
    env.update(UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1", NO_COLOR="1")
    env.setdefault("RES_OPTIONS", DNS_OPTIONS)
    return env


# what only a connection to an index reads: a run `--offline` makes none, and without these uv does not load (and
# parse, twice) the certificate bundle they name on every run (a third of an offline question's CPU where it is set)
TLS_ONLY = ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSL_CLIENT_CERT")


def offline_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a uv run `--offline`: the same but for the TLS settings (`TLS_ONLY`), which it has no use for."""
    return {k: v for k, v in env.items() if k not in TLS_ONLY}


@dataclass(frozen=True)
class Resolution:
    """What uv chose for some requirements on one Python, or why it could not."""

    python: str
    ok: bool
    versions: Mapping[str, str] = field(default_factory=dict)  # canonical name -> release
    error: str = ""
    unavailable: bool = False  # uv could not reach the index (or run at all): no verdict on the pins
    cached: bool = False

    def mentioned(self, names: Iterable[str]) -> list[str]:
        """Which of `names` (canonical) uv's error names: the pins that take part in a conflict."""
        words = {canonicalize_name(w) for w in _NAME_RE.findall(self.error)}
        return [n for n in names if n in words]

    @property
    def python_blocked(self) -> bool:
        """The failure is about the Python version (a release's Requires-Python), not about other pins."""
        return not self.ok and "requested Python version" in self.error

    def reason(self) -> str:
        """uv's explanation in one line."""
        lines = [ln.strip() for ln in self.error.splitlines() if ln.strip().startswith(("cause:", "Because", "And"))]
        text = " ".join(ln.removeprefix("cause:").strip() for ln in lines) or self.error.strip()
        return re.sub(r"\s+", " ", text)[:400]


class Resolver:
    """`uv pip compile` with a cache by input hash. `offline` makes uv use only its own cache."""

    def __init__(self, root: Path | None = None, *, offline: bool = False, timeout: float = 180.0) -> None:
        self.folder = (Path(root) / CACHE_DIR) if root is not None else None
        self.offline = offline or os.environ.get("FLEETSHIFT_OFFLINE", "") not in ("", "0")
        self.timeout = timeout
        self.memory: dict[str, Resolution] = {}
        self.keys: dict[tuple[tuple[str, ...], str, bool, str], str] = {}  # a question -> its key (a service asks many)
        self.calls = 0  # how many times uv actually ran (for measurements and tests)

    def compile(self, requirements: Sequence[str], python: str, *, lowest: bool = False) -> Resolution:
        """Resolve `requirements` (PEP 508 strings) for Python `python` ("3.10"); `lowest` prefers the lowest
        release of each requirement that resolves (uv's lowest-direct), else the newest."""
        reqs = sorted(dict.fromkeys(r.strip() for r in requirements if r.strip()))
        asked = (tuple(reqs), python, lowest, uv_version(self.folder))
        key = self.keys.get(asked)
        if key is None:  # the empty list stands where constraints once were: the answers stored before are still found
            key = hashlib.sha256(json.dumps([reqs, [], *asked[1:]]).encode()).hexdigest()[:32]
            self.keys[asked] = key
        if key in self.memory:
            return self.memory[key]
        stored = self._load(key)
        if stored is not None:
            self.memory[key] = stored
            return stored
        with self._asking(key):  # another process asking the same question first: its answer is read
            stored = self._load(key)
            if stored is not None:
                self.memory[key] = stored
                return stored
            result = self._run(reqs, python, lowest)
            self.memory[key] = result
            if not result.unavailable:
                self._store(key, result)
        return result

    def newest(self, package: str, python: str, spec: str = "") -> str | None:
        """The newest release of `package` inside `spec` that installs on `python`, or None."""
        res = self.compile([f"{package}{spec}"], python)
        return res.versions.get(canonicalize_name(package)) if res.ok else None

    def supports(self, requirement: str, python: str) -> Resolution:
        """Whether `requirement` alone resolves on `python` (the check of a target's Requires-Python)."""
        return self.compile([requirement], python)

    def lowest_moving(self, package: str, beyond: str, others: Sequence[str],
                      pythons: Sequence[str]) -> tuple[str | None, str]:
        """The lowest release of `package` inside `beyond` that resolves with `others` on every Python;
        (release, "") or (None, uv's reason)."""
        chosen: list[Version] = []
        for py in pythons:
            res = self.compile([*others, f"{package}{beyond}"], py, lowest=True)
            if not res.ok:
                return None, res.reason()
            v = res.versions.get(canonicalize_name(package))
            if v is None:
                return None, f"uv did not choose {package}"
            chosen.append(Version(v))
        if not chosen:
            return None, "no Python to resolve for"
        return str(max(chosen)), ""

    def fetch(self, requirements: Sequence[str], python: str) -> bool | None:
        """Ask uv online, once, for `requirements` together (the packages the questions that follow will name), so
        that one uv run revalidates the index pages of every package it chooses: those questions are then asked
        `--offline` (`_from_fetched`) rather than each online (an online uv run costs several times the CPU of an
        offline one, most of it the connection). The answer itself is not kept (nobody asked that question); a
        union that does not resolve fetches nothing, and every question is asked as before. Whether uv solved it:
        None when uv was not asked (offline, no cache folder, every package fetched already) or could not answer."""
        if self.offline or not FROM_FETCHED or self.folder is None:
            return None
        reqs = sorted(dict.fromkeys(r.strip() for r in requirements if r.strip()))
        names = _requirement_names(reqs)
        if names <= _Fetched.names(self.folder).keys():
            return None
        asked = time.time()
        with _Fetched.fetching(self.folder, names):  # (a question on them asked meanwhile waits for this answer)
            result = self._uv(reqs, python, False, False)
            if result.ok:
                _Fetched.add(self.folder, [*result.versions, *names], asked)
        return None if result.unavailable else result.ok

    # ---- uv and the cache -----------------------------------------------------------------------

    def _run(self, reqs: list[str], python: str, lowest: bool) -> Resolution:
        if self.offline or not FROM_FETCHED:
            return self._uv(reqs, python, lowest, self.offline)
        if NAME_INTERPRETER:
            self._interpreter(python)  # (may wait for another thread's look): what was fetched meanwhile counts
        names = _requirement_names(reqs)
        fetched = _Fetched.names(self.folder)
        if _Fetched.wait(self.folder, names - fetched.keys(), self.timeout):  # another thread is asking for them
            fetched = _Fetched.names(self.folder)
        if names <= fetched.keys():
            answer = self._from_fetched(reqs, python, lowest, fetched)
            if answer is not None:
                return answer
        asked = time.time()  # (uv revalidates the pages it reads from now on)
        with _Fetched.fetching(self.folder, names):
            result = self._uv(reqs, python, lowest, False)
            if result.ok:
                _Fetched.add(self.folder, [*result.versions, *names], asked)
        return result

    def _from_fetched(self, reqs: list[str], python: str, lowest: bool,
                      fetched: Mapping[str, float]) -> Resolution | None:
        """uv's answer from the index pages this run fetched already, or None. uv is asked `--offline` (it reads the
        pages and the releases' metadata in its cache) with its resolver's debug log, and the answer is taken only
        when uv solved it in one pass and said nothing but its debug log: no package given a release and then
        another (offline, a release whose metadata is not in the cache is passed over, with a warning, for the
        next one: an answer online would not give; a backtrack is asked online too), and every package it looked
        through (the log's "Searching for a compatible version of ...") one that an online answer of this run
        chose within `FETCHED_FOR` seconds (`_Fetched`). uv then read the index pages an online run reads now
        (those it revalidated for these answers) and the same metadata (a release's metadata never changes), and
        made the same choices from them one after the other: the same answer. Anything else (no solution, a
        package never chosen online, a log that does not name every package of the answer with its release) is
        asked online. Never an answer uv would not give online."""
        log: list[str] = []
        answer = self._uv(reqs, python, lowest, True, log)
        if not answer.ok:
            return None
        searched: set[str] = set()
        selected: dict[str, str] = {}
        for line in "".join(log).splitlines():
            if not line.startswith("DEBUG "):  # a warning, or anything else uv had to say
                return None
            if line.startswith(_SEARCHING):
                name = _NAME_RE.match(line[len(_SEARCHING):])
                if name is None:
                    return None
                searched.add(canonicalize_name(name.group(0)))
            elif line.startswith(_SELECTING):
                m = _SELECTED_RE.match(line[len(_SELECTING):])
                if m is None or selected.setdefault(canonicalize_name(m.group(1)), m.group(2)) != m.group(2):
                    return None  # a release chosen, then another: passed over (or backtracked)
        if not answer.versions.keys() <= searched or any(selected.get(n) != v for n, v in answer.versions.items()):
            return None
        now = time.time()
        if any(name not in fetched or now - fetched[name] > FETCHED_FOR for name in searched):
            return None
        return answer

    def _uv(self, reqs: list[str], python: str, lowest: bool, offline: bool,
            log: list[str] | None = None) -> Resolution:
        """One `uv pip compile`; with `log`, uv's resolver writes its debug log there."""
        self.calls += 1
        cmd = [uv_bin(), "pip", "compile", "-", "--python-version", python, "--no-header", "--no-annotate",
               "--quiet", "--color", "never"]
        if lowest:
            cmd += ["--resolution", "lowest-direct"]
        if offline:
            cmd.append("--offline")
        interpreter = self._interpreter(python) if NAME_INTERPRETER else ""
        if interpreter:
            cmd += ["--python", interpreter]
        env = offline_env(uv_env()) if offline else uv_env()
        if log is not None:
            env["RUST_LOG"] = "uv_resolver=debug"
        proc = run_captured(cmd, self.timeout, cwd=tempfile.gettempdir(), env=env, input=_lines(reqs))
        if log is not None:
            log.append(proc.stderr)
        if proc.timed_out:
            return Resolution(python, False, error=f"uv pip compile timed out after {self.timeout:g}s",
                              unavailable=True)
        if proc.error:
            return Resolution(python, False, error=f"cannot run uv: {proc.error}", unavailable=True)
        if proc.ok:
            versions = {}
            for line in proc.stdout.splitlines():
                m = _LINE_RE.match(line.strip())
                if m:
                    versions[canonicalize_name(m.group(1))] = m.group(2)
            return Resolution(python, True, versions)
        error = "\n".join(ln for ln in proc.stderr.splitlines() if not ln.startswith("warning:"))
        solved = "No solution found" in error or "unsatisfiable" in error
        unavailable = not solved and any(w in error.lower() for w in _UNREACHABLE)
        return Resolution(python, False, error=error.strip(), unavailable=unavailable or not solved)

    def _interpreter(self, python: str) -> str:
        """The interpreter `uv pip compile --python-version <python>` finds by itself here, or "" when uv does not
        say. uv looks for it on every run, and through shims (pyenv's, on many machines) every look runs shell
        scripts: they cost more than the resolution (about 0.4 s of CPU where no interpreter of that Python is
        installed, a failed look being one uv never caches). So uv is asked once per run which one it takes (a
        verbose compile of no requirements names the interpreter it uses for builds, in the same environment and
        kind of folder), and every question names it with `--python`: the same interpreter, so the same answers.
        Shared by this process and the workers it forks (`_SCOPE`) through the cache folder; never across runs,
        where another interpreter may have been installed since."""
        env = uv_env()
        key = hashlib.sha256(json.dumps([python, uv_bin(), uv_version(self.folder), sorted(env.items())]).encode()).hexdigest()[:32]
        if key in _interpreters:
            return _interpreters[key]
        shared = self.folder.parent / "uv-python" / f"{_SCOPE}-{key}" if self.folder is not None else None
        with self._asking(f"python-{key}"):
            found = _read_text(shared)
            if found is None:
                found = self._find_interpreter(python, env)
                _write_scoped(shared, found)
        _interpreters[key] = found
        return found

    def _find_interpreter(self, python: str, env: Mapping[str, str]) -> str:
        cmd = [uv_bin(), "pip", "compile", "-", "--python-version", python, "--no-header", "--no-annotate",
               "--color", "never", "--verbose"]
        proc = run_captured(cmd, self.timeout, cwd=tempfile.gettempdir(), env=env, input="")
        found = _BUILDS_RE.search(proc.stderr) if proc.ok else None
        return found.group(1) if found is not None and os.path.isfile(found.group(1)) else ""

    @contextlib.contextmanager
    def _asking(self, key: str) -> Iterator[None]:
        """Hold `<cache>/.<key>.lock` while uv answers, so processes that ask the same question at once (the
        rewrite workers, on the first services of a fleet) run uv once: the others wait, then read the stored
        answer. Without a cache folder, or where it cannot be written, uv is simply asked."""
        if self.folder is None or fcntl is None:
            yield
            return
        lock = self.folder / f".{key}.lock"
        try:
            self._make_folder()
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock)  # the answer is stored before: who opened this file next reads it
            os.close(fd)

    def _make_folder(self) -> None:
        """The cache folder, inside a `.fleetshift` that git ignores."""
        assert self.folder is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        gitignore = self.folder.parent.parent / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")

    def _load(self, key: str) -> Resolution | None:
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Resolution(data["python"], data["ok"], data["versions"], data["error"], cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store(self, key: str, res: Resolution) -> None:
        if self.folder is None:
            return
        from fleetshift.fsutil import replace_file

        try:
            self._make_folder()
            data = {"python": res.python, "ok": res.ok, "versions": dict(res.versions), "error": res.error}
            replace_file(self.folder / f"{key}.json", json.dumps(data, sort_keys=True))
        except OSError:
            pass  # a read-only fleet still resolves, only slower the next time


class _Fetched:
    """The packages online answers of this run chose, and when, by cache folder: in memory per process and, with a
    cache folder, appended to `<cache>/uv-online/<scope>` for the processes this one forks (`_SCOPE`; a file of an
    earlier run is removed when this run first writes its own). A line is "name time"; a line not yet whole is
    not read."""

    memory: ClassVar[dict[str, dict[str, float]]] = {}
    lock: ClassVar[threading.Lock] = threading.Lock()
    cleared: ClassVar[set[str]] = set()
    # the packages this process's threads are asking uv online for now (their questions' requirements), by folder
    asking: ClassVar[dict[str, list[frozenset[str]]]] = {}
    changed: ClassVar[threading.Condition] = threading.Condition(lock)

    @classmethod
    @contextlib.contextmanager
    def fetching(cls, folder: Path | None, names: set[str]) -> Iterator[None]:
        """While open, `names` are being asked online by this thread (see `wait`)."""
        entry = frozenset(names)
        with cls.lock:
            cls.asking.setdefault(str(folder), []).append(entry)
        try:
            yield
        finally:
            with cls.lock:
                cls.asking[str(folder)].remove(entry)
                cls.changed.notify_all()

    @classmethod
    def wait(cls, folder: Path | None, missing: set[str], timeout: float) -> bool:
        """When every package of `missing` is being asked online by another thread of this process (the threads
        asking ahead ask side by side), wait until none is any more, so that their answers may serve this question
        (`Resolver._from_fetched`) rather than this one asking online for the same pages; whether it waited."""
        if not missing:
            return False

        def pending() -> bool:
            return missing <= set().union(*cls.asking.get(str(folder), ()))

        with cls.lock:
            if not pending():
                return False
            cls.changed.wait_for(lambda: not any(missing & entry for entry in cls.asking.get(str(folder), ())),
                                 timeout)
        return True

    @classmethod
    def _path(cls, folder: Path | None) -> Path | None:
        return folder.parent / "uv-online" / _SCOPE if folder is not None else None

    @classmethod
    def names(cls, folder: Path | None) -> dict[str, float]:
        with cls.lock:
            out = dict(cls.memory.get(str(folder), {}))
        text = _read_text(cls._path(folder)) or ""
        for line in text[: text.rfind("\n") + 1].splitlines():
            name, _, when = line.partition(" ")
            with contextlib.suppress(ValueError):
                out[name] = max(out.get(name, 0.0), float(when))
        return out

    @classmethod
    def add(cls, folder: Path | None, names: Iterable[str], now: float) -> None:
        names = list(names)
        with cls.lock:
            cls.memory.setdefault(str(folder), {}).update(dict.fromkeys(names, now))
        path = cls._path(folder)
        if path is None or not names:
            return
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            if str(path.parent) not in cls.cleared:
                cls.cleared.add(str(path.parent))
                for old in path.parent.iterdir():
                    if old.name != _SCOPE:
                        old.unlink()
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, "".join(f"{name} {now!r}\n" for name in names).encode())  # one append
            finally:
                os.close(fd)


_EXTRAS_RE = re.compile(r"\s*\[([^\]]*)\]")


def _requirement_names(reqs: Sequence[str]) -> set[str]:
    """The canonical names of the packages `reqs` require (what stands before extras, specifiers, markers), and
    of each with its extras ("influxdb3-python[pandas]": the packages an extra brings are fetched online by a
    question that asks for it)."""
    out = set()
    for r in reqs:
        m = _NAME_RE.match(r)
        if m is not None:
            name = canonicalize_name(m.group(0))
            out.add(name)
            extras = _EXTRAS_RE.match(r, m.end())
            if extras is not None:
                out.add(f"{name}[{','.join(sorted(canonicalize_name(e.strip()) for e in extras.group(1).split(',') if e.strip()))}]")
    return out


def _lines(reqs: Sequence[str]) -> str:
    return "".join(f"{r}\n" for r in reqs)


def _read_text(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _write_scoped(path: Path | None, text: str) -> None:
    """Keep `text` at `path` for this run's processes, and remove what earlier runs left beside it."""
    if path is None:
        return
    from fleetshift.fsutil import replace_file

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.iterdir():
            if not old.name.startswith((_SCOPE, ".")):
                old.unlink()
        replace_file(path, text)


# ---- specifier arithmetic the decisions need ------------------------------------------------------


def upper_bound(spec: str) -> tuple[str, str] | None:
    """The tightest upper bound of a specifier as (operator, version) — ("<", "9") — or None when open above."""
    try:
        specs = list(SpecifierSet(spec))
    except InvalidSpecifier:
        return None
    best: tuple[Version, str, str] | None = None
    for s in specs:
        op, ver = s.operator, s.version
        try:
            if op in ("<", "<="):
                cand = (Version(ver), op, ver)
            elif op in ("==", "===") and not ver.endswith(".*"):
                cand = (Version(ver), "<=", ver)
            elif op == "==" and ver.endswith(".*"):
                parts = [int(p) for p in ver[:-2].split(".")]
                parts[-1] += 1
                nxt = ".".join(map(str, parts))
                cand = (Version(nxt), "<", nxt)
            elif op == "~=":
                parts = [int(p) for p in Version(ver).release]
                head = parts[:-1] if len(parts) > 1 else parts
                head[-1] += 1
                nxt = ".".join(map(str, head))
                cand = (Version(nxt), "<", nxt)
            else:
                continue
        except (InvalidVersion, ValueError):
            continue
        if best is None or cand[0] < best[0]:
            best = cand
    return (best[1], best[2]) if best else None


def beyond(spec: str) -> str | None:
    """A specifier of the releases above everything `spec` admits (`<5` -> `>=5`, `==0.23.5` -> `>0.23.5`)."""
    ub = upper_bound(spec)
    if ub is None:
        return None
    op, ver = ub
    return f">={ver}" if op == "<" else f">{ver}"


def lower_bounds(spec: str) -> list[str]:
    """The specifiers of `spec` that bound it from below (`>=`, `>`, and `~=` as its `>=`)."""
    out = []
    try:
        for s in SpecifierSet(spec):
            if s.operator in (">=", ">"):
                out.append(str(s))
            elif s.operator == "~=":
                out.append(f">={s.version}")
    except InvalidSpecifier:
        return []
    return out


def upper_specs(spec: str) -> list[str]:
    """The specifiers of `spec` that bound it from above, as written (`<10`, `<=2`)."""
    try:
        return [str(s) for s in SpecifierSet(spec) if s.operator in ("<", "<=")]
    except InvalidSpecifier:
        return []


def lowest_of(spec: str) -> str:
    """The release a range starts at (`>=9.1.2,<10` -> "9.1.2"), or "" when it does not say."""
    try:
        for s in SpecifierSet(spec):
            if s.operator in (">=", "==", "===", "~=") and not s.version.endswith(".*"):
                return s.version
    except InvalidSpecifier:
        pass
    return ""


# ---- decisions for one service --------------------------------------------------------------------


def _normal(spec: str) -> str:
    spec = (spec or "").strip()
    try:
        Version(spec)
    except InvalidVersion:
        return spec
    return f"=={spec}"


def _floor_rule(recipe_id: str) -> str:
    """The rule id a recipe's Python-floor findings carry (its own python-floor/python-version rule)."""
    from fleetshift.recipes import get

    try:
        recipe = get(recipe_id)
    except Exception:
        return "pins/python-floor"
    for r in recipe.rules:
        if r.id.endswith(("/python-floor", "/python-version")):
            return r.id
    return "pins/python-floor"


@dataclass
class FloorPlan:
    """What the Python-floor policy decided before anything is rewritten."""

    chain: list[str]
    targets: dict[str, str]
    pythons: list[str]
    new_floor: str = ""
    raised_for: list[str] = field(default_factory=list)  # "pytest>=9.0.2,<10 needs Python >=3.10"
    findings: list[Any] = field(default_factory=list)
    offline: bool = False


def plan_floor(service_label: str, where: str, chain: Sequence[str], targets: Mapping[str, str],
               pythons: Sequence[str], policy: str, resolver: Resolver,
               written: Mapping[str, str] | None = None) -> FloorPlan:
    """Check each chained recipe's target against every Python the service supports (uv reads each
    release's Requires-Python), then apply the policy: *raise* finds the lowest Python every target installs
    on; *keep* narrows a target to its newest release for the floor, or blocks the recipe. `written`: the
    range that will actually be written for a package where that is not the target (a library's runtime
    range, kept wide), checked instead."""
    written = written or {}
    from fleetshift.model import Finding, Severity
    from fleetshift.recipes import get
    from fleetshift.recipes._floors import NEWEST_MINOR, minor_key

    plan = FloorPlan(list(chain), dict(targets), list(pythons))
    failing: dict[str, list[str]] = {}
    for rid in chain:
        recipe = get(rid)
        spec = written.get(recipe.package, plan.targets.get(recipe.package, recipe.migrates_to))
        for py in pythons:
            res = resolver.supports(f"{recipe.package}{_normal(spec)}", py)
            if res.unavailable:
                plan.offline = True
            elif not res.ok:
                failing.setdefault(rid, []).append(py)
    if not failing:
        return plan
    if policy == "raise":
        worst = max((py for pys in failing.values() for py in pys), key=minor_key)
        major, minor = minor_key(worst)
        for m in range(minor + 1, NEWEST_MINOR + 1):
            cand = f"{major}.{m}"
            checks = [resolver.supports(f"{get(r).package}{_normal(plan.targets.get(get(r).package, get(r).migrates_to))}",
                                        cand) for r in failing]
            if all(c.ok for c in checks):
                plan.new_floor = cand
                plan.pythons = [cand, *[p for p in pythons if minor_key(p) > minor_key(cand)]]
                for r in failing:
                    pkg = get(r).package
                    plan.raised_for.append(f"{pkg}{plan.targets.get(pkg, get(r).migrates_to)} does not install on "
                                           f"Python {', '.join(failing[r])}")
                return plan
        # nothing installs anywhere we know: block like *keep* would
    for rid, pys in failing.items():
        recipe = get(rid)
        py = min(pys, key=minor_key)
        spec = plan.targets.get(recipe.package, recipe.migrates_to)
        newest = resolver.newest(recipe.package, py)
        rule = _floor_rule(rid)
        if newest and recipe.is_old(recipe.package, f"=={newest}") is False:
            narrowed = ",".join([f">={newest}", *upper_specs(spec)])
            plan.targets[recipe.package] = narrowed
            plan.findings.append(Finding(
                where, 0, rule,
                f"{recipe.package}{spec} does not install on Python {py}, which {service_label} still supports "
                f"(python_floor = \"keep\"); its target here is {recipe.package}{narrowed}, the newest release "
                f"for Python {py} being {newest}", Severity.ADVICE, recipe=rid))
            continue
        plan.chain.remove(rid)
        before = f" (the newest for Python {py} is {newest}, before the break)" if newest else ""
        plan.findings.append(Finding(
            where, 0, rule,
            f"blocked by Python {py}: {recipe.package}{spec} needs a newer Python than {service_label} supports"
            f"{before}; {recipe.id} was not applied and the service stays on its pins. Drop Python {py} and set "
            f'python_floor = "raise" for it to migrate', Severity.HUMAN, recipe=rid))
    return plan


def _req(name: str, extras: Sequence[str], spec: str, marker: str) -> str:
    return f"{name}{'[' + ','.join(extras) + ']' if extras else ''}{_normal(spec)}{'; ' + marker if marker else ''}"


def _range_from(version: str) -> str:
    """A caret-like range starting at a release: 1.3.0 -> >=1.3.0,<2; 0.24.1 -> >=0.24.1,<0.25."""
    rel = [*list(Version(version).release), 0, 0]
    upper = f"{rel[0] + 1}" if rel[0] else f"0.{rel[1] + 1}"
    return f">={version},<{upper}"


@dataclass
class Settlement:
    """The pin changes after the resolver had its say, and what it said."""

    changes: list[tuple[str, Any]]
    findings: list[Any] = field(default_factory=list)
    offline: bool = False
    versions: dict[str, str] = field(default_factory=dict)  # at the service's floor Python


def install_sets(pins: Sequence[Any], service_path: str | None = None) -> list[list[Any]]:
    """The sets of pins that are installed together: the runtime pins (project dependencies, a plain
    requirements.txt) alone, and with each other group, extra or requirements file (a docs group need not
    resolve with the test group). A requirements file deeper in the service (`docker/requirements.txt`,
    `deploy/provisioning/requirements/base.txt`) is an environment of its own, resolved alone. Without
    `service_path`, the service's folder is the one of its shallowest manifest."""
    import posixpath

    from fleetshift.manifests import installed_with_tests
    from fleetshift.manifests._common import RUNTIME_SECTIONS

    if service_path is None:
        files = sorted({p.file for p in pins}, key=lambda f: (f.count("/"), f))
        service_path = posixpath.dirname(files[0]) if files else ""

    def own_env(p: Any) -> bool:
        return not p.section and not installed_with_tests(p.file, service_path)

    def runtime(p: Any) -> bool:
        name = p.file.rsplit("/", 1)[-1]
        return p.section in RUNTIME_SECTIONS or (not p.section and name in ("requirements.txt", "requirements.in"))

    base = [p for p in pins if runtime(p) and not own_env(p)]
    groups: dict[tuple[str, str], list[Any]] = {}
    alone: dict[str, list[Any]] = {}
    for p in pins:
        if own_env(p):
            alone.setdefault(p.file, []).append(p)
        elif not runtime(p):
            groups.setdefault((p.file, p.section), []).append(p)
    return ([base + g for g in groups.values()] or [base]) + list(alone.values())


def settle(pins: Sequence[Any], changes: Sequence[tuple[str, Any]], pythons: Sequence[str], resolver: Resolver,
           extra: Sequence[str] = (), avoid: Mapping[str, Sequence[str]] | None = None,
           rounds: int = 3, service_path: str | None = None) -> Settlement:
    """Resolve the service's pins with `changes` applied for every Python (each set of pins installed
    together on its own); move each companion pin that blocks a target to its lowest release that resolves
    with the targets; give every change the release uv chose (for `==` pins). `avoid`: package -> releases
    the advisories rule out."""
    from dataclasses import replace as _replace

    from fleetshift.manifests._common import _styled, is_runtime, split_extras
    from fleetshift.model import Finding, Severity

    out = Settlement(list(changes))
    avoid = avoid or {}
    by: dict[str, Any] = {}
    for _, c in out.changes:
        by[canonicalize_name(c.package)] = c
    moving = {_base(c.new_package) for c in by.values() if not c.remove}

    def requirements(group: Sequence[Any]) -> list[str]:
        reqs: list[str] = list(extra)
        for p in group:
            c = by.get(p.package)
            if c is not None and c.remove:
                continue
            name = _base(c.new_package) if c is not None else p.package
            extras = tuple(p.extras)
            if c is not None:
                new_extras = split_extras(c.new_package)[1]
                extras = tuple(sorted({*(extras if name == p.package else ()), *new_extras}))
            spec = c.new_spec if c is not None and c.new_spec is not None else p.spec
            if c is not None and c.library and c.new_spec is not None and is_runtime(p.section):
                spec = _styled(p.spec, _normal(c.new_spec), c, p.section)  # what will be written: kept wide
            bad = [f"!={v}" for v in avoid.get(name, ())]
            spec = ",".join(x for x in (_normal(spec), *bad) if x)
            reqs.append(_req(name, extras, spec, p.marker))
        return reqs

    def targets() -> list[str]:
        return [f"{_base(c.new_package)}{_normal(c.new_spec)}" for c in by.values()
                if not c.remove and c.new_spec]

    sets = install_sets(pins, service_path)
    last: dict[str, dict[str, str]] = {}
    solved: list[tuple[str, int, Mapping[str, str]]] = []
    for _ in range(rounds):
        failures: list[Resolution] = []
        last = {}
        solved = []
        for py in pythons:
            for gi, group in enumerate(sets):
                res = resolver.compile(requirements(group), py)
                if res.unavailable:
                    out.offline = True
                    return out
                if not res.ok:
                    failures.append(res)
                else:
                    solved.append((py, gi, res.versions))
                    for name, version in res.versions.items():
                        last.setdefault(py, {}).setdefault(name, version)
        if not failures:
            break
        movable = sorted({p.package for p in pins if p.package not in by and p.package not in moving and p.spec})
        named = sorted({n for res in failures for n in res.mentioned(movable)})
        moved = False
        for comp in named:
            current = next(p.spec for p in pins if p.package == comp and p.spec)
            above = beyond(current)
            if above is None:
                continue
            found, _why = resolver.lowest_moving(comp, above, targets(), pythons)
            if found is None:
                continue
            reason = (f"{comp}{current} cannot be installed with {', '.join(targets())} "
                      f"({failures[0].reason()}); moved to {found}, the lowest release that resolves with them")
            change = _pin_change(comp, _range_from(found), reason, found)
            by[comp] = change
            rid = out.changes[0][0] if out.changes else "pins"
            out.changes.append((rid, change))
            out.findings.append(Finding(next(p.file for p in pins if p.package == comp),
                                        next(p.line for p in pins if p.package == comp), "pins/companion",
                                        reason, Severity.ADVICE))
            moved = True
        if not moved:
            involved = ", ".join(named) or "none of its own pins (see uv's reason)"
            out.findings.append(Finding(
                "", 0, "pins/conflict",
                f"uv cannot resolve the pins with the targets on Python {failures[0].python}: "
                f"{failures[0].reason()}; pins that conflict: {involved}. Move them by hand or add them to "
                "[targets]", Severity.HUMAN))
            break
    if not failures:
        for rule in UNDECLARED:
            if _import_conflict(rule, solved, sets, pins, by, requirements, resolver, out, last):
                break
    floor_py = pythons[0] if pythons else ""
    if floor_py in last and not failures:
        out.versions = dict(last[floor_py])
        out.changes = [(rid, c if c.remove or c.resolved or c.new_spec is None
                        else _replace(c, resolved=out.versions.get(_base(c.new_package), "")))
                       for rid, c in out.changes]
    return out


def minimum_pins(file: str, pins: Sequence[Any], changes: Sequence[tuple[str, Any]], pythons: Sequence[str],
                 resolver: Resolver, avoid: Mapping[str, Sequence[str]] | None = None,
                 kept: Iterable[str] = ()) -> tuple[list[tuple[str, Any]], list[Any]]:
    """The changes for a file of exact minimum pins (`install-min.txt`): each moved pin stays `==`, at the
    oldest release its target admits (advisories' releases left out) that uv resolves with the file's other
    pins on every Python; what does not resolve is left as it is, with a Finding. The changes name the file.
    `kept`: packages whose floor the project keeps (a published library's runtime range): their minimum
    pins are still the minimum, and stay."""
    from dataclasses import replace as _replace

    from fleetshift.manifests._common import split_extras
    from fleetshift.model import Finding, Severity

    avoid = avoid or {}
    kept = set(kept)
    mine = [(rid, c) for rid, c in changes if not c.remove and not c.add_after and c.new_spec
            and c.package not in kept and any(p.package == c.package for p in pins)]
    if not mine:
        return [], []
    by = {c.package: (rid, c) for rid, c in mine}
    reqs: list[str] = []
    for p in pins:
        if p.package in by:
            c = by[p.package][1]
            name, extras = split_extras(c.new_package)
            bad = [f"!={v}" for v in avoid.get(canonicalize_name(name), ())]
            spec = ",".join(x for x in (_normal(c.new_spec), *bad) if x)
            reqs.append(_req(canonicalize_name(name), tuple(sorted({*p.extras, *extras})), spec, p.marker))
        else:
            reqs.append(_req(p.package, p.extras, p.spec, p.marker))
    lowest: dict[str, Version] = {}
    failure: Resolution | None = None
    for py in pythons:
        res = resolver.compile(reqs, py, lowest=True)
        if not res.ok:
            failure = res
            break
        for _rid, c in mine:
            v = res.versions.get(_base(c.new_package))
            if v is not None:
                lowest[c.package] = max(lowest.get(c.package, Version(v)), Version(v))
    out: list[tuple[str, Any]] = []
    findings: list[Any] = []
    for rid, c in mine:
        pin = next(p for p in pins if p.package == c.package)
        target = f"{split_extras(c.new_package)[0]}{_normal(c.new_spec)}"
        if failure is not None or c.package not in lowest:
            why = failure.reason() if failure is not None and not failure.unavailable else "uv could not be asked"
            findings.append(Finding(pin.file, pin.line, "pins/minimum",
                                    f"{file}:{pin.line}: {pin.package}{pin.spec} left as it is: this file holds exact "
                                    f"minimum pins, and no release of {target} resolves with its other pins "
                                    f"({why}); raise the minimum by hand", Severity.HUMAN))
            continue
        version = str(lowest[c.package])
        out.append((rid, _replace(c, new_spec=f"=={version}", resolved="", library=False, files=(file,),
                                  reason=f"{c.reason}; the oldest release of {target} for minimum pins")))
        findings.append(Finding(pin.file, pin.line, "pins/minimum",
                                f"{file}:{pin.line}: {pin.package}{pin.spec} -> {split_extras(c.new_package)[0]}=="
                                f"{version}: a file of minimum pins stays exact, at the oldest release of {target} "
                                f"that resolves with its other pins", Severity.ADVICE))
    return out, findings


@dataclass(frozen=True)
class ImportRequirement:
    """A requirement some releases of a package have when imported that their metadata does not declare, so
    no resolver sees it: uv happily installs them beside a pin that excludes what they need."""

    package: str
    releases: str  # the releases that need it
    needs: str
    needs_spec: str
    evidence: str

    @property
    def bound(self) -> str:
        """The releases of `package` that do without it."""
        return f"<{lowest_of(self.releases)}"


UNDECLARED = (
    ImportRequirement(
        "pyarrow", ">=26", "numpy", ">=2",
        "pyarrow 26.0.0 and later raise `ImportError: pyarrow requires NumPy 2.0 or newer` on NumPy 1.x, "
        "though their metadata names no numpy; 25.0.0 imports on NumPy 1.26"),
)


def _import_conflict(rule: ImportRequirement, solved: Sequence[tuple[str, int, Mapping[str, str]]],
                     sets: Sequence[Sequence[Any]], pins: Sequence[Any], by: Mapping[str, Any],
                     requirements: Any, resolver: Resolver, out: Settlement,
                     last: dict[str, dict[str, str]]) -> bool:
    """Find the releases uv chose that cannot be imported together (`rule`), and bound the package that a
    target brings in below the releases that need more, beside that target's pin; when that does not
    resolve, or the project pins the package itself, a Finding names both packages and the fix. True when
    something was found."""
    from fleetshift.manifests._common import split_extras
    from fleetshift.model import Finding, Severity
    from fleetshift.recipes.base import PinChange

    found = False
    files: dict[str, None] = {}
    after = ""
    chosen = ""
    holder_text = ""
    target_text = ""
    where: tuple[str, int] = ("", 0)
    for py, gi, versions in solved:
        have, dep = versions.get(rule.package), versions.get(rule.needs)
        try:
            if not have or not dep or not SpecifierSet(rule.releases).contains(have, prereleases=True) or \
                    SpecifierSet(rule.needs_spec).contains(dep, prereleases=True):
                continue
        except (InvalidSpecifier, InvalidVersion):
            continue
        found = True
        group = sets[gi]
        holder = next((p for p in group if p.package == rule.needs and p.spec), None)
        holder_text = (f"{holder.package}{holder.spec} ({holder.file}:{holder.line})" if holder
                       else f"{rule.needs} (through other pins)")
        where = (holder.file, holder.line) if holder else where
        own = next((p for p in pins if p.package == rule.package), None)
        bringers = []
        for c in by.values():
            if c.remove or not c.new_spec or not any(p.package == c.package for p in group):
                continue
            name, extras = split_extras(c.new_package)
            alone = resolver.compile([_req(canonicalize_name(name), extras, c.new_spec, "")], py)
            if alone.ok and rule.package in alone.versions:
                bringers.append(c)
        conflict = (f"{rule.package} {have} needs {rule.needs}{rule.needs_spec} at import ({rule.evidence}), "
                    f"but {holder_text} keeps {rule.needs} at {dep} on Python {py}")
        if own is not None or not bringers:
            out.findings.append(Finding(where[0], where[1], "pins/import-conflict",
                                        f"{conflict}: move {rule.needs} to {rule.needs_spec}, or pin "
                                        f"{rule.package}{rule.bound}", Severity.HUMAN))
            return True
        c = bringers[0]
        target_text = f"{split_extras(c.new_package)[0]}{_normal(c.new_spec)}"
        fixed = resolver.compile([*requirements(group), f"{rule.package}{rule.bound}"], py)
        if not fixed.ok:
            out.findings.append(Finding(where[0], where[1], "pins/import-conflict",
                                        f"{conflict}; {target_text} brings it in, and {rule.package}{rule.bound} "
                                        f"does not resolve with the pins ({fixed.reason()}): move {rule.needs} to "
                                        f"{rule.needs_spec}", Severity.HUMAN))
            return True
        chosen = fixed.versions.get(rule.package, "")
        after = c.package
        files.update(dict.fromkeys(p.file for p in group if p.package == c.package))
        last.setdefault(py, {}).update(fixed.versions)
    if not found or not after:
        return found
    note = f"{rule.package}{rule.releases} imports only with {rule.needs}{rule.needs_spec}, which {holder_text.split(' (')[0]} excludes"
    out.changes.append(("pins", PinChange(rule.package, rule.package, rule.bound, reason=note, add_after=after,
                                          files=tuple(files))))
    out.findings.append(Finding(where[0], where[1], "pins/import-conflict",
                                f"{target_text} brings in {rule.package}, whose releases {rule.releases} need "
                                f"{rule.needs}{rule.needs_spec} at import ({rule.evidence}); {holder_text} keeps "
                                f"{rule.needs} below that: {rule.package}{rule.bound} added beside {target_text} in "
                                f"{', '.join(files)} (uv then chooses {rule.package} {chosen}). Drop it when "
                                f"{rule.needs} moves to {rule.needs_spec}", Severity.ADVICE))
    return True


def _base(package: str) -> str:
    """The canonical name of a package as a change names it, without extras ('influxdb3-python[pandas]')."""
    from fleetshift.manifests._common import split_extras

    return canonicalize_name(split_extras(package)[0])


def _pin_change(package: str, spec: str, reason: str, resolved: str) -> Any:
    from fleetshift.recipes.base import PinChange

    return PinChange(package, package, spec, reason=reason, resolved=resolved)
