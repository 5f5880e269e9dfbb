"""Reading pins from every manifest format, and editing them without touching any other byte."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement
from packaging.specifiers import SpecifierSet

from fleetshift.manifests import (
    apply_pin_changes,
    installed_with_tests,
    is_minimum_pins,
    manifest_kind,
    poetry_to_pep440,
    read_manifest,
)
from fleetshift.manifests.dockerfile import dockerfiles, edit_dockerfile, read_dockerfile
from fleetshift.model import Finding, Manifest, ManifestKind, Severity
from fleetshift.recipes.base import PinChange

REQ, PYP, CFG, PIP = (
    ManifestKind.REQUIREMENTS,
    ManifestKind.PYPROJECT,
    ManifestKind.SETUP_CFG,
    ManifestKind.PIPFILE,
)
MQTT = PinChange("asyncio-mqtt", "aiomqtt", ">=2.3,<3")
TEN = PinChange("tenacity", "tenacity", ">=9.1.2,<10")
DROP = PinChange("pytest-dotenv", "pytest-dotenv", None, remove=True)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body if isinstance(body, bytes) else body.encode())


def read(tmp_path: Path, rel: str, body: str | bytes, **more: str) -> tuple[Manifest, list[Finding]]:
    write(tmp_path, {rel: body, **more})
    return read_manifest(tmp_path, rel)


def pins(m: Manifest) -> list[tuple[str, str, int, str]]:
    return [(p.package, p.spec, p.line, p.section) for p in m.pins]


def changed_lines(before: str, after: str) -> list[str]:
    """The lines that differ (removed '-', added '+'), so a test can state that nothing else moved."""
    diff = difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True))
    return [d.rstrip("\r\n") for d in diff if d[:1] in "+-"]


# ---- manifest_kind --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("requirements.txt", REQ),
        ("svc/requirements-dev.txt", REQ),
        ("svc/dev-requirements.txt", REQ),
        ("svc/requirements/base.txt", REQ),
        ("svc/constraints.txt", REQ),
        ("svc/constraints-py311.txt", REQ),
        ("svc/requirements.in", REQ),
        ("svc/pyproject.toml", PYP),
        ("svc/setup.cfg", CFG),
        ("svc/Pipfile", PIP),
        ("svc/Pipfile.lock", None),
        ("svc/notes.txt", None),
        ("svc/requirements.py", None),
        ("svc/poetry.lock", None),
        ("svc/deploy/provisioning/requirements/base.txt", REQ),
        ("svc/reqs/prod.txt", REQ),
        ("svc/install-min.txt", REQ),
        ("svc/ci/min-deps.txt", REQ),
        ("svc/minimum-versions.txt", REQ),
        ("svc/admin.txt", None),
        ("svc/terminal.txt", None),
        ("svc/MANIFEST.in", None),
    ],
)
def test_manifest_kind(name: str, kind: ManifestKind | None) -> None:
    assert manifest_kind(name) == kind


@pytest.mark.parametrize(
    ("name", "minimum", "installed"),
    [
        ("svc/requirements.txt", False, True),
        ("svc/requirements/test.txt", False, True),
        ("svc/constraints.txt", False, True),
        ("svc/install-min.txt", True, False),
        ("svc/requirements-min.txt", True, False),
        ("svc/requirements/minimum.txt", True, False),
        ("svc/docker/requirements.txt", False, False),
        ("svc/deploy/provisioning/requirements/base.txt", False, False),
    ],
)
def test_minimum_pins_and_what_the_tests_install(name: str, minimum: bool, installed: bool) -> None:
    assert is_minimum_pins(name) is minimum
    assert installed_with_tests(name, "svc") is installed


# ---- Dockerfile `pip install` lines ---------------------------------------------------------------

DOCKERFILE = """\
FROM python:3.11-slim
ARG INFLUX=1.39.0
RUN pip install --no-cache-dir -r /tmp/requirements.txt
RUN pip install --no-cache-dir "influxdb-client==1.39.0" python-dotenv==1.0.1 \\
    && python -m pip install -U pip \\
    && pip3 install -i https://pypi.org/simple tenacity==8.2.3 ./wheels/x.whl; echo done
RUN pip install "influxdb-client[ciso]==${INFLUX}" && echo tenacity==8.2.3
"""


def test_dockerfile_pins_are_read() -> None:
    got = [(p.package, p.spec, p.line) for p in read_dockerfile("Dockerfile", DOCKERFILE)]
    assert got == [("influxdb-client", "==1.39.0", 4), ("python-dotenv", "==1.0.1", 4), ("pip", "", 5),
                   ("tenacity", "==8.2.3", 6)]


def test_dockerfile_edit_moves_pins_and_reports_build_arguments() -> None:
    changes = [
        PinChange("influxdb-client", "influxdb3-python", ">=0.17,<1", resolved="0.21.0"),
        PinChange("tenacity", "tenacity", ">=9.1.2,<10", resolved="9.2.1"),
        PinChange("python-dotenv", "python-dotenv", ">=1.2.1,<2"),
    ]
    new, findings = edit_dockerfile("Dockerfile", DOCKERFILE, changes)
    assert changed_lines(DOCKERFILE, new) == [
        '- RUN pip install --no-cache-dir "influxdb-client==1.39.0" python-dotenv==1.0.1 \\',
        '+ RUN pip install --no-cache-dir "influxdb3-python==0.21.0" "python-dotenv>=1.2.1,<2" \\',
        "-     && pip3 install -i https://pypi.org/simple tenacity==8.2.3 ./wheels/x.whl; echo done",
        "+     && pip3 install -i https://pypi.org/simple tenacity==9.2.1 ./wheels/x.whl; echo done",
    ]
    assert [(f.line, f.rule) for f in findings] == [(7, "manifest/cannot-edit")]
    assert "build argument" in findings[0].message
    assert edit_dockerfile("Dockerfile", new, changes[1:2]) == (new, [])  # idempotent



def test_dockerfiles_of_a_service_are_found_three_folders_down_in_walk_order(tmp_path: Path) -> None:
    svc = tmp_path / "svc"
    for rel in ("Dockerfile", "b/Dockerfile.prod", "a/api.dockerfile", "a/x/y/Containerfile", "a/x/y/z/Dockerfile",
                ".git/Dockerfile", "node_modules/Dockerfile", "a/readme.md", "b/Dockerfile.prod.bak/Dockerfile"):
        (svc / rel).parent.mkdir(parents=True, exist_ok=True)
        if not (svc / rel).exists():
            (svc / rel).write_text("FROM python:3.12\n")
    (svc / "c").symlink_to(svc / "b")  # a link to a folder is not followed
    assert dockerfiles(tmp_path, "svc") == ["svc/Dockerfile", "svc/a/api.dockerfile", "svc/a/x/y/Containerfile",
                                            "svc/b/Dockerfile.prod", "svc/b/Dockerfile.prod.bak/Dockerfile"]
    assert dockerfiles(svc, "") == ["Dockerfile", "a/api.dockerfile", "a/x/y/Containerfile", "b/Dockerfile.prod",
                                    "b/Dockerfile.prod.bak/Dockerfile"]
    assert dockerfiles(tmp_path, "missing") == []


# ---- requirements: reading ------------------------------------------------------------------------

REQS = """\
# web stack
--index-url https://pypi.org/simple
--extra-index-url=https://example.org/simple

