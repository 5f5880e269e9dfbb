"""influxdb-client 1.x -> influxdb3-python: construction, writes, Flux -> SQL queries and their readers.

Facts: the v2 client's write/query APIs collapse into one `InfluxDBClient3`; Flux is not served by
InfluxDB 3, so queries are translated to SQL where the translation is exact (see `flux`), and the
code reading FluxTables is rewritten to read rows of one Arrow table. Everything else is a Finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes._ast import Imports, keyword
from fleetshift.recipes.base import (
    Advisory,
    FileKind,
    PinChange,
    Recipe,
    RewriteContext,
    RewriteResult,
    Rule,
    SourceFile,
)
from fleetshift.recipes.influxdb import flux
from fleetshift.recipes.influxdb.rewrite import (
    NO_EQUIVALENT,
    QUERY_NO_EQUIVALENT,
    attribute_buckets,
    literal_buckets,
    rewrite_module,
)

V3_README = "https://github.com/InfluxCommunity/influxdb3-python#readme"
V3_CHANGELOG = "https://github.com/InfluxCommunity/influxdb3-python/blob/main/CHANGELOG.md"
MIGRATE = "https://docs.influxdata.com/influxdb3/core/get-started/migrate-from-influxdb-v1-v2/"
FLUX_FUTURE = "https://docs.influxdata.com/flux/v0/future-of-flux/"
SQL_DOCS = "https://docs.influxdata.com/influxdb3/core/query-data/sql/"

_R = "influxdb3/"
RULES = (
    Rule(
        _R + "import",
        "imports move from influxdb_client to influxdb_client_3",
        Action.AUTO,
        "InfluxDBClient -> InfluxDBClient3; Point, WritePrecision, WriteOptions, SYNCHRONOUS, PointSettings, "
        "WriteType and InfluxDBError come from influxdb_client_3; unused v2 imports are removed",
        V3_README,
    ),
    Rule(
        _R + "client",
        "InfluxDBClient(url=, token=, org=, ...) -> InfluxDBClient3(host=, token=, database=, org=, ...)",
        Action.AUTO,
        "url -> host (scheme://host:port), positional arguments become keywords, database= is the "
        "bucket used by the writes/queries",
        V3_README,
    ),
    Rule(
        _R + "timeout",
        "timeout= is not accepted by InfluxDBClient3",
        Action.AUTO,
        "timeout=T -> write_timeout=T, query_timeout=T (milliseconds)",
        V3_CHANGELOG,
        "0.16.0",
    ),
    Rule(
        _R + "host-port",
        "influxdb3-python needs host as scheme://host:port",
        Action.HUMAN,
        "a missing port means 443 even for http:// and a URL path is dropped; make the configured URL explicit",
        V3_README,
    ),
    Rule(
        _R + "database",
        "InfluxDBClient3 needs database= (required at construction on 0.21)",
        Action.HUMAN,
        "pass database=<bucket> to InfluxDBClient3",
        V3_CHANGELOG,
        "0.21.0",
    ),
    Rule(
        _R + "from-env",
        "InfluxDBClient.from_env_properties() -> InfluxDBClient3.from_env()",
        Action.AUTO,
        "renamed; the environment variables change too (see env-vars)",
        V3_CHANGELOG,
        "0.13.0",
    ),
    Rule(
        _R + "env-vars",
        "from_env() reads INFLUX_HOST/INFLUX_TOKEN/INFLUX_DATABASE, not INFLUXDB_V2_*",
        Action.HUMAN,
        "rename the variables in every deployment file and add INFLUX_DATABASE",
        V3_README,
    ),
    Rule(
        _R + "from-config-file",
        "InfluxDBClient.from_config_file() has no equivalent",
        Action.HUMAN,
        "read the config with configparser and build InfluxDBClient3(host=, token=, org=, database=)",
        V3_README,
    ),
    Rule(
        _R + "write",
        "write_api().write(bucket=, org=, record=) -> client.write(record=, database=)",
        Action.AUTO,
        "the write_api object collapses into the client; positional arguments become keywords",
        V3_README,
    ),
    Rule(
        _R + "write-manual",
        "a write the recipe could not rewrite",
        Action.HUMAN,
        "call client.write(record=..., database=...) on the InfluxDBClient3",
        V3_README,
    ),
    Rule(
        _R + "flush-close",
        "write_api.flush()/close() -> client.flush()",
        Action.AUTO,
        "client.flush() sends buffered writes (close() of the client closes everything)",
        V3_CHANGELOG,
        "0.17.0",
    ),
    Rule(
        _R + "write-options",
        "write_api(write_options=WriteOptions(...), *_callback=) options move to the client",
        Action.AUTO,
        "InfluxDBClient3(write_client_options=write_client_options(write_options=..., "
        "success_callback=..., ...))",
        V3_README,
    ),
    Rule(
        _R + "write-options-manual",
        "write options the recipe could not move",
        Action.HUMAN,
        "move them to InfluxDBClient3(write_client_options=write_client_options(...))",
        V3_README,
    ),
    Rule(
        _R + "write-api-batching",
        "bare write_api() batched writes in influxdb-client; influxdb3-python writes "
        "synchronously by default",
        Action.INFO,
        "writes now block and raise; add write_client_options(write_options=WriteOptions()) to keep batching",
        V3_README,
    ),
    Rule(
        _R + "write-async",
        "ASYNCHRONOUS writes are deprecated in influxdb3-python",
        Action.INFO,
        "prefer synchronous writes (asyncio.to_thread in coroutines)",
        V3_CHANGELOG,
    ),
    Rule(
        _R + "default-tags",
        "default_tags/point_settings behave differently across 0.17-0.21",
        Action.HUMAN,
        "pin influxdb3-python>=0.21,<0.22 and pass point_settings=PointSettings(**tags), or tag each record",
        V3_CHANGELOG,
        "0.21.0",
    ),
    Rule(
        _R + "query",
        "query_api().query(flux) -> client.query(sql, database=)",
        Action.AUTO,
        'the Flux text is translated to SQL (exact shapes only); query_data_frame -> mode="pandas"; '
        "query_stream -> rows of client.query(sql).to_pylist(); params= -> query_parameters=",
        SQL_DOCS,
    ),
    Rule(
        _R + "query-manual",
        "a query call the recipe could not rewrite",
        Action.HUMAN,
        "call client.query(sql, database=...) on the InfluxDBClient3",
        SQL_DOCS,
    ),
    Rule(
        _R + "flux",
        "Flux is not supported by InfluxDB 3",
        Action.HUMAN,
        "translate the query to SQL (the Finding carries a proposed SQL where there is one)",
        FLUX_FUTURE,
    ),
    Rule(
        _R + "query-results",
        "FluxTable/FluxRecord readers -> rows of one Arrow table",
        Action.AUTO,
        "for table in tables: for record in table.records -> for record in tables.to_pylist(); get_value() -> "
        'record[field]; get_time() -> record["time"] made UTC-aware',
        SQL_DOCS,
    ),
    Rule(
        _R + "query-results-manual",
        "result readers the recipe could not rewrite",
        Action.HUMAN,
        "read rows of the pyarrow.Table: time (tz-naive UTC), tags, one column per field",
        SQL_DOCS,
    ),
    Rule(
        _R + "query-frame-shape",
        "query DataFrames have the InfluxDB 3 shape",
        Action.INFO,
        "time (tz-naive UTC), tags, one column per field; no result/table/_start/_stop",
        SQL_DOCS,
    ),
    Rule(
        _R + "no-equivalent",
        "an influxdb-client API with no influxdb3-python equivalent",
        Action.HUMAN,
        "delete/buckets/orgs/users/authorizations/labels/tasks/scripts APIs, health/ready/ping/build, "
        "query_csv/query_raw: see the Finding for what to do instead",
        MIGRATE,
    ),
    Rule(
        _R + "version",
        "client.version() -> client.get_server_version()",
        Action.AUTO,
        "renamed",
        V3_CHANGELOG,
        "0.15.0",
    ),
    Rule(
        _R + "async-client",
        "influxdb3-python has no async client",
        Action.HUMAN,
        "use InfluxDBClient3 with await client.query_async(...) and asyncio.to_thread(client.write, ...)",
        V3_README,
    ),
    Rule(
        _R + "exceptions",
        "ApiException / influxdb_client InfluxDBError -> influxdb_client_3.InfluxDBError",
        Action.AUTO,
        "write errors subclass influxdb_client_3.InfluxDBError; query errors are "
        "InfluxDB3ClientQueryError (catch InfluxDB3ClientError for both)",
        V3_CHANGELOG,
    ),
    Rule(
        _R + "unsupported-args",
        "InfluxDBClient3 has no profilers/auth_basic/username/password",
        Action.HUMAN,
        "remove them; authenticate with a token",
        V3_CHANGELOG,
        "0.20.0",
    ),
    Rule(
        _R + "gzip-threshold",
        "gzip_threshold= crashes every write on influxdb3-python <0.21",
        Action.HUMAN,
        "pin influxdb3-python>=0.21,<0.22 or use enable_gzip=True without a threshold",
        V3_CHANGELOG,
        "0.21.0",
    ),
    Rule(
        _R + "no-sync",
        "WriteOptions(no_sync=True) raises ValueError on 0.20+ unless the v3 write API is used",
        Action.HUMAN,
        "add write_use_v2_api=False (0.20+) or drop no_sync",
        V3_CHANGELOG,
        "0.20.0",
    ),
    Rule(
        _R + "timeout-v3",
        "InfluxDBClient3(timeout=) raises TypeError on 0.17-0.20 and is ignored on 0.21",
        Action.HUMAN,
        "use write_timeout= and query_timeout= (milliseconds)",
        V3_CHANGELOG,
        "0.16.0",
    ),
)

_V2_CLIENT_NAMES = ("InfluxDBClient",)


def _v2(imports: Imports, node: ast.AST, *names: str) -> bool:
    q = imports.qualname(node)
    return bool(q and q.startswith("influxdb_client.") and q.rsplit(".", 1)[1] in names)


def _v3(imports: Imports, node: ast.AST, *names: str) -> bool:
    q = imports.qualname(node)
    return bool(q and q.startswith("influxdb_client_3") and q.rsplit(".", 1)[1] in names)


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
    tokens = (b"influxdb_client",)
    rules = RULES
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
    docs = f"{V3_README} {MIGRATE} {FLUX_FUTURE}"

    # ---- detection -------------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        imports = Imports(src.tree)
        v2 = imports.imports_module("influxdb_client")
        v3 = imports.imports_module("influxdb_client_3")
        if v2:
            yield from self._detect_v2(src, imports)
        if v3:
            yield from self._detect_traps(src, imports)

    def _detect_v2(self, src: SourceFile, imports: Imports) -> Iterable[UsageSite]:
        for node in ast.walk(src.tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and (node.module == "influxdb_client" or node.module.startswith("influxdb_client."))
            ):
                yield self.site(src, node, "import", f"from {node.module} import ...")
            elif isinstance(node, ast.Import) and any(
                a.name == "influxdb_client" or a.name.startswith("influxdb_client.") for a in node.names
            ):
                yield self.site(src, node, "import")
            elif isinstance(node, ast.Call):
                yield from self._detect_call(src, imports, node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "from(" in node.value:
                if "bucket" in node.value and "|>" in node.value:
                    tr, why = flux.try_translate(node.value)
                    if tr is None or not tr.exact:
                        yield self.site(src, node, "flux", f"Flux query not translatable: {why or tr.reason}")  # type: ignore[union-attr]
            elif isinstance(node, ast.Name) and _v2(imports, node, "ApiException"):
                yield self.site(src, node, "exceptions")

    def _detect_call(self, src: SourceFile, imports: Imports, node: ast.Call) -> Iterable[UsageSite]:
        f = node.func
        if _v2(imports, f, "InfluxDBClient"):
            yield self.site(src, node, "client")
            if keyword(node, "timeout") or len(node.args) >= 4:
                yield self.site(src, node, "timeout")
            if keyword(node, "default_tags") or len(node.args) >= 7:
                yield self.site(src, node, "default-tags")
            for name in ("profilers", "auth_basic", "username", "password"):
                if keyword(node, name):
                    yield self.site(
                        src, node, "unsupported-args", f"{name}= has no InfluxDBClient3 equivalent"
                    )
        elif _v2(imports, f, "InfluxDBClientAsync"):
            yield self.site(src, node, "async-client")
        if not isinstance(f, ast.Attribute):
            return
        if f.attr == "from_env_properties" and _v2(imports, f.value, "InfluxDBClient"):
            yield self.site(src, node, "from-env")
            yield self.site(src, node, "env-vars")
        elif f.attr == "from_config_file" and _v2(imports, f.value, "InfluxDBClient"):
            yield self.site(src, node, "from-config-file")
        elif f.attr == "write_api":
            yield self.site(src, node, "write")
        elif f.attr == "query_api":
            yield self.site(src, node, "query")
        elif f.attr in NO_EQUIVALENT and (f.attr.endswith("_api") or not node.args):
            if f.attr.endswith("_api") or f.attr in ("health", "ready", "ping", "build"):
                yield self.site(src, node, "no-equivalent", f"{f.attr}() has no influxdb3-python equivalent")
        elif f.attr in QUERY_NO_EQUIVALENT:
            yield self.site(src, node, "no-equivalent", f"{f.attr}() has no influxdb3-python equivalent")

    def _detect_traps(self, src: SourceFile, imports: Imports) -> Iterable[UsageSite]:
        for node in ast.walk(src.tree):
            if not isinstance(node, ast.Call):
                continue
            if _v3(imports, node.func, "InfluxDBClient3"):
                if keyword(node, "gzip_threshold"):
                    yield self.site(src, node, "gzip-threshold")
                if keyword(node, "timeout"):
                    yield self.site(src, node, "timeout-v3")
                if keyword(node, "default_tags"):
                    yield self.site(src, node, "default-tags")
                host = keyword(node, "host")
                if host and isinstance(host.value, ast.Constant) and isinstance(host.value.value, str):
                    from urllib.parse import urlsplit

                    parts = urlsplit(host.value.value)
                    if parts.scheme not in ("http", "https") or parts.port is None:
                        yield self.site(
                            src, node, "host-port", f"host {host.value.value!r} needs scheme://host:port"
                        )
            elif _v3(imports, node.func, "WriteOptions"):
                no_sync = keyword(node, "no_sync")
                v2_api = keyword(node, "use_v2_api")
                if (
                    no_sync
                    and isinstance(no_sync.value, ast.Constant)
                    and no_sync.value.value is True
                    and not (
                        v2_api and isinstance(v2_api.value, ast.Constant) and v2_api.value.value is False
                    )
                ):
                    yield self.site(src, node, "no-sync")

    # ---- rewriting -----------------------------------------------------------------------------------

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        buckets, bucket_attrs = self._service_buckets(ctx)
        try:
            new, notes = rewrite_module(text, buckets, bucket_attrs)
        except Exception as exc:  # never lose a file to a rewrite bug: report it instead
            return RewriteResult(
                text,
                [
                    Finding(
                        path,
                        0,
                        _R + "client",
                        f"influxdb3 rewrite failed ({exc!r}); migrate this file by hand",
                        Severity.ERROR,
                        V3_README,
                        self.id,
                    )
                ],
            )
        findings = [self.finding(path, n.line, n.rule, n.message) for n in notes]
        if "influxdb_client_3" in text:  # already-migrated code: only the version traps apply
            findings.extend(self._trap_findings(path, new))
        return RewriteResult(new, _dedupe(findings))

    def _trap_findings(self, path: str, text: str) -> list[Finding]:
        if "influxdb_client_3" not in text:
            return []
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return []
        src = SourceFile(path, text, tree, "source")
        return [self.finding(path, s.line, s.rule, s.detail) for s in self._detect_traps(src, Imports(tree))]

    def _service_buckets(self, ctx: RewriteContext) -> tuple[frozenset[str], frozenset[str]]:
        """The service's literal bucket names and attribute-chain bucket expressions, over all its files."""
        literals: set[str] = set()
        attrs: set[str] = set()
        for path, text in ctx.files.items():
            if path.endswith(".py") and "influxdb_client" in text:
                try:
                    tree = ast.parse(text)
                except SyntaxError:
                    continue
                literals |= literal_buckets(tree)
                attrs |= attribute_buckets(tree)
        return frozenset(literals), frozenset(attrs)

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


def _uses_pandas(ctx: RewriteContext) -> bool:
    for path, text in ctx.files.items():
        if not path.endswith(".py"):
            continue
        if "query_data_frame" in text or "data_frame_measurement_name" in text or 'mode="pandas"' in text:
            return True
        if "influxdb_client" in text and ("query_api" in text or "query_stream" in text):
            return True  # query rows are read with to_pylist(); ns timestamps need pandas
        if ("import pandas" in text or "from pandas" in text) and "influxdb_client" in text:
            return True
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
