"""``python -m automation_miner <events.json>``: print suggestions for an exported event log."""

import asyncio
import json
import sys
from pathlib import Path

from automation_miner.miner import Event, MinerConfig, mine_from


def main(path: str) -> None:
    rows = json.loads(Path(path).read_text())
    config = MinerConfig.from_env_file(Path(".env"))
    suggestions = asyncio.run(mine_from(lambda: [Event(*row) for row in rows], config))
    for s in suggestions:
        print(f"when {s.trigger} then {s.action}  (support {s.support}, confidence {s.confidence:.0%})")


if __name__ == "__main__":
    main(sys.argv[1])