-r base.txt
--requirement requirements/extra.txt
-c ../constraints.txt
requests[socks,security] >= 2.31, <3 ; python_version < "3.12"  # trailing comment
asyncio-mqtt==0.16.1 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
Tenacity_Pkg (==8.2.3)
-e ../libs/common
-e .
./vendor/thing
uvicorn[standard]~=0.30
shared @ file:///FLEET/libs/shared
gitdep @ git+https://github.com/o/gitdep.git@v1
git+https://github.com/o/other.git@main#egg=Other_Pkg
https://files.example.org/pkgs/wheelie-1.0-py3-none-any.whl
"""


def test_requirements_read_everything(tmp_path: Path) -> None:
    files = {
        "svc/base.txt": "six\n",
        "svc/requirements/extra.txt": "",
        "constraints.txt": "",
        "libs/common/pyproject.toml": '[project]\nname = "Home_IQ.Common"\n',
        "libs/shared/setup.cfg": "[metadata]\nname = shared-lib\n",
        "svc/pyproject.toml": '[tool.poetry]\nname = "svc-a"\n',
    }
    m, findings = read(tmp_path, "svc/requirements.txt", REQS.replace("/FLEET", str(tmp_path)), **files)
    assert findings == []
    assert m.kind == REQ
    assert m.includes == ("svc/base.txt", "svc/requirements/extra.txt", "constraints.txt")
    by = {p.package: p for p in m.pins}
    assert pins(m)[:3] == [
        ("requests", ">=2.31,<3", 8, ""),
        ("asyncio-mqtt", "==0.16.1", 9, ""),
        ("tenacity-pkg", "==8.2.3", 12, ""),
    ]
    r = by["requests"]
    assert (r.extras, r.marker, r.raw) == (
        ("security", "socks"),
        'python_version < "3.12"',
        'requests[socks,security] >= 2.31, <3 ; python_version < "3.12"',
    )
    assert by["asyncio-mqtt"].hashes == ("sha256:aaaa", "sha256:bbbb")
    assert (by["home-iq-common"].path, by["home-iq-common"].editable, by["home-iq-common"].line) == (
        "libs/common",
        True,
        13,
    )
    assert (by["svc-a"].path, by["svc-a"].editable) == ("svc", True)
    assert (by["thing"].path, by["thing"].editable) == ("svc/vendor/thing", False)
    assert by["uvicorn"].spec == "~=0.30" and by["uvicorn"].extras == ("standard",)
    assert by["shared"].path == "libs/shared"  # absolute file: URL inside the fleet becomes fleet-relative
    assert by["gitdep"].path == "git+https://github.com/o/gitdep.git@v1" and by["gitdep"].spec == ""
    assert by["other-pkg"].path.startswith("git+https://")
    assert by["wheelie"].path.endswith(".whl")
    assert all(p.file == "svc/requirements.txt" and p.section == "" for p in m.pins)


def test_requirements_local_name_falls_back_to_setup_cfg_and_folder(tmp_path: Path) -> None:
    body = "-e libs/a\n-e libs/b\nlibs/c/\n"
    files = {"libs/a/setup.cfg": "[metadata]\nname = Alpha_Lib\n", "libs/b/pyproject.toml": "[tool.black]\n"}
    m, findings = read(tmp_path, "requirements.txt", body, **files)
    assert findings == []
    assert [(p.package, p.path) for p in m.pins] == [
        ("alpha-lib", "libs/a"),
        ("b", "libs/b"),
        ("c", "libs/c"),
    ]


@pytest.mark.parametrize(
    ("body", "rule", "line", "survivors"),
    [
        ("ok==1\nthis is not a req\nalso-ok\n", "manifest/unparseable-requirement", 2, ["ok", "also-ok"]),
        ("ok==1\nbad=>1\n", "manifest/unparseable-requirement", 2, ["ok"]),
        ("ok==1\nrequests>=2 ; python_version <\n", "manifest/unparseable-requirement", 2, ["ok"]),
        ("-r missing.txt\nok==1\n", "manifest/missing-include", 1, ["ok"]),
        ("-c nothere/c.txt\nok==1\n", "manifest/missing-include", 1, ["ok"]),
        ("--frobnicate\nok==1\n", "manifest/unknown-option", 1, ["ok"]),
        ("-r https://example.org/r.txt\nok==1\n", "manifest/remote-include", 1, ["ok"]),
    ],
)
def test_requirements_malformed(
    tmp_path: Path, body: str, rule: str, line: int, survivors: list[str]
) -> None:
    m, findings = read(tmp_path, "requirements.txt", body)
    assert [p.package for p in m.pins] == survivors
    assert [(f.rule, f.line, f.severity) for f in findings] == [(rule, line, Severity.ERROR)]
    assert f"requirements.txt:{line}" in findings[0].message


def test_requirements_encodings(tmp_path: Path) -> None:
    m, findings = read(tmp_path, "a/requirements.txt", b"\xef\xbb\xbftenacity==8.2.3\r\nasyncio-mqtt\r\n")
    assert findings == [] and pins(m) == [("tenacity", "==8.2.3", 1, ""), ("asyncio-mqtt", "", 2, "")]
    m, findings = read(tmp_path, "b/requirements.txt", b"# caf\xe9 latin-1\ntenacity==8.2.3\n")
    assert pins(m) == [("tenacity", "==8.2.3", 2, "")]
    assert [(f.rule, f.line) for f in findings] == [("manifest/encoding", 1)]
    assert "UTF-8" in findings[0].message


def test_read_missing_file_is_a_finding(tmp_path: Path) -> None:
    m, findings = read_manifest(tmp_path, "nope/requirements.txt")
    assert m.pins == () and [f.rule for f in findings] == ["manifest/unreadable"]


def test_continuations_and_comments(tmp_path: Path) -> None:
    body = "a==1 \\\n  ; python_version > '3'\n# b==2 \\\nc==3  # x==9\n  d \\\n>=4\n"
    m, findings = read(tmp_path, "requirements.txt", body)
    assert findings == []
    assert pins(m) == [("a", "==1", 1, ""), ("c", "==3", 4, ""), ("d", ">=4", 5, "")]
    assert m.pins[0].marker == 'python_version > "3"'


# ---- requirements: editing ------------------------------------------------------------------------

EDIT_REQS = """\
# mqtt client
asyncio-mqtt[extra]==0.16.1 ; python_version >= "3.8"  # pinned for broker v1
  tenacity>=8,<9   # retries
