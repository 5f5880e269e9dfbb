"""MqttCodeError.rc is a paho ReasonCode with MQTT5 numbering

MqttCodeError.rc is a paho ReasonCode (MQTT5 numbering: 135 Not authorized, 134 Bad user name or
password, 128 Unspecified) since aiomqtt 2.2; compare rc.value / rc.getName() or use rc.is_failure.
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.2.0", order=15)
