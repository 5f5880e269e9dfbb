"""The rewrite stage: per service, chain its recipes over code, tests, config and manifests into a ChangeSet.

Pure: it reads the fleet's files and returns new contents; it never writes. Files keep their encoding,
BOM and newline style. A recipe that crashes or emits unparseable code changes nothing and is reported.
"""

from __future__ import annotations

import contextlib
import difflib
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from fleetshift.config import FleetConfig
from fleetshift.gcpolicy import fewer_collections
from fleetshift.importorder import keeps_order, resort
from fleetshift.manifests import apply_pin_changes, is_minimum_pins, split_extras, tox_minimum_files
from fleetshift.model import (
    ChangeSet,
    FileChange,
    Finding,
    Fleet,
    LockFile,
    LockKind,
    Plan,
    PythonModel,
    Selection,
    Service,
    Severity,
)
from fleetshift.recipes import for_package, forget_trees, get, sparse
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes._floors import declared_model, policy, pythons_to_check, raise_floor
from fleetshift.recipes.base import Known, PinChange, Recipe, RewriteContext
from fleetshift.relock import detect_locks
from fleetshift.relock import relock as relock_file
from fleetshift.resolve import FloorPlan, Resolver, _floor_rule, minimum_pins, plan_floor, settle
from fleetshift.scancache import digest
from fleetshift.textio import Decoded, UnreadableFile, decode_python, decode_text, read_file

TODO_PREFIX = "# fleetshift: TODO"
PROCESSES_MIN_SERVICES = 24  # fewer services than this are rewritten in the calling process
_pool: Executor | None = None
# rewrites sent to the workers before they are asked for (see `rewrite_ahead`): (root, service, chain, todo) ->
# the Service and FleetConfig they were sent with, and the pending ChangeSet
_ahead: dict[tuple[str, str, tuple[str, ...], bool], tuple[Service, FleetConfig, Future[ChangeSet]]] = {}
_ahead_lock = threading.Lock()
_stop = threading.Event()  # set when the workers close: the questions not yet asked ahead are not asked


@dataclass(frozen=True)
class RewriteOptions:
    selection: Selection = field(default_factory=Selection)
    todo_comments: bool = False


def _read(root: Path, rel: str, findings: list[Finding], digests: dict[str, bytes] | None = None) -> Decoded | None:
    try:
        try:  # by its path's text, no file object: `Path.read_bytes` costs twice as much on a service's many small files
            data = read_file(f"{root}/{rel}")[1]
        except OSError:
            data = (root / rel).read_bytes()  # what the path reports (or it reads now)
        if digests is not None:
            digests[rel] = digest(data)
        return decode_python(data) if rel.endswith(".py") else decode_text(data)
    except (OSError, UnreadableFile) as exc:
        findings.append(Finding(rel, 0, "rewrite/unreadable", f"{exc}; this file was left unchanged", Severity.ERROR))
        return None


def _parses(text: str) -> str | None:
    if sparse.parses(text):  # spliced from a sparse view whose rewrite parses (see `sparse.vouch`)
        return None
    try:
        parse_tree(text)
    except SyntaxError as exc:
        return f"{exc.msg} at line {exc.lineno}"
    return None


def _todo_lines(text: str, findings: Iterable[Finding], path: str) -> str:
    """Insert `# fleetshift: TODO[rule] ...` above each flagged line of a Python file (once)."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if "\r\n" in text else "\n"
    marks = sorted({(f.line, f.rule, f.message) for f in findings if f.file == path and 0 < f.line <= len(lines)}, reverse=True)
    for line, rule, message in marks:
        target = lines[line - 1]
        indent = target[: len(target) - len(target.lstrip())]
        short = message.splitlines()[0] if message else ""
        short = short if len(short) <= 100 else short[:97] + "..."
        comment = f"{indent}{TODO_PREFIX}[{rule}] {short}".rstrip() + newline
        above = line - 2  # the whole run of TODO lines above counts: a line may carry several rules
        while above >= 0 and lines[above].lstrip().startswith(TODO_PREFIX):
            if lines[above].lstrip().startswith(f"{TODO_PREFIX}[{rule}]"):
                break
            above -= 1
        if above >= 0 and lines[above].lstrip().startswith(f"{TODO_PREFIX}[{rule}]"):
            continue
        lines.insert(line - 1, comment)
    return "".join(lines)


def _line_map(old: str, new: str) -> dict[int, int]:
    """1-based line numbers of `old` -> where that line (or what replaced it) stands in `new`."""
    a, b = old.splitlines(), new.splitlines()
    table: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        for k in range(i1, i2):
            if tag == "equal":
                table[k + 1] = j1 + (k - i1) + 1
            else:  # replaced or deleted: the nearest line of what stands there now
                table[k + 1] = min(j1 + (k - i1), max(j2 - 1, j1)) + 1
    return table


def _remap(findings: list[Finding], rel: str, old: str, new: str) -> list[Finding]:
    """Findings of `rel` moved from line numbers of `old` to those of `new` (others unchanged)."""
    if not any(f.file == rel and f.line for f in findings):
        return findings
    table = _line_map(old, new)
    return [replace(f, line=table.get(f.line, f.line)) if f.file == rel and f.line else f for f in findings]


def _inside(service: Service, rel: str) -> bool:
    return not service.path or rel.startswith(service.path.rstrip("/") + "/")


@contextlib.contextmanager
def worker_processes(jobs: int, services: int) -> Iterator[None]:
    """While open, `rewrite_service` computes each ChangeSet in one of `jobs` worker processes.

    A rewrite is pure CPU-bound Python (LibCST), so the campaign's threads would share one core under the GIL;
    in processes they use every core, and the calling thread only waits. Used for runs of at least
    `PROCESSES_MIN_SERVICES` services with `jobs` > 1. Open it before any thread starts: the workers are forked
    at once (they inherit the imported modules), while this process is still single-threaded."""
    global _pool
    if jobs < 2 or services < PROCESSES_MIN_SERVICES or _pool is not None or os.name != "posix":
        yield
        return
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start)
    try:  # a fork pool starts all its workers on the first job; they import while the run goes on starting
        pool.submit(warm)
    except (OSError, BrokenProcessPool):
        pool.shutdown(wait=False, cancel_futures=True)
        yield
        return
    _pool = pool
    _stop.clear()
    try:
        yield
    finally:
        _pool = None
        _stop.set()
        with _ahead_lock:
            _ahead.clear()
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start() -> None:
    """Ctrl-C is this run's to handle: a worker finishes the rewrite it holds and the run stops as it always does.
    A worker whose run is gone (killed) ends within a second: it would otherwise wait for work forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="fleetshift-parent-watch", daemon=True).start()


