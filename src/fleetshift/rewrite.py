"""The rewrite stage: per service, chain its recipes over code, tests, config and manifests into a ChangeSet.

Pure: it reads the fleet's files and returns new contents; it never writes. Files keep their encoding,
BOM and newline style. A recipe that crashes or emits unparseable code changes nothing and is reported.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from fleetshift.config import FleetConfig
from fleetshift.manifests import apply_pin_changes
from fleetshift.model import ChangeSet, FileChange, Finding, Fleet, Plan, Service, Severity
from fleetshift.recipes import get
from fleetshift.recipes.base import PinChange, RewriteContext
from fleetshift.textio import Decoded, UnreadableFile, decode_python, decode_text

TODO_PREFIX = "# fleetshift: TODO"


@dataclass(frozen=True)
class RewriteOptions:
    services: tuple[str, ...] = ()  # empty = all
    recipes: tuple[str, ...] = ()  # empty = every recipe the plan chains
    todo_comments: bool = False


def _read(root: Path, rel: str, findings: list[Finding]) -> Decoded | None:
    try:
        data = (root / rel).read_bytes()
        return decode_python(data) if rel.endswith(".py") else decode_text(data)
    except (OSError, UnreadableFile) as exc:
        findings.append(Finding(rel, 0, "rewrite/unreadable", f"{exc}; this file was left unchanged", Severity.ERROR))
        return None


def _parses(text: str) -> str | None:
    try:
        ast.parse(text)
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


def rewrite_service(root: Path, service: Service, chain: Sequence[str], config: FleetConfig, todo_comments: bool = False) -> ChangeSet:
    """The ChangeSet of one service for the given recipe chain (in order)."""
    findings: list[Finding] = []
    decoded: dict[str, Decoded] = {}
    for rel in (*service.python_files, *service.config_files):
        d = _read(root, rel, findings)
        if d is not None:
            decoded[rel] = d
    texts = {rel: d.text for rel, d in decoded.items()}
    touched: dict[str, list[str]] = {}
    pinned = {p.package: p.spec for p in service.pins if not p.path}
    pin_changes: list[tuple[str, PinChange]] = []
    for recipe_id in chain:
        recipe = get(recipe_id)
        ctx = RewriteContext(service=service, targets=config.target_specs(), files=dict(texts), todo_comments=todo_comments)
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
        # This recipe's own findings point into its input; move them to the text it produced.
        own = list(result.findings)
        for rel, new in result.texts.items():
            if ctx.files.get(rel) is not None and texts.get(rel) == new:
                own = _remap(own, rel, ctx.files[rel], new)
        findings.extend(own)
        pin_changes += [(recipe_id, c) for c in recipe.pin_changes(ctx, pinned)]

    if todo_comments:
        for rel in list(texts):
            if rel.endswith(".py") and any(f.file == rel and f.line for f in findings):
                new = _todo_lines(texts[rel], findings, rel)
                if new != texts[rel]:
                    findings = _remap(findings, rel, texts[rel], new)
                    texts[rel] = new
                    touched.setdefault(rel, []).append("todo-comments")

    _apply_pin_changes(root, service, pin_changes, texts, decoded, touched, findings)
    changes: list[FileChange] = []
    for rel, new in texts.items():
        if rel in touched:
            d = decoded.get(rel)
            old = (root / rel).read_bytes() if d else None
            data = d.encode(new) if d else new.encode("utf-8")
            if old != data:
                changes.append(FileChange(rel, old, data, tuple(dict.fromkeys(touched[rel]))))
    return ChangeSet(service.name, tuple(changes), tuple(findings), tuple(chain))


def _apply_pin_changes(root: Path, service: Service, pin_changes: list[tuple[str, PinChange]], texts: dict[str, str],
                       decoded: dict[str, Decoded], touched: dict[str, list[str]], findings: list[Finding]) -> None:
    """Edit each manifest's pins in `texts` (on top of what recipes already changed in that file)."""
    for manifest in service.manifests:
        names = {p.package for p in manifest.pins if not p.path}
        mine = [(r, c) for r, c in pin_changes if c.package in names]
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


def rewrite_fleet(fleet: Fleet, plan: Plan, config: FleetConfig, options: RewriteOptions = RewriteOptions()) -> list[ChangeSet]:
    """ChangeSets for every planned service (or the chosen ones), in plan order."""
    root = Path(fleet.root)
    out: list[ChangeSet] = []
    for sp in sorted(plan.services, key=lambda s: s.order):
        if options.services and sp.service not in options.services:
            continue
        chain = [r for r in sp.recipes if not options.recipes or r in options.recipes]
        if not chain:
            out.append(ChangeSet(sp.service, recipes=()))
            continue
        out.append(rewrite_service(root, fleet.service(sp.service), chain, config, options.todo_comments))
    return out


def unified_diff(change: FileChange) -> str:
    """The change as a unified diff (text files; binary content is summarised)."""
    def lines(data: bytes | None) -> list[str]:
        if data is None:
            return []
        return data.decode("utf-8", "replace").splitlines(keepends=True)

    old_name = f"a/{change.file}" if change.old is not None else "/dev/null"
    new_name = f"b/{change.file}" if change.new is not None else "/dev/null"
    diff = difflib.unified_diff(lines(change.old), lines(change.new), old_name, new_name)
    text = "".join(d if d.endswith("\n") else d + "\n\\ No newline at end of file\n" for d in diff)
    return text
