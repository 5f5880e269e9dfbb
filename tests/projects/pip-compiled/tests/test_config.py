from gridlogger.config import influx_settings, meter_map


def test_influx_settings(tmp_path, monkeypatch):
    for key in ("INFLUX_URL", "INFLUX_TOKEN", "INFLUX_ORG", "INFLUX_BUCKET"):
        monkeypatch.delenv(key, raising=False)
    env = tmp_path / ".env"
    env.write_text('INFLUX_URL=http://influx:8086\nINFLUX_TOKEN="s3cr3t"\n')
    settings = influx_settings(str(env))
    assert settings == {"url": "http://influx:8086", "token": "s3cr3t", "org": "grid", "bucket": "meters"}
    for key in ("INFLUX_URL", "INFLUX_TOKEN"):
        monkeypatch.delenv(key, raising=False)


def test_meter_map(tmp_path):
    path = tmp_path / "meters.env"
    path.write_text("M-17=north\nM-18=south\nM-99=\n")
    assert meter_map(str(path)) == {"M-17": "north", "M-18": "south"}
