"""Configuration: ``config/defaults.env`` < ``.env`` < environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

SERVICE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class AICoreConfig:
    primary_model: str
    max_attempts: int
    confidence: float


def load_config(root: Path = SERVICE_ROOT, environ: dict[str, str] | None = None) -> AICoreConfig:
    values = {
        **dotenv_values(root / "config" / "defaults.env"),
        **dotenv_values(root / ".env"),
        **{k: v for k, v in (os.environ if environ is None else environ).items() if k.startswith("AI_CORE_")},
    }
    return AICoreConfig(
        primary_model=values["AI_CORE_PRIMARY_MODEL"],
        max_attempts=int(values["AI_CORE_MAX_ATTEMPTS"]),
        confidence=float(values["AI_CORE_CONFIDENCE"]),
    )
