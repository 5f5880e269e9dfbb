"""Every breaking change from influxdb-client 1.x to influxdb3-python: one module per rule."""

RECIPE_ID = "influxdb3"
V3_README = "https://github.com/InfluxCommunity/influxdb3-python#readme"
V3_CHANGELOG = "https://github.com/InfluxCommunity/influxdb3-python/blob/main/CHANGELOG.md"
MIGRATE = "https://docs.influxdata.com/influxdb3/core/get-started/migrate-from-influxdb-v1-v2/"
FLUX_FUTURE = "https://docs.influxdata.com/flux/v0/future-of-flux/"
SQL_DOCS = "https://docs.influxdata.com/influxdb3/core/query-data/sql/"
LINK = V3_CHANGELOG
