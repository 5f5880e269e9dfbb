"""Shared harness for recipe tests: before/after cases, no-op twins, parse and idempotence checks."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import libcst
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from fleetshift.model import Action, Finding, Manifest, ManifestKind, Pin, Service, UsageSite
from fleetshift.recipes import get
from fleetshift.recipes.base import ConfigFile, RewriteContext, SourceFile, config_kind, file_kind


def _ctx(
    files: Mapping[str, str], targets: Mapping[str, str] | None, todo_comments: bool, requirements: Iterable[str] = ()
) -> RewriteContext:
    pins = []
    for i, raw in enumerate(requirements, 1):
        req = Requirement(raw)
        pins.append(Pin(canonicalize_name(req.name), str(req.specifier), "svc/requirements.txt", i, raw))
    manifests = (Manifest("svc/requirements.txt", ManifestKind.REQUIREMENTS, tuple(pins)),) if pins else ()
    service = Service(
        name="svc", path="svc", manifests=manifests, python_files=tuple(p for p in files if p.endswith(".py"))
    )
    return RewriteContext(service=service, targets=dict(targets or {}), files=dict(files), todo_comments=todo_comments)


def rewrite_files(
    recipe_id: str,
    files: Mapping[str, str],
    targets: Mapping[str, str] | None = None,
    todo_comments: bool = False,
    requirements: Iterable[str] = (),
) -> tuple[dict[str, str], list[Finding]]:
    """Run one recipe's service rewrite over in-memory files (of a service requiring `requirements`); returns every
    file's new text."""
    recipe = get(recipe_id)
    files = {p: textwrap.dedent(t) if not t.startswith("\n") else textwrap.dedent(t[1:]) for p, t in files.items()}
    out = recipe.migrate(_ctx(files, targets, todo_comments, requirements))
    new = {**files, **out.texts}
    for path, text in new.items():
        if path.endswith(".py"):
            libcst.parse_module(text)  # every output must parse
    return new, out.findings


def rewrite(recipe_id: str, source: str, path: str = "svc/tests/test_x.py", **kw) -> tuple[str, list[Finding]]:
    files = {path: source, **kw.pop("extra_files", {})}
    new, findings = rewrite_files(recipe_id, files, **kw)
    return new[path], findings


def assert_rewrite(recipe_id: str, before: str, after: str, path: str = "svc/tests/test_x.py", **kw) -> list[Finding]:
    """The recipe turns `before` into `after`; a second application changes nothing more."""
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    extra = kw.get("extra_files", {})
    got, findings = rewrite(recipe_id, before, path, **kw)
    assert got == after, f"--- got ---\n{got}\n--- expected ---\n{after}"
    kw2 = dict(kw)
    kw2["extra_files"] = extra
    again, _ = rewrite(recipe_id, got, path, **kw2)
    assert again == got, f"not idempotent; second pass gave:\n{again}"
    return findings


def assert_noop(recipe_id: str, source: str, path: str = "svc/tests/test_x.py", **kw) -> list[Finding]:
    """The recipe leaves `source` byte for byte as it is."""
    source = textwrap.dedent(source)
    got, findings = rewrite(recipe_id, source, path, **kw)
    assert got == source, f"expected no change, got:\n{got}"
    return findings


def detect(
    recipe_id: str, source: str, path: str = "svc/tests/test_x.py", extra_files: Mapping[str, str] | None = None
) -> list[UsageSite]:
    """Detection sites of one recipe in one Python or config file (as a scan of its service sees it, when the
    service's other files are given)."""
    recipe = get(recipe_id)
    source = textwrap.dedent(source)
    if path.endswith(".py"):
        src = SourceFile(path, source, ast.parse(source), file_kind(path))
        if extra_files:
            files = {**{p: textwrap.dedent(t) for p, t in extra_files.items()}, path: source}
            return [s for s in recipe.detect_service([src], files) if s.file == path]
        return list(recipe.detect(src))
    kind = config_kind(path)
    assert kind is not None, path
    return list(recipe.detect_config(ConfigFile(path, source, kind)))


def rules_of(items: list[UsageSite] | list[Finding]) -> set[str]:
    return {i.rule for i in items}


# ---- cases keyed by rule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One rule's example: `before` becomes `after` (None: stays byte for byte) and reports `findings`.

    A case whose rule acts (rewrites, or reports the rule) is the rule's positive case; one where the
    rule leaves the code alone (`after` None, no finding of the rule) is its no-op twin. `findings`
    lists rule slugs or ids that must be reported; `path` decides the file's kind (source, test, config).
    """

    rule: str
    before: str
    after: str | None = None
    findings: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()  # rules that only detection (`check`) reports, such as informational ones
    targets: Mapping[str, str] | None = None
    path: str = "svc/app/mod.py"
    name: str = ""
    extra_files: Mapping[str, str] = field(default_factory=dict)

    @property
    def positive(self) -> bool:
        return self.after is not None or self.rule_id_in(self.findings) or self.rule_id_in(self.sites)

    def rule_id_in(self, ids: Iterable[str]) -> bool:
        return self.rule in {i.split("/", 1)[-1] for i in ids}

    def id(self) -> str:
        return f"{self.rule}-{'fires' if self.positive else 'no-op'}" + (f"-{self.name}" if self.name else "")


def check_case(recipe_id: str, case: Case) -> None:
    """Run a case: the exact result, output that parses, idempotence, the findings, and what detection sees."""
    before = textwrap.dedent(case.before)
    expected = before if case.after is None else textwrap.dedent(case.after)
    kw = {"targets": case.targets, "extra_files": dict(case.extra_files)}
    got, findings = rewrite(recipe_id, before, case.path, **kw)
    assert got == expected, f"--- got ---\n{got}\n--- expected ---\n{expected}"
    again, _ = rewrite(recipe_id, got, case.path, **kw)
    assert again == got, f"not idempotent; second pass gave:\n{again}"
    reported = {f.rule.split("/", 1)[-1] for f in findings}
    wanted = {r.split("/", 1)[-1] for r in case.findings}
    assert wanted <= reported, f"expected findings {sorted(wanted)}, got {findings}"
    # detection sees a file without the campaign's targets, so a case with targets judges the rewrite alone
    detectable = case.targets is None and (case.path.endswith(".py") or config_kind(case.path) is not None)
    extra = dict(case.extra_files)
    seen = {s.rule.split("/", 1)[-1] for s in detect(recipe_id, before, case.path, extra)} if detectable else set()
    assert {r.split("/", 1)[-1] for r in case.sites} <= seen, f"expected sites {case.sites}"
    if case.positive:  # a whole-file rewrite cannot say which rule made which edit: a change counts too
        acted = case.rule in reported | seen or (case.after is not None and got != before)
        assert acted, f"{case.rule} neither detected nor reported, and nothing changed: {findings}"
        if case.after is not None and detectable:  # what the rule rewrote is not an automatic site any more
            left = detect(recipe_id, got, case.path, extra)
            assert not [s for s in left if s.rule.endswith(f"/{case.rule}") and s.action is Action.AUTO], left
    else:
        assert reported == wanted, f"a no-op case reported {findings}"
        noted = {s.rule.split("/", 1)[-1] for s in detect(recipe_id, before, case.path, extra) if s.action is not Action.INFO} if detectable else set()
        assert case.rule not in noted, f"{case.rule} detected in its no-op case"
