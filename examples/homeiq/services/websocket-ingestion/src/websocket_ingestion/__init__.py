"""Ingests Home Assistant state changes (bridged from the HA websocket to MQTT) into InfluxDB."""
