"""Python < 3.10 in the support matrix

pytest 9 / pytest-asyncio >=1.3 / python-dotenv >=1.2.2 need Python >=3.10; drop 3.9 from the support
matrix or pin the older versions
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="9.0", order=14)
