"""Publishing simulated readings over MQTT."""

from __future__ import annotations

import logging
import random

from asyncio_mqtt import Client, MqttError
from tenacity import before_sleep_log, retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from ha_simulator.sensors import DEFAULT_SENSORS, SimulatedSensor

log = logging.getLogger(__name__)


class Simulator:
    """Connects once, publishes ticks of readings, disconnects."""

    def __init__(self, host: str, port: int, sensors: tuple[SimulatedSensor, ...] = DEFAULT_SENSORS,
                 seed: int = 7, client_id: str = "ha-simulator") -> None:
        self.client = Client(host, port, client_id=client_id, keepalive=15)
        self.sensors = sensors
        self.rng = random.Random(seed)
        self.published = 0

    async def start(self) -> None:
        await self.client.connect()

    async def stop(self) -> None:
        await self.client.disconnect()

    @retry(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.01, max=0.05),
        retry=retry_if_exception_type(MqttError),
        before_sleep=before_sleep_log(log, logging.WARNING),
    )
    async def publish_reading(self, sensor: SimulatedSensor, value: float) -> None:
        await self.client.publish(sensor.topic, f"{value}", qos=1, timeout=None)
        self.published += 1

    async def tick(self, minute_of_day: int) -> dict[str, float]:
        """Publish one reading per sensor for *minute_of_day*; return what was sent."""
        sent = {}
        for sensor in self.sensors:
            value = sensor.value_at(minute_of_day, self.rng)
            await self.publish_reading(sensor, value)
            sent[sensor.topic] = value
        return sent
