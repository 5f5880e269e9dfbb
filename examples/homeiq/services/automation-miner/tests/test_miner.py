import asyncio

import pytest

from automation_miner.miner import HistoryUnavailable, MinerConfig, fetch_history, mine, mine_from


def test_recurring_sequence_is_suggested(evening_routine):
    (best, *_rest) = mine(evening_routine)
    assert (best.trigger, best.action, best.support, best.confidence) == (
        "light.hall=on", "media_player.tv=on", 10, 1.0)
    assert all(s.trigger != "fan.bedroom=on" or s.support >= 3 for s in mine(evening_routine))


def test_config_from_env_file(tmp_path):
    env = tmp_path / "miner.env"
    env.write_text("MINER_WINDOW_SECONDS=30\nMINER_MIN_SUPPORT=5\n")
    config = MinerConfig.from_env_file(env)
    assert (config.window_seconds, config.min_support, config.min_confidence) == (30.0, 5, 0.7)


def test_window_excludes_late_followers(evening_routine):
    assert mine(evening_routine, MinerConfig(window_seconds=10)) == []


def test_fetch_retries_until_history_answers(evening_routine):
    answers = [HistoryUnavailable("data-api down"), HistoryUnavailable("data-api down"), evening_routine]

    def source():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert fetch_history(source) == evening_routine
    assert fetch_history.retry.statistics["attempt_number"] == 3


def test_fetch_gives_up_after_four_attempts():
    calls = []

    def source():
        calls.append(1)
        raise HistoryUnavailable("still down")

    with pytest.raises(HistoryUnavailable):
        fetch_history(source)
    assert len(calls) == 4


@pytest.mark.asyncio
async def test_mine_from_runs_off_the_loop(evening_routine):
    suggestions = await mine_from(lambda: evening_routine)
    assert suggestions[0].action == "media_player.tv=on"


@pytest.mark.asyncio
@pytest.mark.slow
async def test_a_week_of_history_concurrently(evening_routine):
    results = await asyncio.gather(*(mine_from(lambda: evening_routine) for _ in range(7)))
    assert len({tuple(r) for r in results}) == 1
