"""Scan a fleet: per service its pins, the recipes that apply and every usage site, without running its code.

A cheap byte prefilter with the recipes' tokens decides which files are parsed at all; those are parsed
with the standard `ast`, service by service (a file's tree is shared by its per-file and its service-level
detection, and the bytes read for the prefilter by the service's detection). A fleet with many files to read
is scanned by two processes (one fork), each taking the next service not yet taken, configs included; the results
are merged by service, so the output is the same. The scan cache (fleetshift.scancache) keeps what each file told and the
results by content, so a second scan of an unchanged fleet reads no file: it checks each file's size and mtime
and reuses every unchanged service's whole usage record.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import os
import re
import select
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from fleetshift import forked
from fleetshift.config import FleetConfig
from fleetshift.gcpolicy import fewer_collections
from fleetshift.model import (
    Action,
    Detection,
    Finding,
    Fleet,
    Inventory,
    Pin,
    RecipeDetection,
    RecipeUse,
    Service,
    ServiceInventory,
    Severity,
    UsageSite,
)
from fleetshift.recipes import all_recipes, for_package, forget_trees, needs
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.base import ConfigFile, Recipe, SourceFile, config_kind, file_kind
from fleetshift.recipes.sparse import Outline, outline, worth
from fleetshift.scancache import FileEntry, ScanCache, digest
from fleetshift.textio import Decoded, UnreadableFile, decode_python, decode_text
from fleetshift.textio import read_file as _read

IGNORE_RE = re.compile(r"#\s*fleetshift:\s*ignore(?:\[([^\]]*)\])?")
FORK_MIN_FILES = 2000  # files to read (not known to the cache) from which a second process pays for its fork
# modules a recipe's detection imports when it first meets its library: imported before the scan forks, once for
# both processes, not by each of them (the child's copy of ~7 ms is time it does not scan)
_FIRST_USE = {"fleetshift.recipes.influxdb": ("fleetshift.recipes.influxdb.flux.sites",
                                              "fleetshift.recipes.influxdb.flux.wrapping")}
T = TypeVar("T")
TOO_DEEP = "too deeply nested to parse; simplify the nesting or exclude the file — it was not scanned"


@dataclass(frozen=True)
class FileResult:
    """What one file yielded; paths are filled in by the caller so results can be cached by content."""

    sites: tuple[UsageSite, ...] = ()
    findings: tuple[Finding, ...] = ()
    detection: tuple[_Detected, ...] = ()  # a service's: what each service-level recipe found (`_detected`)
    outlines: tuple[tuple[str, Outline], ...] = ()  # a service's: the outline of each module a sparse view is made of


# one recipe's detection in a service or a file, in plain containers (it is cached): recipe id, the files it parsed
# (None: it failed), per file the lines of its sites, and per file the other files its detection read (None: any
# file of the service may matter), and, for a recipe that keeps its sites (`Recipe.keeps_sites`; empty for the others),
# per file each site's line, rule and detail in detection order (`model.RecipeDetection.found`)
_Found = tuple[tuple[str, tuple[tuple[int, str, str], ...]], ...]
_Detected = tuple[str, tuple[str, ...] | None, tuple[tuple[str, tuple[int, ...]], ...],
                  tuple[tuple[str, tuple[str, ...]], ...] | None, _Found]


class _Recorded(Mapping[str, str]):
    """A service's files, noting which ones a file's detection reads (for a recipe that detects file by file)."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = files
        self.read: set[str] = set()

    def __getitem__(self, rel: str) -> str:
        self.read.add(rel)
        return self.files[rel]

    def __contains__(self, rel: object) -> bool:  # the service's set of files: the same for every file
        return rel in self.files

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def _detect(recipe: Recipe, mine: list[SourceFile], texts: Mapping[str, str],
            vouched: Sequence[str] = ()) -> tuple[list[UsageSite], _Detected]:
    """A service-level recipe's sites in a service, and the record the run reuses (see `model.Detection`): its
    sources are the files it read and those it cannot find a site in by their text (`vouched`, see
    `recipes.needs`)."""
    reads: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    if recipe.file_level:
        found: list[UsageSite] = []
        read = []
        for src in mine:
            rec = _Recorded(texts)
            found.extend(recipe.detect_file(src, rec))
            read.append((src.path, tuple(sorted(rec.read - {src.path}))))
        reads = (*read, *((rel, ()) for rel in vouched))
    else:
        found = list(recipe.detect_service(mine, texts)) if mine else []
    lines: dict[str, set[int]] = {}
    for site in found:
        lines.setdefault(site.file, set()).add(site.line)
    sites = tuple((rel, tuple(sorted(at))) for rel, at in lines.items())
    return found, (recipe.id, (*(src.path for src in mine), *vouched), sites, reads, ())


