import os

import pytest


@pytest.fixture
def snapshot_path():
    path = os.environ.get("LEDGER_SNAPSHOT", "/data/ledger/snapshot.csv")
    return path
