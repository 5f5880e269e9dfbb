from meter_ingest.config import load_config


def test_load_config_from_dotenv(tmp_path, monkeypatch):
    for key in ("METER_API_URL", "METER_API_TOKEN", "METER_BATCH_SIZE"):
        monkeypatch.delenv(key, raising=False)
    env = tmp_path / ".env"
    env.write_text("METER_API_URL=https://x.invalid/api/\nMETER_BATCH_SIZE=50\n")
    config = load_config(str(env))
    assert config.api_url == "https://x.invalid/api"
    assert config.batch_size == 50
    assert config.token == ""
    for key in ("METER_API_URL", "METER_BATCH_SIZE"):
        monkeypatch.delenv(key, raising=False)
