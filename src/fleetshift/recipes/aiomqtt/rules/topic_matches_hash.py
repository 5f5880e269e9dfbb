"""Topic.matches('a/b/#') also matches 'a/b' since aiomqtt 1.1

The match now follows the MQTT spec; code that relied on the old result sees extra matches.
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="1.1.0", order=23)
