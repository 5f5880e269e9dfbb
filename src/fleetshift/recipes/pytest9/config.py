"""Config rewrites and checks: PytestRemovedIn9Warning filters, `--strict`, `--pastebin`, both pytest TOML
tables, the Python support matrix, and config files pytest does not read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from fleetshift.model import Finding, Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import Recipe, config_kind
from fleetshift.recipes.pytest9.detect import doctest_autouse

_STRICT = re.compile(r"(?<!\S)--strict(?![\w-])")
_W9 = re.compile(r"(?<!\S)(?:-W\s*|--pythonwarnings[=\s]+)\S*PytestRemovedIn9Warning\S*")
# rules whose config sites are also reported as findings when rewriting
# (the Python support matrix is judged once for every recipe, against what uv says each target needs:
# fleetshift.recipes._floors and fleetshift.resolve)
_REPORTED = ("toml-tables", "deprecated-9-1", "removed-in-9-warning", "strict-flag")


def _tox_strict(section: str, line: str) -> bool:
    """A pytest command in a tox testenv that passes `--strict`."""
    return section.startswith("testenv") and "pytest" in line and bool(_STRICT.search(line))


def _pyproject_issues(path: str, text: str) -> Iterable[tuple[int, str, str]]:
    found = pc.sections(path, text)
    if "tool.pytest" in found and "tool.pytest.ini_options" in found:
        yield pc.line_of(text, "[tool.pytest"), "toml-tables", "both pytest tables"


def _ini_issues(kind: str, text: str) -> Iterable[tuple[int, str, str]]:
    for n, section, line in pc.ini_lines(text):
        if kind == "tox.ini" and _tox_strict(section, line):
            yield n, "strict-flag", line


def config_issues(path: str, text: str) -> Iterable[tuple[int, str, str]]:
    """(line, rule slug, detail) of every old setting in one config file."""
    conf = pc.read(path, text)
    if conf is not None:
        for entry in conf.lines("filterwarnings"):
            if "PytestRemovedIn9Warning" in entry:
                yield pc.line_of(text, entry), "removed-in-9-warning", f"filterwarnings {entry}"
        args = conf.args()
        if "--strict" in args:
            yield pc.line_of(text, "--strict"), "strict-flag", "--strict in addopts"
        if any("PytestRemovedIn9Warning" in a for a in args):
            yield pc.line_of(text, "PytestRemovedIn9Warning"), "removed-in-9-warning", "-W in addopts"
        if any(a.startswith("--pastebin") for a in args):
            yield pc.line_of(text, "--pastebin"), "deprecated-9-1", "--pastebin in addopts"
    kind = config_kind(path)
    if kind == "pyproject.toml":
        yield from _pyproject_issues(path, text)
    elif kind in ("setup.cfg", "tox.ini"):
        yield from _ini_issues(kind, text)


def rewrite_config_text(recipe: Recipe, path: str, text: str) -> tuple[str, list[Finding]]:
    """Rewrite one config file: PytestRemovedIn9Warning filters, --strict; findings for the rest."""
    findings: list[Finding] = []
    new = text
    conf = pc.read(path, text)
    if conf is not None:
        new = pc.filter_lines(conf, new, "filterwarnings", lambda e: "PytestRemovedIn9Warning" in e)
        new = pc.sub_args(conf, new, "addopts", _W9, "")
        new = pc.sub_args(conf, new, "addopts", _STRICT, "--strict-markers")
        if conf.native and isinstance(conf.get("addopts"), str):
            findings.append(
                recipe.finding(
                    path,
                    pc.line_of(text, "addopts"),
                    "toml-tables",
                    "the native pytest TOML table is typed: addopts must be a list of "
                    "strings (TypeError otherwise)",
                )
            )
    if config_kind(path) == "tox.ini":
        lines = new.splitlines(keepends=True)
        for i, (_, section, line) in enumerate(pc.ini_lines(new)):
            if _tox_strict(section, line):
                lines[i] = _STRICT.sub("--strict-markers", lines[i])
        new = "".join(lines)
    for line, rule, detail in config_issues(path, new):
        if rule in _REPORTED:
            msg = recipe.rule(rule).fix
            findings.append(
                recipe.finding(path, line, rule, f"{detail}: {msg}" if rule == "python-version" else msg)
            )
    return new, findings


def service_findings(recipe: Recipe, files: Mapping[str, str], root: str) -> list[Finding]:
    """Findings across a service's files: settings in config files pytest does not read, and wide autouse
    fixtures in test modules when the active config turns on --doctest-modules."""
    out: list[Finding] = []
    found = pc.candidates(files, root)
    if not found:
        return out
    act = found[0]
    for other in found[1:]:
        if other.path.rsplit("/", 1)[0] == act.path.rsplit("/", 1)[0] and other.values:
            out.append(
                recipe.finding(
                    other.path,
                    0,
                    "inactive-config",
                    f"pytest reads only {act.path}; the settings in {other.path} are ignored (pytest 9 says "
                    "'ignoring pytest config'): merge them into the active file",
                    Severity.ADVICE,
                )
            )
    if any(a == "--doctest-modules" for a in act.args()):
        out.extend(doctest_autouse(recipe, files))
    return out
