import io
import os
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional

from dotenv import dotenv_values


class SettingsError(KeyError):
    pass


@dataclass
class Settings:
    defaults: Mapping[str, str] = field(default_factory=dict)
    env_files: Iterable[str] = ()
    environ: Optional[Mapping[str, str]] = None
    _values: Dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self):
        values = dict(self.defaults)
        for path in self.env_files:
            if os.path.exists(path):
                # dict(): python-dotenv < 0.19 returns an OrderedDict
                values.update({k: v for k, v in dict(dotenv_values(path)).items() if v is not None})
        values.update(os.environ if self.environ is None else self.environ)
        self._values = values

    @classmethod
    def from_text(cls, text, **kwargs):
        """Settings from the text of an env file (handy in tests and for secrets from a vault)."""
        settings = cls(**kwargs)
        parsed = dict(dotenv_values(stream=io.StringIO(text)))
        merged = dict(settings.defaults)
        merged.update({k: v for k, v in parsed.items() if v is not None})
        merged.update(settings._values if settings.environ is not None else {})
        settings._values = merged
        return settings

    def get(self, key, default=None):
        return self._values.get(key, default)

    def __getitem__(self, key):
        try:
            return self._values[key]
        except KeyError:
            raise SettingsError(key) from None

    def int(self, key):
        return int(self[key])

    def bool(self, key):
        return self[key].strip().lower() in ("1", "true", "yes", "on")

    def list(self, key, sep=","):
        # type: (str, str) -> List[str]
        return [item.strip() for item in self[key].split(sep) if item.strip()]
