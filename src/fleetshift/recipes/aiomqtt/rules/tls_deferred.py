"""TLS certificates are loaded at connect time since aiomqtt 2.5

A bad ca_certs path raises MqttError at `async with`, not FileNotFoundError at Client().
"""

from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="2.5.0", order=18)
