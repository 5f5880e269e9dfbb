"""Which file holds a service's pytest settings, what they are, and edits of its keys in either format."""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fleetshift.recipes._pytest_config import ini, toml
from fleetshift.recipes.base import ConfigKind, config_kind

# file name -> rank; lower wins
_PRECEDENCE = {
    "pytest.toml": 0,
    ".pytest.toml": 1,
    "pytest.ini": 2,
    ".pytest.ini": 3,
    "pyproject.toml": 4,
    "tox.ini": 5,
    "setup.cfg": 6,
}
# INI kind -> its pytest section
_INI_SECTION = {"pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}
_TOML = ("pyproject.toml", "pytest.toml")


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PytestConfig:
    """The pytest settings of one file: where they live and their raw values."""

    path: str
    kind: ConfigKind
    section: str  # "pytest", "tool:pytest", "tool.pytest", "tool.pytest.ini_options"
    values: Mapping[str, object] = field(default_factory=dict)

    @property
    def native(self) -> bool:
        """True for pytest 9's typed TOML tables (`[tool.pytest]`, `pytest.toml`)."""
        return self.kind == "pytest.toml" or self.section == "tool.pytest"

    def get(self, key: str) -> object | None:
        return self.values.get(key)

    def args(self, key: str = "addopts") -> list[str]:
        """An args-typed option (addopts) as a token list."""
        value = self.values.get(key)
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):
            try:
                return shlex.split(value)
            except ValueError:
                return value.split()
        return []

    def lines(self, key: str) -> list[str]:
        """A linelist option (filterwarnings, markers) as its entries."""
        value = self.values.get(key)
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):
            return [v.strip() for v in value.splitlines() if v.strip()]
        return []


def sections(path: str, text: str) -> list[str]:
    """The pytest sections present in one config file."""
    return list(_sections(path, text))


@functools.lru_cache(maxsize=256)
def _sections(path: str, text: str) -> tuple[str, ...]:
    """`sections`, worked out once per path and text in a process: every recipe and rule asks it of the same
    config texts, and a recipe's edit makes a new text (a new key)."""
    return tuple(_find_sections(path, text))


def _find_sections(path: str, text: str) -> list[str]:
    kind = config_kind(path)
    if kind in _TOML:
        return toml.sections(kind, text)
    if kind is None:
        return []
    section = _INI_SECTION[kind]
    return [section] if ini.span(text.splitlines(keepends=True), section) else []


@functools.lru_cache(maxsize=256)
def read(path: str, text: str) -> PytestConfig | None:
    """The pytest config in one file, or None when the file has none. Read once per path and text in a process
    (each recipe and rule asks it of the same texts; an edit makes a new text): callers never change it."""
    kind = config_kind(path)
    if kind is None:
        return None
    found = sections(path, text)
    if not found:
        if kind == "pytest.ini":  # active even without a [pytest] section
            return PytestConfig(path, kind, "pytest", {})
        return None
    section = found[0]
    if kind in _TOML:
        return PytestConfig(path, kind, section, toml.values(text, section))
    return PytestConfig(path, kind, section, ini.values(text, section) or {})


def candidates(files: Mapping[str, str], root: str) -> list[PytestConfig]:
    """Every pytest config of a service, the active one first (shallowest folder, then precedence)."""
    prefix = f"{root}/" if root else ""
    found = []
    for path, text in files.items():
        if not path.startswith(prefix) or _name(path) not in _PRECEDENCE:
            continue
        cfg = read(path, text)
        if cfg is not None:
            found.append(cfg)
    found.sort(key=lambda c: (c.path.count("/"), _PRECEDENCE[_name(c.path)]))
    return found


def active(files: Mapping[str, str], root: str) -> PytestConfig | None:
    """The config file pytest uses for a service rooted at `root`, or None when there is none."""
    found = candidates(files, root)
    return found[0] if found else None


def asyncio_mode(cfg: PytestConfig | None) -> str:
    """The effective pytest-asyncio mode: `--asyncio-mode` in addopts, else the key, else strict."""
    if cfg is None:
        return "strict"
    args = cfg.args()
    mode = None
    for i, tok in enumerate(args):
        if tok.startswith("--asyncio-mode="):
            mode = tok.split("=", 1)[1]
        elif tok == "--asyncio-mode" and i + 1 < len(args):
            mode = args[i + 1]
    if mode is None:
        value = cfg.get("asyncio_mode")
        mode = str(value).strip() if value is not None else "strict"
    return mode or "strict"


# ---- editing --------------------------------------------------------------------------------------


def set_key(cfg: PytestConfig, text: str, key: str, value: str) -> str:
    """`text` of cfg's file with `key = value` set in its pytest section (replaced, or added at its end)."""
    edit = toml.set_value if cfg.kind in _TOML else ini.set_value
    return edit(text, cfg.section, key, value)


def new_config(root: str, files: Mapping[str, str]) -> tuple[str, str, PytestConfig]:
    """Where to put pytest settings for a service that has none: pyproject.toml's
    `[tool.pytest.ini_options]` when it has a pyproject.toml, else a new pytest.ini. Returns path, text, cfg."""
    prefix = f"{root}/" if root else ""
    pyproject = f"{prefix}pyproject.toml"
    if pyproject in files:
        text = files[pyproject]
        nl = ini.newline(text)
        sep = "" if not text or text.endswith(nl + nl) else (nl if text.endswith(nl) else nl + nl)
        text = f"{text}{sep}[tool.pytest.ini_options]{nl}"
        return pyproject, text, PytestConfig(pyproject, "pyproject.toml", "tool.pytest.ini_options", {})
    path = f"{prefix}pytest.ini"
    return path, "[pytest]\n", PytestConfig(path, "pytest.ini", "pytest", {})


def filter_lines(cfg: PytestConfig, text: str, key: str, drop: Callable[[str], bool]) -> str:
    """Remove the entries of a linelist option (filterwarnings) for which `drop` is true."""
    edit = toml.filter_values if cfg.kind in _TOML else ini.filter_values
    return edit(text, cfg.section, key, drop)


def sub_args(cfg: PytestConfig, text: str, key: str, pattern: re.Pattern[str], repl: str) -> str:
    """Apply a regex substitution to an args option (addopts), keeping the rest of its text."""

    def fix(s: str) -> str:
        return re.sub(r"[ \t]{2,}", " ", pattern.sub(repl, s)).strip() if pattern.search(s) else s

    edit = toml.sub_value if cfg.kind in _TOML else ini.sub_value
    return edit(text, cfg.section, key, fix)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`, or 0."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    return 0


def is_test_module(path: str) -> bool:
    """pytest's default `python_files`: test_*.py and *_test.py."""
    name = _name(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
