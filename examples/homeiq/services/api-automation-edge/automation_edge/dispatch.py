"""Command dispatch with acknowledgement and retries."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass

from asyncio_mqtt import Client
from asyncio_mqtt.error import MqttCodeError
from homeiq_common.topics import entity_topic
from tenacity import RetryError, retry, retry_if_result, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

ALLOWED = {"turn_on", "turn_off", "toggle", "set_value"}


class InvalidCommand(ValueError):
    pass


@dataclass(frozen=True)
class Command:
    area: str
    entity: str
    action: str
    value: float | None = None

    def validate(self) -> "Command":
        if self.action not in ALLOWED:
            raise InvalidCommand(f"unknown action {self.action!r}")
        if (self.action == "set_value") != (self.value is not None):
            raise InvalidCommand("set_value needs a value, other actions must not have one")
        return self


class Dispatcher:
    def __init__(self, client: Client, ack_timeout: float = 2.0) -> None:
        self.client = client
        self.ack_timeout = ack_timeout

    @retry(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.01, max=0.05),
        retry=retry_if_result(lambda ack: ack is None),
    )
    async def _send_once(self, command: Command, command_id: str) -> dict | None:
        ack_topic = entity_topic("ack", command.area, command.entity)
        async with self.client.filtered_messages(ack_topic) as acks:
            await self.client.subscribe(ack_topic, qos=1)
            payload = {"id": command_id, "action": command.action, "value": command.value}
            await self.client.publish(entity_topic("cmd", command.area, command.entity), json.dumps(payload), qos=1)
            try:
                async with asyncio.timeout(self.ack_timeout):
                    async for message in acks:
                        ack = json.loads(message.payload)
                        if ack.get("id") == command_id:
                            return ack
            except TimeoutError:
                log.warning("no ack for %s on %s", command_id, ack_topic)
            finally:
                try:
                    await self.client.unsubscribe(ack_topic)
                except MqttCodeError:
                    log.debug("unsubscribe from %s failed", ack_topic)
        return None

    async def dispatch(self, command: Command) -> dict:
        """Send *command*; return the device's ack or ``{"status": "unacknowledged"}``."""
        command.validate()
        try:
            return await self._send_once(command, uuid.uuid4().hex)
        except RetryError:
            return {"status": "unacknowledged", "attempts": 3}
