from .core import Settings, SettingsError
from .remote import fetch_remote

__all__ = ["Settings", "SettingsError", "fetch_remote"]
__version__ = "0.9.4"
