"""Simulated Home Assistant sensors for demos and load tests."""
