"""MQTT topic relay."""
