"""default_tags/point_settings behave differently across 0.17-0.21

pin influxdb3-python>=0.21,<0.22 and pass point_settings=PointSettings(**tags), or tag each record
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.21.0", order=15)
