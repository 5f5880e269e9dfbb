#!/usr/bin/env python
import os
import re

from setuptools import find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))

with open(os.path.join(here, "mqtt2influx", "__init__.py")) as fh:
    version = re.search(r'^__version__ = "([^"]+)"', fh.read(), re.M).group(1)

with open(os.path.join(here, "README.md")) as fh:
    long_description = fh.read()

TESTS_REQUIRE = [
    "pytest>=7.4,<8.4",
    "pytest-asyncio==0.21.2",
]

setup(
    name="mqtt2influx",
    version=version,
    description="Subscribe to MQTT topics and write every message to InfluxDB 2",
    long_description=long_description,
    long_description_content_type="text/markdown",
    author="Home Lab",
    url="https://github.com/example/mqtt2influx",
    license="MIT",
    packages=find_packages(exclude=["tests", "tests.*"]),
    python_requires=">=3.8",
    install_requires=[
        "asyncio-mqtt>=0.13,<0.17",
        "paho-mqtt>=1.6,<2.0",
        "influxdb-client>=1.38,<2",
        "python-dotenv",
    ],
    extras_require={
        "test": TESTS_REQUIRE,
        "dev": TESTS_REQUIRE + ["flake8>=6", "black==24.4.2"],
    },
    entry_points={"console_scripts": ["mqtt2influx = mqtt2influx.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "License :: OSI Approved :: MIT License",
    ],
)
