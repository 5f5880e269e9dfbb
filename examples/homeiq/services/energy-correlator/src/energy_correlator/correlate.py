"""Pure correlation logic: which device event explains which jump in power draw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Correlation:
    device: str
    meter: str
    state: str
    delta_watts: float
    lag_ms: int


@dataclass
class Correlator:
    """Pairs a device event with the next power change above *threshold_watts* within *window_ms*."""

    threshold_watts: float = 20.0
    window_ms: int = 5_000
    _last_watts: dict[str, float] = field(default_factory=dict)
    _pending: list[tuple[str, str, int]] = field(default_factory=list)

    def device_event(self, device: str, state: str, at_ms: int) -> None:
        self._pending.append((device, state, at_ms))

    def power_reading(self, meter: str, watts: float, at_ms: int) -> Correlation | None:
        previous = self._last_watts.get(meter)
        self._last_watts[meter] = watts
        self._pending = [p for p in self._pending if at_ms - p[2] <= self.window_ms]
        if previous is None or abs(watts - previous) < self.threshold_watts or not self._pending:
            return None
        device, state, event_ms = self._pending.pop(0)
        return Correlation(device, meter, state, round(watts - previous, 3), at_ms - event_ms)