pytest-dotenv==0.5.2 \\
    --hash=sha256:aaaa
# keep me
paho-mqtt==1.6.1
-e ../libs/tenacity
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_requirements_edit(newline: str) -> None:
    before = EDIT_REQS.replace("\n", newline)
    after, findings = apply_pin_changes("svc/requirements.txt", before, REQ, [MQTT, TEN, DROP])
    assert changed_lines(before, after) == [
        '- asyncio-mqtt[extra]==0.16.1 ; python_version >= "3.8"  # pinned for broker v1',
        '+ aiomqtt>=2.3,<3 ; python_version >= "3.8"  # pinned for broker v1',
        "-   tenacity>=8,<9   # retries",
        "+   tenacity>=9.1.2,<10   # retries",
        "- pytest-dotenv==0.5.2 \\",
        "-     --hash=sha256:aaaa",
    ]
    assert after.count("\r\n") == after.count("\n") if newline == "\r\n" else "\r" not in after
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("manifest/dropped-extras", 2, Severity.HUMAN),
        ("manifest/unmanaged-pin", 8, Severity.HUMAN),
    ]
    again, _ = apply_pin_changes("svc/requirements.txt", after, REQ, [MQTT, TEN, DROP])
    assert again == after


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        ("tenacity==8.2.3\n", TEN, "tenacity>=9.1.2,<10\n"),
        ("Tenacity==8.2.3\n", TEN, "Tenacity>=9.1.2,<10\n"),
        ("tenacity\n", TEN, "tenacity>=9.1.2,<10\n"),
        ("tenacity[doc]==8.2.3;python_version<'4'\n", TEN, "tenacity[doc]>=9.1.2,<10;python_version<'4'\n"),
        ("tenacity >= 9.1.2, < 10\n", TEN, "tenacity >= 9.1.2, < 10\n"),  # same spec: untouched
        ("tenacity==8.2.3\n", PinChange("tenacity", "tenacity", "9.1.2"), "tenacity==9.1.2\n"),
        ("tenacity==8.2.3\n", PinChange("tenacity", "tenacity", ""), "tenacity\n"),
        ("asyncio_mqtt==0.16.1\n", MQTT, "aiomqtt>=2.3,<3\n"),
        ("asyncio-mqtt==0.16\n", PinChange("asyncio-mqtt", "aiomqtt", None), "aiomqtt==0.16\n"),
        ("asyncio-mqtt==0.16\naiomqtt==2.0\n", MQTT, "aiomqtt>=2.3,<3\n"),
        ("a==1\n# about b\nb==2\nc==3", PinChange("b", "b", None, remove=True), "a==1\n# about b\nc==3"),
        ("a==1\nc==3", PinChange("c", "c", None, remove=True), "a==1\n"),
        ("other==1\n", TEN, "other==1\n"),
        ("-e ./tenacity\n", TEN, "-e ./tenacity\n"),
        ("tenacity @ git+https://x/t.git\n", TEN, "tenacity @ git+https://x/t.git\n"),
        ("\ufefftenacity==8\n", TEN, "\ufefftenacity>=9.1.2,<10\n"),
    ],
)
def test_requirements_edit_cases(before: str, change: PinChange, after: str) -> None:
    out, _ = apply_pin_changes("requirements.txt", before, REQ, [change])
    assert out == after
    assert apply_pin_changes("requirements.txt", out, REQ, [change])[0] == out


def test_requirements_edit_hash_is_stale() -> None:
    before = "tenacity==8.2.3 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\nzzz==1\n"
    after, findings = apply_pin_changes("r.txt", before, REQ, [TEN])
    assert after == before.replace("tenacity==8.2.3", "tenacity>=9.1.2,<10", 1)
    assert [(f.rule, f.line, f.severity) for f in findings] == [("manifest/stale-hash", 1, Severity.HUMAN)]
    assert "pip-compile --generate-hashes" in findings[0].message


def test_requirements_split_requirement_is_left_with_finding() -> None:
    before = "tenacity \\\n  ==8.2.3\n"
    after, findings = apply_pin_changes("r.txt", before, REQ, [TEN])
    assert after == before and [f.rule for f in findings] == ["manifest/cannot-edit"]


# ---- pyproject.toml: PEP 621 / PEP 735 ----------------------------------------------------------------

