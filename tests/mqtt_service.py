"""Running a small MQTT service's own tests in a real uv environment against a real mosquitto, for the aiomqtt
recipe's behavioural proofs: write the service, run its pytest with the broker's address in the environment,
read each test's outcome from the JUnit report; and what a service test needs to start a broker late itself.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from mosquitto import Broker, free_port, mosquitto_binary
from uvenv import run, uv_env

OLD_PINS = ["asyncio-mqtt==0.16.2", "paho-mqtt==1.6.1", "pytest>=8"]
NEW_PINS = {"2.4.0": ["aiomqtt==2.4.0", "pytest>=8"], "2.5.1": ["aiomqtt==2.5.1", "pytest>=8"]}
CONFTEST = (
    "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).resolve().parents[1]))\n"
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def broker_env(broker: Broker, **extra: str) -> dict[str, str]:
    return {
        "MQTT_HOST": broker.host,
        "MQTT_PORT": str(broker.port),
        "MQTT_BROKER_PID": str(broker.process.pid),
        **extra,
    }


def run_tests(pins: list[str], root: Path, env: dict[str, str], timeout: float = 180) -> dict[str, str]:
    """Run the service's own tests in a real env; test name -> "" (passed) or its failure message."""
    report = root / "junit.xml"
    proc = run(
        uv_env(pins),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
        cwd=root,
        env=env,
        timeout=timeout,
    )
    assert report.exists(), proc.stdout + proc.stderr
    outcome = {}
    for case in ET.parse(report).iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcome[case.get("name", "")] = "" if bad is None else (bad.get("message") or "failed")
    return outcome


def late_broker_env(workdir: Path, host: str = "127.0.0.1") -> dict[str, str]:
    """What a service test needs to start a second mosquitto itself, later, on a port chosen now."""
    binary = mosquitto_binary()
    assert binary is not None
    port = free_port(host)
    conf = workdir / "late-mosquitto.conf"
    conf.write_text(f"listener {port} {host}\nallow_anonymous true\npersistence false\n", encoding="utf-8")
    return {"MOSQUITTO_BIN": binary, "MQTT_LATE_CONF": str(conf), "MQTT_LATE_PORT": str(port)}
