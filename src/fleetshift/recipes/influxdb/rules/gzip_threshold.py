"""gzip_threshold= crashes every write on influxdb3-python <0.21

pin influxdb3-python>=0.21,<0.22 or use enable_gzip=True without a threshold
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="0.21.0", fixed_in="0.21.0", order=28)
