"""influxdb3-python needs host as scheme://host:port

a missing port means 443 even for http:// and a URL path is dropped; make the configured URL explicit
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fleetshift.recipes._ast import keyword
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.hosts import host_shape, normalise_host, url_shape
from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=3)
NODES = (ast.Call,)  # the node types its check looks at


PORT_UNSEEN = (
    "host={code} must be `scheme://host:port`: influxdb3-python uses port 443 when the port is missing (even for "
    "http://) and drops any path; check the configured value (InfluxDB 3 Core listens on 8181 by default)"
)


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if not isinstance(node, ast.Call):
        return
    if facts.v3_call(node, "InfluxDBClient3"):
        host = keyword(node, "host")
        if host is not None and host_shape(host.value) == "bad":
            yield f"host {ast.unparse(host.value)} needs scheme://host:port"
    if facts.v2_call(node, "InfluxDBClient"):
        url = keyword(node, "url")
        first = node.args[0] if node.args and not isinstance(node.args[0], ast.Starred) else None
        value = url.value if url is not None else first
        if value is not None:
            yield from url_warnings(value, facts)


def url_warnings(value: ast.expr, facts: Facts) -> Iterator[str]:
    """What the constructor rewrite says about a v2 `url=` (the decisions of `host_value`, on ast)."""
    from fleetshift.recipes.influxdb.hosts import ast_text

    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        host, warn = normalise_host(value.value)
        if warn or host is None:
            yield warn or "unusable URL"
        return
    text = ast_text(value)
    shape, warn = url_shape(text) if text is not None else ("unknown", "")
    if warn:
        yield warn
    if shape == "ok":
        return
    resolved = module_string(value, facts)
    if resolved is None or urlsplit(resolved).port is None:
        yield PORT_UNSEEN.format(code=ast.unparse(value))


def module_string(value: ast.expr, facts: Facts) -> str | None:
    """The string a module-level name is assigned once (through `os.getenv(NAME, default)`: the default)."""
    if not isinstance(value, ast.Name):
        return None
    found = [
        n.value
        for n in facts.tree.body
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in n.targets)
    ]
    if len(found) != 1:
        return None
    scope = facts.receivers.scope_of.get(id(value))  # (asked only now: the module's receivers cost a walk)
    if scope is not None and value.id in facts.receivers.bound.get(id(scope), set()):
        return None  # a local name
    v = found[0]
    if (
        isinstance(v, ast.Call)
        and len(v.args) == 2
        and ast.unparse(v.func) in ("os.getenv", "os.environ.get")
    ):
        v = v.args[1]
    return v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else None


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
            p.note("host-port", call, PORT_UNSEEN.format(code=code_of(value)))
        return value
    host, warn = normalise_host(literal)
    if warn or host is None:
        p.note("host-port", call, warn or "unusable URL")
    if host is None or host == literal:
        return value
    quote = value.value[len(value.value) - len(value.value.lstrip("rRuUbB")) :][0]  # type: ignore[attr-defined]
    return cst.SimpleString(quote + host + quote)
