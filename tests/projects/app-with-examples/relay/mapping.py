import json


def map_topic(topic: str, prefix: str) -> str:
    """sensors/kitchen/temp -> <prefix>/kitchen/temp"""
    parts = topic.split("/")
    if parts[0] == "sensors":
        parts = parts[1:]
    return "/".join([prefix, *parts])


def normalise(payload: bytes) -> bytes:
    """Accept a bare number or a JSON object, always emit JSON with a 'value' key."""
    text = payload.decode("utf-8").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"not a reading: {text!r}") from None
    if not isinstance(data, dict):
        data = {"value": data}
    return json.dumps(data, sort_keys=True).encode()
