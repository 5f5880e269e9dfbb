from dotfig.fields import Field, SettingsError, load, load_text
from dotfig.remote import load_remote

__all__ = ["Field", "SettingsError", "load", "load_remote", "load_text"]
