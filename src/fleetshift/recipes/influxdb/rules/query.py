"""query_api().query(flux) -> client.query(sql, database=)

the Flux text is translated to SQL (exact shapes only); query_data_frame -> mode="pandas"; query_stream
-> rows of client.query(sql).to_pylist(); params= -> query_parameters=
"""

from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=16)
