import json
import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Dict, List

from dotenv import load_dotenv
from tenacity import (
    RetryError,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

load_dotenv()

CENT = Decimal("0.01")


class RenderUnavailable(Exception):
    pass


def total(lines: List[Dict]) -> Decimal:
    amount = sum((Decimal(str(l["qty"])) * Decimal(str(l["unit_price"])) for l in lines), Decimal(0))
    vat = amount * Decimal(os.getenv("INVOICE_VAT", "0.20"))
    return (amount + vat).quantize(CENT, rounding=ROUND_HALF_UP)


@retry(
    stop=stop_after_attempt(int(os.getenv("INVOICE_RENDER_ATTEMPTS", "3"))),
    wait=wait_exponential(multiplier=0.01, max=0.2) + wait_random(0, 0.01),
    retry=retry_if_exception_type(RenderUnavailable),
)
def render(invoice: Dict, post: Callable[[str], bytes]) -> bytes:
    body = json.dumps({**invoice, "total": str(total(invoice["lines"]))}, sort_keys=True)
    return post(body)


def render_or_none(invoice, post):
    try:
        return render(invoice, post)
    except RetryError:
        return None