PEP621 = """\
[build-system]
requires = ["hatchling"]

[project]
name = "svc"
dependencies = [
    # broker
    "asyncio-mqtt[x]==0.16.1",  # old client
    'tenacity>=8,<9; python_version >= "3.8"',
    "pytest-dotenv==0.5.2",
    "-e nonsense",
]

[project.optional-dependencies]
test = ["pytest-asyncio==0.23.8", "tenacity==8.2.3"]
local = ["svc-lib @ file:///opt/libs/svc-lib"]

[dependency-groups]
dev = [
    {include-group = "test"},
    "tenacity ~= 8.2",
]
"""


def test_pyproject_pep621_read(tmp_path: Path) -> None:
    m, findings = read(tmp_path, "svc/pyproject.toml", PEP621)
    assert m.kind == PYP
    assert pins(m) == [
        ("asyncio-mqtt", "==0.16.1", 8, "dependencies"),
        ("tenacity", ">=8,<9", 9, "dependencies"),
        ("pytest-dotenv", "==0.5.2", 10, "dependencies"),
        ("pytest-asyncio", "==0.23.8", 15, "optional:test"),
        ("tenacity", "==8.2.3", 15, "optional:test"),
        ("svc-lib", "", 16, "optional:local"),
        ("tenacity", "~=8.2", 21, "group:dev"),
    ]
    assert m.pins[1].marker == 'python_version >= "3.8"'
    assert m.pins[5].path == "/opt/libs/svc-lib"
    # a path dependency outside the fleet root is reported, never read
    assert [(f.rule, f.line) for f in findings] == [("manifest/unparseable-requirement", 11), ("manifest/outside-fleet", 16)]


def test_pyproject_pep621_edit() -> None:
    after, findings = apply_pin_changes("svc/pyproject.toml", PEP621, PYP, [MQTT, TEN, DROP])
    assert changed_lines(PEP621, after) == [
        '-     "asyncio-mqtt[x]==0.16.1",  # old client',
        '+     "aiomqtt>=2.3,<3",  # old client',
        "-     'tenacity>=8,<9; python_version >= \"3.8\"',",
        "+     'tenacity>=9.1.2,<10; python_version >= \"3.8\"',",
        '-     "pytest-dotenv==0.5.2",',
        '- test = ["pytest-asyncio==0.23.8", "tenacity==8.2.3"]',
        '+ test = ["pytest-asyncio==0.23.8", "tenacity>=9.1.2,<10"]',
        '-     "tenacity ~= 8.2",',
        '+     "tenacity>=9.1.2,<10",',
    ]
    assert [(f.rule, f.line) for f in findings] == [("manifest/dropped-extras", 8)]
    assert apply_pin_changes("svc/pyproject.toml", after, PYP, [MQTT, TEN, DROP])[0] == after


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        (
            '[project]\ndependencies = ["a", "tenacity==8"]\n',
            TEN,
            '[project]\ndependencies = ["a", "tenacity>=9.1.2,<10"]\n',
        ),
        (
            "[project]\ndependencies = ['tenacity==8']\r\n",
            TEN,
            "[project]\ndependencies = ['tenacity>=9.1.2,<10']\r\n",
        ),
        ('[project]\r\ndependencies = [\r\n  "a",\r\n  "tenacity",\r\n]\r\n', DROP, None),
        (
            '[project]\r\ndependencies = [\r\n  "a",\r\n  "pytest-dotenv",\r\n]\r\n',
            DROP,
            '[project]\r\ndependencies = [\r\n  "a",\r\n]\r\n',
        ),
        (
            '[project]\ndependencies = ["asyncio-mqtt", "aiomqtt==2.0"]\n',
            MQTT,
            '[project]\ndependencies = ["aiomqtt>=2.3,<3"]\n',
        ),
        (
            '\ufeff[project]\ndependencies = ["tenacity"]\n',
            TEN,
            '\ufeff[project]\ndependencies = ["tenacity>=9.1.2,<10"]\n',
        ),
        ('[project]\ndependencies = ["tenacity @ git+https://x/t"]\n', TEN, None),
    ],
)
def test_pyproject_edit_cases(before: str, change: PinChange, after: str | None) -> None:
    out, _ = apply_pin_changes("pyproject.toml", before, PYP, [change])
    assert out == (before if after is None else after)
    assert apply_pin_changes("pyproject.toml", out, PYP, [change])[0] == out


@pytest.mark.parametrize(
    ("body", "line"),
    [("[project]\ndependencies = [\n  'a',\n  b\n]\n", 4), ("[project\n", 1), ("a = 1\na = 2\n", 2)],
)
def test_pyproject_invalid_toml(tmp_path: Path, body: str, line: int) -> None:
    m, findings = read(tmp_path, "pyproject.toml", body)
    assert m.pins == ()
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("manifest/invalid-toml", line, Severity.ERROR)
    ]
    out, edit_findings = apply_pin_changes("pyproject.toml", body, PYP, [TEN])
    assert out == body and [f.rule for f in edit_findings] == ["manifest/invalid-toml"]


# ---- pyproject.toml: Poetry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("poetry", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^1", ">=1,<2"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~=1.2", "~=1.2"),
        ("1.2.*", "==1.2.*"),
        ("1.2.3", "==1.2.3"),
        ("*", ""),
        ("", ""),
        (">= 1.2, < 2.0", ">=1.2,<2.0"),
        (">=1.2 <2.0", ">=1.2,<2.0"),
        ("==8.2.3", "==8.2.3"),
        ("!=1.5", "!=1.5"),
    ],
)
def test_poetry_constraints(poetry: str, pep440: str) -> None:
    assert poetry_to_pep440(poetry) == pep440
    SpecifierSet(pep440)


