#!/usr/bin/env bash
# Install fleetshift and what its demo and tests need: Debian's mosquitto (the MQTT broker the demo
# fleet's services talk to on 127.0.0.1) and fleetshift itself with its test extra (uv comes with it) and its
# ray extra (the Ray executor's tests start a local cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq mosquitto >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq mosquitto >/dev/null; fi
fi
# Debian's chromium renders report.html headless in the report tests.
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
python3 -m pip install -q -e ".[test,ray]"
