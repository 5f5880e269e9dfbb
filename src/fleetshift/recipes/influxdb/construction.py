"""Planning the client construction rewrite: `InfluxDBClient(url=, token=, ...)` -> `InfluxDBClient3(host=,
token=, database=, ...)`, `from_env_properties()` -> `from_env()`, and the arguments with no v3 equivalent."""

from __future__ import annotations

from urllib.parse import urlsplit

import libcst as cst

from fleetshift.recipes.influxdb.database import DatabasePlanner
from fleetshift.recipes.influxdb.edits import code_of, relayout, string_value
from fleetshift.recipes.influxdb.hosts import normalise_host, url_shape
from fleetshift.recipes.influxdb.names import V3
from fleetshift.recipes.influxdb.strings import template_of


class ConstructionPlanner(DatabasePlanner):
    """Client constructors and factories."""

    def plan_ctors(self) -> None:
        for call in self.facts.analysis.calls:
            if id(call) in self.locked_ctor:
                continue
            if self.is_v2(call.func, "InfluxDBClient"):
                self.plan_ctor(call)
            elif (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "from_env_properties"
                and self.is_v2(call.func.value, "InfluxDBClient")
            ):
                self.set(call.func.attr, lambda n: n.with_changes(value="from_env"))
                self.set(call.func.value, rename_client)
                self.note(
                    "env-vars",
                    call,
                    "from_env() reads other variables: rename INFLUXDB_V2_URL -> INFLUX_HOST (scheme://host:port), "
                    "INFLUXDB_V2_TOKEN -> INFLUX_TOKEN, INFLUXDB_V2_ORG -> INFLUX_ORG, INFLUXDB_V2_TIMEOUT -> "
                    "INFLUX_WRITE_TIMEOUT and INFLUX_QUERY_TIMEOUT, and add INFLUX_DATABASE (the bucket) in every "
                    "deployment file (.env, compose, k8s); INFLUX_HOST, INFLUX_TOKEN and INFLUX_DATABASE are required "
                    "(no defaults); TLS/pool/tag variables have no equivalent: pass them as from_env(**kwargs)",
                )

    def plan_ctor(self, call: cst.Call) -> None:
        positional = ["url", "token", "debug", "timeout", "enable_gzip", "org", "default_tags"]
        items: list[tuple[str | None, cst.BaseExpression]] = []
        for i, a in enumerate(call.args):
            if a.star:
                items.append(("**" if a.star == "**" else "*", a.value))
                continue
            if a.keyword is None:
                if i >= len(positional):
                    return
                items.append((positional[i], a.value))
            else:
                items.append((a.keyword.value, a.value))
        names = [n for n, _ in items]
        new: list[tuple[str | None, cst.BaseExpression]] = []
        for name, value in items:
            if name == "url":
                new.append(("host", self.host_value(value, call)))
            elif name == "timeout":
                new.append(("write_timeout", value))
                new.append(("query_timeout", value))
            elif name in ("*", "**"):
                new.append((name, value))
            else:
                if name in ("profilers", "auth_basic", "username", "password"):
                    self.note(
                        "unsupported-args",
                        call,
                        f"InfluxDBClient3 has no {name}= (profilers are Flux-only; "
                        "basic auth was removed in 0.20): remove it and use a token",
                    )
                if name == "default_tags":
                    self.note(
                        "default-tags",
                        call,
                        "default_tags= works on influxdb3-python 0.17-0.20 but is silently "
                        "ignored by 0.21; pin >=0.21,<0.22 and pass point_settings=PointSettings(**tags), or add "
                        "the tags to each record",
                    )
                if name == "gzip_threshold":
                    self.note(
                        "gzip-threshold",
                        call,
                        "gzip_threshold= crashes every write on influxdb3-python <0.21",
                    )
                new.append((name, value))
        if "database" not in names:
            db = self.database_for(call)
            at = names.index("token") + 1 if "token" in names else (1 if "url" in names else 0)
            at = sum(2 if n == "timeout" else 1 for n in names[:at])
            if db is not None:
                new.insert(at, ("database", db))
        opts = self.write_client_opts.get(id(call))
        if opts:
            wcall = opts[0][1]
            wargs = [(a.keyword.value, a.value) for a in wcall.args if a.keyword is not None]
            new.append(
                (
                    "write_client_options",
                    cst.Call(func=cst.Name("write_client_options"), args=relayout([], wargs)),
                )
            )
        original = list(call.args)

        def fix(n: cst.CSTNode) -> cst.CSTNode:
            args = []
            for name, value in new:
                if name in ("*", "**"):
                    args.append((None, value))
                else:
                    args.append((name, value))
            built = relayout(original, args)
            for i, (name, _value) in enumerate(new):
                if name in ("*", "**"):
                    built[i] = built[i].with_changes(star=name)
            return n.with_changes(func=rename_client(n.func), args=built)  # type: ignore[attr-defined]

        self.set(call, fix)

    def host_value(self, value: cst.BaseExpression, call: cst.Call) -> cst.BaseExpression:
        literal = string_value(value)
        if literal is None:
            template = template_of(value)
            shape, warn = url_shape(template.text) if template is not None else ("unknown", "")
            if warn:
                self.note("host-port", call, warn)
            if shape == "ok":  # f"http://127.0.0.1:{port}": scheme and port are in the text
                return value
            resolved = self.resolve_literal(value)
            if resolved is None or urlsplit(resolved).port is None:
                self.note(
                    "host-port",
                    call,
                    f"host={code_of(value)} must be `scheme://host:port`: influxdb3-python uses "
                    "port 443 when the port is missing (even for http://) and drops any path; check the "
                    "configured value (InfluxDB 3 Core listens on 8181 by default)",
                )
            return value
        host, warn = normalise_host(literal)
        if warn or host is None:
            self.note("host-port", call, warn or "unusable URL")
        if host is None or host == literal:
            return value
        quote = value.value[len(value.value) - len(value.value.lstrip("rRuUbB")) :][0]  # type: ignore[attr-defined]
        return cst.SimpleString(quote + host + quote)


def rename_client(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.Name) and node.value == "InfluxDBClient":
        return node.with_changes(value="InfluxDBClient3")
    if isinstance(node, cst.Attribute) and node.attr.value == "InfluxDBClient":
        return cst.Attribute(value=cst.Name(V3), attr=cst.Name("InfluxDBClient3"))
    return node
