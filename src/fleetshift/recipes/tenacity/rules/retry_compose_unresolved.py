"""a retry composition whose operands could not be resolved

`a | b` / `a & b` raises AttributeError on tenacity 8.4-9.1.4 when an operand is a plain function; write
retry_any(a, b) / retry_all(a, b)
"""

from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="8.4.0", link="https://github.com/jd/tenacity/pull/606", order=9)
