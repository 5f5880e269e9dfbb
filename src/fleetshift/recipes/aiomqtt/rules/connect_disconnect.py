"""Client.connect()/disconnect() were removed

A connect()/disconnect() pair becomes __aenter__()/__aexit__(None, None, None), or `async with client:`
around try/finally.
"""

from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="2.0.0", link=GUIDE, order=8)
