"""Deterministic sensor models: a daily temperature curve and appliance power profiles."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from homeiq_common.topics import entity_topic


@dataclass(frozen=True)
class SimulatedSensor:
    area: str
    entity: str
    kind: str  # "sensors" or "power"
    base: float
    amplitude: float
    unit: str

    @property
    def topic(self) -> str:
        return entity_topic(self.kind, self.area, self.entity)

    def value_at(self, minute_of_day: int, rng: random.Random) -> float:
        phase = 2 * math.pi * (minute_of_day - 6 * 60) / (24 * 60)
        noise = rng.uniform(-0.05, 0.05) * self.amplitude
        return round(self.base + self.amplitude * math.sin(phase) + noise, 2)


DEFAULT_SENSORS = (
    SimulatedSensor("kitchen", "temperature", "sensors", 21.0, 2.0, "°C"),
    SimulatedSensor("bedroom", "humidity", "sensors", 45.0, 8.0, "%"),
    SimulatedSensor("kitchen", "fridge", "power", 90.0, 30.0, "W"),
    SimulatedSensor("office", "desk", "power", 120.0, 100.0, "W"),
)