def warm() -> None:
    """A worker's first job: import what every rewrite needs, once per worker (nothing left to do when the process
    that forked the workers imported it already: `run` does while its scan's child works, see `forked.meanwhile`)."""
    import importlib
    import pkgutil

    from fleetshift.recipes import _matchers

    _matchers.load()  # (before `libcst.codemod` imports it)
    import libcst.codemod.visitors
    import libcst.metadata  # noqa: F401

    import fleetshift.recipes
    import fleetshift.recipes.fixes

    # the recipes' rewriting modules, which their detection does not import (each worker would import them again)
    for found in pkgutil.walk_packages(fleetshift.recipes.__path__, "fleetshift.recipes."):
        if found.name not in sys.modules:
            with contextlib.suppress(Exception):
                importlib.import_module(found.name)


def rewrite_service(root: Path, service: Service, chain: Sequence[str], config: FleetConfig, todo_comments: bool = False,
                    resolver: Resolver | None = None) -> ChangeSet:
    """The ChangeSet of one service for the given recipe chain (in order); in a worker process when
    `worker_processes` is open (a recipe's exception is raised here all the same).

    Before anything is rewritten the Python-floor policy is applied (a recipe whose target cannot install on
    a Python the service keeps is narrowed or left out); after the recipes, the resolver settles the pins
    (companions that block a target move, exact pins get the chosen release) and the locks are regenerated.
    """
    pool = _pool
    if pool is not None and resolver is None:
        with _ahead_lock:
            sent = _ahead.pop((str(root), service.name, tuple(chain), todo_comments), None)
        try:
            if sent is not None and sent[0] is service and sent[1] is config:
                return sent[2].result()
            return pool.submit(_rewrite_here, root, service, tuple(chain), config, todo_comments).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): this process does the work
            pass
    return _rewrite_here(root, service, chain, config, todo_comments, resolver)


def rewrite_ahead(root: Path, work: Iterable[tuple[Service, Sequence[str]]], config: FleetConfig,
                  todo_comments: bool = False) -> int:
    """Send the rewrites `rewrite_service` will be asked for, in the order it will ask, to the workers now (when
    `worker_processes` is open), so they compute the next services' ChangeSets while the caller writes the last
    ones; `rewrite_service` then takes the result sent ahead for the same service, chain and config. Only for
    rewrites whose inputs nothing changes in between: the caller's promise (no hook runs, no other service
    writes this service's files). Their pin questions are asked ahead too (`_ask_ahead`), those the process asking
    during the scan was not given already (`pinsahead.asked`). How many were sent."""
    pool = _pool
    if pool is None:
        return 0
    work = list(work)
    sent = 0
    with _ahead_lock:
        for service, chain in work:
            key = (str(root), service.name, tuple(chain), todo_comments)
            if key in _ahead:
                continue
            try:
                future = pool.submit(_rewrite_here, root, service, tuple(chain), config, todo_comments)
            except (BrokenProcessPool, RuntimeError):  # the pool is gone or shutting down: asked for one by one
                break
            _ahead[key] = (service, config, future)
            sent += 1
    from fleetshift import pinsahead

    ask = [(service, chain) for service, chain in work if not pinsahead.asked(root, service, chain)] if sent else []
    if ask:  # the questions not asked during the scan already (pinsahead)
        threading.Thread(target=_ask_ahead, args=(root, ask, config, _stop), name="fleetshift-ask-ahead",
                         daemon=True).start()
    return sent


