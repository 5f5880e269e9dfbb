import asyncio
import gc
import json

import pytest
from asyncio_mqtt import MqttError
from homeiq_common.testing import free_port

from websocket_ingestion.service import IngestionService


async def test_events_end_up_in_influxdb(settings, influx_client, influxdb, publisher):
    service = IngestionService(settings, influx_client)
    ready = asyncio.Event()
    task = asyncio.create_task(service.run(max_events=2, ready=ready))
    await asyncio.wait_for(ready.wait(), 5)

    await publisher.publish("homeiq/events/sensor/kitchen_power", json.dumps({"state": "1200"}), qos=1)
    await publisher.publish("homeiq/events/not-an-event", b"{}", qos=1)  # outside the filter
    await publisher.publish("homeiq/events/sensor/broken", b"not json", qos=1)
    await publisher.publish("homeiq/events/light/hall", json.dumps({"state": "on"}), qos=1)

    assert await asyncio.wait_for(task, 5) == 2
    rows = influxdb.rows(settings.influx_bucket, "ha_state")
    assert [(r["tags"]["entity_id"], r["fields"].get("value")) for r in rows] == [
        ("sensor.kitchen_power", 1200.0),
        ("light.hall", None),
    ]
    assert rows[1]["fields"]["state"] == "on"
    assert service.rejected == 1


async def test_status_is_published_on_connect(settings, influx_client, publisher):
    loop = asyncio.get_event_loop()
    online = loop.create_future()

    async def watch_status():
        async with publisher.filtered_messages("homeiq/status/+") as messages:
            await publisher.subscribe("homeiq/status/#")
            async for message in messages:
                if message.topic.endswith(settings.service_name):
                    online.set_result(message.payload)
                    return

    watcher = asyncio.create_task(watch_status())
    await asyncio.sleep(0.1)
    service = IngestionService(settings, influx_client)
    runner = asyncio.create_task(service.run())
    assert await asyncio.wait_for(online, 5) == b"online"
    runner.cancel()
    await watcher
    with pytest.raises(asyncio.CancelledError):
        await runner


async def test_unreachable_broker_gives_up_after_three_attempts(settings, influx_client):
    dead = settings.__class__(**{**settings.__dict__, "mqtt_port": free_port()})
    with pytest.raises(MqttError):
        await IngestionService(dead, influx_client).run(max_events=1)
    # Clients whose connection was refused still hold their sockets; let them go while this
    # test's event loop is running, not later in another test's loop.
    gc.collect()
