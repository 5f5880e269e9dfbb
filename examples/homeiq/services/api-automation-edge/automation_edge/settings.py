"""Settings from the nearest ``.env`` (searched upwards), then the environment."""

import os

from dotenv import find_dotenv, load_dotenv

load_dotenv(find_dotenv())

MQTT_HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("MQTT_PORT", "1883"))
ACK_TIMEOUT = float(os.environ.get("EDGE_ACK_TIMEOUT", "2.0"))