POETRY = """\
[tool.poetry]
name = "ha-sim"

[tool.poetry.dependencies]
python = "^3.11"
asyncio-mqtt = "^0.16"  # broker
tenacity = { version = "^8.2", extras = ["doc"], markers = "sys_platform == 'linux'" }
"pytest-dotenv" = '*'
homeiq-common = { path = "../../libs/homeiq-common", develop = true }
gitlib = { git = "https://github.com/o/gitlib.git", tag = "v1" }
multi = [
    { version = "^1.0", python = "<3.12" },
    { version = "^2.0", python = ">=3.12" },
]

[tool.poetry.group.dev.dependencies]
tenacity = "~8.2"
pytest-asyncio = "0.23.8"

[tool.poetry.dev-dependencies]
asyncio-mqtt = ">=0.16,<0.17"

[tool.poetry.dependencies.influxdb-client]
version = "^1.40"
"""


def test_poetry_read(tmp_path: Path) -> None:
    m, findings = read(tmp_path, "services/ha-sim/pyproject.toml", POETRY)
    assert findings == []
    assert pins(m) == [
        ("asyncio-mqtt", ">=0.16,<0.17", 6, "dependencies"),
        ("tenacity", ">=8.2,<9.0", 7, "dependencies"),
        ("pytest-dotenv", "", 8, "dependencies"),
        ("homeiq-common", "", 9, "dependencies"),
        ("gitlib", "", 10, "dependencies"),
        ("multi", ">=1.0,<2.0", 11, "dependencies"),
        ("multi", ">=2.0,<3.0", 11, "dependencies"),
        ("tenacity", ">=8.2,<8.3", 17, "group:dev"),
        ("pytest-asyncio", "==0.23.8", 18, "group:dev"),
        ("asyncio-mqtt", ">=0.16,<0.17", 21, "group:dev"),
        ("influxdb-client", ">=1.40,<2.0", 23, "dependencies"),
    ]
    by = {(p.package, p.line): p for p in m.pins}
    assert by["tenacity", 7].extras == ("doc",) and by["tenacity", 7].marker == "sys_platform == 'linux'"
    lib = by["homeiq-common", 9]
    assert (lib.path, lib.editable) == ("libs/homeiq-common", True)
    assert by["gitlib", 10].path == "https://github.com/o/gitlib.git"
    assert [p.marker for p in m.pins if p.package == "multi"] == [
        'python_version < "3.12"',
        'python_version >= "3.12"',
    ]


def test_poetry_edit() -> None:
    after, findings = apply_pin_changes("pyproject.toml", POETRY, PYP, [MQTT, TEN, DROP])
    assert changed_lines(POETRY, after) == [
        '- asyncio-mqtt = "^0.16"  # broker',
        '+ aiomqtt = ">=2.3,<3"  # broker',
        '- tenacity = { version = "^8.2", extras = ["doc"], markers = "sys_platform == \'linux\'" }',
        '+ tenacity = { version = ">=9.1.2,<10", extras = ["doc"], markers = "sys_platform == \'linux\'" }',
        "- \"pytest-dotenv\" = '*'",
        '- tenacity = "~8.2"',
        '+ tenacity = ">=9.1.2,<10"',
        '- asyncio-mqtt = ">=0.16,<0.17"',
        '+ aiomqtt = ">=2.3,<3"',
    ]
    assert findings == []
    assert apply_pin_changes("pyproject.toml", after, PYP, [MQTT, TEN, DROP])[0] == after


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (PinChange("homeiq-common", "homeiq-common", ">=2"), "manifest/unmanaged-pin"),
        (PinChange("multi", "multi", ">=3"), "manifest/cannot-edit"),
        (PinChange("influxdb-client", "influxdb3-python", ">=0.10"), "manifest/cannot-edit"),
    ],
)
def test_poetry_edit_refused(change: PinChange, rule: str) -> None:
    after, findings = apply_pin_changes("pyproject.toml", POETRY, PYP, [change])
    assert after == POETRY and [f.rule for f in findings] == [rule]


def test_poetry_table_form_spec_and_renamed_extras() -> None:
    before = '[tool.poetry.dependencies]\nasyncio-mqtt = {version = "^0.16", extras = ["x"]}\n'
    after, findings = apply_pin_changes("pyproject.toml", before, PYP, [MQTT])
    assert after == '[tool.poetry.dependencies]\naiomqtt = {version = ">=2.3,<3" }\n'
    assert [f.rule for f in findings] == ["manifest/dropped-extras"]
    table = '[tool.poetry.dependencies.influxdb-client]\nversion = "^1.40"  # keep\n'
    out, _ = apply_pin_changes(
        "pyproject.toml", table, PYP, [PinChange("influxdb-client", "influxdb-client", "==1.48.0")]
    )
    assert out == '[tool.poetry.dependencies.influxdb-client]\nversion = "==1.48.0"  # keep\n'


def test_poetry_bad_constraint(tmp_path: Path) -> None:
    body = '[tool.poetry.dependencies]\nok = "^1"\nweird = "^1.0 || ^2.0"\nbad = "~~1"\n'
    m, findings = read(tmp_path, "pyproject.toml", body)
    assert pins(m) == [("ok", ">=1,<2", 2, "dependencies")]
    assert [(f.rule, f.line) for f in findings] == [
        ("manifest/bad-constraint", 3),
        ("manifest/bad-constraint", 4),
    ]


# ---- Pipfile --------------------------------------------------------------------------------------------

PIPFILE = """\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
asyncio-mqtt = "==0.16.1"
tenacity = {version = ">=8,<9", extras = ["doc"]}
requests = "*"
mylib = {path = "./libs/mylib", editable = true}
Influxdb_Client = {version = "1.40.0", sys_platform = "== 'linux'"}

[dev-packages]
tenacity = "*"
pytest-dotenv = "==0.5.2"  # dotenv

[requires]
python_version = "3.11"
"""


def test_pipfile_read(tmp_path: Path) -> None:
    m, findings = read(tmp_path, "svc/Pipfile", PIPFILE)
    assert findings == []
    assert pins(m) == [
        ("asyncio-mqtt", "==0.16.1", 7, "packages"),
        ("tenacity", ">=8,<9", 8, "packages"),
        ("requests", "", 9, "packages"),
        ("mylib", "", 10, "packages"),
        ("influxdb-client", "==1.40.0", 11, "packages"),
        ("tenacity", "", 14, "dev-packages"),
        ("pytest-dotenv", "==0.5.2", 15, "dev-packages"),
    ]
    assert m.pins[1].extras == ("doc",)
    assert (m.pins[3].path, m.pins[3].editable) == ("svc/libs/mylib", True)
    assert m.pins[4].marker == "sys_platform == 'linux'"


