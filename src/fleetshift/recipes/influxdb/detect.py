"""Detection (the `check` linter): old-API sites of influxdb-client code, and the sites of migrated
influxdb3-python code that still need a human (APIs with no equivalent, env-var renames, version traps).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from fleetshift.model import UsageSite
from fleetshift.recipes._ast import Imports, keyword
from fleetshift.recipes.base import SourceFile
from fleetshift.recipes.influxdb import flux
from fleetshift.recipes.influxdb.errors import query_guards
from fleetshift.recipes.influxdb.hosts import host_shape
from fleetshift.recipes.influxdb.names import CLIENT_NO_EQUIVALENT, QUERY_NO_EQUIVALENT, is_v2_module
from fleetshift.recipes.influxdb.receivers import Receivers

Site = Callable[[SourceFile, ast.AST, str, str], UsageSite]
V2_ENV_PREFIX = "INFLUXDB_V2_"


def _named(imports: Imports, node: ast.AST, module: str, *names: str) -> bool:
    q = imports.qualname(node)
    return bool(q and q.split(".", 1)[0] == module and q.rsplit(".", 1)[1] in names)


def detect(site: Site, src: SourceFile) -> Iterator[UsageSite]:
    """Every AUTO/HUMAN/INFO site of one module."""
    imports = Imports(src.tree)
    receivers = Receivers(src.tree, imports)
    if imports.imports_module("influxdb_client"):
        yield from _detect_v2(site, src, imports, receivers)
    if imports.imports_module("influxdb_client_3"):
        yield from _detect_v3(site, src, imports, receivers)


def detect_migrated(site: Site, src: SourceFile) -> Iterator[UsageSite]:
    """The sites of influxdb3-python code that still need a human."""
    imports = Imports(src.tree)
    if imports.imports_module("influxdb_client_3"):
        yield from _detect_v3(site, src, imports, Receivers(src.tree, imports))


def _no_equivalent(site: Site, src: SourceFile, receivers: Receivers, node: ast.Call) -> Iterator[UsageSite]:
    name = receivers.no_equivalent(node)
    if name is not None:
        table = CLIENT_NO_EQUIVALENT if name in CLIENT_NO_EQUIVALENT else QUERY_NO_EQUIVALENT
        yield site(src, node, "no-equivalent", f"{name}(): {table[name]}")


def _detect_v2(site: Site, src: SourceFile, imports: Imports, receivers: Receivers) -> Iterator[UsageSite]:
    guards = query_guards(src.tree, imports)
    for node in ast.walk(src.tree):
        if isinstance(node, ast.ImportFrom) and node.module and is_v2_module(node.module):
            if not (guards and all(a.name == "ApiException" for a in node.names)):
                yield site(src, node, "import", f"from {node.module} import ...")
        elif isinstance(node, ast.Import) and any(is_v2_module(a.name) for a in node.names):
            yield site(src, node, "import", "")
        elif isinstance(node, ast.Call):
            yield from _detect_v2_call(site, src, imports, receivers, node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "from(" in node.value:
            if "bucket" in node.value and "|>" in node.value:
                tr, why = flux.try_translate(node.value)
                if tr is None or not tr.exact:
                    reason = why or (tr.reason if tr is not None else "")
                    yield site(src, node, "flux", f"Flux query not translatable: {reason}")
        elif isinstance(node, ast.Name) and _named(imports, node, "influxdb_client", "ApiException"):
            if node.lineno in guards:
                yield site(src, node, "query-exceptions", f"except ApiException: {guards[node.lineno]}")
            else:
                yield site(src, node, "exceptions", "")


def _detect_v2_call(
    site: Site, src: SourceFile, imports: Imports, receivers: Receivers, node: ast.Call
) -> Iterator[UsageSite]:
    f = node.func
    if _named(imports, f, "influxdb_client", "InfluxDBClient"):
        yield site(src, node, "client", "")
        if keyword(node, "timeout") or len(node.args) >= 4:
            yield site(src, node, "timeout", "")
        if keyword(node, "default_tags") or len(node.args) >= 7:
            yield site(src, node, "default-tags", "")
        for name in ("profilers", "auth_basic", "username", "password"):
            if keyword(node, name):
                yield site(src, node, "unsupported-args", f"{name}= has no InfluxDBClient3 equivalent")
    elif _named(imports, f, "influxdb_client", "InfluxDBClientAsync"):
        yield site(src, node, "async-client", "")
    if not isinstance(f, ast.Attribute):
        return
    if f.attr == "from_env_properties" and _named(imports, f.value, "influxdb_client", "InfluxDBClient"):
        yield site(src, node, "from-env", "")
        yield site(src, node, "env-vars", "")
    elif f.attr == "from_config_file" and _named(imports, f.value, "influxdb_client", "InfluxDBClient"):
        yield site(src, node, "from-config-file", "")
    elif f.attr == "write_api":
        yield site(src, node, "write", "")
    elif f.attr == "query_api":
        yield site(src, node, "query", "")
    else:
        yield from _no_equivalent(site, src, receivers, node)


def _detect_v3(site: Site, src: SourceFile, imports: Imports, receivers: Receivers) -> Iterator[UsageSite]:
    """Migrated code: what stays true on influxdb3-python. Correct v3 code yields nothing."""
    v2_env = V2_ENV_PREFIX in src.text
    for node in ast.walk(src.tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if _named(imports, f, "influxdb_client_3", "InfluxDBClient3"):
            yield from _client_traps(site, src, node)
        elif _named(imports, f, "influxdb_client_3", "WriteOptions"):
            no_sync = keyword(node, "no_sync")
            v2_api = keyword(node, "use_v2_api")
            if _is_const(no_sync, True) and not _is_const(v2_api, False):
                yield site(src, node, "no-sync", "")
        if not isinstance(f, ast.Attribute):
            continue
        if (
            f.attr == "from_env"
            and v2_env
            and _named(imports, f.value, "influxdb_client_3", "InfluxDBClient3")
        ):
            yield site(
                src,
                node,
                "env-vars",
                f"from_env() reads INFLUX_HOST/INFLUX_TOKEN/INFLUX_DATABASE; the module still names {V2_ENV_PREFIX}*",
            )
        elif f.attr in ("write_api", "query_api") and receivers.kind(f.value) == "client":
            rule = "write-manual" if f.attr == "write_api" else "query-manual"
            yield site(src, node, rule, f"InfluxDBClient3 has no {f.attr}()")
        else:
            yield from _no_equivalent(site, src, receivers, node)


def _is_const(kw: ast.keyword | None, value: object) -> bool:
    return kw is not None and isinstance(kw.value, ast.Constant) and kw.value.value is value


def _client_traps(site: Site, src: SourceFile, node: ast.Call) -> Iterator[UsageSite]:
    if keyword(node, "gzip_threshold"):
        yield site(src, node, "gzip-threshold", "")
    if keyword(node, "timeout"):
        yield site(src, node, "timeout-v3", "")
    if keyword(node, "default_tags"):
        yield site(src, node, "default-tags", "")
    host = keyword(node, "host")
    if host is not None and host_shape(host.value) == "bad":
        yield site(src, node, "host-port", f"host {ast.unparse(host.value)} needs scheme://host:port")
