"""pytest configuration for the pytest recipes: find the active config file, read and edit its keys.

pytest reads one config file and never merges (pytest 9 `customize.rst`): `pytest.toml` > `.pytest.toml` >
`pytest.ini` > `.pytest.ini` > `pyproject.toml` (`[tool.pytest]` or `[tool.pytest.ini_options]`) > `tox.ini`
`[pytest]` > `setup.cfg` `[tool:pytest]`. INI files are edited line by line (comments and layout kept),
TOML files with tomlkit. The package also holds the small LibCST and `ast` helpers both pytest recipes share.

Layout: `config` (the active file, its values, key edits in either format), `ini` and `toml` (the two
formats), `fixtures` (shared `ast` helpers), `syntax` (shared LibCST helpers, imported by the rewriters
themselves as `_pytest_config.syntax`). Reading config and the `ast` helpers never import LibCST.
"""

from __future__ import annotations

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

__all__ = [
    "FIXTURE_NAMES",
    "SCOPES",
    "WIDE",
    "PytestConfig",
    "active",
    "ast_fixture_call",
    "asyncio_mode",
    "candidates",
    "filter_lines",
    "ini_lines",
    "is_test_module",
    "line_of",
    "new_config",
    "read",
    "sections",
    "set_key",
    "sub_args",
]