def _ask_ahead(root: Path, work: Sequence[tuple[Service, Sequence[str]]], config: FleetConfig,
               stop: threading.Event) -> None:
    """Ask uv, at once and side by side, the questions the rewrites sent ahead will ask, so their answers wait in
    the resolver's cache: a worker would otherwise ask them one after the other, idle while uv reads the index.
    First one uv run online fetches the index pages of every package they will name (`_named_ahead`,
    `Resolver.fetch`), so that the questions themselves are asked offline. Then service by service in the order
    the workers take them: its Python-floor questions not asked yet (each recipe
    of its chain alone, once per distinct set of inputs), then the pin questions its rewrite asks after its
    recipes (`_warm_settle`, once per distinct set of inputs); each goes to the next free thread as soon as it is
    known. A question asked twice at once is asked once (the resolver's lock). Only warms the cache: every
    rewrite still decides for itself."""
    from concurrent.futures import ThreadPoolExecutor

    resolver = Resolver(root)
    floors: set[object] = set()
    seen: set[object] = set()

    def ask(service: Service, rid: str, texts: dict[str, str]) -> None:
        if not stop.is_set():
            with contextlib.suppress(Exception):  # a cache warmer: the rewrite meets the same problem and says so
                _floor(service, [rid], config, texts, resolver)

    def settle_ahead(service: Service, chain: Sequence[str], texts: dict[str, str]) -> None:
        if not stop.is_set():
            with contextlib.suppress(Exception):
                _warm_settle(root, service, chain, config, texts, resolver, seen)

    known = []
    for service, chain in work:
        texts = _declared_texts(root, service)
        known.append((service, chain, texts,
                      tuple(pythons_to_check(declared_model(service, texts), config.options(service.name, service.path).python))))
    if known and not stop.is_set():
        with contextlib.suppress(Exception):  # a cache warmer
            first = Counter(pythons[0] for *_, pythons in known if pythons).most_common(1)
            targets, others = _named_ahead(work, config)
            if first and resolver.fetch([*targets, *others], first[0][0]) is False:
                # no solution together (a pin that holds a target back): the targets, and the rest by name alone
                with ThreadPoolExecutor(max_workers=2) as two:
                    two.submit(resolver.fetch, targets, first[0][0])
                    two.submit(resolver.fetch, [_by_name(r) for r in others], first[0][0])
    with ThreadPoolExecutor(max_workers=max(1, min(8, 2 * len(work)))) as threads:
        for service, chain, texts, pythons in known:
            if stop.is_set():
                break
            options = config.options(service.name, service.path)
            chosen = policy(service, config.python_floor, options.python_floor)
            for rid in chain:  # each recipe's questions on their own: they do not wait for each other
                signature = (rid, pythons, chosen, tuple(sorted(_wide_ranges(service, [rid], config).items())))
                if signature not in floors:
                    floors.add(signature)
                    threads.submit(ask, service, rid, texts)
            threads.submit(settle_ahead, service, chain, texts)


def _named_ahead(work: Sequence[tuple[Service, Sequence[str]]],
                 config: FleetConfig) -> tuple[list[str], list[str]]:
    """The requirements the pin questions of `work` will name, for `Resolver.fetch`: each chained recipe's package
    at its target, then every other package the services pin (at its pin where all of them pin it alike, else by
    name alone, with every extra they ask for); the packages the recipes move from are left out. Only which index
    pages are fetched depends on them, never an answer."""
    targets = config.target_specs()
    moving: set[str] = set()
    out: dict[str, tuple[set[str], set[str]]] = {}  # package -> (specs, extras)
    for _, chain in work:
        for rid in chain:
            recipe = get(rid)
            moving |= {recipe.package, recipe.replaces}
            out.setdefault(recipe.package, (set(), set()))[0].add(targets.get(recipe.package, recipe.migrates_to))
    split = len(out)
    for service, _ in work:
        for p in service.pins:
            if not p.path and p.package not in moving:
                specs, extras = out.setdefault(p.package, (set(), set()))
                specs.add(p.spec)
                extras.update(p.extras)
    named = [f"{name}{'[' + ','.join(sorted(extras)) + ']' if extras else ''}{next(iter(specs)) if len(specs) == 1 else ''}"
             for name, (specs, extras) in out.items()]
    return named[:split], named[split:]


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _by_name(requirement: str) -> str:
    """A requirement without its specifier (its extras kept): 'coverage[toml]==7.6.1' -> 'coverage[toml]'."""
    name = _NAME.match(requirement)
    end = requirement.find("]") + 1 if "[" in requirement else 0
    return requirement[:end] if end else name.group(0) if name else requirement


def _declared_texts(root: Path, service: Service) -> dict[str, str]:
    """The texts of the service's files that `declared_model` reads (its pyproject.toml and setup.cfg)."""
    base = f"{service.path}/" if service.path else ""
    texts: dict[str, str] = {}
    for rel in (base + "pyproject.toml", base + "setup.cfg"):
        if rel in service.config_files:
            d = _read(root, rel, [])
            if d is not None:
                texts[rel] = d.text
    return texts


_seen_lock = threading.Lock()


