"""Home Assistant state_changed events and their line-protocol form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone


def _escape_tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


@dataclass(frozen=True)
class StateEvent:
    """One state change of one Home Assistant entity."""

    domain: str
    object_id: str
    state: str
    unit: str | None
    changed_ns: int

    @property
    def entity_id(self) -> str:
        return f"{self.domain}.{self.object_id}"

    @property
    def numeric_state(self) -> float | None:
        try:
            return float(self.state)
        except ValueError:
            return None


def parse_event(domain: str, object_id: str, payload: bytes | str) -> StateEvent:
    """Parse the JSON payload published on ``homeiq/events/<domain>/<object_id>``."""
    data = json.loads(payload)
    if "state" not in data:
        raise ValueError("event without state")
    changed = data.get("last_changed")
    if changed:
        stamp = datetime.fromisoformat(changed.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        changed_ns = int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000
    else:
        changed_ns = int(datetime.now(tz=timezone.utc).timestamp() * 10**9)
    unit = (data.get("attributes") or {}).get("unit_of_measurement")
    return StateEvent(domain, object_id, str(data["state"]), unit, changed_ns)


def to_line_protocol(event: StateEvent, measurement: str = "ha_state") -> str:
    """Render *event* as one line of InfluxDB line protocol."""
    tags = f"domain={_escape_tag(event.domain)},entity_id={_escape_tag(event.entity_id)}"
    if event.unit:
        tags += f",unit={_escape_tag(event.unit)}"
    state = event.state.replace("\\", "\\\\").replace('"', '\\"')
    fields = f'state="{state}"'
    if event.numeric_state is not None:
        fields = f"value={event.numeric_state!r},{fields}"
    return f"{measurement},{tags} {fields} {event.changed_ns}"
