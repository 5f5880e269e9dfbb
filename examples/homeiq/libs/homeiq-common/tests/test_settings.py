from homeiq_common.settings import load_settings


def test_env_file_then_environment(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("MQTT_HOST=broker.lan\nMQTT_PORT=1884\nINFLUX_BUCKET=from-file\n")
    settings = load_settings(env_file, environ={"INFLUX_BUCKET": "from-env"}, service_name="svc")
    assert settings.mqtt_address == ("broker.lan", 1884)
    assert settings.influx_bucket == "from-env"
    assert settings.service_name == "svc"


def test_missing_env_file_uses_defaults(tmp_path):
    settings = load_settings(tmp_path / "absent.env", environ={})
    assert settings.influx_url == "http://127.0.0.1:8086"
