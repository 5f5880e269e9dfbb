"""Shared helpers for HomeIQ services."""

__version__ = "0.9.2"
