"""TLS: tls_insecure with tls_params fails on aiomqtt 2.5.0; paho tls_insecure_set hacks

Use Client(tls_insecure=True) instead of client._client.tls_insecure_set(); never run aiomqtt 2.5.0
(tls_params + tls_insecure raises ValueError); certificate errors surface as MqttError at connect since
2.5.
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.5.0", order=17)
