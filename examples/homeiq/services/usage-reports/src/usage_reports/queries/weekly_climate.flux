// The week's climate, for the weekly mail.
bucket = "home"
window = 6h

from(bucket: bucket)
  |> range(start: -7d)
  |> filter(fn: (r) => r._measurement == "climate" and r._field == "celsius")
  |> group(columns: ["room", "_field"])
  |> aggregateWindow(every: window, fn: mean, createEmpty: false)
