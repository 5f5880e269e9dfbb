"""Sensor gateway: readings in, InfluxDB points out."""
