"""Device registry built from Home Assistant MQTT discovery messages."""
