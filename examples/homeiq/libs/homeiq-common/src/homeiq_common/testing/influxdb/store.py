"""The test double's in-memory storage: databases of measurements of points."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeiq_common.testing.influxdb.lineprotocol import FieldValue, UInt

if TYPE_CHECKING:  # pyarrow is needed only by the query side
    import pyarrow as pa

SeriesKey = tuple[tuple[tuple[str, str], ...], int]  # (sorted tag items, time ns)


class FieldTypeConflict(ValueError):
    """A field written with another type than the one the measurement already has (InfluxDB rejects it)."""


def field_type(value: FieldValue) -> str:
    """The InfluxDB type name of a field value: boolean, uinteger, integer, float or string."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, UInt):
        return "uinteger"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "string"


@dataclass
class InfluxStore:
    """database -> measurement -> points; a point is one series (tag set) at one time.

    As on InfluxDB, writing the same series at the same time again merges the fields into the stored
    point, and a field keeps the type of its first write (another type is a :class:`FieldTypeConflict`).
    """

    _data: dict[str, dict[str, dict[SeriesKey, dict[str, FieldValue]]]] = field(default_factory=dict)
    _types: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, database: str, points: Iterable[dict[str, Any]]) -> int:
        """Store parsed points (``{"measurement", "time", "tags", "fields"}``) all or nothing; return the count."""
        points = list(points)
        with self._lock:
            pending: dict[tuple[str, str, str], str] = {}
            for point in points:
                for name, value in point["fields"].items():
                    key = (database, point["measurement"], name)
                    kind = field_type(value)
                    have = self._types.get(key) or pending.get(key)
                    if have is not None and have != kind:
                        raise FieldTypeConflict(
                            f"field type conflict: input field {name!r} on measurement "
                            f"{point['measurement']!r} is type {kind}, already exists as type {have}"
                        )
                    pending[key] = kind
            self._types.update(pending)
            db = self._data.setdefault(database, {})
            for point in points:
                table = db.setdefault(point["measurement"], {})
                key = (tuple(sorted(point["tags"].items())), int(point["time"]))
                table.setdefault(key, {}).update(point["fields"])
        return len(points)

    def append(
        self,
        database: str,
        measurement: str,
        time_ns: int,
        tags: dict[str, str],
        fields: dict[str, FieldValue],
    ) -> None:
        """Store one point."""
        self.write(database, [{"measurement": measurement, "time": time_ns, "tags": tags, "fields": fields}])

    def rows(self, database: str, measurement: str) -> list[dict[str, Any]]:
        """Copies of the points as ``{"time": int ns, "tags": {...}, "fields": {...}}``, in first-write order."""
        with self._lock:
            stored = list(self._data.get(database, {}).get(measurement, {}).items())
        return [{"time": t, "tags": dict(tags), "fields": dict(fields)} for (tags, t), fields in stored]

    def databases(self) -> list[str]:
        with self._lock:
            return sorted(self._data)

    def measurements(self, database: str) -> list[str]:
        with self._lock:
            return sorted(self._data.get(database, {}))

    def field_types(self, database: str, measurement: str) -> dict[str, str]:
        """Field name -> InfluxDB type name of *measurement*."""
        with self._lock:
            return {f: t for (db, m, f), t in self._types.items() if db == database and m == measurement}

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._types.clear()

    def arrow(self, database: str, measurement: str) -> pa.Table:
        """The measurement as InfluxDB 3 serves it to SQL: tz-naive ``timestamp[ns]`` ``time``, tags as
        strings, one column per field, sorted by time; each column carries ``iox::column::type``."""
        import pyarrow as pa

        arrow_types = {"boolean": pa.bool_(), "uinteger": pa.uint64(), "integer": pa.int64(),
                       "float": pa.float64(), "string": pa.string()}
        rows = sorted(self.rows(database, measurement), key=lambda r: r["time"])
        types = self.field_types(database, measurement)
        tag_keys = sorted({k for r in rows for k in r["tags"]})
        columns: list[pa.Array] = []
        fields: list[pa.Field] = []
        for name in sorted({*tag_keys, *types, "time"}):
            if name == "time":
                array = pa.array([r["time"] for r in rows], pa.timestamp("ns"))
                kind = "iox::column_type::timestamp"
            elif name in types:
                array = pa.array([r["fields"].get(name) for r in rows], arrow_types[types[name]])
                kind = "iox::column_type::field::" + types[name]
            else:
                array = pa.array([r["tags"].get(name) for r in rows], pa.string())
                kind = "iox::column_type::tag"
            columns.append(array)
            fields.append(pa.field(name, array.type, metadata={b"iox::column::type": kind.encode()}))
        return pa.Table.from_arrays(columns, schema=pa.schema(fields))

