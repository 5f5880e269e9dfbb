"""A minimal reader for the VEVENT blocks of an iCalendar feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True)
class CalendarEvent:
    summary: str
    start: datetime
    end: datetime
    location: str | None


def _parse_time(value: str) -> datetime:
    if value.endswith("Z"):
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    if "T" in value:
        return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
    return datetime.strptime(value, "%Y%m%d").replace(tzinfo=timezone.utc)


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith((" ", "\t")) and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def parse_events(text: str) -> list[CalendarEvent]:
    events, current = [], None
    for line in _unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            if "DTSTART" in current:
                start = _parse_time(current["DTSTART"])
                end = _parse_time(current.get("DTEND", current["DTSTART"]))
                events.append(CalendarEvent(current.get("SUMMARY", ""), start, end, current.get("LOCATION")))
            current = None
        elif current is not None and ":" in line:
            name, value = line.split(":", 1)
            current[name.split(";", 1)[0]] = value
    return sorted(events, key=lambda e: e.start)


def away_windows(events: list[CalendarEvent], home_location: str = "home") -> list[tuple[datetime, datetime]]:
    """Time windows in which an event takes place somewhere other than home."""
    return [
        (e.start, e.end)
        for e in events
        if e.location and e.location.strip().lower() != home_location.lower()
    ]
