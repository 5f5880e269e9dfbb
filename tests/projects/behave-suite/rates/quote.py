import os
from decimal import ROUND_HALF_UP, Decimal

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed


class CarrierBusy(Exception):
    pass


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quote(weight_kg: float, express: bool = False) -> Decimal:
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    base = Decimal(os.environ["RATE_BASE_EUR"])
    per_kg = Decimal(os.environ["RATE_PER_KG_EUR"])
    price = base + per_kg * Decimal(str(weight_kg))
    if express:
        price *= Decimal(os.environ.get("RATE_EXPRESS_FACTOR", "1.5"))
    return _money(price)


@retry(stop=stop_after_attempt(3), wait=wait_fixed(0), retry=retry_if_exception_type(CarrierBusy))
def carrier_quote(ask, weight_kg):
    """Ask the carrier's API (a callable) for its own price; it is often busy."""
    return _money(ask(weight_kg))
