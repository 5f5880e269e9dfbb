import logging

import pytest

from ai_core.intents import IntentRecognizer, rule_based


@pytest.mark.parametrize(
    "text, name, slots",
    [
        ("Turn on the lamp in the kitchen", "toggle", {"entity": "lamp", "area": "kitchen", "state": "on"}),
        ("set the thermostat to 21", "set_value", {"entity": "thermostat", "value": "21"}),
        ("what's the temperature in the bedroom?", "query_state", {"entity": "temperature", "area": "bedroom"}),
        ("sing a song", "unknown", {}),
    ],
)
def test_rule_based(text, name, slots):
    intent = rule_based(text)
    assert (intent.name, intent.slots) == (name, slots)


@pytest.mark.asyncio
async def test_model_answer_is_used(config, fake_model):
    model = fake_model()
    intent = await IntentRecognizer(model, config).recognize("turn on lamp")
    assert intent.source == "model" and model.calls == 1


@pytest.mark.asyncio
async def test_transient_model_errors_are_retried(config, fake_model, caplog):
    caplog.set_level(logging.INFO, logger="ai_core.intents")
    model = fake_model(failures=2)
    recognizer = IntentRecognizer(model, config)
    intent = await recognizer.recognize("turn on lamp")
    assert (intent.source, model.calls, recognizer.fallbacks) == ("model", 3, 0)
    assert caplog.text.count("Retrying") == 2


@pytest.mark.asyncio
async def test_rules_take_over_when_the_model_stays_down(config, fake_model):
    model = fake_model(failures=10)
    recognizer = IntentRecognizer(model, config)
    intent = await recognizer.recognize("turn off the fan")
    assert (intent.name, intent.source, model.calls, recognizer.fallbacks) == ("toggle", "rules", 3, 1)


@pytest.mark.asyncio
async def test_low_confidence_prefers_rules(config, fake_model):
    intent = await IntentRecognizer(fake_model(confidence=0.2), config).recognize("set the heater to 19")
    assert (intent.name, intent.source) == ("set_value", "rules")
