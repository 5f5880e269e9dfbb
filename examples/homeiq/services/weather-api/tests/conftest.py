import os
import shutil
import socket
import subprocess
import time

import pytest

from weather_api.provider import Observation


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory):
    binary = shutil.which("mosquitto")
    if binary is None and os.access("/usr/sbin/mosquitto", os.X_OK):
        binary = "/usr/sbin/mosquitto"
    if binary is None:
        pytest.skip("mosquitto is not installed; apt-get install mosquitto")
    port = unused_port()
    conf = tmp_path_factory.mktemp("mosquitto") / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.02)
    yield "127.0.0.1", port
    process.terminate()
    process.wait(timeout=5)


class FakeProvider:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0

    def current(self, location: str) -> Observation:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionResetError("provider hiccup")
        return Observation(temperature_c=3.25 if location == "cabin" else 18.0, humidity_pct=71.4,
                           wind_ms=4.04, condition="cloudy")


@pytest.fixture
def provider():
    return FakeProvider()
