"""influxdb3-python needs host as scheme://host:port

a missing port means 443 even for http:// and a URL path is dropped; make the configured URL explicit
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.influxdb.facts import Facts, named
from fleetshift.recipes.influxdb.hosts import host_shape, normalise_host, url_shape
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=3)


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if (
        facts.v3
        and isinstance(node, ast.Call)
        and named(facts.imports, node.func, "influxdb_client_3", "InfluxDBClient3")
    ):
        host = keyword(node, "host")
        if host is not None and host_shape(host.value) == "bad":
            yield f"host {ast.unparse(host.value)} needs scheme://host:port"


def host_value(p: Planning, value: cst.BaseExpression, call: cst.Call) -> cst.BaseExpression:
    """The `host=` of the rewritten constructor for its v2 `url=`: a literal URL made `scheme://host:port`,
    anything else kept (with a Finding when the port cannot be seen)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of, string_value
    from fleetshift.recipes.influxdb.strings import template_of

    literal = string_value(value)
    if literal is None:
        template = template_of(value)
        shape, warn = url_shape(template.text) if template is not None else ("unknown", "")
        if warn:
            p.note("host-port", call, warn)
        if shape == "ok":  # f"http://127.0.0.1:{port}": scheme and port are in the text
            return value
        resolved = p.resolve_literal(value)
        if resolved is None or urlsplit(resolved).port is None:
            p.note(
                "host-port",
                call,
                f"host={code_of(value)} must be `scheme://host:port`: influxdb3-python uses "
                "port 443 when the port is missing (even for http://) and drops any path; check the "
                "configured value (InfluxDB 3 Core listens on 8181 by default)",
            )
        return value
    host, warn = normalise_host(literal)
    if warn or host is None:
        p.note("host-port", call, warn or "unusable URL")
    if host is None or host == literal:
        return value
    quote = value.value[len(value.value) - len(value.value.lstrip("rRuUbB")) :][0]  # type: ignore[attr-defined]
    return cst.SimpleString(quote + host + quote)
