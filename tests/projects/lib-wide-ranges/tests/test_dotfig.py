import pytest

from dotfig import Field, SettingsError, load, load_remote, load_text


class Settings:
    port = Field(int, default=8000)
    debug = Field(bool, default=False)
    name = Field(str, env="SERVICE_NAME")
    url = Field(str, default="")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in ("PORT", "DEBUG", "SERVICE_NAME", "URL"):
        monkeypatch.delenv(key, raising=False)


def test_load_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text("SERVICE_NAME=billing\nPORT=9000\nDEBUG=yes\nHOST=db\nURL=postgres://${HOST}/x\n")
    s = load(Settings, str(env))
    assert (s.name, s.port, s.debug, s.url) == ("billing", 9000, True, "postgres://db/x")


def test_environment_wins(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("SERVICE_NAME=billing\nPORT=9000\n")
    monkeypatch.setenv("PORT", "7000")
    assert load(Settings, str(env)).port == 7000


def test_required(tmp_path):
    with pytest.raises(SettingsError, match="SERVICE_NAME is required"):
        load_text(Settings, "PORT=1\n")


def test_bad_bool():
    with pytest.raises(SettingsError):
        load_text(Settings, "SERVICE_NAME=x\nDEBUG=maybe\n")


def test_load_remote_retries():
    calls = []

    def fetch():
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("slow vault")
        return "SERVICE_NAME=remote\n"

    s = load_remote(Settings, fetch, sleep=lambda seconds: None)
    assert s.name == "remote"
    assert len(calls) == 3


def test_load_remote_gives_up():
    def fetch():
        raise OSError("unreachable")

    with pytest.raises(OSError):
        load_remote(Settings, fetch, attempts=2, sleep=lambda seconds: None)
