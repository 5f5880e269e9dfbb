"""Settings from a ``.env`` found next to the working directory, then the environment."""

import os

from dotenv import load_dotenv

load_dotenv()

MQTT_HOST = os.getenv("MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.getenv("MQTT_PORT", "1883"))
TOP_K = int(os.getenv("RAG_TOP_K", "3"))
