import asyncio
import csv
import io
import os
from datetime import date
from decimal import Decimal
from typing import Iterable, List, NamedTuple

from dotenv import load_dotenv
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

load_dotenv()


class Entry(NamedTuple):
    booked: date
    account: str
    amount: Decimal
    memo: str


class UploadError(OSError):
    pass


def to_csv(entries: Iterable[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["date", "account", "amount", "memo"])
    for e in sorted(entries):
        writer.writerow([e.booked.isoformat(), e.account, f"{e.amount:.2f}".replace(".", ","), e.memo])
    return out.getvalue()


def read_snapshot(path: str) -> List[Entry]:
    with open(path, newline="") as fh:
        return [Entry(date.fromisoformat(r["date"]), r["account"], Decimal(r["amount"]), r["memo"])
                for r in csv.DictReader(fh)]


@retry(stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.001, max=0.01),
       retry=retry_if_exception_type(UploadError))
async def upload(put, name: str, payload: str) -> int:
    await put(f"{os.getenv('LEDGER_DROP_DIR', '/drop')}/{name}", payload.encode("utf-8"))
    return len(payload)


def upload_sync(put, name, payload):
    return asyncio.run(upload(put, name, payload))
