"""write_api(write_options=WriteOptions(...), *_callback=) options move to the client

InfluxDBClient3(write_client_options=write_client_options(write_options=..., success_callback=..., ...))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import ApiBinding, Planning

RULE = rule(__name__, __doc__, AUTO, link=V3_README, order=11)
WRITE_OPTION_KWARGS = ("write_options", "success_callback", "error_callback", "retry_callback")


def options_ok(p: Planning, call: cst.Call, b: ApiBinding | None) -> bool:
    """Plan moving write_api(...) options to the client; False (with a Finding) when not possible."""
    from fleetshift.recipes.influxdb.rules import default_tags, write_api_batching, write_async

    kwargs = {a.keyword.value: a for a in call.args if a.keyword is not None}
    if any(a.keyword is None for a in call.args) or set(kwargs) - {*WRITE_OPTION_KWARGS, "point_settings"}:
        p.note(
            "write-options-manual",
            call,
            "write_api() with positional or unknown arguments: move them to "
            "`InfluxDBClient3(write_client_options=write_client_options(...))` by hand",
        )
        return False
    if "point_settings" in kwargs:
        default_tags.note_point_settings(p, call)
        return False
    wo = kwargs.get("write_options")
    if wo is None:
        write_api_batching.note(p, call)
        if set(kwargs) - {"write_options"}:
            return move_options(p, call, b)
        return True
    if p.is_v2(wo.value, "SYNCHRONOUS") and len(kwargs) == 1:
        return True
    if p.is_v2(wo.value, "ASYNCHRONOUS"):
        write_async.note(p, call)
    return move_options(p, call, b)


def move_options(p: Planning, call: cst.Call, b: ApiBinding | None) -> bool:
    """Record the write_api(...) call whose options the client constructor takes (see `client_argument`)."""
    from fleetshift.recipes.influxdb.edits import code_of

    client = call.func.value  # type: ignore[attr-defined]
    ctor = p.ctor_for(client)
    if ctor is None:
        p.note(
            "write-options-manual",
            call,
            "write_api(...) options must move to the client constructor: "
            "`InfluxDBClient3(..., write_client_options=write_client_options(write_options=..., "
            "success_callback=..., error_callback=..., retry_callback=...))` -- the constructor is not "
            "in this file",
        )
        return False
    entries = p.plan.client_options.setdefault(id(ctor), [])
    if entries and code_of(entries[0][1]) != code_of(call):
        p.note(
            "write-options-manual",
            call,
            "several write_api()s with different options on one client: use one "
            "InfluxDBClient3 per write configuration",
        )
        return False
    entries.append((b, call))
    return True


def client_argument(p: Planning, ctor: cst.Call) -> cst.BaseExpression | None:
    """`write_client_options(...)` for a constructor whose client's write_api(...) options moved, or None."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import relayout

    entries = p.plan.client_options.get(id(ctor))
    if not entries:
        return None
    wargs = [(a.keyword.value, a.value) for a in entries[0][1].args if a.keyword is not None]
    return cst.Call(func=cst.Name("write_client_options"), args=relayout([], wargs))
