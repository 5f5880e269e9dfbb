"""What the recipe decides for each Flux of a module, on the standard `ast` only (shared by `check`, `scan` and
`run`): Flux strings and `.flux` files translated to SQL in the shape their readers expect, or the reason
they are not, with the proposed SQL."""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.influxdb.facts import module_nodes, service_modules
from fleetshift.recipes.influxdb.flux.filters import Translation
from fleetshift.recipes.influxdb.flux.find import (
    META_KEYS,
    FluxPath,
    FluxString,
    Wrapper,
    flux_files,
    flux_paths,
    flux_strings,
    record_keys,
    wrappers,
)
from fleetshift.recipes.influxdb.flux.lexer import HOLE_RE
from fleetshift.recipes.influxdb.flux.long import shaped
from fleetshift.recipes.influxdb.receivers import LaterReceivers, Receivers

LONG_NOTE = (
    "rows keep Flux's long shape (_time in UTC, _measurement, _field, _value, tags; fields of mixed types "
    "come back as one common type)"
)


@dataclass(frozen=True)
class StringPlan:
    """One Flux string: its translation (exact: `sql`; else `proposed` and `reason`) or why there is none."""

    site: FluxString
    translation: Translation | None
    why: str

    @property
    def exact(self) -> bool:
        return (
            self.translation is not None
            and self.translation.exact
            and not self.unread
            and not self.site.extended
            and not self.renamed
        )

    @property
    def renamed(self) -> tuple[str, ...]:
        """Flux columns the code reads that the SQL rows name differently (`_value` -> `watts`)."""
        tr = self.translation
        if tr is None:
            return ()
        return tuple(
            k for k in self.site.keys if k.startswith("_") and k not in META_KEYS and tr.columns.get(k) != k
        )

    @property
    def unread(self) -> tuple[str, ...]:
        """Record keys the code reads that SQL rows do not have."""
        return tuple(k for k in self.site.keys if k in META_KEYS)

    @property
    def rule(self) -> str:
        """The slug of the one rule that reports this string: flux-string when it translates exactly, flux-shape
        when its readers read Flux-only columns, flux-manual otherwise."""
        return "flux-string" if self.exact else "flux-shape" if self.unread else "flux-manual"

    def message(self) -> str:
        tr = self.translation
        if self.site.fragment:
            return (
                "a piece of a Flux pipeline joined to others at run time: translate the whole query to SQL by hand "
                "(InfluxDB 3 serves no Flux)"
            )
        if self.exact and tr is not None:
            return f"Flux translated to SQL ({LONG_NOTE if tr.long else 'one column per field'}): {self.show(tr.sql)}"
        reason = self.site.extended or self.why or (tr.reason if tr is not None else "")
        if self.unread:
            reason = f"the code reads {', '.join(self.unread)} of the records, which SQL rows do not have"
        elif self.renamed and tr is not None and tr.exact:
            names = ", ".join(
                f"{k} (SQL: {tr.columns.get(k, tr.constants.get(k, 'none'))})" for k in self.renamed
            )
            reason = f"the code reads {names}: rewrite those reads, or keep Flux's long shape in the query"
        msg = f"Flux not translated automatically ({reason})"
        proposed = tr.sql or tr.proposed if tr is not None else None
        return msg + (f"; proposed SQL: {self.show(proposed)}" if proposed else "")

    def show(self, sql: str | None) -> str:
        """SQL with the f-string placeholders written as `{expression}`."""
        return HOLE_RE.sub(lambda m: "{" + self.site.holes[int(m.group(1))] + "}", sql or "")


@dataclass(frozen=True)
class FilePlan:
    """One `.flux` file named by a path in a module: its SQL sibling, or why there is none."""

    flux_path: str
    sql_path: str
    translation: Translation | None
    why: str

    @property
    def exact(self) -> bool:
        return self.translation is not None and self.translation.exact

    def message(self) -> str:
        tr = self.translation
        if self.exact and tr is not None:
            return f"{self.flux_path} translated to {posixpath.basename(self.sql_path)} ({LONG_NOTE})"
        reason = self.why or (tr.reason if tr is not None else "")
        proposed = tr.proposed if tr is not None else None
        return (
            f"{self.flux_path} not translated automatically ({reason}); write {posixpath.basename(self.sql_path)} "
            "by hand, the loader now reads it" + (f"; proposed SQL: {proposed}" if proposed else "")
        )


def owned_strings(
    tree: ast.Module, imports: Imports | None = None, receivers: Receivers | LaterReceivers | None = None
) -> set[tuple[int, int]]:
    """Positions of strings passed straight to a `query_api()` query call of influxdb-client (directly or
    through one local name): the query rewrite translates those together with their readers."""
    imports = imports or Imports(tree)
    if not imports.imports_module("influxdb_client"):
        return set()
    receivers = receivers or Receivers(tree, imports)
    assigned: dict[str, list[ast.expr]] = {}
    for node in module_nodes(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
    out: set[tuple[int, int]] = set()
    for node in module_nodes(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and receivers.kind(node.func.value) == "query_api"  # query(), query_csv(), ...
        ):
            continue
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "query"), None)
        if arg is None:
            continue
        for part in ast.walk(arg):  # the literal, the names it is built from (`WINDOW + "|> ..."`) and theirs
            if isinstance(part, ast.Name):
                out.update((v.lineno, v.col_offset) for v in assigned.get(part.id, []))
            elif isinstance(part, ast.expr):
                out.add((part.lineno, part.col_offset))
    return out