def test_pipfile_edit() -> None:
    after, findings = apply_pin_changes("Pipfile", PIPFILE, PIP, [MQTT, TEN, DROP])
    assert changed_lines(PIPFILE, after) == [
        '- asyncio-mqtt = "==0.16.1"',
        '+ aiomqtt = ">=2.3,<3"',
        '- tenacity = {version = ">=8,<9", extras = ["doc"]}',
        '+ tenacity = {version = ">=9.1.2,<10", extras = ["doc"]}',
        '+ tenacity = ">=9.1.2,<10"',
        '- tenacity = "*"',
        '- pytest-dotenv = "==0.5.2"  # dotenv',
    ]
    assert findings == []
    assert apply_pin_changes("Pipfile", after, PIP, [MQTT, TEN, DROP])[0] == after
    crlf = PIPFILE.replace("\n", "\r\n")
    assert apply_pin_changes("Pipfile", crlf, PIP, [MQTT, TEN, DROP])[0] == after.replace("\n", "\r\n")


# ---- setup.cfg ------------------------------------------------------------------------------------------

SETUP_CFG = """\
[metadata]
name = svc
install_requires = not-a-dep

[options]
packages = find:
install_requires =
    # runtime
    asyncio-mqtt>=0.16,<0.17  # broker
    tenacity[doc]==8.2.3; python_version >= "3.8"

    pytest-dotenv
setup_requires = setuptools_scm>=8
tests_require =
    tenacity==8.2.3
    -not a requirement

[options.extras_require]
test =
    pytest-asyncio==0.23.8
    tenacity>=8
docs = file: docs-requirements.txt

[options.packages.find]
where = src
"""


def test_setup_cfg_read(tmp_path: Path) -> None:
    m, findings = read(tmp_path, "svc/setup.cfg", SETUP_CFG)
    assert pins(m) == [
        ("asyncio-mqtt", ">=0.16,<0.17", 9, "dependencies"),
        ("tenacity", "==8.2.3", 10, "dependencies"),
        ("pytest-dotenv", "", 12, "dependencies"),
        ("setuptools-scm", ">=8", 13, "setup_requires"),
        ("tenacity", "==8.2.3", 15, "tests_require"),
        ("pytest-asyncio", "==0.23.8", 20, "extra:test"),
        ("tenacity", ">=8", 21, "extra:test"),
    ]
    assert m.pins[1].extras == ("doc",) and m.pins[1].marker == 'python_version >= "3.8"'
    assert m.includes == ("svc/docs-requirements.txt",)
    assert [(f.rule, f.line) for f in findings] == [
        ("manifest/unparseable-requirement", 16),
        ("manifest/missing-include", 22),
    ]


def test_setup_cfg_edit() -> None:
    for newline in ("\n", "\r\n"):
        before = SETUP_CFG.replace("\n", newline)
        after, findings = apply_pin_changes("setup.cfg", before, CFG, [MQTT, TEN, DROP])
        assert changed_lines(before, after) == [
            "-     asyncio-mqtt>=0.16,<0.17  # broker",
            "+     aiomqtt>=2.3,<3  # broker",
            '-     tenacity[doc]==8.2.3; python_version >= "3.8"',
            '+     tenacity[doc]>=9.1.2,<10; python_version >= "3.8"',
            "-     pytest-dotenv",
            "-     tenacity==8.2.3",
            "+     tenacity>=9.1.2,<10",
            "-     tenacity>=8",
            "+     tenacity>=9.1.2,<10",
        ]
        assert findings == []
        assert apply_pin_changes("setup.cfg", after, CFG, [MQTT, TEN, DROP])[0] == after


def test_setup_cfg_single_line_value() -> None:
    before = "[options]\ninstall_requires = tenacity==8.2.3\n"
    assert apply_pin_changes("setup.cfg", before, CFG, [TEN])[0] == before.replace("==8.2.3", ">=9.1.2,<10")
    removed = apply_pin_changes(
        "setup.cfg", before, CFG, [PinChange("tenacity", "tenacity", None, remove=True)]
    )
    assert removed[0] == "[options]\ninstall_requires =\n"


# ---- across formats -------------------------------------------------------------------------------------


def test_same_entry_in_two_tables_out_of_order(tmp_path: Path) -> None:
    body = (
        '[project.optional-dependencies]\ntest = ["tenacity==8.2.3"]\n\n'
        '[project]\nname = "x"\ndependencies = [\n  "tenacity==8.2.3",\n  "esc; python_version < \\"3.12\\"",\n]\n'
    )
    m, findings = read(tmp_path, "pyproject.toml", body)
    assert findings == []
    assert pins(m) == [
        ("tenacity", "==8.2.3", 2, "optional:test"),
        ("tenacity", "==8.2.3", 7, "dependencies"),
        ("esc", "", 8, "dependencies"),
    ]
    after, _ = apply_pin_changes("pyproject.toml", body, PYP, [TEN])
    assert after == body.replace("tenacity==8.2.3", "tenacity>=9.1.2,<10")


ALL = [(REQ, EDIT_REQS), (PYP, PEP621), (PYP, POETRY), (PIP, PIPFILE), (CFG, SETUP_CFG)]
ALL_IDS = ["requirements", "pep621", "poetry", "pipfile", "setup.cfg"]


@pytest.mark.parametrize(("kind", "body"), ALL, ids=ALL_IDS)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_unrelated_changes_keep_every_byte(kind: ManifestKind, body: str, newline: str, bom: str) -> None:
    text = bom + body.replace("\n", newline)
    unrelated = [PinChange("nothere", "other", "==1"), PinChange("gone", "gone", None, remove=True)]
    assert apply_pin_changes("m", text, kind, unrelated) == (text, [])
    assert apply_pin_changes("m", text, kind, []) == (text, [])


