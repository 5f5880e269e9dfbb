"""an influxdb-client API with no influxdb3-python equivalent

delete/buckets/orgs/users/authorizations/labels/tasks/scripts APIs, health/ready/ping/build,
query_csv/query_raw: see the Finding for what to do instead
"""

from fleetshift.recipes.influxdb.rules import MIGRATE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=MIGRATE, order=22)