def _warm_settle(root: Path, service: Service, chain: Sequence[str], config: FleetConfig, texts: dict[str, str],
                 resolver: Resolver, seen: set[object]) -> None:
    """Ask uv the pin questions `_settle` will ask for the service's rewrite, as `_rewrite` would reach it from the
    files as they are now: the floor's decision, each chained recipe's pin changes (a recipe that looks at the
    service's code for them is given its Python files), the explicit moves, and the files written by hand. The
    recipes may yet change what their rewrite decides (a recipe that crashes, code that no longer needs a
    package): then the rewrite asks its own questions. Services whose answers cannot differ (the same inputs,
    paths taken inside the service) are asked once (`seen`)."""
    _, floor = _floor(service, chain, config, texts, resolver)
    base = f"{service.path}/" if service.path else ""
    files = dict(texts)
    recipes = [get(rid) for rid in floor.chain]
    if any(type(r).pin_changes is not Recipe.pin_changes for r in recipes):  # it may read the code
        for rel in service.python_files:
            d = _read(root, rel, [])
            if d is not None:
                files[rel] = d.text
    pinned = {p.package: p.spec for p in service.pins if not p.path}
    changes: list[tuple[str, PinChange]] = []
    for recipe in recipes:
        ctx = RewriteContext(service=service, targets=floor.targets, files=files)
        changes += [(recipe.id, c) for c in recipe.pin_changes(ctx, pinned)]
    changes += [("targets", c) for c in explicit_moves(service, config)]
    if not changes:
        return
    generated = _generated(detect_locks(root, service))
    found = service.detection
    rewrote: dict[str, set[str]] = {  # a library's ranges stay wide unless a recipe rewrites its code
        rid: {rel for rel, at in found.recipes[rid].sites.items() if rel.endswith(".py") and at}
        for rid in floor.chain if found is not None and found.recipes.get(rid) is not None
    } if service.project.is_library else {}
    rewrote = {rid: rels for rid, rels in rewrote.items() if rels}

    def inside(rel: str) -> str:
        return rel[len(base):] if base and rel.startswith(base) else "/" + rel

    signature = (
        tuple((rid, replace(c, files=tuple(map(inside, c.files)))) for rid, c in changes),
        tuple((inside(p.file), p.package, p.spec, p.section, p.extras, p.marker, p.path) for p in service.pins),
        tuple(floor.pythons), floor.offline, bool(base), frozenset(map(inside, generated)),
        frozenset(map(inside, tox_minimum_files(root, service.path))), tuple(sorted(rewrote)),
        service.project.is_library, tuple(r for td in service.project.test_deps for r in td.requirements),
    )
    with _seen_lock:
        if signature in seen:
            return
        seen.add(signature)
    _settle(root, service, changes, floor, resolver, generated, rewrote, [])


def _known(recipe: Recipe, service: Service, digests: Mapping[str, bytes], texts: Mapping[str, str],
           original: Mapping[str, str]) -> Known | None:
    """What the scan's detection found of `recipe` in the service (`Service.detection`), for the files it still
    holds for: every Python file read now as the scan read it and left as it was by the recipes before this one in
    the chain; a recipe that detects file by file (`Recipe.detect`, or `Recipe.file_level`) detects again only the
    files that are not, and those whose detection read one of them. None (the recipe detects for itself) when the
    scan has no record, or the service's Python files are not the ones the scan read."""
    found = service.detection
    if found is None or found.digests.keys() != digests.keys():
        return None
    if recipe.id in found.recipes:
        record = found.recipes[recipe.id]
        if record is None:  # the recipe failed on the service during the scan
            return None
        sources, sites, reads, kept = record.sources, record.sites, record.reads, record.found
    elif recipe.service_level:  # no file of the service held one of its tokens
        sources, sites, reads, kept = frozenset(), {}, {}, {}
    else:
        return None
    changed = {rel for rel, d in digests.items() if found.digests[rel] != d or texts.get(rel) != original.get(rel)}
    # a module's outline stands for the text it was read off (its digest), that no recipe before this one changed
    outlines = {rel: o for rel, o in found.outlines.items()
                if rel in sites and rel not in changed and o[0] == digests.get(rel)}
    if not changed:
        return Known(sources, sites, outlines=outlines, found=kept)
    if reads is None:  # a file's sites may depend on any file of the service
        return None
    stale = frozenset(changed | {rel for rel, read in reads.items() if read & changed})
    return Known(sources - stale, {rel: at for rel, at in sites.items() if rel not in stale}, stale, outlines,
                 {rel: at for rel, at in kept.items() if rel not in stale} if kept else kept)


def _rewrite_here(root: Path, service: Service, chain: Sequence[str], config: FleetConfig, todo_comments: bool = False,
                  resolver: Resolver | None = None) -> ChangeSet:
    with fewer_collections():
        try:
            return _rewrite(root, service, chain, config, todo_comments, resolver)
        finally:
            forget_trees()  # the service's own texts: see recipes.forget_trees


