"""pytest configuration for the pytest recipes: find the active config file, read and edit its keys.

pytest reads one config file and never merges (pytest 9 `customize.rst`): `pytest.toml` > `.pytest.toml` >
`pytest.ini` > `.pytest.ini` > `pyproject.toml` (`[tool.pytest]` or `[tool.pytest.ini_options]`) > `tox.ini`
`[pytest]` > `setup.cfg` `[tool:pytest]`. INI files are edited line by line (comments and layout kept),
TOML files with tomlkit. The package also holds the small LibCST and `ast` helpers both pytest recipes share.

Layout: `config` (the active file, its values, key edits in either format), `ini` and `toml` (the two
formats), `fixtures` (shared `ast` helpers), `syntax` (shared LibCST helpers). Reading config and the `ast`
helpers never import LibCST: the `syntax` names are imported on first use.
"""

from __future__ import annotations

from fleetshift.recipes._lazy import lazy_exports
from fleetshift.recipes._pytest_config.config import (
    PytestConfig,
    active,
    asyncio_mode,
    candidates,
    filter_lines,
    is_test_module,
    line_of,
    new_config,
    read,
    sections,
    set_key,
    sub_args,
)
from fleetshift.recipes._pytest_config.fixtures import FIXTURE_NAMES, SCOPES, WIDE, ast_fixture_call
from fleetshift.recipes._pytest_config.ini import ini_lines

_SYNTAX = "fleetshift.recipes._pytest_config.syntax"
__getattr__ = lazy_exports(
    globals(),
    dict.fromkeys(
        (
            "ImportMap",
            "callee",
            "drop_param",
            "fixture_decorator",
            "get_full_name_for_node",
            "is_pytestmark",
            "kwarg",
            "kwarg_string",
            "string_like",
            "string_value",
            "tight_equal",
            "with_kwarg",
            "without_decorator",
        ),
        _SYNTAX,
    ),
)

__all__ = [
    "FIXTURE_NAMES",
    "SCOPES",
    "WIDE",
    "ImportMap",
    "PytestConfig",
    "active",
    "ast_fixture_call",
    "asyncio_mode",
    "callee",
    "candidates",
    "drop_param",
    "filter_lines",
    "fixture_decorator",
    "get_full_name_for_node",
    "ini_lines",
    "is_pytestmark",
    "is_test_module",
    "kwarg",
    "kwarg_string",
    "line_of",
    "new_config",
    "read",
    "sections",
    "set_key",
    "string_like",
    "string_value",
    "sub_args",
    "tight_equal",
    "with_kwarg",
    "without_decorator",
]
