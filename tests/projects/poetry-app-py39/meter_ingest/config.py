import os
from dataclasses import dataclass
from typing import Optional

from dotenv import find_dotenv, load_dotenv


@dataclass(frozen=True)
class Config:
    api_url: str
    token: str
    batch_size: int = 500


def load_config(path: Optional[str] = None) -> Config:
    load_dotenv(path or find_dotenv(usecwd=True))
    return Config(
        api_url=os.environ["METER_API_URL"].rstrip("/"),
        token=os.environ.get("METER_API_TOKEN", ""),
        batch_size=int(os.environ.get("METER_BATCH_SIZE", "500")),
    )