def _rewrite(root: Path, service: Service, chain: Sequence[str], config: FleetConfig, todo_comments: bool,
             resolver: Resolver | None) -> ChangeSet:
    import fleetshift.recipes.fixes  # noqa: F401  (makes LibCST's per-instance introspection per class)

    findings: list[Finding] = []
    decoded: dict[str, Decoded] = {}
    digests: dict[str, bytes] = {}
    for rel in (*service.python_files, *service.config_files):
        d = _read(root, rel, findings, digests if rel.endswith(".py") else None)
        if d is not None:
            decoded[rel] = d
    texts = {rel: d.text for rel, d in decoded.items()}
    original = dict(texts)
    touched: dict[str, list[str]] = {}
    resolver = resolver or Resolver(root)
    model, floor = _floor(service, chain, config, texts, resolver)
    findings += floor.findings
    chain = floor.chain
    if floor.new_floor:
        _raise_floor(root, service, model, floor, chain, texts, decoded, touched, findings)
    pinned = {p.package: p.spec for p in service.pins if not p.path}
    pin_changes: list[tuple[str, PinChange]] = []
    rewrote: dict[str, set[str]] = {}  # recipe -> files of code it changed
    for recipe_id in chain:
        recipe = get(recipe_id)
        ctx = RewriteContext(service=service, targets=floor.targets, files=dict(texts), todo_comments=todo_comments,
                             known=_known(recipe, service, digests, texts, original))
        try:
            result = recipe.migrate(ctx)
        except Exception as exc:  # a recipe bug must never cost the user their files
            findings.append(Finding(service.path or ".", 0, f"{recipe_id}/crashed",
                                    f"recipe {recipe_id} failed on this service ({exc!r}); none of its changes were kept",
                                    Severity.ERROR, recipe=recipe_id))
            continue
        for rel, new in result.texts.items():
            if not _inside(service, rel):
                findings.append(Finding(rel, 0, f"{recipe_id}/outside-service",
                                        f"recipe {recipe_id} tried to change a file outside {service.name}; not changed",
                                        Severity.ERROR, recipe=recipe_id))
                continue
            problem = _parses(new) if rel.endswith(".py") else None
            if problem:
                findings.append(Finding(rel, 0, f"{recipe_id}/bad-output",
                                        f"recipe {recipe_id} produced code that does not parse ({problem}); the file was left as it was",
                                        Severity.ERROR, recipe=recipe_id))
                continue
            if texts.get(rel) != new:
                findings = _remap(findings, rel, texts.get(rel, ""), new)
                texts[rel] = new
                touched.setdefault(rel, []).append(recipe_id)
                if rel.endswith(".py"):
                    rewrote.setdefault(recipe_id, set()).add(rel)
        # This recipe's own findings point into its input; move them to the text it produced.
        own = list(result.findings)
        for rel, new in result.texts.items():
            if ctx.files.get(rel) is not None and texts.get(rel) == new:
                own = _remap(own, rel, ctx.files[rel], new)
        findings.extend(own)
        pin_changes += [(recipe_id, c) for c in recipe.pin_changes(ctx, pinned)]
    pin_changes += [("targets", c) for c in explicit_moves(service, config)]

    if todo_comments:
        for rel in list(texts):
            if rel.endswith(".py") and any(f.file == rel and f.line for f in findings):
                new = _todo_lines(texts[rel], findings, rel)
                if new != texts[rel]:
                    findings = _remap(findings, rel, texts[rel], new)
                    texts[rel] = new
                    touched.setdefault(rel, []).append("todo-comments")

    _keep_import_order(root, service, texts, decoded, touched, findings)
    locks = detect_locks(root, service)
    generated = _generated(locks)
    pin_changes = _settle(root, service, pin_changes, floor, resolver, generated, rewrote, findings)
    _apply_pin_changes(root, service, pin_changes, texts, decoded, touched, findings, generated)
    _relock(root, service, locks, floor.pythons, texts, decoded, touched, findings)
    changes: list[FileChange] = []
    for rel, new in texts.items():
        if rel in touched:
            d = decoded.get(rel)
            old = (root / rel).read_bytes() if d else None
            data = d.encode(new) if d else new.encode("utf-8")
            if old != data:
                changes.append(FileChange(rel, old, data, tuple(dict.fromkeys(touched[rel]))))
    return ChangeSet(service.name, tuple(changes), tuple(findings), tuple(chain))


def _floor(service: Service, chain: Sequence[str], config: FleetConfig, texts: Mapping[str, str],
           resolver: Resolver) -> tuple[PythonModel, FloorPlan]:
    """The service's declared Pythons and the Python-floor policy's decision for `chain` (asks uv)."""
    options = config.options(service.name, service.path)
    model = declared_model(service, texts)
    return model, plan_floor(service.name, _where(service, model), chain, config.target_specs(),
                             pythons_to_check(model, options.python),
                             policy(service, config.python_floor, options.python_floor), resolver,
                             _wide_ranges(service, chain, config))


def _keep_import_order(root: Path, service: Service, texts: dict[str, str], decoded: dict[str, Decoded],
                       touched: dict[str, list[str]], findings: list[Finding]) -> None:
    """Rewritten modules whose imports were sorted the project's declared way are sorted again (see importorder)."""
    rewritten = [rel for rel in touched if rel.endswith(".py") and rel in decoded]
    if not rewritten or not keeps_order(root, service.path):
        return
    for rel in rewritten:
        new = resort(decoded[rel].text, texts[rel], rel, root)
        if new != texts[rel] and _parses(new) is None:
            findings[:] = _remap(findings, rel, texts[rel], new)
            texts[rel] = new


