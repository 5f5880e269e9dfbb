"""The Python floor, in one place: which Pythons a service supports, which of them a target's releases still
install on (asked of uv, see `fleetshift.resolve`), and what the policy does about the rest.

*raise* moves the floor everywhere it is declared (requires-python, Poetry `python`, python_requires, tox
envlist, CI matrices, classifiers, .python-version, Dockerfile images) as one change with one Finding;
*keep* picks the newest release of the target that still supports the floor, or leaves the service on its
pins with a Finding "blocked by Python 3.X". Default: raise for applications, keep for libraries.
No recipe judges Python versions itself.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fleetshift.model import PythonDecl, PythonModel, Service

DEFAULT_PYTHON = "3.12"  # resolved for when a service says nothing about its Pythons
NEWEST_MINOR = 14


def minor_key(version: str) -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _minor(version: str) -> str:
    major, minor = minor_key(version)
    return f"{major}.{minor}"


def requires_python(text: str, kind: str) -> str | None:
    """`requires-python` (or Poetry's `python`) of a pyproject.toml, `python_requires` of a setup.cfg; None
    when absent or unreadable. Poetry constraints come back as PEP 440 text."""
    try:
        if kind == "pyproject.toml":
            doc = tomllib.loads(text)
            raw = doc.get("project", {}).get("requires-python")
            if raw is None:
                poetry = doc.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
                if isinstance(poetry, str):
                    from fleetshift.manifests import poetry_to_pep440

                    raw = poetry_to_pep440(poetry)
            return raw if isinstance(raw, str) else None
        if kind == "setup.cfg":
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(text)
            return parser.get("options", "python_requires", fallback=None)
    except (tomllib.TOMLDecodeError, configparser.Error, InvalidSpecifier, AttributeError):
        return None
    return None


def declared_model(service: Service, files: Mapping[str, str]) -> PythonModel:
    """The service's Python model: discovery's when it has one, else what its own pyproject.toml / setup.cfg
    say (`files` maps fleet-relative paths to their text)."""
    model = service.project.pythons
    if model.spec or model.versions or model.declarations:
        return model
    base = f"{service.path}/" if service.path else ""
    decls: list[PythonDecl] = []
    spec = ""
    for name, kind in (("pyproject.toml", "pyproject.toml"), ("setup.cfg", "setup.cfg")):
        text = files.get(base + name)
        if text is None:
            continue
        raw = requires_python(text, kind)
        if raw:
            spec = spec or raw
            line = next((i for i, ln in enumerate(text.splitlines(), 1)
                         if re.match(r"\s*(requires-python|python_requires|python)\s*=", ln)), 0)
            decl_kind = "python_requires" if kind == "setup.cfg" else (
                "requires-python" if "requires-python" in text else "poetry")
            written = text.splitlines()[line - 1].split("=", 1)[1].strip().strip("'\"") if line else raw
            decls.append(PythonDecl(base + name, line, decl_kind, written))
        for i, ln in enumerate(text.splitlines(), 1):
            m = re.search(r"Programming Language :: Python :: (\d\.\d+)\b", ln)
            if m:
                decls.append(PythonDecl(base + name, i, "classifier", m.group(1)))
    return PythonModel(spec=spec, declarations=tuple(decls))


def pythons_to_check(model: PythonModel, pinned: str = "") -> list[str]:
    """The Pythons a service still supports and is resolved for: its floor and every version it names."""
    found = {_minor(v) for v in model.versions if minor_key(v) >= (3, 6)}
    floor = model.floor
    if floor and minor_key(floor) >= (3, 6):
        found.add(_minor(floor))
    if model.pinned:
        found.add(_minor(model.pinned))
    if pinned:
        found.add(_minor(pinned))
    if not found:
        found.add(DEFAULT_PYTHON)
    return sorted(found, key=minor_key)


def policy(service: Service, fleet_policy: str, service_policy: str) -> str:
    """"raise" or "keep": the service's own setting, else the fleet's, else raise for applications and keep
    for published libraries."""
    chosen = service_policy or fleet_policy
    if chosen in ("raise", "keep"):
        return chosen
    return "keep" if service.project.is_library else "raise"


# ---- raising the floor where it is declared --------------------------------------------------------


@dataclass(frozen=True)
class FloorEdit:
    """One declaration moved to the new floor: where, what was written, what is written now."""

    file: str
    line: int
    kind: str
    before: str
    after: str  # "" when the entry was removed (a tox env, a matrix entry, a classifier)


_TOX_ENV = re.compile(r"\bpy(?:thon)?(\d)\.?(\d+)\b")
_VERSION = re.compile(r"(?<![\d.])(\d)\.(\d{1,2})(?![\d])")


def _new_spec(spec: str, floor: str) -> str:
    """A requires-python specifier with its lower bound moved up to `floor` (upper bounds kept)."""
    try:
        parts = [str(s) for s in SpecifierSet(spec) if s.operator in ("<", "<=") or (
            s.operator == "!=" and minor_key(s.version) >= minor_key(floor))]
    except InvalidSpecifier:
        parts = []
    return ",".join([f">={floor}", *parts])


def _poetry_spec(value: str, floor: str) -> str:
    v = value.strip()
    if v.startswith("^"):
        return f"^{floor}"
    if v.startswith("~") and not v.startswith("~="):
        return f"~{floor}"
    from fleetshift.manifests import poetry_to_pep440

    try:
        return _new_spec(poetry_to_pep440(v), floor)
    except InvalidSpecifier:
        return f">={floor}"


def raise_floor(texts: dict[str, str], model: PythonModel, floor: str) -> list[FloorEdit]:
    """Move every declaration of `model` below `floor` up to it, editing `texts` in place (line by line,
    nothing else in the file moves). Returns the edits made."""
    edits: list[FloorEdit] = []
    new_key = minor_key(floor)
    by_file: dict[str, list[PythonDecl]] = {}
    for d in model.declarations:
        by_file.setdefault(d.file, []).append(d)
    for file, decls in by_file.items():
        text = texts.get(file)
        if text is None:
            continue
        lines = text.splitlines(keepends=True)
        drop: set[int] = set()
        for d in sorted(decls, key=lambda d: d.line):
            if not 0 < d.line <= len(lines):
                continue
            i = d.line - 1
            line = lines[i]
            before = line.rstrip("\r\n")
            after = before
            if d.kind in ("requires-python", "python_requires"):
                value = d.value.strip().strip("'\"")
                if value and value in line and _admits_below(value, new_key):
                    after = line.replace(value, _new_spec(value, floor), 1).rstrip("\r\n")
            elif d.kind == "poetry":
                value = d.value.strip().strip("'\"")
                if value and value in line and _poetry_admits_below(value, new_key):
                    after = line.replace(value, _poetry_spec(value, floor), 1).rstrip("\r\n")
            elif d.kind == "tox-envlist":
                after = _drop_tox_envs(before, new_key)
            elif d.kind in ("classifier",):
                m = _VERSION.search(before.split("::")[-1]) if "Python ::" in before else None
                if m and (int(m.group(1)), int(m.group(2))) < new_key and before.count("Python ::") <= 1:
                    drop.add(i)
                    edits.append(FloorEdit(file, d.line, d.kind, before.strip(), ""))
                    continue
            elif d.kind in ("github-actions", "gitlab-ci"):
                after = _drop_matrix_entries(before, new_key)
                if after.strip() in ("-", "") and before.strip():
                    drop.add(i)
                    edits.append(FloorEdit(file, d.line, d.kind, before.strip(), ""))
                    continue
            elif d.kind in (".python-version", "dockerfile"):
                m = _VERSION.search(before)
                if m and (int(m.group(1)), int(m.group(2))) < new_key:
                    after = before[: m.start()] + floor + before[m.end():]
            if after != before:
                lines[i] = after + line[len(before):]
                edits.append(FloorEdit(file, d.line, d.kind, before.strip(), after.strip()))
        texts[file] = "".join(ln for j, ln in enumerate(lines) if j not in drop)
    return edits


def _admits_below(spec: str, floor: tuple[int, int]) -> bool:
    try:
        s = SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    return any(s.contains(f"3.{m}.99", prereleases=True) or s.contains(f"3.{m}.0", prereleases=True)
               for m in range(0, floor[1]))


def _poetry_admits_below(value: str, floor: tuple[int, int]) -> bool:
    from fleetshift.manifests import poetry_to_pep440

    try:
        return _admits_below(poetry_to_pep440(value), floor)
    except InvalidSpecifier:
        return False


def _drop_tox_envs(line: str, floor: tuple[int, int]) -> str:
    """An envlist line without the environments of Pythons below `floor` (`py38,py39,py310` -> `py310`)."""
    head, sep, value = line.partition("=") if "=" in line else ("", "", line)
    items = re.split(r"(\s*,\s*|\s+)", value.strip())
    kept: list[str] = []
    for item in items[::2]:
        m = _TOX_ENV.search(item)
        if m and "{" not in item and (int(m.group(1)), int(m.group(2))) < floor:
            continue
        kept.append(item)
    joiner = ", " if ", " in value else ","
    body = joiner.join(k for k in kept if k)
    lead = value[: len(value) - len(value.lstrip())]
    return f"{head}{sep}{lead}{body}" if sep else (line[: len(line) - len(line.lstrip())] + body)


def _drop_matrix_entries(line: str, floor: tuple[int, int]) -> str:
    """A CI matrix line without the Python versions below `floor` (flow lists and `- "3.8"` items)."""
    def old(m: re.Match[str]) -> bool:
        return (int(m.group(1)), int(m.group(2))) < floor

    stripped = line.strip()
    if stripped.startswith("-"):
        m = _VERSION.search(stripped)
        return "" if m and old(m) else line
    if "[" in line and "]" in line:
        start, end = line.index("["), line.rindex("]")
        items = [x for x in line[start + 1 : end].split(",") if x.strip()]
        kept = [x for x in items if not ((m := _VERSION.search(x)) and old(m))]
        inner = ",".join(kept).strip()
        return line[: start + 1] + inner + line[end:]
    return line


def floor_needed(supported: Mapping[str, Sequence[str]], pythons: Sequence[str]) -> str | None:
    """The lowest minor version from which every target installs, given which of `pythons` each target
    installs on (package -> Pythons it resolves for); None when all of `pythons` are fine."""
    failing = [py for py in pythons if any(py not in ok for ok in supported.values())]
    if not failing:
        return None
    worst = max(failing, key=minor_key)
    major, minor = minor_key(worst)
    return f"{major}.{minor + 1}"
