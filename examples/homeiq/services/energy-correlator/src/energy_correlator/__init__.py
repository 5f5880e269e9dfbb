"""Correlates device state changes with the power meters' readings."""