def _per_file(recipes: Sequence[str], results: Iterable[FileResult]) -> Iterator[_Detected]:
    """The record of each recipe that detects file by file (`Recipe.detect`), from a service's per-file results: a
    file's sites depend on its text alone. A file a recipe failed on is not among its sources."""
    sources: dict[str, list[str]] = {rid: [] for rid in recipes}
    sites: dict[str, list[tuple[str, tuple[int, ...]]]] = {rid: [] for rid in recipes}
    kept: dict[str, list[tuple[str, tuple[tuple[int, str, str], ...]]]] = {rid: [] for rid in recipes}
    for res in results:
        for rid, files, found, _, held in res.detection:
            if rid in sources:
                sources[rid].extend(files)
                sites[rid].extend(found)
                kept[rid].extend(held)
    for rid in recipes:
        reads = tuple((rel, ()) for rel in sources[rid])
        yield rid, tuple(sources[rid]), tuple(sites[rid]), reads, tuple(kept[rid])


def detection_of(digests: Mapping[str, bytes], detected: Iterable[_Detected],
                 outlines: Iterable[tuple[str, Outline]] = ()) -> Detection:
    """The `Detection` the run reuses, from a service's file digests, its recipes' cached records (a recipe that
    failed has none; a service-level recipe without a record found no file holding its tokens) and the outlines of
    its modules."""
    recipes: dict[str, RecipeDetection | None] = {}
    for rid, sources, sites, reads, kept in detected:
        if sources is None:
            recipes[rid] = None
            continue
        recipes[rid] = RecipeDetection(frozenset(sources), dict(sites),
                                       None if reads is None else {rel: frozenset(r) for rel, r in reads},
                                       dict(kept))
    return Detection(dict(digests), recipes, dict(outlines))


def _suppressed(lines: list[str], site: UsageSite) -> bool:
    if not 0 < site.line <= len(lines):
        return False
    match = IGNORE_RE.search(lines[site.line - 1])
    if not match:
        return False
    wanted = match.group(1)
    return wanted is None or any(r.strip() in (site.rule, site.recipe) for r in wanted.split(","))


def _decode(rel: str, data: bytes) -> Decoded | Finding:
    """One Python file's text, or the Finding saying why it cannot be read."""
    try:
        return decode_python(data)
    except UnreadableFile as exc:
        return Finding(rel, 0, "scan/unreadable", str(exc), Severity.ERROR)


def _parse_text(rel: str, text: str) -> SourceFile | Finding:
    """One Python file's text parsed for detection, or the Finding saying why it cannot be."""
    try:
        tree = parse_tree(text)  # shared with the recipes' own reading of this text in this process
    except SyntaxError as exc:
        msg = f"does not parse as Python ({exc.msg}); fix the syntax or exclude the file — it was not scanned"
        return Finding(rel, exc.lineno or 0, "scan/syntax-error", msg, Severity.ERROR)
    except (RecursionError, MemoryError):  # the parser's own stack limits (deep nesting), not the machine's memory
        return Finding(rel, 0, "scan/too-deep", TOO_DEEP, Severity.ERROR)
    except ValueError as exc:
        return Finding(rel, 0, "scan/unparseable", f"cannot parse: {exc}", Severity.ERROR)
    return SourceFile(rel, text, tree, file_kind(rel))


def _parse(rel: str, data: bytes) -> SourceFile | Finding:
    """One Python file parsed for detection, or the Finding saying why it cannot be."""
    decoded = _decode(rel, data)
    return decoded if isinstance(decoded, Finding) else _parse_text(rel, decoded.text)


def _kept(texts: Mapping[str, str], found: Iterable[UsageSite]) -> list[UsageSite]:
    """The sites not silenced by a `# fleetshift: ignore` comment on their line."""
    lines: dict[str, list[str]] = {}
    out = []
    for s in found:
        if s.file not in lines:
            lines[s.file] = texts[s.file].splitlines() if s.file in texts else []
        if not _suppressed(lines[s.file], s):
            out.append(s)
    return out


def _site_order(s: UsageSite) -> tuple[int, int, str]:
    return (s.line, s.col, s.rule)


