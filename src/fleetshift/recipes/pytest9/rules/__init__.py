"""pytest 8 -> 9: one module per rule, and the data they share (changelog links, py.path -> pathlib tables)."""

from __future__ import annotations

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.rule import discover

RECIPE_ID = "pytest"

CHANGELOG = "https://docs.pytest.org/en/stable/changelog.html"
DEPRECATIONS = "https://docs.pytest.org/en/stable/deprecations.html"
CUSTOMIZE = "https://docs.pytest.org/en/stable/reference/customize.html"
PY_PATH = f"{DEPRECATIONS}#py-path-local-arguments-for-hooks-replaced-with-pathlib-path"
LINK = CHANGELOG

WIDE = pc.WIDE
PY310 = (
    "pytest 9 / pytest-asyncio >=1.3 / python-dotenv >=1.2.2 need Python >=3.10; drop 3.9 from the support matrix "
    "or pin the older versions"
)

# hook name -> (old py.path argument, new pathlib argument)
HOOK_ARGS = {
    "pytest_ignore_collect": ("path", "collection_path"),
    "pytest_collect_file": ("path", "file_path"),
    "pytest_pycollect_makemodule": ("path", "module_path"),
    "pytest_report_header": ("startdir", "start_path"),
    "pytest_report_collectionfinish": ("startdir", "start_path"),
}
# py.path attribute -> pathlib attribute
PATH_ATTRS = {"basename": "name", "ext": "suffix", "purebasename": "stem"}
# py.path method -> pathlib method (called with no arguments)
PATH_METHODS = {
    "exists": "exists",
    "isdir": "is_dir",
    "isfile": "is_file",
    "islink": "is_symlink",
    "read": "read_text",
    "read_text": "read_text",
    "read_bytes": "read_bytes",
}
# calls that accept a py.path or a pathlib.Path alike
PATH_SAFE_CALLS = {"str", "os.fspath", "open", "pathlib.Path", "os.path"}
PARAMETRIZE_KW = ("indirect", "ids", "scope")


# every rule module of this package, in listing order
RULES = tuple(m.rule for m in discover(__name__))
