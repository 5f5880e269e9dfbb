"""Service settings: defaults < ``.env`` file < process environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values


@dataclass(frozen=True)
class Settings:
    """Connection settings every HomeIQ service understands."""

    service_name: str = "homeiq"
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    influx_url: str = "http://127.0.0.1:8086"
    influx_token: str = "homeiq-dev-token"
    influx_org: str = "homeiq"
    influx_bucket: str = "home"
    log_level: str = "INFO"

    @property
    def mqtt_address(self) -> tuple[str, int]:
        return self.mqtt_host, self.mqtt_port


_ENV_NAMES = {f.name: f.name.upper() for f in fields(Settings)}


def load_settings(
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: object,
) -> Settings:
    """Build Settings from an optional ``.env`` file, the environment and keyword overrides."""
    values: dict[str, object] = {}
    if env_file is not None and Path(env_file).is_file():
        file_values = dotenv_values(env_file)
        values.update({k: v for k, v in file_values.items() if v is not None})
    env = os.environ if environ is None else environ
    for name, env_name in _ENV_NAMES.items():
        if env_name in env:
            values[env_name] = env[env_name]
    kwargs: dict[str, object] = {}
    for f in fields(Settings):
        raw = values.get(_ENV_NAMES[f.name])
        if raw is None:
            continue
        kwargs[f.name] = int(raw) if f.type in (int, "int") else raw
    kwargs.update(overrides)
    return Settings(**kwargs)  # type: ignore[arg-type]
