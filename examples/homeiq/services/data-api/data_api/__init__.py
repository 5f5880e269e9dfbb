"""HomeIQ data-api: entity history and power summaries read from InfluxDB."""
