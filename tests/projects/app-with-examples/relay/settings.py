import os
from dataclasses import dataclass, field

from dotenv import load_dotenv


@dataclass(frozen=True)
class Settings:
    source_host: str = "localhost"
    source_port: int = 1883
    target_host: str = "localhost"
    target_port: int = 1883
    prefix: str = "relay"
    topics: tuple = field(default_factory=lambda: ("sensors/#",))


def load(env_file=None):
    """Read settings from the environment, after loading `.env` (never overriding real env vars)."""
    load_dotenv(env_file, override=False)
    topics = tuple(t.strip() for t in os.getenv("RELAY_TOPICS", "sensors/#").split(",") if t.strip())
    return Settings(
        source_host=os.getenv("RELAY_SOURCE_HOST", "localhost"),
        source_port=int(os.getenv("RELAY_SOURCE_PORT", "1883")),
        target_host=os.getenv("RELAY_TARGET_HOST", "localhost"),
        target_port=int(os.getenv("RELAY_TARGET_PORT", "1883")),
        prefix=os.getenv("RELAY_PREFIX", "relay"),
        topics=topics,
    )