def scan_python(rel: str, data: bytes, recipes: Iterable[Recipe]) -> FileResult:
    """Detection sites of the given recipes in one Python file's bytes; problems become Findings."""
    src = _parse(rel, data)
    if isinstance(src, Finding):
        return FileResult(findings=(src,))
    sites: list[UsageSite] = []
    findings: list[Finding] = []
    detected: list[_Detected] = []
    for recipe in recipes:
        try:
            found = list(recipe.detect(src))
        except RecursionError:
            findings.append(Finding(rel, 0, "scan/too-deep", f"{TOO_DEEP} for {recipe.id}", Severity.ERROR))
            continue
        except Exception as exc:  # a recipe bug must not stop the scan
            findings.append(Finding(rel, 0, "scan/recipe-error", f"recipe {recipe.id} failed on this file: {exc!r}", Severity.ERROR))
            continue
        sites.extend(_kept({rel: src.text}, found))
        lines = tuple(sorted({site.line for site in found if site.file == rel}))
        if any(site.file != rel for site in found):
            continue  # a site reported in another file: nothing is known of this one for sure
        kept = tuple((site.line, site.rule, site.detail) for site in found) if recipe.keeps_sites else ()
        detected.append((recipe.id, (rel,), ((rel, lines),) if lines else (), (), ((rel, kept),) if kept else ()))
    return FileResult(tuple(sorted(sites, key=_site_order)), tuple(findings), tuple(detected))


class _Texts(Mapping[str, str]):
    """A service's Python files by fleet-relative path, decoded on access (from the bytes already read, else
    read then)."""

    def __init__(self, root: Path, rels: Iterable[str], known: Mapping[str, str],
                 raw: Mapping[str, bytes] | None = None) -> None:
        self.root, self.rels, self.cache = root, dict.fromkeys(rels), dict(known)
        self.raw = raw or {}

    def __getitem__(self, rel: str) -> str:
        if rel not in self.cache:
            if rel not in self.rels:
                raise KeyError(rel)
            try:
                data = self.raw.get(rel)
                self.cache[rel] = decode_python(data if data is not None else (self.root / rel).read_bytes()).text
            except (OSError, UnreadableFile):
                self.cache[rel] = ""
        return self.cache[rel]

    def __contains__(self, rel: object) -> bool:  # without reading the file
        return rel in self.rels

    def __iter__(self) -> Iterator[str]:
        return iter(self.rels)

    def __len__(self) -> int:
        return len(self.rels)


def scan_service(root: Path, rels: list[str], sources: Mapping[str, bool], recipes: Iterable[Recipe],
                 raw: Mapping[str, bytes] | None = None, held: Mapping[str, Iterable[str]] | None = None) -> FileResult:
    """Detection sites of service-level recipes across one service: `rels` are its Python files, `sources` the
    ones holding a token of these recipes (True: report a file that does not parse; no other pass did); `raw`
    the bytes of those already read; `held` the recipes whose tokens each source's bytes hold (as the text of a
    UTF-8 file does: the tokens are ASCII), else they are looked for in its text. A source is parsed only when a recipe whose tokens it holds may find a site
    in it (`recipes.needs`); one parsed for no recipe is not reported when it does not parse, as a file holding
    no token is not."""
    raw = raw or {}
    chosen = [(recipe, [t.decode() for t in recipe.tokens]) for recipe in recipes]
    parsed: list[SourceFile] = []
    unparsed: dict[str, str] = {}  # sources no recipe may find a site in: never parsed
    # per source, for each recipe: None (it holds none of the recipe's tokens), else whether it may hold a site
    wants: dict[str, list[bool | None]] = {}
    findings: list[Finding] = []
    read: dict[str, bytes] = {}  # the bytes of each parsed source
    for rel, report in sources.items():
        data = raw.get(rel)
        if data is None:
            try:
                data = (root / rel).read_bytes()
            except OSError as exc:
                if report:
                    findings.append(Finding(rel, 0, "scan/unreadable", f"cannot read: {exc}", Severity.ERROR))
                continue
        decoded = _decode(rel, data)
        if isinstance(decoded, Finding):
            if report:
                findings.append(decoded)
            continue
        text = decoded.text
        ids = set(held[rel]) if held is not None and rel in held and decoded.encoding == "utf-8" else None
        wanted = wants[rel] = [
            needs.may_hold(recipe, rel, text)
            if (recipe.id in ids if ids is not None else any(t in text for t in tokens)) else None
            for recipe, tokens in chosen
        ]
        if not any(wanted):
            unparsed[rel] = text
            continue
        src = _parse_text(rel, text)
        if isinstance(src, SourceFile):
            parsed.append(src)
            read[rel] = data
        elif report:
            findings.append(src)
    texts = _Texts(root, rels, {**unparsed, **{src.path: src.text for src in parsed}}, raw)
    sites: list[UsageSite] = []
    detected: list[_Detected] = []
    for i, (recipe, _) in enumerate(chosen):
        mine = [src for src in parsed if wants[src.path][i]]
        # holding a token, but no site by their text
        vouched = [src.path for src in parsed if wants[src.path][i] is False]
        vouched.extend(rel for rel in unparsed if wants[rel][i] is False)
        if not mine and not vouched:
            continue
        try:
            found, record = _detect(recipe, mine, texts, vouched)
        except Exception as exc:  # a recipe bug must not stop the scan
            where = mine[0].path if mine else vouched[0]
            findings.append(Finding(where, 0, "scan/recipe-error", f"recipe {recipe.id} failed on this service: {exc!r}", Severity.ERROR))
            detected.append((recipe.id, None, (), None, ()))  # no record: the run detects for itself
            continue
        sites.extend(_kept(texts, found))
        detected.append(record)
    return FileResult(tuple(sites), tuple(findings), tuple(detected), _outlines(parsed, read, detected))


