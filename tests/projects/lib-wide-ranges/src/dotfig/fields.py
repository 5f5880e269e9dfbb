import io
import os
from typing import Any, Callable, Dict, Optional

from dotenv import dotenv_values, find_dotenv

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    pass


class Field:
    def __init__(self, kind: Callable[[str], Any] = str, default: Any = _MISSING, env: Optional[str] = None):
        self.kind = kind
        self.default = default
        self.env = env
        self.name = ""

    def __set_name__(self, owner, name):
        self.name = name

    def convert(self, raw: str) -> Any:
        if self.kind is bool:
            value = raw.strip().lower()
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            raise SettingsError(f"{self.name}: not a boolean: {raw!r}")
        try:
            return self.kind(raw)
        except ValueError as err:
            raise SettingsError(f"{self.name}: {err}") from None


def _fields(cls) -> Dict[str, Field]:
    return {name: value for name, value in vars(cls).items() if isinstance(value, Field)}


def _build(cls, values: Dict[str, Optional[str]]):
    obj = cls.__new__(cls)
    for name, field in _fields(cls).items():
        key = field.env or name.upper()
        raw = os.environ.get(key, values.get(key))
        if raw is None:
            if field.default is _MISSING:
                raise SettingsError(f"{key} is required")
            setattr(obj, name, field.default)
        else:
            setattr(obj, name, field.convert(raw))
    return obj


def load(cls, path: Optional[str] = None):
    """Environment first, then the .env file (found upwards from the cwd when no path is given)."""
    path = path or find_dotenv(usecwd=True)
    return _build(cls, dotenv_values(path) if path else {})


def load_text(cls, text: str):
    return _build(cls, dotenv_values(stream=io.StringIO(text)))
