from decimal import Decimal

from behave import given, then, when

from rates.quote import CarrierBusy, carrier_quote, quote


@given("a parcel of {weight:g} kg")
def step_parcel(context, weight):
    context.weight = weight


@when("I ask for a {service} quote")
def step_quote(context, service):
    try:
        context.price = quote(context.weight, express=(service == "express"))
    except ValueError as err:
        context.error = err


@then("the price is {price} EUR")
def step_price(context, price):
    assert context.price == Decimal(price), f"{context.price} != {price}"


@then("I am told the weight must be positive")
def step_refused(context):
    assert "positive" in str(context.error)


@given("the carrier is busy {times:d} times")
def step_busy(context, times):
    context.calls = 0

    def ask(weight):
        context.calls += 1
        if context.calls <= times:
            raise CarrierBusy()
        return "9.99"

    context.ask = ask


@when("I ask the carrier for {weight:g} kg")
def step_ask(context, weight):
    context.carrier_price = carrier_quote(context.ask, weight)


@then("the carrier price is {price} EUR")
def step_carrier_price(context, price):
    assert context.carrier_price == Decimal(price)


@then("the carrier was asked {times:d} times")
def step_calls(context, times):
    assert context.calls == times
    assert carrier_quote.retry.statistics["attempt_number"] == times
