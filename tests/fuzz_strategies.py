"""Hypothesis strategies for the fuzz tests: the files a fleet holds, from plausible to hostile.

Every strategy draws bytes. Plausible content is built from the pieces real files are made of (requirement
lines with markers, hashes and continuations; TOML tables of PEP 621, Poetry, uv and hatch; INI sections;
Dockerfile `RUN pip install` lines; Python that imports the migrated libraries), then mutated, re-encoded
(UTF-16, latin-1, BOMs, CRLF, lone CRs, NUL bytes) or nested deeply. Sizes stay small so that many examples
run in seconds; the huge inputs are fixed cases in the test module.
"""

from __future__ import annotations

import codecs

import tomlkit
from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------- text helpers

PACKAGES = ("tenacity", "pytest", "pytest-asyncio", "asyncio-mqtt", "aiomqtt", "influxdb-client",
            "influxdb3-python", "python-dotenv", "paho-mqtt", "requests", "Django", "a", "x_y.z")
_ODD = ("\\", "\"", "'", "[", "]", "{", "}", "(", ")", "=", "#", ";", "@", ",", ":", "\t", "\n", "\r", "\r\n",
        "\x00", "\ufeff", "\u2028", "\x85", "\x0c", "${", "%(", "\u00e9", "\U0001f600", " ", "-", "~=", "==", "*")


def _junk() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_ODD), st.text(max_size=12))


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str], steps: int = 4) -> str:
    """`base`'s text with a few random edits: inserted junk, deleted or duplicated slices, a cut."""
    text = draw(base)
    for _ in range(draw(st.integers(0, steps))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(("insert", "delete", "duplicate", "cut", "replace")))
        if op == "insert":
            text = text[:i] + draw(_junk()) + text[i:]
        elif op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] * draw(st.integers(1, 5)) + text[j:]
        elif op == "cut":
            text = text[:i]
        else:
            text = text[:i] + draw(_junk()) + text[j:]
    return text


def _newlines(text: str, style: str) -> str:
    if style == "crlf":
        return text.replace("\r\n", "\n").replace("\n", "\r\n")
    if style == "cr":
        return text.replace("\r\n", "\n").replace("\n", "\r")
    if style == "mixed":
        out = []
        for k, line in enumerate(text.split("\n")):
            out.append(line + ("\n", "\r\n", "\r")[k % 3])
        return "".join(out)
    return text


@st.composite
def encoded(draw: st.DrawFn, text: st.SearchStrategy[str]) -> bytes:
    """Text as the bytes of a file: UTF-8 mostly, else with a BOM, UTF-16, latin-1, other newlines, NULs."""
    body = _newlines(draw(text), draw(st.sampled_from(("lf", "lf", "crlf", "cr", "mixed"))))
    how = draw(st.sampled_from(("utf-8",) * 6 + ("utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252", "nul",
                                                  "cut-utf8", "bom-twice")))
    if how in ("utf-8", "utf-16", "utf-16-le", "utf-8-sig"):
        return body.encode(how, "surrogatepass")
    if how in ("latin-1", "cp1252"):
        return body.encode(how, "replace")
    data = body.encode("utf-8", "surrogatepass")
    if how == "nul":
        i = draw(st.integers(0, len(data)))
        return data[:i] + b"\x00" + data[i:]
    if how == "cut-utf8":  # a multi-byte character cut in half
        return data + "\u00e9".encode()[:1]
    return codecs.BOM_UTF8 * 2 + data


def any_bytes() -> st.SearchStrategy[bytes]:
    return st.binary(max_size=300)


def file_bytes(plausible: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """The bytes of one file: mostly plausible content (mutated, re-encoded), sometimes plain noise."""
    return st.one_of(
        encoded(plausible),
        encoded(mutated(plausible)),
        any_bytes(),
        encoded(st.text(max_size=200)),
    )


# ------------------------------------------------------------------------------------------- requirements

def _name() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(PACKAGES), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True))


