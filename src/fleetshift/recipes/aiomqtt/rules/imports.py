"""asyncio_mqtt was renamed aiomqtt; aiomqtt.error became aiomqtt.exceptions, Topic moved out of aiomqtt.client

Imports, module attribute chains and mock.patch targets are rewritten to aiomqtt (MqttConnectError from
aiomqtt.exceptions).
"""

from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=0)
