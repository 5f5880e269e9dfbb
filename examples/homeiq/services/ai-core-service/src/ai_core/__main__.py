"""``python -m ai_core``: read commands from stdin, print intents (rule-based backend stand-in)."""

import asyncio
import json
import sys

from ai_core.config import load_config
from ai_core.intents import IntentRecognizer, rule_based


async def _rules(text):
    return rule_based(text)


async def main() -> None:
    recognizer = IntentRecognizer(_rules, load_config())
    for line in sys.stdin:
        intent = await recognizer.recognize(line.strip())
        print(json.dumps(intent.__dict__), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
