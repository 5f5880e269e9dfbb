"""pytest helpers shared by the services' test suites.

Import the fixtures you need in a service's ``conftest.py``::

    from homeiq_common.testing import influxdb, mosquitto  # noqa: F401
"""

from homeiq_common.testing.fixtures import influxdb, mosquitto, mqtt_topic_prefix
from homeiq_common.testing.influxdb import InfluxDBTestServer, parse_line_protocol
from homeiq_common.testing.mosquitto import MosquittoBroker, find_mosquitto, free_port

__all__ = [
    "InfluxDBTestServer",
    "MosquittoBroker",
    "find_mosquitto",
    "free_port",
    "influxdb",
    "mosquitto",
    "mqtt_topic_prefix",
    "parse_line_protocol",
]
