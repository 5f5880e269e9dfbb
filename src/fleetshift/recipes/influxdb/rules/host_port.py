"""influxdb3-python needs host as scheme://host:port

a missing port means 443 even for http:// and a URL path is dropped; make the configured URL explicit
"""

from fleetshift.recipes.influxdb.rules import V3_README
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, link=V3_README, order=3)
