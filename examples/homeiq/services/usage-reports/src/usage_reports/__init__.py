"""Climate and power reports for the HomeIQ dashboard, read from InfluxDB."""