def string_plans(
    tree: ast.Module, text: str, imports: Imports | None = None, receivers: Receivers | LaterReceivers | None = None
) -> list[StringPlan]:
    """Every Flux string of a module that the query rewrite does not own, with its translation."""
    sites = list(flux_strings(tree, text))
    owned = owned_strings(tree, imports, receivers) if sites else set()
    plans = []
    for site in sites:
        if (site.line, site.col) in owned:
            continue
        if site.fragment:
            plans.append(StringPlan(site, None, "a piece of a pipeline"))
            continue
        if "\n" not in site.text and "|>" not in site.text and not site.text.lstrip().startswith("buckets("):
            continue  # `from(bucket: "x")` alone in prose or a log line is not a query
        tr, why = shaped(site.text, long=True, tags=site.keys, time_holes=site.time_holes)
        plans.append(StringPlan(site, tr, why))
    return plans


def sql_path(flux_path: str) -> str:
    return flux_path[: -len(".flux")] + ".sql"


def _keys_near(stem: str, files: Mapping[str, str]) -> tuple[str, ...]:
    """Record keys read in the functions of the service that name a query file's stem (`load("daily")`)."""
    keys: list[str] = []
    for _path, _text, tree in service_modules(files, stem):
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                isinstance(n, ast.Constant) and isinstance(n.value, str) and stem in n.value
                for n in ast.walk(fn)
            ):
                keys.extend(k for k in record_keys(fn) if k not in keys)
    return tuple(keys)


def path_plans(
    tree: ast.Module, text: str, module_path: str, files: Mapping[str, str]
) -> list[tuple[FluxPath, list[FilePlan]]]:
    """Every `.flux` path of a module with a plan for each file it may name."""
    out = []
    for site in flux_paths(tree, text):
        plans = []
        for fp in flux_files(site.pattern, module_path, files):
            stem = posixpath.basename(fp)[: -len(".flux")]
            keys = tuple(dict.fromkeys((*site.keys, *_keys_near(stem, files))))
            tr, why = shaped(files[fp], long=True, tags=keys)
            if tr is not None and tr.exact and any(k in META_KEYS for k in keys):
                tr, why = (
                    None,
                    f"the code reads {', '.join(k for k in keys if k in META_KEYS)} of the records",
                )
            plans.append(FilePlan(fp, sql_path(fp), tr, why))
        out.append((site, plans))
    return out


def module_wrappers(tree: ast.Module, imports: Imports | None = None) -> list[Wrapper]:
    """The query wrappers a module defines (only in modules that use influxdb-client)."""
    if not (imports or Imports(tree)).imports_module("influxdb_client"):
        return []
    return list(wrappers(tree))


class ModuleFlux:
    """The Flux of one module as the per-node checks read it, by id() of the ast node; each part is worked out
    the first time a check asks for it (a module with no `|>`, `bucket` or `.flux` in its text has none)."""

    def __init__(self, tree: ast.Module, text: str, imports: Imports, receivers: Receivers | LaterReceivers) -> None:
        self.tree, self.text, self.imports, self.receivers = tree, text, imports, receivers

    @cached_property
    def strings(self) -> Mapping[int, StringPlan]:
        return {p.site.node: p for p in string_plans(self.tree, self.text, self.imports, self.receivers)}

    @cached_property
    def paths(self) -> Mapping[int, FluxPath]:
        return {p.node: p for p in flux_paths(self.tree, self.text)}

    @cached_property
    def wrappers(self) -> Mapping[int, tuple[Wrapper, str]]:
        """Query call -> (its wrapper, why that wrapper cannot be rewritten or "")."""
        from fleetshift.recipes.influxdb.flux.wrapping import plan_wrapper

        if "query" not in self.text and self.text.isascii():
            return {}  # a wrapper calls a query method, whose name is in the text
        return {
            id(w.call): (w, plan_wrapper(w, self.tree, self.text).why)
            for w in module_wrappers(self.tree, self.imports)
        }

    @cached_property
    def string_lines(self) -> frozenset[int]:
        """The lines the Flux strings span."""
        return frozenset(n for p in self.strings.values() for n in range(p.site.line, p.site.end_line + 1))

    def reported(self, node: ast.AST, rule: str) -> Iterator[str]:
        """The message of the Flux string at `node` when `rule` is the one that reports it."""
        plan = self.strings.get(id(node))
        if plan is not None and plan.rule == rule:
            yield plan.message()

    def holds(self, node: ast.AST) -> bool:
        """Whether a node is (inside) a Flux string the Flux rules judge (for the query rule to leave alone)."""
        if id(node) in self.strings:
            return True
        line = getattr(node, "lineno", None)
        return line is not None and line in self.string_lines