def _wide_ranges(service: Service, chain: Sequence[str], config: FleetConfig) -> dict[str, str]:
    """For a published library, the ranges its runtime pins of each chained recipe's package will keep
    (floor kept, upper bound raised): what the Python floor is checked against instead of the target."""
    from fleetshift.manifests._common import _styled, is_runtime

    if not service.project.is_library:
        return {}
    out: dict[str, str] = {}
    targets = config.target_specs()
    for rid in chain:
        recipe = get(rid)
        pins = [p for p in service.pins if p.package in (recipe.package, recipe.replaces) and not p.path]
        if not pins or not all(is_runtime(p.section) for p in pins) or recipe.replaces in {p.package for p in pins}:
            continue
        target = targets.get(recipe.package, recipe.migrates_to)
        kept = [_styled(p.spec, target, PinChange(p.package, p.package, target, library=True), p.section) for p in pins]
        out[recipe.package] = ",".join(k for k in kept if k)
    return out


def _where(service: Service, model: PythonModel) -> str:
    """Where a service-wide finding points: its first Python declaration, else its folder."""
    return model.declarations[0].file if model.declarations else (service.path or ".")


def _load(root: Path, rel: str, texts: dict[str, str], decoded: dict[str, Decoded], findings: list[Finding]) -> bool:
    if rel in texts:
        return True
    d = _read(root, rel, findings)
    if d is None:
        return False
    decoded[rel] = d
    texts[rel] = d.text
    return True


def _raise_floor(root: Path, service: Service, model: PythonModel, floor: FloorPlan, chain: Sequence[str],
                 texts: dict[str, str], decoded: dict[str, Decoded], touched: dict[str, list[str]],
                 findings: list[Finding]) -> None:
    """Move every declaration of the Python floor to `floor.new_floor`, as one change with one Finding."""
    files = list(dict.fromkeys(d.file for d in model.declarations if _inside(service, d.file)))
    before = {rel: texts[rel] for rel in files if _load(root, rel, texts, decoded, findings)}
    mine = PythonModel(model.spec, model.versions, model.pinned, tuple(d for d in model.declarations if d.file in before))
    edits = raise_floor(texts, mine, floor.new_floor)
    rid = chain[0] if chain else "pins"
    for rel, old in before.items():
        if texts[rel] != old:
            touched.setdefault(rel, []).append(rid)
    where = ", ".join(f"{e.file}:{e.line} ({e.kind}: {e.before} -> {e.after or 'removed'})" for e in edits)
    first = edits[0] if edits else None
    findings.append(Finding(
        first.file if first else _where(service, model), first.line if first else 0, _floor_rule(rid),
        f'Python floor of {service.name} raised to {floor.new_floor} (python_floor = "raise"): '
        + "; ".join(floor.raised_for) + (f". Changed: {where}" if where else ". No declaration to change was found")
        + ". Check the CI images and deployment targets that still run older Pythons",
        Severity.HUMAN, recipe=rid if chain else ""))


def _generated(locks: Iterable[LockFile]) -> set[str]:
    """The lock files a tool writes from another file (pip-compile outputs, exports): their pins are not edited
    by hand but written again."""
    return {lk.file for lk in locks if lk.kind in (LockKind.PIP_COMPILE, LockKind.EXPORT)}


def explicit_moves(service: Service, config: FleetConfig) -> list[PinChange]:
    """`[targets]` entries no recipe handles: each is an explicit move of the service's pin to that target."""
    pinned = {p.package for p in service.pins if not p.path}
    out: list[PinChange] = []
    for name, target in config.targets.items():
        if for_package(name) is not None:
            continue
        source = target.replaces if target.replaces and target.replaces in pinned else name
        if source in pinned:
            out.append(PinChange(source, name, target.spec, reason=f'[targets] {name} = "{target.spec}": explicit move'))
    return out


def _settle(root: Path, service: Service, pin_changes: list[tuple[str, PinChange]], floor: FloorPlan, resolver: Resolver,
            generated: set[str], rewrote: dict[str, set[str]], findings: list[Finding]) -> list[tuple[str, PinChange]]:
    """Let uv settle the pins: companions that block a target move, every change gets the release uv chose,
    and a library keeps its runtime ranges wide unless its migrated code needs the new release."""
    if not pin_changes:
        return pin_changes
    tox = tox_minimum_files(root, service.path)  # files a tox env of the oldest releases installs
    pins = [p for p in service.pins if not p.path and p.file not in generated and not is_minimum_pins(p.file, tox)]
    avoid: dict[str, list[str]] = {}
    for _, c in pin_changes:
        name = split_extras(c.new_package)[0]  # 'influxdb3-python[pandas]'
        recipe = for_package(name)
        for adv in recipe.advisories if recipe else ():
            if adv.versions.startswith("=="):
                avoid.setdefault(name, []).append(adv.versions[2:])
    # the test environment's own requirements by name (not `-r file`, nor the project itself: `.[test]`)
    extra = [r for td in service.project.test_deps for r in td.requirements if _named_requirement(r)]
    if service.project.is_library:
        pin_changes = _library_ranges(service, pin_changes, rewrote, findings)
    settled = settle(pins, pin_changes, floor.pythons, resolver, extra, avoid, service_path=service.path)
    findings += [f if f.file else replace(f, file=service.path or ".") for f in settled.findings]
    changes = settled.changes
    minimum = sorted({p.file for p in service.pins
                      if not p.path and p.file not in generated and is_minimum_pins(p.file, tox)})
    from fleetshift.manifests._common import is_runtime

    kept = {c.package for _, c in changes if c.library and any(p.package == c.package and is_runtime(p.section)
                                                                for p in pins)}  # a library's floor stays
    for rel in minimum if not (settled.offline or floor.offline) else ():
        own = [p for p in service.pins if p.file == rel and not p.path]
        more, said = minimum_pins(rel, own, changes, floor.pythons, resolver, avoid, kept)
        changes = changes + more
        findings += said
    if settled.offline or floor.offline:
        findings.append(Finding(service.path or ".", 0, "pins/offline",
                                "uv could not reach the package index, so the pins were not checked by the resolver; "
                                "exact pins get the oldest release fleetshift knows inside the target (the recipes' "
                                "release lists). Run again with network access to let uv decide", Severity.ADVICE))
        changes = [(rid, _known_release(c)) for rid, c in changes]
    return changes


