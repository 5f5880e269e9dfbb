"""direct use of aiomqtt's private paho client (client._client)

private paho client access (client._client.<x>) — aiomqtt>=2.2 uses paho CallbackAPIVersion.VERSION2;
check callback signatures / use public Client args.
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.2.0", order=20)
