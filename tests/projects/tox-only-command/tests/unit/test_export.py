from datetime import date
from decimal import Decimal

import pytest

from ledger_export.export import Entry, UploadError, read_snapshot, to_csv, upload


def test_to_csv_sorted_with_comma_decimals():
    out = to_csv([
        Entry(date(2024, 2, 1), "4000", Decimal("-12.5"), "refund"),
        Entry(date(2024, 1, 31), "1200", Decimal("99"), "invoice 7"),
    ])
    assert out.splitlines() == [
        "date;account;amount;memo",
        "2024-01-31;1200;99,00;invoice 7",
        "2024-02-01;4000;-12,50;refund",
    ]


@pytest.mark.asyncio
async def test_upload_retries(monkeypatch):
    monkeypatch.setenv("LEDGER_DROP_DIR", "/in")
    seen = []

    async def put(path, data):
        seen.append(path)
        if len(seen) < 3:
            raise UploadError("sftp: connection reset")

    assert await upload(put, "gl.csv", "x;y\n") == 4
    assert seen == ["/in/gl.csv"] * 3
    assert upload.retry.statistics["attempt_number"] == 3


@pytest.mark.slow
def test_full_snapshot_round_trip(snapshot_path):
    entries = read_snapshot(snapshot_path)
    assert len(entries) > 100_000


@pytest.mark.slow
def test_snapshot_balances(snapshot_path):
    assert sum(e.amount for e in read_snapshot(snapshot_path)) == 0
