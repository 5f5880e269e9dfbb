import pytest

from automation_edge.dispatch import Command, Dispatcher, InvalidCommand


@pytest.mark.parametrize("command", [
    Command("garage", "plug", "explode"),
    Command("garage", "plug", "set_value"),
    Command("garage", "plug", "turn_on", 3.0),
])
def test_invalid_commands(command):
    with pytest.raises(InvalidCommand):
        command.validate()


@pytest.mark.asyncio
async def test_command_is_acknowledged(edge_client, smart_plug):
    ack = await Dispatcher(edge_client).dispatch(Command("garage", "plug", "turn_on"))
    assert (ack["status"], ack["state"]) == ("ok", "turn_on")
    assert [c["action"] for c in smart_plug["received"]] == ["turn_on"]


@pytest.mark.asyncio
async def test_lost_command_is_resent(edge_client, smart_plug):
    smart_plug["drop"] = 1
    ack = await Dispatcher(edge_client, ack_timeout=0.3).dispatch(Command("garage", "plug", "toggle"))
    assert ack["status"] == "ok"
    first, second = smart_plug["received"]
    assert first == second  # resent unchanged, so the device can de-duplicate by id


@pytest.mark.asyncio
async def test_unreachable_device_is_reported(edge_client):
    ack = await Dispatcher(edge_client, ack_timeout=0.1).dispatch(Command("attic", "fan", "turn_off"))
    assert ack == {"status": "unacknowledged", "attempts": 3}
