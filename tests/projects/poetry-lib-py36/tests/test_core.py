import pytest

from settle import Settings, SettingsError


def test_layers(tmp_path):
    env = tmp_path / ".env"
    env.write_text("PORT=9000\nDEBUG=yes\nEMPTY\n")
    local = tmp_path / ".env.local"
    local.write_text("DEBUG=no\n")
    s = Settings(defaults={"PORT": "8080", "NAME": "svc"}, env_files=[str(env), str(local), str(tmp_path / "missing")],
                 environ={"NAME": "from-env"})
    assert s.int("PORT") == 9000
    assert s.bool("DEBUG") is False
    assert s["NAME"] == "from-env"
    assert s.get("EMPTY") is None


def test_missing_key():
    with pytest.raises(SettingsError):
        Settings(environ={})["NOPE"]


def test_from_text_and_list():
    s = Settings.from_text("HOSTS=a, b ,c\n# comment\nQUOTED='x y'\n", environ={})
    assert s.list("HOSTS") == ["a", "b", "c"]
    assert s["QUOTED"] == "x y"
