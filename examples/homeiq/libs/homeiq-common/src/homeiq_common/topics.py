"""Building, parsing and matching the MQTT topics used across HomeIQ.

Topic layout::

    homeiq/<kind>/<area>/<entity>          e.g. homeiq/sensors/kitchen/temperature
    homeiq/status/<service>                retained online/offline status (last will)
    homeassistant/<component>/<node>/config  Home Assistant MQTT discovery
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "homeiq"


@dataclass(frozen=True)
class EntityTopic:
    """A parsed ``homeiq/<kind>/<area>/<entity>`` topic."""

    kind: str
    area: str
    entity: str

    @property
    def entity_id(self) -> str:
        return f"{self.area}.{self.entity}"

    def __str__(self) -> str:
        return entity_topic(self.kind, self.area, self.entity)


def _check_level(name: str, value: str) -> str:
    if not value or any(ch in value for ch in "/+#"):
        raise ValueError(f"invalid topic level for {name}: {value!r}")
    return value


def entity_topic(kind: str, area: str, entity: str) -> str:
    """Return ``homeiq/<kind>/<area>/<entity>``."""
    return "/".join(
        (ROOT, _check_level("kind", kind), _check_level("area", area), _check_level("entity", entity))
    )


def status_topic(service: str) -> str:
    """Return the retained status topic of *service* (used as its last will)."""
    return f"{ROOT}/status/{_check_level('service', service)}"


def subscription(kind: str, area: str = "+", entity: str = "+") -> str:
    """Return a subscription filter, e.g. ``homeiq/sensors/+/+``."""
    return f"{ROOT}/{kind}/{area}/{entity}"


def parse_entity_topic(topic: str) -> EntityTopic:
    """Parse ``homeiq/<kind>/<area>/<entity>``; raise ValueError for anything else."""
    parts = str(topic).split("/")
    if len(parts) != 4 or parts[0] != ROOT or not all(parts):
        raise ValueError(f"not a HomeIQ entity topic: {topic!r}")
    return EntityTopic(kind=parts[1], area=parts[2], entity=parts[3])


def matches(topic_filter: str, topic: str) -> bool:
    """Return True when *topic* matches the MQTT subscription *topic_filter*."""
    filter_levels = topic_filter.split("/")
    topic_levels = str(topic).split("/")
    if topic_levels[0].startswith("$") and filter_levels[0] in ("+", "#"):
        return False
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)