def _named_requirement(text: str) -> bool:
    """A PEP 508 requirement by name that uv can resolve anywhere (not an option, a path or a URL)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return not text.startswith("-") and Requirement(text).url is None
    except InvalidRequirement:
        return False


def _known_release(change: PinChange) -> PinChange:
    """Offline fallback: the oldest release a recipe knows inside the change's target."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    recipe = for_package(split_extras(change.new_package)[0])
    if change.resolved or change.remove or not change.new_spec or recipe is None:
        return change
    try:
        spec = SpecifierSet(change.new_spec)
    except InvalidSpecifier:
        return change
    known = [v for v in recipe.known_versions if spec.contains(v)]
    return replace(change, resolved=known[0]) if known else change


def _library_ranges(service: Service, changes: list[tuple[str, PinChange]], rewrote: dict[str, set[str]],
                    findings: list[Finding]) -> list[tuple[str, PinChange]]:
    """A published library's runtime and extra ranges stay wide (floor kept, upper bound raised), except
    where a recipe rewrote its code for that package: then the floor moves to the target, and says so."""
    out: list[tuple[str, PinChange]] = []
    for rid, c in changes:
        recipe = for_package(c.new_package)
        if c.remove or c.new_spec is None:
            out.append((rid, c))
        elif recipe is not None and recipe.id == rid and rid in rewrote:
            files = ", ".join(sorted(rewrote[rid])[:3])
            findings.append(Finding(service.path or ".", 0, "pins/library-floor",
                                    f"{service.name} is a published library: the floor of {c.new_package} moves to "
                                    f"{c.new_spec} because its migrated code ({files}) needs the new API",
                                    Severity.ADVICE, recipe=rid))
            out.append((rid, c))
        else:
            out.append((rid, replace(c, library=True)))
    return out


def _relock(root: Path, service: Service, locks: Sequence[LockFile], pythons: Sequence[str], texts: dict[str, str],
            decoded: dict[str, Decoded], touched: dict[str, list[str]], findings: list[Finding]) -> None:
    """Regenerate each lock whose source changed; a lock that cannot be regenerated becomes a Finding."""
    edited = {rel: texts[rel] for rel in touched if rel in texts and not rel.endswith(".py")}
    for lock in locks:
        if lock.kind is LockKind.EXPORT:  # exported from a lock: stale when that lock's manifest changed
            changed = any(lk.file == lock.source and lk.source in edited for lk in locks)
        elif lock.source:
            changed = lock.source in edited
        else:
            changed = any(rel.endswith(("pyproject.toml", "Pipfile")) for rel in edited)
        if not changed or not _inside(service, lock.file):
            continue
        result = relock_file(root, service, lock, edited, pythons[0] if pythons else "")
        if result.text is None:
            if result.finding is not None:
                findings.append(result.finding)
            continue
        if not _load(root, lock.file, texts, decoded, findings):
            continue
        if result.text != texts[lock.file]:
            texts[lock.file] = result.text
            touched.setdefault(lock.file, []).extend(dict.fromkeys(r for rel in edited for r in touched.get(rel, ())))
            tool = "uv pip compile" if lock.kind is LockKind.PIP_COMPILE else lock.command or lock.kind.value
            findings.append(Finding(lock.file, 0, "pins/lock-regenerated",
                                    f"{lock.file} regenerated from {lock.source or 'its manifest'} with {tool}",
                                    Severity.ADVICE))


