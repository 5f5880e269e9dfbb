"""pytest 8 -> 9 as data: the changelog links, the py.path -> pathlib tables and every rule."""

from __future__ import annotations

from fleetshift.model import Action
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import Rule

CHANGELOG = "https://docs.pytest.org/en/stable/changelog.html"
DEPRECATIONS = "https://docs.pytest.org/en/stable/deprecations.html"
CUSTOMIZE = "https://docs.pytest.org/en/stable/reference/customize.html"
PY_PATH = f"{DEPRECATIONS}#py-path-local-arguments-for-hooks-replaced-with-pathlib-path"

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


def _r(slug: str, summary: str, action: Action, fix: str, link: str, since: str) -> Rule:
    return Rule(f"pytest/{slug}", summary, action, fix, link, since)


RULES = (
    _r("hook-path-args", "py.path hook arguments (path, startdir)", Action.AUTO,
       "renamed to collection_path/file_path/module_path/start_path (pathlib.Path); .basename->.name, "
       ".ext->.suffix, .purebasename->.stem, .dirname->str(p.parent), .strpath->str(p)", PY_PATH, "9.1"),
    _r("hook-path-args-human", "py.path hook argument used in a way pathlib does not support", Action.HUMAN,
       "the hook argument is removed in pytest 9.1 (PluginValidationError) and its replacement is a "
       "pathlib.Path: port .check()/.join()/.fnmatch()/... to pathlib by hand", PY_PATH, "9.1"),
    _r("from-parent-fspath", "`fspath=` argument of Node.from_parent", Action.AUTO,
       "replaced by path=pathlib.Path(...)", DEPRECATIONS, "9.1"),
    _r("importorskip-exc-type", "pytest.importorskip without exc_type", Action.HUMAN,
       "from pytest 9.1 importorskip skips only on ModuleNotFoundError and fails the test on any other "
       "ImportError; pass exc_type=ImportError to keep the old behaviour or exc_type=ModuleNotFoundError to "
       "accept the new one", DEPRECATIONS, "9.1"),
    _r("removed-in-9-warning", "PytestRemovedIn9Warning referenced", Action.AUTO,
       "filters naming PytestRemovedIn9Warning are deleted: the class no longer exists in pytest 9.1 and a "
       "config filter naming it stops pytest with exit code 4", CHANGELOG, "9.1"),
    _r("removed-in-9-warning-code", "PytestRemovedIn9Warning used in code", Action.HUMAN,
       "pytest.PytestRemovedIn9Warning does not exist from pytest 9.1; remove this reference", CHANGELOG, "9.1"),
    _r("strict-flag", "`--strict` in addopts or tox commands", Action.AUTO,
       "--strict now turns on every strictness option; replaced by --strict-markers (its old meaning)",
       CHANGELOG, "9.0"),
    _r("mark-on-fixture", "a mark applied to a fixture", Action.AUTO,
       "@pytest.mark.asyncio on a fixture is deleted (it never had an effect); pytest 9.0 fails collection",
       DEPRECATIONS, "9.0"),
    _r("mark-on-fixture-human", "a mark with an effect intended on a fixture", Action.HUMAN,
       "marks cannot be applied to fixtures (collection error from pytest 9.0); for usefixtures move the "
       "dependency into the fixture's parameters, otherwise move the mark to the tests", DEPRECATIONS, "9.0"),
    _r("fixture-instance-method", "wider-scoped fixture defined as an instance method", Action.AUTO,
       "@classmethod is inserted below the fixture decorator and self renamed to cls (deprecated in 9.1 for "
       "class scope, 9.2 for module/package/session)", DEPRECATIONS, "9.1"),
    _r("fixture-instance-method-human", "wider-scoped instance-method fixture that uses its instance", Action.HUMAN,
       "the fixture uses self beyond class attributes; make it a @classmethod (below the fixture decorator) or "
       "a module-level fixture by hand", DEPRECATIONS, "9.1"),
    _r("yield-fixture", "pytest.yield_fixture", Action.AUTO, "replaced by pytest.fixture", DEPRECATIONS, "9.2"),
    _r("parametrize-keywords", "positional indirect/ids/scope in parametrize", Action.AUTO,
       "turned into keywords (pytest 9.2 makes them keyword-only: TypeError at collection)", CHANGELOG, "9.2"),
    _r("parametrize-generator", "generator expression as parametrize argvalues", Action.AUTO,
       "turned into a list comprehension (non-Collection iterables are deprecated in 9.1)", DEPRECATIONS, "9.1"),
    _r("python-version", "Python < 3.10 in the support matrix", Action.HUMAN, PY310, CHANGELOG, "9.0"),
    _r("toml-tables", "[tool.pytest] and [tool.pytest.ini_options] together", Action.HUMAN,
       "pytest 9 stops with 'Cannot use both [tool.pytest] and [tool.pytest.ini_options]'; keep one table "
       "(the native [tool.pytest] is typed: addopts must be a list)", CUSTOMIZE, "9.0"),
    _r("inactive-config", "pytest settings in a config file pytest does not read", Action.INFO,
       "pytest reads only the first config file and prints 'ignoring pytest config in ...' from 9.0; merge "
       "the settings into the active file", CUSTOMIZE, "9.0"),
    _r("yield-test", "a test function that yields", Action.HUMAN,
       "yield tests are a collection error since pytest 8.4; use parametrize", CHANGELOG, "8.4"),
    _r("deprecated-9-1", "API deprecated in pytest 9.1 or removed", Action.HUMAN,
       "config.inicfg, --pastebin and pytest.console_main are deprecated in pytest 9.1; use "
       "config.getini(), drop --pastebin, call pytest.main()", DEPRECATIONS, "9.1"),
    _r("doctest-autouse", "wide autouse fixtures in test modules with --doctest-modules", Action.INFO,
       "with --doctest-modules, module/package/session autouse fixtures defined inside test modules may run "
       "twice from pytest 9.1; move them to conftest.py", CHANGELOG, "9.1"),
    _r("collect-duplicates", "overlapping paths on the command line collect once", Action.INFO,
       "`pytest a/ a/b` collects a/ once from 9.0; use --keep-duplicates in CI for the old behaviour",
       CHANGELOG, "9.0"),
    _r("ci-mode", "CI detection", Action.INFO, "CI mode needs a non-empty $CI or $BUILD_NUMBER from 9.0", CHANGELOG,
       "9.0"),
    _r("exit-codes", "usage-error and plugin-import exit codes", Action.INFO,
       "a missing -c path is a usage error and plugin import failures exit 4/3 instead of 1 from 9.2", CHANGELOG,
       "9.2"),
)  # fmt: skip
