"""influxdb-client 1.x -> influxdb3-python: construction, writes, Flux -> SQL queries and their readers.

Facts: the v2 client's write/query APIs collapse into one `InfluxDBClient3`; Flux is not served by
InfluxDB 3, so queries are translated to SQL where the translation is exact (see `flux`), and the
code reading FluxTables is rewritten to read rows of one Arrow table. Everything else is a Finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Set

from fleetshift.model import Finding, Severity, UsageSite
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.base import (
    Advisory,
    FileKind,
    PinChange,
    Recipe,
    RewriteContext,
    RewriteResult,
    ServiceRewrite,
    SourceFile,
)
from fleetshift.recipes.influxdb.facts import facts_of, per_service, service_modules
from fleetshift.recipes.influxdb.rules import FLUX_FUTURE, MIGRATE, V3_CHANGELOG, V3_README


class InfluxDB3Recipe(Recipe):
    """influxdb-client (InfluxDB 2 API, Flux) -> influxdb3-python (InfluxDB 3, SQL over Arrow Flight)."""

    id = "influxdb3"
    title = "influxdb-client 1.x -> influxdb3-python"
    package = "influxdb3-python"
    replaces = "influxdb-client"
    migrates_from = "<0.17.0"  # any influxdb-client pin is old (replaced package); old influxdb3-python too
    migrates_to = ">=0.17.0,<1"
    known_versions = (
        "0.12.0",
        "0.13.0",
        "0.14.0",
        "0.15.0",
        "0.16.0",
        "0.17.0",
        "0.18.0",
        "0.19.0",
        "0.20.0",
        "0.21.0",
    )
    tokens = (
        b"influxdb_client",
        b"InfluxDBClient",
        b"|>",
        b".flux",
    )  # Flux is found by its own syntax too (see flux.find)
    rules_package = "fleetshift.recipes.influxdb.rules"
    advisories = (
        Advisory(
            "<0.21",
            "recommended pin is influxdb3-python>=0.21,<0.22; before 0.21 gzip_threshold= (or "
            "INFLUX_GZIP_THRESHOLD) crashes every write and default_tags= is the only way to set default tags",
            V3_CHANGELOG,
        ),
        Advisory(
            ">=0.20",
            "WriteOptions(no_sync=True) raises ValueError unless write_use_v2_api=False",
            V3_CHANGELOG,
        ),
        Advisory(
            "<0.21",
            "InfluxDBClient3(timeout=) raises TypeError; use write_timeout=/query_timeout=",
            V3_CHANGELOG,
        ),
        Advisory(
            ">=0.21", "default_tags= is silently ignored; use point_settings=PointSettings(...)", V3_CHANGELOG
        ),
    )
    order = 60
    sparse = True  # its LibCST work follows the statements holding sites and their receivers (see `hot`)
    risk_weight = 4.0  # an API redesign: construction, writes, queries (Flux -> SQL) and result shapes
    docs = f"{V3_README} {MIGRATE} {FLUX_FUTURE}"

    # ---- detection -------------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return self._sites(src, old_api=True)

    def _sites(self, src: SourceFile, old_api: bool) -> Iterator[UsageSite]:
        """Every site of one module: each node offered to each rule's `check` (`old_api=False`: only the traps
        of migrated influxdb3-python code)."""
        text = src.text
        if not ("influxdb_client" in text or "|>" in text or ".flux" in text or "InfluxDBClient" in text):
            return  # (facts.v2 and facts.v3 need an import naming influxdb_client)
        facts = facts_of(text, src.tree, old_api=old_api)
        if not (facts.v2 or facts.v3 or "|>" in text or ".flux" in text or "InfluxDBClient" in text):
            return
        by_type, every = self._checks()
        seen: set[tuple[int, str, str]] = set()
        for node in facts.nodes:
            for rule_id, check in (*by_type.get(type(node), ()), *every):
                for detail in check(node, facts):
                    key = (getattr(node, "lineno", 0), rule_id, detail)
                    if key not in seen:  # one line per site: the same finding twice is one
                        seen.add(key)
                        yield self.site(src, node, rule_id, detail)

    def _checks(self) -> tuple[dict[type, list[tuple[str, Callable]]], list[tuple[str, Callable]]]:
        """The rules' checks by the node type they look at (a module's `NODES`), and those offered every node."""
        if "_by_type" not in self.__dict__:
            by_type: dict[type, list[tuple[str, Callable]]] = {}
            every: list[tuple[str, Callable]] = []
            for m, check in self.hooks("check"):
                types = getattr(m.module, "NODES", None)
                for t in types or ():
                    by_type.setdefault(t, []).append((m.rule.id, check))
                if types is None:
                    every.append((m.rule.id, check))
            self.__dict__["_by_type"] = (by_type, every)
        return self.__dict__["_by_type"]

    # ---- rewriting -----------------------------------------------------------------------------------

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        from fleetshift.recipes.influxdb.flux.migrate import migrate_strings, migrate_wrappers
        from fleetshift.recipes.influxdb.rewrite import rewrite_module
        from fleetshift.recipes.influxdb.rules import patch_target

        buckets, bucket_attrs = per_service(ctx.files, _service_buckets)
        try:
            notes = []
            if "InfluxDBClient" in text:  # mock.patch targets, also in modules that import no client
                migrated = per_service(ctx.files, patch_target.migrated_modules)
                patched, notes = patch_target.rewrite(text, parse_tree(text), migrated)
            else:
                patched = text
            strings = migrate_strings(path, patched, ctx.files)
            new, more = rewrite_module(strings.text, buckets, bucket_attrs)
            notes = [*notes, *more]
            wrapped = migrate_wrappers(new, text, ctx.files)
            new = wrapped.text
        except Exception as exc:  # never lose a file to a rewrite bug: report it instead
            return RewriteResult(
                text,
                [
                    Finding(
                        path,
                        0,
                        "influxdb3/client",
                        f"influxdb3 rewrite failed ({exc!r}); migrate this file by hand",
                        Severity.ERROR,
                        V3_README,
                        self.id,
                    )
                ],
            )
        wrapper_lines = {n.line for n in wrapped.notes if n.rule.startswith("flux-wrapper")}
        notes = [
            n
            for n in notes
            if not (n.rule == "flux" and (n.line in wrapped.handled_lines or n.line in wrapper_lines))
            and not (n.rule == "database" and n.line in wrapped.database_lines)
        ]
        findings = [
            self.finding(path, n.line, n.rule, n.message) for n in (*strings.notes, *notes, *wrapped.notes)
        ]
        if "influxdb_client_3" in text:  # already-migrated code: only the version traps apply
            findings.extend(self._migrated_findings(path, new))
        return RewriteResult(new, _dedupe(findings))

    def sparse_needs(self, path: str, text: str, ctx: RewriteContext, prepared: object) -> Set[str] | None:
        """The names that keep a def or class in the module's sparse view: its imports, clients, api objects, query
        wrappers, resolved constants (see `hot`); None for migrated code, which is checked whole."""
        from fleetshift.recipes.influxdb.flux.migrate import service_wrappers
        from fleetshift.recipes.influxdb.hot import hot_names

        try:
            tree = parse_tree(text)
        except SyntaxError:
            return None
        return hot_names(text, tree, per_service(ctx.files, service_wrappers))

    def finish(self, ctx: RewriteContext, prepared: object, out: ServiceRewrite) -> None:
        """The `.sql` siblings of the loaded `.flux` files, and a Finding for each one that does not translate."""
        from fleetshift.recipes.influxdb.flux.migrate import sql_files

        written, plans = sql_files(ctx.files)
        out.texts.update(written)
        for path, plan in plans:
            if not plan.exact:
                out.findings.append(self.finding(path, 1, "flux-manual", plan.message()))

    def _migrated_findings(self, path: str, text: str) -> list[Finding]:
        """What a human still has to do in already-migrated code: the same sites `check` reports there."""
        try:
            tree = parse_tree(text)
        except SyntaxError:
            return []
        src = SourceFile(path, text, tree, "source")
        return [self.finding(path, s.line, s.rule, s.detail) for s in self._sites(src, old_api=False)]

    def pin_changes(self, ctx: RewriteContext, pinned: Mapping[str, str]) -> list[PinChange]:
        """influxdb-client[...] -> influxdb3-python, with the [pandas] extra when the service uses DataFrames
        or reads query rows: pyarrow turns a `timestamp[ns]` value with non-zero nanoseconds into a Python
        object only through pandas (`to_pylist()` raises ValueError without it)."""
        changes = super().pin_changes(ctx, pinned)
        if not _uses_pandas(ctx):
            return changes
        return [
            PinChange(
                c.package,
                f"{c.new_package}[pandas]",
                c.new_spec,
                c.remove,
                c.reason + " (DataFrames: [pandas])",
            )
            if c.new_package == self.package
            else c
            for c in changes
        ]


def _service_buckets(files: Mapping[str, str]) -> tuple[frozenset[str], frozenset[str]]:
    """The service's literal bucket names and attribute-chain bucket expressions, over all its files."""
    from fleetshift.recipes.influxdb.rules.database import attribute_buckets, literal_buckets

    literals: set[str] = set()
    attrs: set[str] = set()
    for _path, _text, tree in service_modules(files, "influxdb_client"):
        literals |= literal_buckets(tree)
        attrs |= attribute_buckets(tree)
    return frozenset(literals), frozenset(attrs)


def _uses_pandas(ctx: RewriteContext) -> bool:
    for path, text in ctx.files.items():
        if not path.endswith(".py"):
            continue
        if (("data_frame" in text and ("query_data_frame" in text or "data_frame_measurement_name" in text))
                or 'mode="pandas"' in text):
            return True
        if "influxdb_client" in text and ("query_api" in text or "query_stream" in text or "import pandas" in text
                                          or "from pandas" in text):
            return True  # query rows are read with to_pylist() (ns timestamps need pandas), or pandas is imported
    return False


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[int, str, str]] = set()
    out = []
    for f in findings:
        k = (f.line, f.rule, f.message)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


RECIPE = InfluxDB3Recipe()
