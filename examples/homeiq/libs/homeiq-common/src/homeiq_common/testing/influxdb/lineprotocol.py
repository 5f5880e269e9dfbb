"""InfluxDB line protocol, parsed the way the server does for the parts the HomeIQ services write."""

from __future__ import annotations

import time
from typing import Any

#: Nanoseconds per unit, for the v2 short and the v3 long precision names.
PRECISION_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "nanosecond": 1,
    "microsecond": 1_000,
    "millisecond": 1_000_000,
    "second": 1_000_000_000,
}


class UInt(int):
    """An unsigned-integer field value (line protocol ``123u``); compares equal to the plain int."""


FieldValue = float | int | str | bool


class LineProtocolError(ValueError):
    """Raised for a line that is not valid line protocol."""


def _scan(text: str, pos: int, stops: str) -> tuple[str, int]:
    """Read an escaped token from *pos* up to an unescaped character in *stops*."""
    out: list[str] = []
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text) and text[pos + 1] in stops + "\\=":
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch in stops:
            break
        out.append(ch)
        pos += 1
    return "".join(out), pos


def _field_value(raw: str, line: str) -> FieldValue:
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    try:
        if raw.endswith("i"):
            return int(raw[:-1])
        if raw.endswith("u"):
            value = int(raw[:-1])
            if value < 0:
                raise ValueError(raw)
            return UInt(value)
        return float(raw)
    except ValueError:
        raise LineProtocolError(f"invalid field value {raw!r} in line {line!r}") from None


def parse_line(line: str, precision: str = "ns", default_time_ns: int | None = None) -> dict[str, Any]:
    """Parse one line into ``{"measurement", "time", "tags", "fields"}`` (time in ns since the epoch)."""
    measurement, pos = _scan(line, 0, ", ")
    if not measurement:
        raise LineProtocolError(f"missing measurement in line {line!r}")
    tags: dict[str, str] = {}
    while pos < len(line) and line[pos] == ",":
        key, pos = _scan(line, pos + 1, "=")
        if pos >= len(line) or line[pos] != "=":
            raise LineProtocolError(f"tag without value in line {line!r}")
        value, pos = _scan(line, pos + 1, ", ")
        if not key or not value:
            raise LineProtocolError(f"empty tag key or value in line {line!r}")
        tags[key] = value
    if pos >= len(line) or line[pos] != " ":
        raise LineProtocolError(f"missing fields in line {line!r}")
    pos += 1
    fields: dict[str, FieldValue] = {}
    while True:
        key, pos = _scan(line, pos, "=")
        if pos >= len(line) or not key:
            raise LineProtocolError(f"invalid field in line {line!r}")
        pos += 1
        if pos < len(line) and line[pos] == '"':
            pos += 1
            chars: list[str] = []
            while pos < len(line) and line[pos] != '"':
                if line[pos] == "\\" and pos + 1 < len(line) and line[pos + 1] in '"\\':
                    pos += 1
                chars.append(line[pos])
                pos += 1
            if pos >= len(line):
                raise LineProtocolError(f"unterminated string field in line {line!r}")
            pos += 1
            fields[key] = "".join(chars)
        else:
            raw, pos = _scan(line, pos, ", ")
            fields[key] = _field_value(raw, line)
        if pos < len(line) and line[pos] == ",":
            pos += 1
            continue
        break
    rest = line[pos:].strip()
    if rest:
        try:
            timestamp = int(rest)
        except ValueError:
            raise LineProtocolError(f"invalid timestamp {rest!r} in line {line!r}") from None
        time_ns = timestamp * PRECISION_NS[precision]
    else:
        time_ns = default_time_ns if default_time_ns is not None else time.time_ns()
    return {"measurement": measurement, "time": time_ns, "tags": tags, "fields": fields}


def parse_line_protocol(text: str, precision: str = "ns", now_ns: int | None = None) -> list[dict[str, Any]]:
    """Parse a body of lines joined by ``\\n`` (``#`` comments and blank lines skipped).

    Lines without a timestamp get *now_ns* (default: the time of the call), as the server gives them
    the time the write arrived.
    """
    if precision not in PRECISION_NS:
        raise LineProtocolError(f"invalid precision {precision!r}")
    now = time.time_ns() if now_ns is None else now_ns
    points = []
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        points.append(parse_line(line, precision, default_time_ns=now))
    return points
