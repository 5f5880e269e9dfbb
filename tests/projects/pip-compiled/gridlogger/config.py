import os

from dotenv import dotenv_values, load_dotenv


def influx_settings(env_file=".env"):
    """URL, token, org and bucket for InfluxDB; the .env file fills in what the environment lacks."""
    load_dotenv(env_file)
    return {
        "url": os.getenv("INFLUX_URL", "http://localhost:8086"),
        "token": os.getenv("INFLUX_TOKEN", ""),
        "org": os.getenv("INFLUX_ORG", "grid"),
        "bucket": os.getenv("INFLUX_BUCKET", "meters"),
    }


def meter_map(path):
    """meters.env maps meter serials to site names: SERIAL=site"""
    return {serial: site for serial, site in dotenv_values(path).items() if site}
