from decimal import Decimal

from invoices.render import RenderUnavailable, render, render_or_none, total

INVOICE = {"number": "2024-0042", "lines": [{"qty": 2, "unit_price": "9.99"}, {"qty": 1, "unit_price": 0.5}]}


def test_total_with_vat(monkeypatch):
    monkeypatch.setenv("INVOICE_VAT", "0.20")
    assert total(INVOICE["lines"]) == Decimal("24.58")


def test_render_retries():
    calls = []

    def post(body):
        calls.append(body)
        if len(calls) == 1:
            raise RenderUnavailable()
        return b"%PDF-1.7"

    assert render(INVOICE, post) == b"%PDF-1.7"
    assert render.retry.statistics["attempt_number"] == 2
    assert '"total": "24.58"' in calls[-1]


def test_render_gives_up():
    def post(body):
        raise RenderUnavailable()

    assert render_or_none(INVOICE, post) is None