def _apply_pin_changes(root: Path, service: Service, pin_changes: list[tuple[str, PinChange]], texts: dict[str, str],
                       decoded: dict[str, Decoded], touched: dict[str, list[str]], findings: list[Finding],
                       generated: set[str] | None = None) -> None:
    """Edit each manifest's pins in `texts` (on top of what recipes already changed in that file); generated
    files (pip-compile outputs) are never edited by hand: they are regenerated from their source."""
    tox = tox_minimum_files(root, service.path)
    for manifest in service.manifests:
        if generated and manifest.file in generated:
            continue
        names = {p.package for p in manifest.pins if not p.path}
        mine = [(r, c) for r, c in pin_changes
                if (c.package in names or c.add_after in names) and (not c.files or manifest.file in c.files)]
        own = {c.package for _, c in mine if c.files and not c.add_after}  # a file's own changes come first
        mine = [(r, c) for r, c in mine if c.files or c.add_after or c.package not in own]
        if is_minimum_pins(manifest.file, tox):  # exact minimum pins: moved by their own changes, or left
            mine = [(r, c) for r, c in mine if c.files or c.remove]
        if not mine:
            continue
        if not _inside(service, manifest.file):
            findings.append(Finding(manifest.file, 0, "rewrite/shared-manifest",
                                    f"{manifest.file} is outside {service.name} and pins "
                                    + ", ".join(sorted({c.package for _, c in mine}))
                                    + "; update it once for every service that includes it", Severity.HUMAN))
            continue
        if manifest.file not in decoded:
            d = _read(root, manifest.file, findings)
            if d is None:
                continue
            decoded[manifest.file] = d
            texts[manifest.file] = d.text
        unique: list[PinChange] = []
        for _, c in mine:
            if all((c.package, c.new_spec, c.remove) != (u.package, u.new_spec, u.remove) for u in unique):
                unique.append(c)
        new_text, problems = apply_pin_changes(manifest.file, texts[manifest.file], manifest.kind, unique)
        findings.extend(problems)
        if new_text != texts[manifest.file]:
            texts[manifest.file] = new_text
            touched.setdefault(manifest.file, []).extend(r for r, _ in mine)
    _edit_dockerfiles(root, service, pin_changes, texts, decoded, touched, findings)


def _edit_dockerfiles(root: Path, service: Service, pin_changes: list[tuple[str, PinChange]], texts: dict[str, str],
                      decoded: dict[str, Decoded], touched: dict[str, list[str]], findings: list[Finding]) -> None:
    """`pip install name==x` lines of the service's Dockerfiles move with the manifests (or get a Finding)."""
    from fleetshift.manifests.dockerfile import dockerfiles, edit_dockerfile, read_dockerfile

    if not pin_changes:
        return
    for rel in dockerfiles(root, service.path):
        if not _load(root, rel, texts, decoded, findings):
            continue
        names = {p.package for p in read_dockerfile(rel, texts[rel])}
        names |= {c.package for _, c in pin_changes if c.package in texts[rel].lower()}  # `${VERSION}` pins
        mine = [(r, c) for r, c in pin_changes if c.package in names and not c.add_after]
        unique = list({(c.package, c.new_spec, c.remove): c for _, c in mine}.values())
        if not unique:
            continue
        new_text, problems = edit_dockerfile(rel, texts[rel], unique)
        findings.extend(problems)
        if new_text != texts[rel]:
            texts[rel] = new_text
            touched.setdefault(rel, []).extend(r for r, _ in mine)


def rewrite_fleet(fleet: Fleet, plan: Plan, config: FleetConfig, options: RewriteOptions = RewriteOptions()) -> list[ChangeSet]:
    """ChangeSets for every planned service (or the chosen ones), in plan order. The collector's thresholds stay
    raised from the first service to the last (see `fleetshift.gcpolicy`), as the command line keeps them for its
    whole process: put back after each service, the next one's first collections walked everything held since."""
    root = Path(fleet.root)
    resolver = Resolver(root)
    out: list[ChangeSet] = []
    services: dict[str, Service] = {}
    for service in fleet.services:  # the first of a name, as Fleet.service finds it
        services.setdefault(service.name, service)
    with fewer_collections():
        for sp in options.selection.services_of(plan):
            chain = list(options.selection.chain(sp))
            if not chain:  # as `run` does: explicit [targets] moves ride along with a service's recipes
                out.append(ChangeSet(sp.service, recipes=()))
                continue
            out.append(rewrite_service(root, services[sp.service], chain, config, options.todo_comments, resolver))
    return out


def unified_diff(change: FileChange) -> str:
    """The change as a unified diff (text files; binary content is summarised)."""
    def lines(data: bytes | None) -> list[str]:
        if data is None:
            return []
        return data.decode("utf-8", "replace").splitlines(keepends=True)

    old_name = f"a/{change.file}" if change.old is not None else "/dev/null"
    new_name = f"b/{change.file}" if change.new is not None else "/dev/null"
    diff = _unified(lines(change.old), lines(change.new), old_name, new_name)
    text = "".join(d if d.endswith("\n") else d + "\n\\ No newline at end of file\n" for d in diff)
    return text


def _unified(a: list[str], b: list[str], old_name: str, new_name: str, context: int = 3) -> Iterator[str]:
    """difflib's unified diff without its "autojunk" heuristic, which on files over 200 lines treats frequent
    lines (blank lines, `)`) as junk and shows unchanged lines as removed and added again."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    started = False
    for group in matcher.get_grouped_opcodes(context):
        if not started:
            started = True
            yield f"--- {old_name}\n"
            yield f"+++ {new_name}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            yield from ("-" + line for line in a[i1:i2])
            yield from ("+" + line for line in b[j1:j2])


def _range(start: int, stop: int) -> str:
    """A hunk's range as unified diffs write it (difflib's `_format_range_unified`)."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"