def _spec() -> st.SearchStrategy[str]:
    version = st.from_regex(r"[0-9]{1,3}(\.[0-9*]{1,3}){0,3}(a1|b2|rc1|\.post1|\.dev0|\+local)?", fullmatch=True)
    one = st.tuples(st.sampled_from(("==", ">=", "<=", "~=", "!=", "<", ">", "===", "=", "=>", "")), version)
    return st.lists(one.map("".join), max_size=3).map(",".join)


def _marker() -> st.SearchStrategy[str]:
    return st.sampled_from(("", '; python_version < "3.11"', "; sys_platform == 'win32'", "; extra == 'test'",
                            '; python_version >= "3.8" and (os_name == "nt" or implementation_name == "pypy")',
                            "; python_version <", "; ) (", ";"))


def requirement() -> st.SearchStrategy[str]:
    extras = st.sampled_from(("", "[test]", "[a,b]", "[", "[]", "[x]]"))
    return st.tuples(_name(), extras, _spec(), _marker()).map("".join)


def requirement_line() -> st.SearchStrategy[str]:
    return st.one_of(
        requirement(),
        st.tuples(requirement(), st.sampled_from((" --hash=sha256:" + "a" * 64, " \\\n    --hash=sha256:" + "0" * 64,
                                                  " --hash=md5:", " --hash"))).map("".join),
        st.tuples(st.sampled_from(("-r ", "-c ", "--requirement ", "--constraint=", "-r", "-e ", "--editable ")),
                  st.sampled_from(("other.txt", "../good/requirements.txt", "/etc/passwd", "requirements.txt",
                                   ".", "..", "git+https://example.invalid/x.git#egg=x", "./lib[dev]", "",
                                   "dir/" * 30 + "r.txt", "${HOME}/x.txt", "file:///tmp/x"))).map("".join),
        st.sampled_from(("# comment", "", "   ", "--index-url https://example.invalid/simple", "-i", "--pre",
                         "--no-binary :all:", "-f ./wheels", "x @ https://example.invalid/x.whl",
                         "x @ file:///abs/path", "./local/dir", "..", "tenacity==8.2.3 \\", "\\", "tenacity==\\",
                         "   \\\n", "--extra-index-url", "-e", "tenacity==8.* ; ", "pkg==1.0 # comment \\")),
    )


def requirements_text() -> st.SearchStrategy[str]:
    return st.lists(requirement_line(), max_size=8).map("\n".join)


# ---------------------------------------------------------------------------------------------------- TOML

def _toml_scalar() -> st.SearchStrategy[object]:
    return st.one_of(
        st.text(max_size=10), requirement(), st.integers(-5, 10**20), st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from((">=3.8", "^3.9", "*", "", "3.10")),
    )


def toml_value() -> st.SearchStrategy[object]:
    return st.recursive(
        _toml_scalar(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.one_of(st.sampled_from(PACKAGES), st.text(max_size=6)), inner, max_size=3),
        ),
        max_leaves=8,
    )


