import pytest

from backoffkit import Settings, attempts_of, retrying


def test_settings_from_a_dotenv_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text("BACKOFF_ATTEMPTS=4\n")
    assert Settings.from_env(env).attempts == 4


def test_attempts_are_counted():
    calls = []

    @retrying(Settings(attempts=3))
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("not yet")
        return "ok"

    assert flaky() == "ok"
    assert attempts_of(flaky) == 3


def test_gives_up():
    @retrying(Settings(attempts=2))
    def down():
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        down()
    assert attempts_of(down) == 2
