# SPDX-License-Identifier: MIT
import pytest
import respx

from skyfeed import SkyfeedClient

BASE = "https://api.skyfeed.invalid/v2"


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
async def client():
    async with SkyfeedClient(base_url=BASE, token="t0ken") as c:
        yield c