# (table path, keys that a reader looks at)
_TABLES = {
    "pyproject": (
        (("project",), ("name", "version", "dependencies", "optional-dependencies", "requires-python",
                        "classifiers", "dynamic")),
        (("dependency-groups",), ("test", "dev", "lint")),
        (("build-system",), ("requires", "build-backend")),
        (("tool", "poetry"), ("name", "dependencies", "dev-dependencies", "group", "extras")),
        (("tool", "poetry", "dependencies"), ("python", "tenacity", "pytest", "asyncio-mqtt")),
        (("tool", "poetry", "group", "dev", "dependencies"), ("pytest", "pytest-asyncio")),
        (("tool", "uv"), ("dev-dependencies", "sources", "constraint-dependencies", "override-dependencies")),
        (("tool", "uv", "sources"), ("tenacity", "lib")),
        (("tool", "hatch", "envs", "default"), ("dependencies", "extra-dependencies", "scripts", "python")),
        (("tool", "hatch", "envs", "test"), ("dependencies", "matrix", "features")),
        (("tool", "pytest", "ini_options"), ("asyncio_mode", "addopts", "testpaths", "minversion",
                                             "asyncio_default_fixture_loop_scope")),
        (("tool", "pdm", "dev-dependencies"), ("test",)),
        (("tool", "fleetshift"), ("targets", "fleet")),
    ),
    "pipfile": (
        (("packages",), PACKAGES),
        (("dev-packages",), PACKAGES),
        (("requires",), ("python_version", "python_full_version")),
        (("source",), ("url", "name")),
    ),
    "fleetshift": (
        (("fleet",), ("services", "exclude", "batch_size", "jobs", "failure_threshold", "critical", "python_floor",
                      "keep_unverified", "phase")),
        (("targets",), ("tenacity", "aiomqtt", "pytest", "pytest-asyncio", "influxdb3-python", "python-dotenv",
                        "Not A Name!")),
        (("services", "good"), ("critical", "phase", "skip", "test_command", "python", "health", "groups", "extras")),
        (("services", "good", "health"), ("start", "url", "command", "timeout")),
        (("hooks",), ("before_run", "after_service", "on_failure", "nope")),
        (("verify",), ("timeout",)),
    ),
}


@st.composite
def toml_doc(draw: st.DrawFn, flavour: str) -> str:
    """A TOML document of the tables `flavour` readers look at, with values of any type (dumped by tomlkit)."""
    doc: dict[str, object] = {}
    for path, keys in draw(st.lists(st.sampled_from(_TABLES[flavour]), max_size=4)):
        table = doc
        ok = True
        for part in path:
            nxt = table.setdefault(part, {})
            if not isinstance(nxt, dict):
                ok = False
                break
            table = nxt
        if not ok:
            continue
        for key in draw(st.lists(st.sampled_from(keys), max_size=4)):
            value = draw(st.one_of(toml_value(), st.lists(requirement(), max_size=3), requirement()))
            table[key] = value
    try:
        return tomlkit.dumps(doc)
    except Exception:  # a value tomlkit cannot write (nan keys, ...): the empty document
        return ""


def toml_text(flavour: str) -> st.SearchStrategy[str]:
    deep = st.integers(1, 3000).map(lambda n: "x = " + "[" * n + "]" * n + "\n")
    deep_tables = st.integers(1, 3000).map(lambda n: "x = " + "{a = " * n + "1" + "}" * n + "\n")
    return st.one_of(toml_doc(flavour), toml_doc(flavour), deep, deep_tables)


# ----------------------------------------------------------------------------------------------------- INI

_INI_SECTIONS = ("options", "options.extras_require", "metadata", "tool:pytest", "pytest", "tox", "testenv",
                 "testenv:min", "testenv:py310-oldestdeps", "flake8", "DEFAULT", "options.packages.find", "")
_INI_KEYS = ("install_requires", "setup_requires", "tests_require", "python_requires", "deps", "envlist",
             "commands", "addopts", "asyncio_mode", "name", "test", "classifiers", "requires", "%(x)s", "")


@st.composite
def ini_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"[{draw(st.sampled_from(_INI_SECTIONS))}]")
        for _ in range(draw(st.integers(0, 4))):
            key = draw(st.sampled_from(_INI_KEYS))
            sep = draw(st.sampled_from((" = ", "=", ": ", " ")))
            values = draw(st.lists(st.one_of(requirement_line(), st.sampled_from(
                ("py310,py311", "min: -r requirements-min.txt", "pytest {posargs}", "%(here)s", "auto",
                 "-rrequirements.txt", "  ", "Programming Language :: Python :: 3.11"))), max_size=3))
            first = draw(st.booleans())
            if first and values:
                lines.append(key + sep + values[0])
                lines.extend("    " + v for v in values[1:])
            else:
                lines.append(key + sep.rstrip())
                lines.extend(draw(st.sampled_from(("    ", "\t", " "))) + v for v in values)
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- setup.py