def _outlines(parsed: Sequence[SourceFile], read: Mapping[str, bytes], detected: Iterable[_Detected]
              ) -> tuple[tuple[str, Outline], ...]:
    """The outline of each parsed module holding a site of a recipe that rewrites sparse views (through
    `Recipe.rewrite_service`), long enough for one (`recipes.sparse.worth`): the run's views of it are read off it,
    its tree being here already (see `model.Detection.outlines`)."""
    sparse = {r.id for r in all_recipes() if r.sparse and type(r).rewrite_service is Recipe.rewrite_service}
    sited = {rel for rid, _, at, _, _ in detected if rid in sparse for rel, lines in at if lines}
    return tuple((src.path, outline(src.text, src.tree, digest=digest(read[src.path])))
                 for src in parsed if src.path in sited and worth(src.text))


def _recipes(ids: tuple[str, ...]) -> list[Recipe]:
    return [r for r in all_recipes() if r.id in ids]


def _scan_worker(job: tuple[str, bytes, tuple[str, ...]]) -> FileResult:
    rel, data, recipe_ids = job
    return scan_python(rel, data, _recipes(recipe_ids))


def _service_worker(job: tuple[str, list[str], dict[str, bool], tuple[str, ...], Mapping[str, bytes],
                                Mapping[str, tuple[str, ...]]]) -> FileResult:
    root, rels, sources, recipe_ids, raw, held = job
    return scan_service(Path(root), rels, sources, _recipes(recipe_ids), raw, held)


def _unreadable(rel: str, exc: OSError) -> FileResult:
    return FileResult(findings=(Finding(rel, 0, "scan/unreadable", f"cannot read: {exc}", Severity.ERROR),))


def _trie(tokens: list[bytes]) -> bytes:
    """A regex matching any of the tokens, as a tree of their common prefixes: the regex engine tries one
    branch per byte instead of every token at every position (about twice as fast as a flat alternation)."""
    if b"" in tokens:
        return b""
    groups: dict[bytes, list[bytes]] = {}
    for t in tokens:
        groups.setdefault(t[:1], []).append(t[1:])
    alts = [re.escape(head) + _trie(rest) for head, rest in sorted(groups.items())]
    return alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"


def _imported(pattern: re.Pattern[bytes], data: bytes) -> tuple[str, ...]:
    """The sorted names `pattern.findall(data)` finds (see `_import_pattern`: anchored at a line's start, on a
    line that spells from or import), found by trying the pattern only at the start of the lines that spell one
    of the two words: `bytes.find` passes over the rest of the file at memchr speed, where findall tries the
    pattern at every position. The same names: every match starts a line holding one of the words, and a match
    ends on the line it starts (at most one per line)."""
    starts: set[int] = set()
    for word in (b"import", b"from"):
        i = data.find(word)
        while i != -1:
            starts.add(data.rfind(b"\n", 0, i) + 1)
            i = data.find(word, i + len(word))
    names = set()
    for start in starts:
        m = pattern.match(data, start)
        if m is not None:
            names.add(m.group(1).decode())
    return tuple(sorted(names))


