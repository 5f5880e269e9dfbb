"""Retry helpers with attempt statistics and settings from the environment."""
from backoffkit.core import Settings, attempts_of, retrying

__all__ = ["Settings", "attempts_of", "retrying"]
