import pytest

from pipekit import Pipeline, Stage, Transient, first_ok


async def parse(raw: str) -> int:
    return int(raw)


async def test_pipeline_runs_stages_in_order():
    async def double(n: int) -> int:
        return n * 2

    pipeline: Pipeline[str, int] = Pipeline(Stage("parse", parse), Stage("double", double))
    assert await pipeline.run("21") == 42


async def test_transient_errors_are_retried():
    seen = []

    async def flaky(n: int) -> int:
        seen.append(n)
        if len(seen) < 3:
            raise Transient()
        return n

    stage = Stage("flaky", flaky, attempts=3)
    assert await stage(7) == 7
    assert stage.calls == 3


async def test_other_errors_are_not():
    stage = Stage("parse", parse)
    with pytest.raises(ValueError):
        await stage("x")
    assert stage.calls == 1


def test_first_ok():
    assert first_ok([None, 0, 1]) == 0
    with pytest.raises(LookupError):
        first_ok([None])
