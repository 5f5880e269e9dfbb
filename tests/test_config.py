from pathlib import Path

import pytest

from fleetshift.config import ConfigError, load_config


def write(tmp_path: Path, text: str, name: str = "fleetshift.toml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_without_config(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert cfg.batch_size == 5 and cfg.failure_threshold == 0.2
    assert cfg.targets  # every recipe's own default target


def test_full_config(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, """
        [fleet]
        services = ["services/*"]
        critical = ["data-api"]
        batch_size = 3
        failure_threshold = "25%"
        [fleet.phases]
        rag-service = "c"
        [targets]
        tenacity = ">=9.1.2,<10"
        aiomqtt = { spec = ">=2.4.0,<3", replaces = "asyncio-mqtt" }
        [services.data-api.health]
        start = "python -m data_api --port {port}"
        url = "http://127.0.0.1:{port}/health"
        [hooks]
        build = "docker compose build $FLEETSHIFT_SERVICE"
    """.replace("\n        ", "\n")))
    assert cfg.service_globs == ("services/*",)
    assert cfg.is_critical("data-api") and not cfg.is_critical("rag-service")
    assert cfg.failure_threshold == 0.25 and cfg.batch_size == 3
    assert cfg.phase_overrides == {"rag-service": "C"}
    assert cfg.targets["aiomqtt"].replaces == "asyncio-mqtt"
    assert cfg.target_specs()["tenacity"] == ">=9.1.2,<10"
    assert cfg.services["data-api"].health.url.endswith("/health")
    assert cfg.hooks["build"] == ("docker compose build $FLEETSHIFT_SERVICE",)


def test_tool_section_in_pyproject(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[tool.fleetshift.fleet]\nbatch_size = 2\n', "pyproject.toml"))
    assert cfg.batch_size == 2 and "[tool.fleetshift]" in cfg.source


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[fleet]\nbatch_sise = 3\n", "fleet.batch_sise", "unknown key"),
        ("[fleet]\nbatch_size = 0\n", "fleet.batch_size", ">= 1"),
        ("[fleet]\nbatch_size = \"5\"\n", "fleet.batch_size", "whole number"),
        ("[fleet]\nfailure_threshold = 3\n", "fleet.failure_threshold", "fraction"),
        ("[fleet]\ncritical = \"x\"\nservices = 5\n", "fleet.services", "list of strings"),
        ("[targets]\ntenacity = \"=>9\"\n", "targets.tenacity", "not a valid version specifier"),
        ("[targets]\naiomqtt = { version = \">=2\" }\n", "targets.aiomqtt.version", "unknown key"),
        ("[fleet.phases]\nx = \"E\"\n", "fleet.phases.x", "phase letter"),
        ("[services.x]\ncritical = \"yes\"\n", "services.x.critical", "true or false"),
        ("[services.x.health]\nstart = \"run\"\n", "services.x.health", "url or a command"),
        ("[hooks]\nbefore_lunch = \"x\"\n", "hooks.before_lunch", "unknown key"),
        ("[feet]\n", "feet", "unknown key"),
    ],
)
def test_bad_config_names_file_key_and_fix(tmp_path: Path, text: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    msg = str(info.value)
    assert "fleetshift.toml" in msg and key in msg and words in msg and "Fix:" in msg


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[fleet\n"))