@pytest.mark.parametrize(("kind", "body"), ALL, ids=ALL_IDS)
def test_edit_then_read_back(tmp_path: Path, kind: ManifestKind, body: str) -> None:
    """Whatever is written reads back with the new names and specs, and nothing old left pinned."""
    rel = {REQ: "requirements.txt", PYP: "pyproject.toml", PIP: "Pipfile", CFG: "setup.cfg"}[kind]
    after, _ = apply_pin_changes(rel, body, kind, [MQTT, TEN, DROP])
    m, _ = read(tmp_path, rel, after)
    names = {p.package for p in m.pins}
    assert "asyncio-mqtt" not in names and "pytest-dotenv" not in names
    assert "aiomqtt" in names
    for p in m.pins:
        if p.package == "aiomqtt":
            assert p.spec == ">=2.3,<3"
        if p.package == "tenacity" and not p.path:
            assert p.spec == ">=9.1.2,<10"


@pytest.mark.parametrize(
    "line",
    [
        "-r base.txt",
        "-rbase.txt",
        "--requirement base.txt",
        "--requirement=base.txt",
        "-r ./base.txt  # shared",
    ],
)
def test_include_forms(tmp_path: Path, line: str) -> None:
    m, findings = read(tmp_path, "svc/requirements.txt", f"{line}\n", **{"svc/base.txt": ""})
    assert (m.includes, m.pins, findings) == (("svc/base.txt",), (), [])


def test_editable_with_extras_and_marker(tmp_path: Path) -> None:
    m, findings = read(
        tmp_path, "svc/requirements.txt", '-e ../libs/x[dev,test]\n../libs/y ; python_version > "3"\n'
    )
    assert findings == []
    assert [(p.package, p.path, p.extras, p.marker, p.editable) for p in m.pins] == [
        ("x", "libs/x", ("dev", "test"), "", True),
        ("y", "libs/y", (), 'python_version > "3"', False),
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # packaging's marker parser on broken quotes
@pytest.mark.parametrize(("kind", "body"), ALL, ids=ALL_IDS)
def test_mangled_files_never_raise(tmp_path: Path, kind: ManifestKind, body: str) -> None:
    """Random damage to each fixture: reading and editing return Findings, never raise, and stay idempotent."""
    import random

    rnd = random.Random(7)
    rel = {REQ: "requirements.txt", PYP: "pyproject.toml", PIP: "Pipfile", CFG: "setup.cfg"}[kind]
    for _ in range(80):
        chars = list(body)
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(chars))
            chars[i : i + rnd.randint(0, 1)] = rnd.choice(
                ['"', "'", "[", "]", "{", "\\", "#", ";", "=", "^", "", "\n"]
            )
        text = "".join(chars)
        (tmp_path / rel).write_bytes(text.encode() + b"\xff")
        read_manifest(tmp_path, rel)
        once, _ = apply_pin_changes(rel, text, kind, [MQTT, TEN, DROP])
        assert apply_pin_changes(rel, once, kind, [MQTT, TEN, DROP])[0] == once


LOCKED = """\
# This file was autogenerated by uv via the following command:
#    uv pip compile requirements.in --generate-hashes -o requirements.txt
asyncio-mqtt==0.16.2 \\
    --hash=sha256:fe70
    # via -r requirements.in
paho-mqtt==1.6.1 \\
    --hash=sha256:2a82
    # via
    #   -r requirements.in
    #   asyncio-mqtt
python-dotenv==1.0.1 \\
    --hash=sha256:e324 \\
    --hash=sha256:f7b6
    # via -r requirements.in
"""


def test_locked_file_removal_takes_the_via_block() -> None:
    drop_paho = PinChange("paho-mqtt", "paho-mqtt", None, remove=True)
    after, findings = apply_pin_changes("requirements.txt", LOCKED, REQ, [drop_paho, MQTT])
    assert changed_lines(LOCKED, after) == [
        "- asyncio-mqtt==0.16.2 \\",
        "+ aiomqtt>=2.3,<3 \\",
        "- paho-mqtt==1.6.1 \\",
        "-     --hash=sha256:2a82",
        "-     # via",
        "-     #   -r requirements.in",
        "-     #   asyncio-mqtt",
    ]
    assert [(f.rule, f.line) for f in findings] == [("manifest/stale-hash", 3)]


# ---- a change that brings extras ('influxdb3-python[pandas]') ------------------------------------------

PANDAS = PinChange("influxdb-client", "influxdb3-python[pandas]", ">=0.17.0,<1", resolved="0.21.0")
PANDAS_AGAIN = PinChange("influxdb3-python", "influxdb3-python[pandas]", ">=0.17.0,<1", resolved="0.21.0")


@pytest.mark.parametrize(
    ("before", "after", "rules"),
    [
        # Poetry: the extras go in the table form; a key "influxdb3-python[pandas]" would be another package
        ('[tool.poetry.dependencies]\ninfluxdb-client = "^1.39"  # tsdb\n',
         '[tool.poetry.dependencies]\ninfluxdb3-python = {version = "^0.21", extras = ["pandas"]}  # tsdb\n', []),
        ('[tool.poetry.dependencies]\ninfluxdb-client = {version = "1.39.0", extras = ["extra"]}\n',
         '[tool.poetry.dependencies]\ninfluxdb3-python = {version = "0.21.0", extras = ["pandas"]}\n',
         ["manifest/dropped-extras"]),
        ('[tool.poetry.group.dev.dependencies]\ninfluxdb-client = {version = ">=1.30", optional = true}\n',
         '[tool.poetry.group.dev.dependencies]\ninfluxdb3-python = {version = ">=0.17.0,<1", optional = true, '
         'extras = ["pandas"]}\n', []),
        # PEP 621 and requirements: `name[extra]spec` is PEP 508
        ('[project]\ndependencies = ["influxdb-client[ciso]>=1.30; python_version >= \'3.9\'"]\n',
         '[project]\ndependencies = ["influxdb3-python[pandas]>=0.17.0,<1; python_version >= \'3.9\'"]\n',
         ["manifest/dropped-extras"]),
        ("influxdb-client==1.39.0  # tsdb\n", "influxdb3-python[pandas]==0.21.0  # tsdb\n", []),
        ("influxdb-client[pandas]==1.39.0\n", "influxdb3-python[pandas]==0.21.0\n", []),
    ],
)
def test_extras_of_a_change_are_written_as_each_format_says(before: str, after: str, rules: list[str]) -> None:
    kind = PYP if before.startswith("[") else REQ
    got, findings = apply_pin_changes("f", before, kind, [PANDAS])
    assert got == after
    assert [f.rule for f in findings] == rules
    # a second run on the migrated file changes nothing and says nothing
    assert apply_pin_changes("f", got, kind, [PANDAS_AGAIN]) == (got, [])


