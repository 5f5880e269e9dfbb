import os
import urllib.request

import pytest

from invoices.render import render

pytestmark = pytest.mark.integration


def post(body):
    request = urllib.request.Request(os.environ["PDF_SERVICE_URL"] + "/render", data=body.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def test_real_render():
    pdf = render({"number": "x", "lines": [{"qty": 1, "unit_price": 1}]}, post)
    assert pdf.startswith(b"%PDF")
