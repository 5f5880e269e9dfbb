"""Client.force_disconnect() was removed

Leave the `async with` block (or await client.__aexit__(None, None, None)), which forces the
disconnection if needed.
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.0.0", order=13)