def test_extras_join_the_ones_already_there(tmp_path: Path) -> None:
    before = '[tool.poetry.dependencies]\ninfluxdb3-python = {version = "0.21.0", extras = ["polars"]}\n'
    got, findings = apply_pin_changes("pyproject.toml", before, PYP, [PANDAS_AGAIN])
    assert got == '[tool.poetry.dependencies]\ninfluxdb3-python = {version = "0.21.0", extras = ["pandas", "polars"]}\n'
    assert findings == []
    m, _ = read(tmp_path, "pyproject.toml", got)
    assert [(p.package, p.extras, p.spec) for p in m.pins] == [("influxdb3-python", ("pandas", "polars"), "==0.21.0")]


# ---- a requirement added beside another (a target's companion bound) ------------------------------------

BOUND = PinChange("pyarrow", "pyarrow", "<26", reason="pyarrow>=26 imports only with numpy>=2", add_after="influxdb-client")


@pytest.mark.parametrize(
    ("kind", "before", "after"),
    [
        (REQ, "influxdb-client==1.39.0\n    # via -r requirements.in\nnumpy<2\n",
         "influxdb3-python[pandas]==0.21.0\n    # via -r requirements.in\n"
         "pyarrow<26  # pyarrow>=26 imports only with numpy>=2\nnumpy<2\n"),
        (REQ, "numpy<2\r\ninfluxdb-client==1.39.0",
         "numpy<2\r\ninfluxdb3-python[pandas]==0.21.0\r\npyarrow<26  # pyarrow>=26 imports only with numpy>=2\r\n"),
        (PYP, '[project]\ndependencies = [\n    "influxdb-client>=1.39",\n    "numpy<2",\n]\n',
         '[project]\ndependencies = [\n    "influxdb3-python[pandas]>=0.17.0,<1",\n    "pyarrow<26",\n    "numpy<2",\n]\n'),
        (PYP, '[tool.poetry.dependencies]\npython = "^3.11"\ninfluxdb-client = "^1.39"  # tsdb\n# plots\nnumpy = "<2"\n',
         '[tool.poetry.dependencies]\npython = "^3.11"\ninfluxdb3-python = {version = "^0.21", extras = ["pandas"]}  # tsdb\n'
         'pyarrow = "<26"  # pyarrow>=26 imports only with numpy>=2\n# plots\nnumpy = "<2"\n'),
        # already pinned by the project: nothing is added
        (REQ, "influxdb-client==1.39.0\npyarrow>=20\n", "influxdb3-python[pandas]==0.21.0\npyarrow>=20\n"),
    ],
)
def test_a_bound_is_added_beside_the_target(kind: ManifestKind, before: str, after: str) -> None:
    got, findings = apply_pin_changes("f", before, kind, [PANDAS, BOUND])
    assert got == after
    assert findings == []


def test_repeated_requirement_lines_read_alike_in_every_manifest() -> None:
    """A requirement line many manifests repeat is read once and gives each manifest its own pin: its file,
    line and relative path; a broken line fails in every manifest."""
    from fleetshift.manifests._common import _pin_of

    text = "Shared[b,a] @ file:../libs/shared ; python_version >= '3.11'"
    one = _pin_of("svc-a/requirements.txt", 3, text, "")
    two = _pin_of("x/svc-b/requirements.txt", 7, text, "dev", ("sha256:00",))
    assert (one.package, one.extras, one.marker) == (two.package, two.extras, two.marker) == (
        "shared", ("a", "b"), 'python_version >= "3.11"')
    assert (one.file, one.line, one.section, one.path) == ("svc-a/requirements.txt", 3, "", "libs/shared")
    assert (two.file, two.line, two.section, two.path, two.hashes) == (
        "x/svc-b/requirements.txt", 7, "dev", "x/libs/shared", ("sha256:00",))
    for rel in ("a/requirements.txt", "b/requirements.txt"):
        with pytest.raises(InvalidRequirement):
            _pin_of(rel, 1, "pytest ==", "")


def test_a_head_edited_before_is_not_worked_out_again_and_findings_stay_per_line(monkeypatch) -> None:
    from fleetshift.manifests import _common

    calls: list[str] = []
    new_head = _common._new_head

    def counted(rel, line, head, *args):  # type: ignore[no-untyped-def]
        calls.append(f"{rel}:{line}")
        return new_head(rel, line, head, *args)

    monkeypatch.setattr(_common, "_new_head", counted)
    monkeypatch.setattr(_common, "_HEADS", {})
    change = PinChange("tenacity", "tenacity", ">=9.1.2,<10", resolved="9.2.1")
    assert _common._edit_head("a/requirements.txt", 3, "tenacity==8.2.3", change) == ("tenacity==9.2.1", [])
    assert _common._edit_head("b/requirements.txt", 7, "tenacity==8.2.3", change) == ("tenacity==9.2.1", [])
    assert calls == ["a/requirements.txt:3"]
    for rel, line in (("a/req.txt", 2), ("b/req.txt", 5)):  # a finding names its own file and line, every time
        head, findings = _common._edit_head(rel, line, "tenacity==8.2.3", change, hashes=True)
        assert head == "tenacity==9.2.1" and [(f.file, f.line) for f in findings] == [(rel, line)]
    assert calls == ["a/requirements.txt:3", "a/req.txt:2", "b/req.txt:5"]
