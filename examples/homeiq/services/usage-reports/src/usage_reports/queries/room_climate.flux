// Temperature and humidity of every room over the last day, raw.
from(bucket: "home")
  |> range(start: -24h)
  |> filter(fn: (r) => r["_measurement"] == "climate")
  |> filter(fn: (r) => r["_field"] == "celsius" or r["_field"] == "humidity")