@st.composite
def setup_py_text(draw: st.DrawFn) -> str:
    reqs = draw(st.lists(requirement(), max_size=3))
    arg = draw(st.sampled_from(("install_requires", "tests_require", "extras_require", "python_requires",
                                "setup_requires", "name")))
    value = draw(st.sampled_from((repr(reqs), repr({"test": reqs}), repr(tuple(reqs)), "REQS", "[*REQS]",
                                  "open('r.txt').read().splitlines()", repr(">=3.8"), "None", "[" * 150 + "]" * 150,
                                  repr(reqs)[:-1], "f'{x}'", "1 +", "(" + ",".join(map(repr, reqs)) + ")")))
    head = draw(st.sampled_from(("from setuptools import setup\n", "import setuptools as s\n", "",
                                 "# -*- coding: latin-1 -*-\nfrom setuptools import setup\n",
                                 "# coding: nope\n")))
    call = draw(st.sampled_from(("setup", "s.setup", "setuptools.setup")))
    return f"{head}REQS = {reqs!r}\n{call}(name='bad', {arg}={value})\n"


# ---------------------------------------------------------------------------------------------- Dockerfile

@st.composite
def dockerfile_text(draw: st.DrawFn) -> str:
    lines = [draw(st.sampled_from(("FROM python:3.11-slim", "FROM python:", "FROM", "FROM python:3.x AS b",
                                   "FROM --platform=$X python:3.9", "ARG PY=3.10\nFROM python:${PY}")))]
    for _ in range(draw(st.integers(0, 4))):
        pkgs = " ".join(draw(st.lists(st.one_of(requirement(), st.sampled_from(
            ("-r", "requirements.txt", "--no-cache-dir", "-U", "'tenacity==8.2.3'", '"x>=1"', "\\", "&&",
             "$PKG", "-e", "."))), max_size=4)))
        cmd = draw(st.sampled_from(("RUN pip install ", "RUN python -m pip install ", "RUN pip3 install ",
                                    "RUN uv pip install ", "RUN pip install \\\n    ", 'RUN ["pip", "install", ',
                                    "RUN set -e; pip install ")))
        lines.append(cmd + pkgs)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------- Python

_IMPORTS = ("import asyncio_mqtt\n", "from asyncio_mqtt import Client, MqttError\n", "import tenacity\n",
            "from tenacity import retry, wait_exponential_jitter, AsyncRetrying\n", "import pytest\n",
            "import pytest_asyncio\n", "from dotenv import load_dotenv\n", "import dotenv\n",
            "from influxdb_client import InfluxDBClient, Point\n",
            "from influxdb_client.client.write_api import SYNCHRONOUS\n", "import aiomqtt\n")
_STATEMENTS = (
    "client = asyncio_mqtt.Client('h')\n",
    "async def main():\n    async with Client('h') as c:\n        async with c.messages() as m:\n"
    "            await c.subscribe('t')\n            async for x in m:\n                print(x.topic)\n",
    "@retry(wait=wait_exponential_jitter(initial=1), reraise=True)\ndef f():\n    return 1\n",
    "@pytest.mark.asyncio\nasync def test_x(event_loop):\n    assert 1\n",
    "@pytest_asyncio.fixture(scope='module')\nasync def db():\n    yield 1\n",
    "load_dotenv()\nload_dotenv(verbose=True, override=1)\n",
    "c = InfluxDBClient(url='u', token='t', org='o')\nw = c.write_api(write_options=SYNCHRONOUS)\n"
    "w.write('b', record=Point('m'))\nc.query_api().query('from(bucket:\"b\")')\n",
    "r = tenacity.Retrying(stop=tenacity.stop_after_attempt(3))\nr.statistics\n",
    "def test_a(tmpdir):\n    pytest.skip(msg='x')\n",
    "class T:\n\tdef f(self):\n        return 1\n",  # tabs and spaces mixed
    "x = '''unterminated\n",
    "s = 'unterminated\n",
    "f'{x!r:{y}}' f\"{'{'}\"\n",
    "match x:\n    case [1, *_]: pass\n",
    "def f[T](x: T) -> T: ...\n",
    "if True:\n  pass\n    pass\n",
    "\\\n",
    "x = 1 \\\n\n",
    "async = 1\n",
    "print 'py2'\n",
    "# -*- coding: latin-1 -*-\n",
    "# coding: utf-16\n",
    "# vim: set fileencoding=nope :\n",
)


