from ai_core.config import load_config


def test_defaults_env_then_dotenv_then_environment(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "defaults.env").write_text(
        "AI_CORE_PRIMARY_MODEL=intent-small\nAI_CORE_MAX_ATTEMPTS=3\nAI_CORE_CONFIDENCE=0.6\n"
    )
    (tmp_path / ".env").write_text("AI_CORE_PRIMARY_MODEL=intent-large\n")
    config = load_config(tmp_path, environ={"AI_CORE_MAX_ATTEMPTS": "5", "HOME": "/root"})
    assert (config.primary_model, config.max_attempts, config.confidence) == ("intent-large", 5, 0.6)


def test_shipped_defaults_load():
    assert load_config(environ={}).primary_model == "intent-small"
