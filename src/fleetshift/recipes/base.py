"""What a recipe is: declared data (package, versions, tokens, rules) plus detection and rewriting code.

A recipe module defines one subclass of `Recipe` and exposes an instance as `RECIPE`. Detection
works on the standard library's `ast` (fast, used by `scan` and `check`); rewriting works on LibCST
(format-preserving, used by `run`). Neither imports nor runs the fleet's code.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from fleetshift.model import Action, Finding, Service, Severity, UsageSite
from fleetshift.recipes.rule import Rule, RuleModule, Scope, discover

LIBCST_GATE = True  # a file is parsed by LibCST only where a rule may act (see `Recipe.needs_libcst`)
SPARSE = True  # a recipe with `sparse` set rewrites sparse views of its Python files (see `recipes.sparse`)

FileKind = Literal["source", "test", "conftest"]
ConfigKind = Literal["pytest.ini", "pytest.toml", "tox.ini", "setup.cfg", "pyproject.toml"]


@dataclass(frozen=True)
class Advisory:
    """A release of the target package to avoid, and why."""

    versions: str  # a specifier of the bad releases, e.g. "==2.5.0"
    message: str
    link: str = ""


@dataclass(frozen=True)
class PinChange:
    """How one requirement changes: rename and/or new spec, or removal (new_spec None and remove)."""

    package: str  # canonical name as pinned now
    new_package: str
    new_spec: str | None
    remove: bool = False
    reason: str = ""
    resolved: str = ""  # the release the resolver chose for it, written where the pin is exact (`==`)
    library: bool = False  # a published library's runtime/extra range: raise the upper bound, keep the floor
    add_after: str = ""  # a requirement the manifests lack: written beside the pin of this (canonical) package
    files: tuple[str, ...] = ()  # only in these manifests (all when empty)


@dataclass(frozen=True)
class SourceFile:
    """A parsed Python file handed to detection."""

    path: str  # fleet-relative POSIX path
    text: str
    tree: ast.Module
    kind: FileKind


@dataclass(frozen=True)
class ConfigFile:
    """A pytest-relevant config file handed to detection and rewriting."""

    path: str
    text: str
    kind: ConfigKind


@dataclass(frozen=True)
class Known:
    """What the scan's detection found of one recipe in the service being rewritten, still true of the texts the
    recipe is given (see `model.Detection`): the files it parsed and the lines of each one's sites (a source
    absent from `sites` holds none), for every Python file but the `stale` ones, whose sites must be detected
    again (changed since the scan, on disk or by an earlier recipe of the chain, or reading a file that was); and
    the scan's outline of each module it holds one of (`model.Detection.outlines`) whose text is still the one the
    scan read (`sparse.view_of` makes its views without parsing it); for a recipe that keeps its sites
    (`Recipe.keeps_sites`), each site's line, rule and detail in detection order, for the files holding one but the
    stale ones (`model.RecipeDetection.found`)."""

    sources: frozenset[str]
    sites: Mapping[str, tuple[int, ...]]
    stale: frozenset[str] = frozenset()
    outlines: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # of the texts as the scan read them
    found: Mapping[str, tuple[tuple[int, str, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class RewriteContext:
    """What a recipe may know while rewriting one service.

    `files` holds the current text of every Python and config file of the service (after the
    recipes earlier in the chain), so a recipe can look across files (e.g. the active pytest config
    or a root conftest's event_loop override) without reading the disk.
    """

    service: Service
    targets: Mapping[str, str]  # canonical package -> campaign target spec
    files: Mapping[str, str]
    todo_comments: bool = False
    known: Known | None = None  # the scan's sites of the recipe being run, when they still hold


@dataclass
class RewriteResult:
    """New text for one file (unchanged text means no change) and what needs a human."""

    text: str
    findings: list[Finding] = field(default_factory=list)


@dataclass
class ServiceRewrite:
    """A recipe's output for a whole service: new texts by path, new files, and findings."""

    texts: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


class Recipe:
    """Base class of every recipe. Subclasses set the class attributes and override the hooks."""

    id: ClassVar[str]
    title: ClassVar[str]
    package: ClassVar[str]  # canonical PyPI name of the package migrated to
    replaces: ClassVar[str | None] = None  # package this one replaces (e.g. asyncio-mqtt)
    migrates_from: ClassVar[str]  # specifier of the old releases this recipe migrates from
    migrates_to: ClassVar[str]  # default target specifier when the campaign names none
    known_versions: ClassVar[tuple[str, ...]] = ()  # real releases of package/replaces, oldest first
    tokens: ClassVar[tuple[bytes, ...]]  # a file without any of these bytes is not parsed
    config_tokens: ClassVar[tuple[bytes, ...]] = ()  # same for config files
    rules: ClassVar[tuple[Rule, ...]] = ()  # set from `rules_package` when the recipe has one
    rules_package: ClassVar[str | None] = None  # the package holding one module per rule
    rule_modules: ClassVar[tuple[RuleModule, ...]] = ()
    advisories: ClassVar[tuple[Advisory, ...]] = ()
    drops: ClassVar[tuple[str, ...]] = ()  # companion packages removed with the migration (paho-mqtt)
    requires: ClassVar[Mapping[str, str]] = {}  # companion packages that must move too: name -> spec
    order: ClassVar[int] = 50  # chain order when several recipes apply to one service
    risk_weight: ClassVar[float] = 2.0  # how much one applying migration adds to a service's risk score
    config_kinds: ClassVar[tuple[ConfigKind, ...] | None] = None  # config files it rewrites (None: all kinds)
    docs: ClassVar[str] = ""  # links to the library's own migration notes
    sparse: ClassVar[bool] = False  # rewrite only the statements a rule may act on (see `recipes.sparse`)
    file_level: ClassVar[bool] = False  # `detect_service` is `detect_file` on each source (see `detect_file`)
    keeps_sites: ClassVar[bool] = False  # the scan keeps each site's rule and detail for the run (`Known.found`)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.rules_package:
            cls.rule_modules = discover(cls.rules_package)
            cls.rules = tuple(m.rule for m in cls.rule_modules)

    # ---- data helpers -------------------------------------------------------------------------

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id or r.id == f"{self.id}/{rule_id}":
                return r
        raise KeyError(f"{self.id} has no rule {rule_id!r}")

    def site(self, src: SourceFile | ConfigFile, node: ast.AST | int, rule_id: str, detail: str = "") -> UsageSite:
        """A UsageSite for `rule_id` at `node` (an ast node or a line number)."""
        rule = self.rule(rule_id)
        line = node if isinstance(node, int) else getattr(node, "lineno", 0)
        col = 0 if isinstance(node, int) else getattr(node, "col_offset", 0)
        return UsageSite(self.id, rule.id, src.path, line, col, detail or rule.summary, rule.action)

    def hooks(self, name: str, active: Set[str] | None = None) -> Iterator[tuple[RuleModule, Callable[..., Any]]]:
        """Each rule module that has the function `name` (`check`, `check_config`, `finish`, ...), with it, in rule
        order; only the rules whose ids (or slugs) are in `active`, when given."""
        for m in self.rule_modules:
            fn = m.hook(name)
            if fn is not None and (active is None or m.rule.id in active or m.rule.slug in active):
                yield m, fn

    def rule_sites(self, src: SourceFile | ConfigFile, *facts: object, hook: str = "check") -> Iterator[UsageSite]:
        """The sites each rule module's `hook` (`check`, `check_config`) finds given `facts`, in rule order. A hook
        yields (node or line, detail) or (node or line, detail, action); a rule module's `SITE_ACTION` overrides
        its rule's action for the sites that do not say theirs."""
        for m, check in self.hooks(hook):
            action = getattr(m.module, "SITE_ACTION", m.rule.action)
            for at, detail, *given in self.run_check(check, facts):
                site = self.site(src, at, m.rule.id, detail)
                act = given[0] if given else action
                yield site if act is site.action else replace(site, action=act)

    def run_check(self, check: Callable[..., Iterable[tuple[Any, ...]]], facts: tuple[object, ...]) -> Iterable[tuple[Any, ...]]:
        """What one rule's `check` yields given `facts` (`rule_sites` asks it of every rule): a recipe may answer
        from what the same check said of the same facts before."""
        return check(*facts)

    def finding(self, path: str, line: int, rule_id: str, message: str = "", severity: Severity | None = None) -> Finding:
        """A Finding for `rule_id`; the message defaults to the rule's fix text."""
        rule = self.rule(rule_id)
        sev = severity or (Severity.HUMAN if rule.action is Action.HUMAN else Severity.ADVICE)
        return Finding(path, line, rule.id, message or rule.fix or rule.summary, sev, rule.link, self.id)

    def scope(self, ctx: RewriteContext) -> Scope:
        """What this recipe's rule gates are judged on for the service being rewritten."""
        return Scope(
            target=ctx.targets.get(self.package, self.migrates_to),
            known_versions=self.known_versions,
            python=ctx.service.project.pythons.spec,
            files=ctx.files,
        )

    def active_rules(self, ctx: RewriteContext) -> frozenset[str]:
        """The ids of the rules whose gates let them act on this service (what a rewriter may fix). Judged once per
        recipe and context (a recipe asks it for every file it rewrites; a context and its files never change)."""
        known = _ACTIVE.get((id(self), id(ctx)))
        if known is not None and known[0] is self and known[1] is ctx:
            return known[2]
        scope = self.scope(ctx)
        out = frozenset(r.id for r in self.rules if r.applies(scope))
        _ACTIVE[(id(self), id(ctx))] = (self, ctx, out)
        if len(_ACTIVE) > 4:
            del _ACTIVE[next(iter(_ACTIVE))]
        return out

    def applies(self, rule_id: str, ctx: RewriteContext) -> bool:
        """Whether a rule's declared gates (`min_target`, `python`, `condition`) let it act on this service."""
        return self.rule(rule_id).applies(self.scope(ctx))

    def needs_libcst(self, sites: bool, active: Set[str]) -> bool:
        """Whether a file goes through LibCST: an active rule's `check` reported a site in it (`sites`), or an active
        rule with a `Fix` must see every file (`every_file`); always, with the gate off (`LIBCST_GATE`)."""
        if sites or not LIBCST_GATE:
            return True
        return any(m.rule.every_file and (m.rule.id in active or m.rule.slug in active) and hasattr(m.module, "Fix")
                   for m in self.rule_modules)

    def handles(self, package: str) -> bool:
        return package in {self.package, self.replaces}

    def is_old(self, package: str, spec: str) -> bool | None:
        """Whether a pin of `package` with `spec` admits a release this recipe migrates from.

        A pin of the replaced package is always old. None when the spec cannot be judged (unpinned).
        """
        if self.replaces and package == self.replaces:
            return True
        return _admits(spec, self.migrates_from, self.known_versions)

    # ---- detection (ast) ----------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        """Usage sites in one Python file. Called only for files containing one of `tokens`."""
        return ()

    def detect_service(self, sources: Sequence[SourceFile], files: Mapping[str, str]) -> Iterable[UsageSite]:
        """Usage sites across one service: `sources` are its parsed Python files holding one of `tokens`, `files`
        the text of each of its Python files by fleet-relative path (the same keys the run's `RewriteContext.files`
        has, read on access), for detection that follows imports across modules as the run does. The default is
        `detect` on each source; a recipe overriding it is scanned once per service (see `service_level`)."""
        for src in sources:
            yield from self.detect(src)

    def detect_file(self, src: SourceFile, files: Mapping[str, str]) -> Iterable[UsageSite]:
        """A `file_level` recipe's sites in one of a service's files: its `detect_service` yields these for each
        source in turn. What it reads of `files` (other than the file itself) is all its result depends on besides
        the file's own text: the scan records it, so that after an edit the run detects again only the files
        edited and those that read them."""
        return self.detect(src)

    @property
    def service_level(self) -> bool:
        """Whether detection looks across a service's files (its scan result depends on every file of it)."""
        return type(self).detect_service is not Recipe.detect_service

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        """Usage sites in one config file (pytest.ini, tox.ini, setup.cfg, pyproject.toml, pytest.toml)."""
        return ()

    # ---- rewriting (LibCST / format-preserving) ------------------------------------------------

    def pin_changes(self, ctx: RewriteContext, pinned: Mapping[str, str]) -> list[PinChange]:
        """Requirement changes for a service; `pinned` maps its pinned packages to their specs."""
        target = ctx.targets.get(self.package, self.migrates_to)
        changes: list[PinChange] = []
        for name in (self.package, self.replaces):
            if name and name in pinned:
                changes.append(PinChange(name, self.package, target, reason=f"{self.id}: target {target}"))
        if changes:
            for dropped in self.drops:
                if dropped in pinned:
                    changes.append(PinChange(dropped, dropped, None, remove=True, reason=f"{self.id}: not needed any more"))
            for name, spec in self.requires.items():
                if name in pinned and name not in {c.package for c in changes} and _excludes(name, pinned[name], spec):
                    want = ctx.targets.get(name, spec)
                    changes.append(PinChange(name, name, want, reason=f"{self.id}: needs {name}{spec}"))
        return changes

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        """Rewrite one Python file. The default changes nothing."""
        return RewriteResult(text)

    def rewrite_config(self, cfg: ConfigFile, ctx: RewriteContext) -> RewriteResult:
        """Rewrite one config file. The default changes nothing."""
        return RewriteResult(cfg.text)

    def prepare(self, ctx: RewriteContext) -> object:
        """Facts gathered once per service before its files are rewritten (e.g. a cross-file index)."""
        return None

    def rewrite_file(self, path: str, text: str, ctx: RewriteContext, prepared: object) -> RewriteResult | None:
        """Rewrite one file of the service, or None when this recipe has nothing to do with it."""
        if path.endswith(".py"):
            if not any(t.decode() in text for t in self.tokens):
                return None
            return self.rewrite_python(path, text, file_kind(path), ctx)
        kind = config_kind(path)
        if kind is None or (self.config_kinds is not None and kind not in self.config_kinds):
            return None
        return self.rewrite_config(ConfigFile(path, text, kind), ctx)

    def finish(self, ctx: RewriteContext, prepared: object, out: ServiceRewrite) -> None:
        """Service-wide edits after every file was rewritten (e.g. a config key the new release needs)."""

    # ---- sparse rewriting (see `recipes.sparse`) ---------------------------------------------------

    def sparse_sites(self, ctx: RewriteContext, prepared: object) -> dict[str, set[int]]:
        """The lines of every site detection finds in each Python file of the service worth a sparse view (see
        `sparse.worth`): every rule's, active or not, so a view keeps more than the run acts on, never less. The
        scan's, where they still hold (`ctx.known`): only the stale files are detected again."""
        from fleetshift.recipes import sparse
        from fleetshift.recipes._ast import parse_tree

        known = self.known(ctx)
        if known is not None:
            return {path: set(lines) for path, lines in known.sites.items()
                    if lines and path in ctx.files and sparse.worth(ctx.files[path])}
        sources = []
        for path, text in ctx.files.items():
            if path.endswith(".py") and sparse.worth(text) and any(t.decode() in text for t in self.tokens):
                try:
                    sources.append(SourceFile(path, text, parse_tree(text), file_kind(path)))
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    continue
        out: dict[str, set[int]] = {}
        for site in self.detect_service(sources, ctx.files):
            out.setdefault(site.file, set()).add(site.line)
        return out

    def known(self, ctx: RewriteContext) -> Known | None:
        """`ctx.known` with its stale files detected again (`detect_file` on their current texts, as the scan
        would): the sites of every file holding one of the recipe's tokens that parses, and none stale; a file whose
        text cannot hold a site (`needs.may_hold`) is not detected: it holds none. Once per context."""
        known = ctx.known
        if known is None or not known.stale:
            return known
        done = _DETECTED.get(id(ctx))
        if done is not None and done[0] is ctx:
            return done[1]
        from fleetshift.recipes import needs, sparse
        from fleetshift.recipes._ast import parse_tree

        sources, sites = set(known.sources), dict(known.sites)
        for path in sorted(known.stale):
            text = ctx.files.get(path)
            if text is None or not path.endswith(".py") or not any(t.decode() in text for t in self.tokens):
                continue
            may = needs.may_hold(self, path, text)
            if not may and sparse.parses(text):
                sources.add(path)  # parses (spliced from a view whose rewrite does), and no site by its text
                continue
            try:
                src = SourceFile(path, text, parse_tree(text), file_kind(path))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue  # the rewrite meets it and says so
            sources.add(path)
            if not may:
                continue  # no site by its text
            lines: set[int] = set()
            for site in self.detect_file(src, ctx.files):
                if site.file == path:
                    lines.add(site.line)
                else:  # a site reported elsewhere: nothing is known for sure
                    return None
            if lines:
                sites[path] = tuple(sorted(lines))
        out = Known(frozenset(sources), sites, outlines=known.outlines, found=known.found)
        _DETECTED.clear()
        _DETECTED[id(ctx)] = (ctx, out)
        return out

    def sparse_needs(self, path: str, text: str, ctx: RewriteContext, prepared: object) -> Set[str] | None:
        """Names whose mention keeps a def or class in a file's sparse view (beyond the sites and their closure), or
        None when the file must be rewritten whole."""
        return frozenset()

    def rewrite_sparse(self, path: str, text: str, ctx: RewriteContext, prepared: object,
                       sites: Set[int]) -> RewriteResult | None:
        """`rewrite_file` on the sparse view of a Python file, spliced back into the whole text; the whole text when
        the view cannot be made or spliced exactly."""
        from fleetshift.recipes import sparse
        from fleetshift.recipes._ast import parse_tree

        needs = self.sparse_needs(path, text, ctx, prepared)
        v = None
        if needs is not None:
            known = ctx.known.outlines.get(path) if ctx.known is not None else None
            if known is not None and ctx.files.get(path) == text and sparse.covers(known, needs):
                v = sparse.view_of(text, known, sites, needs)  # the scan's outline of this very text
            else:
                try:
                    v = sparse.view(text, parse_tree(text), sites, needs)
                except (SyntaxError, ValueError):
                    v = None
        if v is not None:
            sparse.made(v, text)
        if v is None or not sparse.same_defaults(v, text):
            return self.rewrite_file(path, text, ctx, prepared)
        res = self.rewrite_file(path, v.text, ctx, prepared)
        if res is None:  # its tokens are all in cold statements: the whole text says what the run does with it
            return self.rewrite_file(path, text, ctx, prepared)
        spliced = sparse.splice(v, res.text)
        if spliced is not None:
            new, after = spliced
            findings = sparse.map_findings(v, path, res.findings, after)
            if findings is not None:
                if new != text:
                    sparse.vouch(v, res.text, after, new)
                return RewriteResult(new, findings)
        return self.rewrite_file(path, text, ctx, prepared)

    def migrate(self, ctx: RewriteContext) -> ServiceRewrite:
        """The recipe's rewrite of a service with its rule gates enforced: what a gated-out rule reports is dropped."""
        out = self.rewrite_service(ctx)
        gated = {r.id for r in self.rules} - self.active_rules(ctx)
        if gated:
            out.findings = [f for f in out.findings if f.rule not in gated]
        return out

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        """Rewrite every file of a service; override `prepare`/`rewrite_file`/`finish` to look across files."""
        prepared = self.prepare(ctx)
        out = ServiceRewrite()
        sites = self.sparse_sites(ctx, prepared) if self.sparse and SPARSE else {}
        known = self.known(ctx)
        if known is not None and self.needs_libcst(False, self.active_rules(ctx)):
            known = None  # a rule acts on files where no check reports a site
        for path, text in ctx.files.items():
            if known is not None and path in known.sources and not known.sites.get(path):
                continue  # detection finds no site of this recipe in it (the scan's, unless it changed since)
            try:
                if sites.get(path):
                    res = self.rewrite_sparse(path, text, ctx, prepared, sites[path])
                else:
                    res = self.rewrite_file(path, text, ctx, prepared)
            except (RecursionError, MemoryError):  # the parsers' stack limits, on nesting no person writes
                out.findings.append(Finding(path, 0, f"{self.id}/too-deep", "too deeply nested to parse; this file "
                                            "was left unchanged: simplify the nesting", Severity.ERROR, recipe=self.id))
                continue
            if res is None:
                continue
            if res.text != text:
                out.texts[path] = res.text
            out.findings.extend(res.findings)
        self.finish(ctx, prepared, out)
        return out


_DETECTED: dict[int, tuple[RewriteContext, Known | None]] = {}  # the last context's `Recipe.known`
_ACTIVE: dict[tuple[int, int], tuple[Recipe, RewriteContext, frozenset[str]]] = {}  # the last contexts' active rules


def _excludes(package: str, pin: str, wanted: str) -> bool:
    """Whether a companion's pin admits none of its known releases inside `wanted` (so it must move too)."""
    if not pin:
        return False
    from fleetshift.recipes import for_package

    recipe = for_package(package)
    return _excludes_known(pin, wanted, tuple(recipe.known_versions) if recipe else ())


@functools.lru_cache(maxsize=1024)
def _excludes_known(pin: str, wanted: str, releases: tuple[str, ...]) -> bool:
    """`_excludes` for a companion whose known releases are `releases` (asked for every service pinning it, with the
    same few pins each time)."""
    try:
        pinned, need = SpecifierSet(pin), SpecifierSet(wanted)
    except InvalidSpecifier:
        return False
    known = [v for v in releases if need.contains(v, prereleases=True)]
    if not known:  # no release list to judge by: move it unless the pin already sits inside `wanted`
        return not all(need.contains(s.version, prereleases=True) for s in pinned if s.operator in ("==", "==="))
    return not any(pinned.contains(v, prereleases=True) for v in known)


@functools.lru_cache(maxsize=4096)
def _admits(spec: str, old_spec: str, known: tuple[str, ...]) -> bool | None:
    """Whether `spec` admits a known release inside `old_spec`; None when it cannot be judged."""
    if not spec:
        return None
    try:
        pinned = SpecifierSet(spec)
        old = SpecifierSet(old_spec)
    except InvalidSpecifier:
        return None
    admitted = [v for v in map(Version, known) if pinned.contains(v, prereleases=True)]
    if not admitted:
        # A spec naming a release we do not list: judge by its own version numbers.
        for s in pinned:
            try:
                admitted.append(Version(s.version.rstrip(".*")))
            except InvalidVersion:
                continue
    return any(old.contains(v, prereleases=True) for v in admitted)


def file_kind(path: str) -> FileKind:
    """Classify a Python file by its path: conftest, test module, or source."""
    name = path.rsplit("/", 1)[-1]
    if name == "conftest.py":
        return "conftest"
    parts = path.split("/")
    if name.startswith("test_") or name.endswith("_test.py") or "tests" in parts[:-1] or "test" in parts[:-1]:
        return "test"
    return "source"


def config_kind(path: str) -> ConfigKind | None:
    """The config kind of a path, or None when it is not a pytest-relevant config file."""
    name = path.rsplit("/", 1)[-1]
    if name in ("pytest.ini", ".pytest.ini"):
        return "pytest.ini"
    if name in ("pytest.toml", ".pytest.toml"):
        return "pytest.toml"
    if name in ("tox.ini", "setup.cfg", "pyproject.toml"):
        return name  # type: ignore[return-value]
    return None