class _Reading:
    """What the per-file pass needs of the recipes: the prefilter over every token, and per recipe its tokens."""

    def __init__(self, recipes: tuple[Recipe, ...], imports: re.Pattern[bytes] | None) -> None:
        self.tokens = [(r.id, r.tokens) for r in recipes if not r.service_level]
        self.service_tokens = [(r.id, r.tokens) for r in recipes if r.service_level]
        every = {t for r in recipes for t in r.tokens}
        least = [t for t in every if not any(o != t and o in t for o in every)]  # a file holding `.retry` holds `.`
        self.prefilter = re.compile(_trie(least)) if least else None
        self.imports = imports
        self.pattern = imports.pattern if imports is not None else b""

    def read(self, rel: str, data: bytes, content: bytes) -> tuple[FileEntry, tuple[str, ...]]:
        """The entry of a file's bytes (without stat) and the per-file recipes to run on it."""
        imported = _imported(self.imports, data) if self.imports is not None else ()
        if self.prefilter is None or self.prefilter.search(data) is None:
            return FileEntry((), False, content, imported=imported), ()
        wanted = tuple(rid for rid, toks in self.tokens if any(t in data for t in toks))
        service = tuple(rid for rid, toks in self.service_tokens if any(t in data for t in toks))
        return FileEntry((), False, content, service, bool(wanted), imported, self.key(rel, content, wanted)), wanted

    @staticmethod
    def key(rel: str, content: bytes, wanted: tuple[str, ...]) -> bytes | None:
        """The key of a file's per-file result: its path (the result names it), content and recipes."""
        if not wanted:
            return None
        return hashlib.blake2b(rel.encode() + b"\0" + content + ",".join(wanted).encode(), digest_size=20).digest()


@dataclass
class _Scanned:
    """What the scan of some services found: per file its result and the sibling packages it imports, per
    service its service-level result."""

    files: dict[str, FileResult]
    imported: dict[str, set[str]]
    services: dict[str, FileResult]
    digests: dict[str, bytes]  # every Python file read or vouched for, by the digest of its content
    configs: dict[str, FileResult] = field(default_factory=dict)  # per service: its config files' sites