def _deep_python() -> st.SearchStrategy[str]:
    n = st.integers(1, 6000)
    shapes = (
        lambda k: "x = " + "(" * k + "1" + ")" * k,
        lambda k: "x = " + "[" * k + "]" * k,
        lambda k: "x = " + "{" * k + "}" * k,
        lambda k: "x = " + "-" * k + "1",
        lambda k: "x = " + "not " * k + "a",
        lambda k: "x = " + "lambda: " * k + "1",
        lambda k: "x = " + "2**" * k + "2",
        lambda k: "x = " + "+".join(["a"] * k),
        lambda k: "x = a" + ".b" * k,
        lambda k: "x = a" + "()" * k,
        lambda k: "x = a" + "[0]" * k,
        lambda k: "x = " + "1 if 1 else " * k + "1",
        lambda k: "".join(" " * i + "if x:\n" for i in range(min(k, 120))) + " " * min(k, 120) + "pass",
        lambda k: "".join("    " * i + "def f():\n" for i in range(min(k, 120))) + "    " * min(k, 120) + "pass",
        lambda k: "x = " + "f(" * k + ")" * k,
        lambda k: "x = " + "await " * k + "a",
    )
    return st.tuples(st.sampled_from(_IMPORTS), st.sampled_from(shapes), n).map(lambda t: t[0] + t[1](t[2]) + "\n")


def python_text() -> st.SearchStrategy[str]:
    plausible = st.lists(st.one_of(st.sampled_from(_IMPORTS), st.sampled_from(_STATEMENTS)), min_size=1,
                         max_size=6).map("".join)
    return st.one_of(plausible, mutated(plausible), _deep_python())


def python_bytes() -> st.SearchStrategy[bytes]:
    """A Python file: plausible code using the migrated libraries (mutated, re-encoded), deep nesting, noise
    behind an import that makes the scan parse it."""
    token = st.sampled_from(_IMPORTS).map(str.encode)
    return st.one_of(
        encoded(python_text()),
        st.tuples(token, any_bytes()).map(b"".join),
        st.tuples(st.sampled_from((b"# -*- coding: latin-1 -*-\n", b"# coding: utf-16\n", b"# coding: bogus\n",
                                   codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"\xef\xbb\xbf# coding: latin-1\n")),
                  token, any_bytes()).map(b"".join),
    )


# ------------------------------------------------------------------------------------------------- by file

def manifest_bytes(name: str) -> st.SearchStrategy[bytes]:
    """The bytes of the file `name` (a manifest, a config file, a Dockerfile or fleetshift.toml)."""
    if name.endswith(".txt"):
        return file_bytes(requirements_text())
    if name == "pyproject.toml":
        return file_bytes(toml_text("pyproject"))
    if name == "Pipfile":
        return file_bytes(toml_text("pipfile"))
    if name == "fleetshift.toml":
        return file_bytes(toml_text("fleetshift"))
    if name in ("setup.cfg", "tox.ini", "pytest.ini"):
        return file_bytes(ini_text())
    if name == "setup.py":
        return st.one_of(file_bytes(setup_py_text()), python_bytes())
    if name == "Dockerfile":
        return file_bytes(dockerfile_text())
    raise ValueError(name)
