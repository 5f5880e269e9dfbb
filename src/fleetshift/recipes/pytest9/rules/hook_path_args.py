"""py.path hook arguments (path, startdir)

renamed to collection_path/file_path/module_path/start_path (pathlib.Path); .basename->.name,
.ext->.suffix, .purebasename->.stem, .dirname->str(p.parent), .strpath->str(p)
"""

from fleetshift.recipes.pytest9.rules import PY_PATH
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=PY_PATH, order=0)