def _scan_files(root: Path, rels: list[str], cache: ScanCache, reading: _Reading, out: _Scanned
                ) -> tuple[dict[str, FileEntry], dict[str, bytes]]:
    """Every file once: a file whose stat proves it unchanged since the cache saw it is not read at all;
    any other is read for the token prefilter and the sibling-import regex, then parsed (unless its content's
    result is cached) for the recipes that detect file by file. What service-level detection needs of each
    file is returned: its entry, and the bytes read."""
    pattern = reading.pattern
    known = cache.files
    seen: dict[str, FileEntry] = {}
    raw: dict[str, bytes] = {}
    base = str(root) + os.sep
    for rel in rels:
        try:
            # a file the cache holds is stat-ed first (unchanged, it is not read); any other is opened at once and
            # stat-ed through its descriptor (no second lookup of its path), before it is read (`_read`)
            st = os.stat(base + rel) if rel in known else None
            entry = cache.known(rel, st, pattern) if st is not None else None
            wanted: tuple[str, ...] = ()
            data = b""
            if entry is None:
                st, data = _read(base + rel)
                content = digest(data)
                entry = cache.same_content(rel, content, pattern)
                if entry is None:
                    entry, wanted = reading.read(rel, data, content)
        except OSError as exc:
            out.files[rel] = _unreadable(rel, exc)
            continue
        entry = cache.record(rel, st, entry)
        seen[rel] = entry
        out.digests[rel] = entry.digest
        if data:  # kept while its service is scanned: its service-level detection reads the service's files
            raw[rel] = data
        if entry.imported:
            out.imported[rel] = set(entry.imported)
        if entry.result is None:
            continue
        hit = cache.result(entry.result)
        if hit is not None:
            out.files[rel] = FileResult(*hit)
            continue
        if not data:  # known, but its result was not kept: read it again
            try:
                with open(base + rel, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                out.files[rel] = _unreadable(rel, exc)
                continue
            raw[rel] = data
        if not wanted:
            wanted = reading.read(rel, data, entry.digest)[1]
        result = _scan_worker((rel, data, wanted))
        cache.put_result(entry.result, (result.sites, result.findings, result.detection))
        out.files[rel] = result
    return seen, raw


def _scan_service(root: Path, service: Service, seen: Mapping[str, FileEntry], raw: Mapping[str, bytes],
                  cache: ScanCache, out: _Scanned) -> None:
    """Service-level detection of one service, cached on the content of every Python file of the service (a
    change to any of them, an added or a removed file, invalidates the service's result; an unchanged service
    reuses its whole result without reading a file)."""
    rels = [rel for rel in service.python_files if rel in seen]
    wanted = tuple(sorted({rid for rel in rels for rid in seen[rel].service_recipes}))
    if not wanted:
        return
    h = hashlib.blake2b(b"service\0" + ",".join(wanted).encode(), digest_size=20)
    for rel in rels:
        h.update(rel.encode() + b"\0" + seen[rel].digest)
    key = h.digest()
    hit = cache.service(key)
    if hit is not None:
        out.services[service.name] = FileResult(*hit)
        return
    sources = {rel: not seen[rel].parsed for rel in rels if seen[rel].service_recipes}
    held = {rel: seen[rel].service_recipes for rel in sources}
    result = _service_worker((str(root), rels, sources, wanted, raw, held))
    cache.put_service(key, (result.sites, result.findings, result.detection, result.outlines))
    out.services[service.name] = result


def _scan_group(root: Path, services: Iterable[Service], cache: ScanCache, reading: _Reading) -> _Scanned:
    """Per-file then service-level detection, then the config files, service by service (the trees parsed for
    one are still at hand for the other, and the bytes read are dropped with the service)."""
    out = _Scanned({}, {}, {}, {})
    for service in services:
        seen, raw = _scan_files(root, list(service.python_files), cache, reading, out)
        _scan_service(root, service, seen, raw, cache, out)
        out.configs[service.name] = _scan_configs(root, service)
        if gc.isenabled():  # with the collector off (`scan --json`) no collection walks them: they are kept
            forget_trees()
    return out


def _forks(services: Sequence[Service], cache: ScanCache, jobs: int) -> bool:
    """Whether a second process pays: enough files to read that the cache does not vouch for, two cores,
    and a process that may fork (no other thread, which could hold a lock the child would inherit)."""
    if jobs < 2 or len(services) < 2 or not forked.may_fork():
        return False
    known = cache.files
    todo = 0
    for service in services:
        todo += sum(1 for rel in service.python_files if rel not in known)
        if todo >= FORK_MIN_FILES:
            return True
    return False


def _scan_forked(root: Path, services: Sequence[Service], cache: ScanCache, reading: _Reading) -> _Scanned:
    """The services scanned by this process and a forked child, each taking the next service not yet taken (so
    neither waits for the other while services differ in size); the child's results and what its cache learned
    come back pickled over a pipe. A child that fails leaves its services to this process (same results, one
    core)."""
    marks = (len(cache.new_files), len(cache.new_results), len(cache.new_services))
    first_use()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # what both processes hold already: no collection walks it (and copies its pages) again
    try:
        return _fork(root, services, cache, reading, marks)
    finally:
        gc.unfreeze()


def first_use() -> None:
    """Import the modules the recipes' detection imports when it first meets their library (`_FIRST_USE`): done
    before a scan forks (`scan --json` does it while the fleet is discovered), once for both processes."""
    for package, modules in _FIRST_USE.items():
        if package in sys.modules:
            for module in modules:
                importlib.import_module(module)


class _Turns:
    """Which service comes next, shared by two processes: the index of the next one travels as the only message
    in a pipe, so whoever reads it takes that service and writes back the next index. A process that waits
    gives up when `alive` says the other process is gone (it may have died holding the index). (Discovery
    shares its services alike while `scan --json` loads the recipes.)"""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.write(self.w, (0).to_bytes(8, "little"))

    def taken(self, services: Sequence[T], alive: Callable[[], bool]) -> Iterator[T]:
        while True:
            while not select.select([self.r], [], [], 0.2)[0]:
                if not alive():
                    return
            try:
                data = os.read(self.r, 8)
            except BlockingIOError:  # the other process took it first
                continue
            i = int.from_bytes(data, "little")
            os.write(self.w, (i + 1 if i < len(services) else i).to_bytes(8, "little"))
            if i >= len(services):
                return
            yield services[i]

    def close(self) -> None:
        os.close(self.r)
        os.close(self.w)


def _fork(root: Path, services: Sequence[Service], cache: ScanCache, reading: _Reading,
          marks: tuple[int, int, int]) -> _Scanned:
    turns = _Turns()
    os.set_blocking(turns.r, False)
    parent = os.getpid()

    # each process writes what its cache learned, as a part of the cache file, while the other does too: the child
    # sends only its results (its cache entries cost pickle as much again, on the path both processes end on)
    part = os.urandom(8)

    def child() -> tuple[_Scanned, tuple]:
        done = _scan_group(root, turns.taken(services, lambda: os.getppid() == parent), cache, reading)
        if cache.save_shared(part, marks):
            return done, ((), (), ())
        learned = tuple(list(d.items())[n:] for d, n in zip(
            (cache.new_files, cache.new_results, cache.new_services), marks, strict=True))
        # the file entries as the cache file keeps them, plain tuples: a NamedTuple costs pickle twice as much
        # to write and to read, on the path both processes end on
        return done, ([(rel, tuple(entry)) for rel, entry in learned[0]], *learned[1:])

    def here(alive: Callable[[], bool]) -> _Scanned:
        mine = _scan_group(root, turns.taken(services, alive), cache, reading)
        cache.written = cache.save_shared(part)  # (the child writes its part meanwhile)
        return mine

    try:
        out, theirs = forked.share(child, here)
    finally:
        turns.close()
    if theirs is not None:
        done, learned = theirs
        if any(learned):  # the child could not write its part: this process writes the whole cache
            cache.written = False
    else:  # the child failed: what it took is scanned here, and this process writes the whole cache
        cache.written = False
        rest = [s for s in services if s.name not in out.configs]
        done, learned = _scan_group(root, rest, cache, reading), ((), (), ())
    out.files.update(done.files)
    out.imported.update(done.imported)
    out.services.update(done.services)
    out.digests.update(done.digests)
    out.configs.update(done.configs)
    for target, items in zip((cache.new_files, cache.new_results, cache.new_services), learned, strict=True):
        target.update(items)
    return out


def _scan_configs(root: Path, service: Service) -> FileResult:
    sites: list[UsageSite] = []
    findings: list[Finding] = []
    for rel in service.config_files:
        kind = config_kind(rel)
        if kind is None:
            continue
        try:
            data = (root / rel).read_bytes()
            text = decode_text(data).text
        except (OSError, UnreadableFile) as exc:
            findings.append(Finding(rel, 0, "scan/unreadable", str(exc), Severity.ERROR))
            continue
        cfg = ConfigFile(rel, text, kind)
        lines = text.splitlines()
        for recipe in all_recipes():
            if recipe.config_tokens and not any(t in data for t in recipe.config_tokens):
                continue
            try:
                found = list(recipe.detect_config(cfg))
            except Exception as exc:
                findings.append(Finding(rel, 0, "scan/recipe-error", f"recipe {recipe.id} failed on this file: {exc!r}", Severity.ERROR))
                continue
            sites.extend(s for s in found if not _suppressed(lines, s))
    return FileResult(tuple(sites), tuple(findings))


def recipe_uses(service: Service, sites: Iterable[UsageSite], config: FleetConfig) -> tuple[list[RecipeUse], list[Finding]]:
    """Which recipes apply to a service, judged from its pins and its usage sites."""
    pins: dict[str, Pin] = {}
    for pin in service.pins:
        if not pin.path:
            pins.setdefault(pin.package, pin)
    for pin in service.pins:  # a file still on the old release (deploy/.../base.txt) keeps the recipe to do
        if not pin.path and pin.package in pins and pin.spec and pins[pin.package].spec:
            recipe = for_package(pin.package)
            if recipe is not None and recipe.is_old(pin.package, pin.spec) and not recipe.is_old(
                    pin.package, pins[pin.package].spec):
                pins[pin.package] = pin
    active_sites = {s.recipe for s in sites if s.action is not Action.INFO}
    uses: list[RecipeUse] = []
    findings: list[Finding] = []
    targets = config.target_specs()
    for recipe in all_recipes():
        target = targets.get(recipe.package)
        if target is None:
            continue  # the campaign does not move this package
        pin = pins.get(recipe.replaces or "") or pins.get(recipe.package)
        if pin is None:
            if recipe.id in active_sites:
                findings.append(
                    Finding(service.path or ".", 0, f"{recipe.id}/unpinned",
                            f"code uses {recipe.replaces or recipe.package} but no manifest of {service.name} pins it; "
                            f"add {recipe.package}{target} to its requirements", Severity.HUMAN, recipe=recipe.id)
                )
                uses.append(RecipeUse(recipe.id, recipe.package, "", target, "old API used in code, package not pinned"))
            continue
        old = recipe.is_old(pin.package, pin.spec)
        where = f"{pin.file}:{pin.line}"
        if pin.package == recipe.replaces:
            reason = f"{pin.package}{pin.spec} ({where}) is replaced by {recipe.package}"
        elif old:
            reason = f"{pin.package}{pin.spec} ({where}) admits releases before the break ({recipe.migrates_from})"
        elif old is None:
            reason = f"{pin.package} is unpinned ({where})"
        else:
            reason = f"{pin.package}{pin.spec} ({where}) is already past the break"
        done = old is False and recipe.id not in active_sites
        if old is False and recipe.id in active_sites:
            reason += "; old API still used in code"
        if old is None and recipe.id not in active_sites:
            done = True
            reason += "; no old API use found"
        uses.append(RecipeUse(recipe.id, pin.package, pin.spec, target, reason, already_done=done))
    return uses, findings


def advisories(config: FleetConfig) -> list[Finding]:
    """Known-bad releases that a campaign target admits."""
    out: list[Finding] = []
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    for recipe in all_recipes():
        target = config.targets.get(recipe.package)
        if target is None:
            continue
        spec = SpecifierSet(target.spec)
        for adv in recipe.advisories:
            bad = [v for v in recipe.known_versions if Version(v) in SpecifierSet(adv.versions) and spec.contains(v, prereleases=True)]
            if bad:
                out.append(
                    Finding(config.source or "fleetshift.toml", 0, f"{recipe.id}/advisory",
                            f"target {recipe.package}{target.spec} admits {', '.join(bad)}: {adv.message}",
                            Severity.ADVICE, adv.link, recipe.id)
                )
    return out


def _import_pattern(fleet: Fleet) -> tuple[re.Pattern[bytes] | None, dict[str, str]]:
    """A byte regex for imports of any service's own packages, and package -> owning service."""
    owners = {name: s.name for s in fleet.services for name in s.import_names}
    if not owners:
        return None, owners
    names = b"|".join(re.escape(n.encode()) for n in sorted(owners))
    return re.compile(rb"^[ \t]*(?:from|import)[ \t]+(" + names + rb")\b", re.M), owners


def scan(fleet: Fleet, config: FleetConfig, *, use_cache: bool = True, jobs: int | None = None,
         cache: ScanCache | None = None) -> Inventory:
    """Build the Inventory of a discovered fleet (`cache`: the one discovery used, else this opens it)."""
    with fewer_collections():
        return _scan(fleet, config, use_cache, jobs, cache)


def _scan(fleet: Fleet, config: FleetConfig, use_cache: bool, jobs: int | None, cache: ScanCache | None) -> Inventory:
    root = Path(fleet.root)
    cache = cache if cache is not None else ScanCache(root, enabled=use_cache)
    pattern, owners = _import_pattern(fleet)
    reading = _Reading(all_recipes(), pattern)
    cache.new_imports = reading.pattern
    if _forks(fleet.services, cache, jobs or os.cpu_count() or 1):
        scanned = _scan_forked(root, fleet.services, cache, reading)
    else:
        scanned = _scan_group(root, fleet.services, cache, reading)
    results, imported, by_service = scanned.files, scanned.imported, scanned.services
    cache.save()
    services: list[ServiceInventory] = []
    detection: dict[str, Detection] = {}
    per_file = [rid for rid, _ in reading.tokens]
    for service in fleet.services:
        detection[service.name] = detection_of(
            {rel: scanned.digests[rel] for rel in service.python_files if rel in scanned.digests},
            (*by_service.get(service.name, FileResult()).detection,
             *_per_file(per_file, [results[rel] for rel in service.python_files if rel in results])),
            by_service.get(service.name, FileResult()).outlines)
        sites: list[UsageSite] = []
        findings: list[Finding] = []
        across = by_service.get(service.name, FileResult())
        more: dict[str, list[UsageSite]] = {}
        for site in across.sites:
            more.setdefault(site.file, []).append(site)
        for rel in service.python_files:
            res = results.get(rel)
            if rel in more:
                sites.extend(sorted([*(res.sites if res else ()), *more[rel]], key=_site_order))
            elif res:
                sites.extend(res.sites)
            if res:
                findings.extend(res.findings)
        findings.extend(across.findings)
        cfg = scanned.configs[service.name]
        sites.extend(cfg.sites)
        findings.extend(cfg.findings)
        uses, use_findings = recipe_uses(service, sites, config)
        siblings = {owners[n] for rel in service.python_files for n in imported.get(rel, ())} - {service.name}
        findings.extend(use_findings)
        services.append(
            ServiceInventory(service.name, service.path, service.pins, tuple(uses), tuple(sites), tuple(findings),
                             service.has_tests, service.critical, tuple(sorted(siblings)))
        )
    return Inventory(str(root), tuple(services), fleet.findings, tuple(advisories(config)), detection=detection)
