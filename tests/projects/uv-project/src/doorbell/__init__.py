"""Doorbell to phone notifications over MQTT."""
