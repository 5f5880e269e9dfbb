"""The resolver decides: uv pip compile per Python (cached), blocking companions moved to their lowest
release that resolves, and the Python-floor policy (raise / keep), judged in one place."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from fleetshift.model import Pin, PythonDecl, PythonModel, Service, Severity
from fleetshift.recipes._floors import declared_model, floor_needed, policy, pythons_to_check, raise_floor
from fleetshift.recipes.base import PinChange
from fleetshift.resolve import (
    CACHE_DIR,
    Resolution,
    Resolver,
    beyond,
    lowest_of,
    plan_floor,
    settle,
    upper_bound,
)

# ---- specifier arithmetic (no network) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "bound", "above"),
    [
        (">=4,<5", ("<", "5"), ">=5"),
        ("==0.23.5", ("<=", "0.23.5"), ">0.23.5"),
        ("~=0.21.1", ("<", "0.22"), ">=0.22"),
        ("==8.*", ("<", "9"), ">=9"),
        (">=0.21,<0.24,<=0.23.9", ("<=", "0.23.9"), ">0.23.9"),
        (">=1", None, None),
        ("", None, None),
    ],
)
def test_upper_bound_and_beyond(spec: str, bound: tuple[str, str] | None, above: str | None) -> None:
    assert upper_bound(spec) == bound
    assert beyond(spec) == above
    if above:  # nothing the pin admits is beyond it
        assert not (SpecifierSet(spec) & SpecifierSet(above)).contains("99", prereleases=True) or spec.startswith(">=")


def test_lowest_of() -> None:
    assert lowest_of(">=9.1.2,<10") == "9.1.2"
    assert lowest_of("<10") == ""


def test_resolution_names_the_pins_in_uvs_reason() -> None:
    res = Resolution("3.12", False, error="Because syrupy>=4.0.0,<=4.9.1 depends on pytest>=7.0.0,<9.0.0 and you "
                                          "require pytest>=9.0.2 and syrupy>=4,<5, we can conclude ...")
    assert res.mentioned(["syrupy", "requests", "pytest-mock"]) == ["syrupy"]
    assert not res.python_blocked


# ---- the Python model and the floor edits (no network) -----------------------------------------------


def test_model_falls_back_to_the_services_own_files() -> None:
    svc = Service("lib", "lib")
    files = {"lib/pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.6"\n'}
    model = declared_model(svc, files)
    assert model.floor == "3.6" and [d.kind for d in model.declarations] == ["poetry"]
    assert model.declarations[0].line == 2 and model.declarations[0].value == "^3.6"
    assert pythons_to_check(model) == ["3.6"]
    assert pythons_to_check(PythonModel(spec=">=3.8", versions=("3.8", "3.11"))) == ["3.8", "3.11"]
    assert pythons_to_check(PythonModel()) == ["3.12"]


def test_policy_defaults_raise_for_apps_keep_for_libraries() -> None:
    from fleetshift.model import Project, ProjectKind

    app, lib = Service("a", "a"), Service("l", "l", project=Project(kind=ProjectKind.LIBRARY))
    assert policy(app, "", "") == "raise" and policy(lib, "", "") == "keep"
    assert policy(lib, "raise", "") == "raise" and policy(app, "raise", "keep") == "keep"


def test_floor_needed() -> None:
    assert floor_needed({"pytest": ["3.12"]}, ["3.8", "3.12"]) == "3.9"
    assert floor_needed({"pytest": ["3.8", "3.12"]}, ["3.8", "3.12"]) is None


def test_raise_floor_moves_every_declaration() -> None:
    texts = {
        "svc/pyproject.toml": (
            '[project]\nrequires-python = ">=3.8,<4"\nclassifiers = [\n'
            '    "Programming Language :: Python :: 3.8",\n    "Programming Language :: Python :: 3.12",\n]\n'
            '[tool.poetry.dependencies]\npython = "^3.8"\n'
        ),
        "svc/tox.ini": "[tox]\nenvlist = py38, py39, py310, py312\n",
        "svc/.github/workflows/ci.yml": 'jobs:\n  t:\n    strategy:\n      matrix:\n        python: ["3.8", "3.9", "3.12"]\n',
        "svc/.gitlab-ci.yml": "matrix:\n  - PY:\n    - \"3.8\"\n    - \"3.12\"\n",
        "svc/.python-version": "3.8.18\n",
    }
    decls = (
        PythonDecl("svc/pyproject.toml", 2, "requires-python", ">=3.8,<4"),
        PythonDecl("svc/pyproject.toml", 4, "classifier", "3.8"),
        PythonDecl("svc/pyproject.toml", 5, "classifier", "3.12"),
        PythonDecl("svc/pyproject.toml", 8, "poetry", "^3.8"),
        PythonDecl("svc/tox.ini", 2, "tox-envlist", "py38"),
        PythonDecl("svc/.github/workflows/ci.yml", 5, "github-actions", "3.8"),
        PythonDecl("svc/.gitlab-ci.yml", 3, "gitlab-ci", "3.8"),
        PythonDecl("svc/.python-version", 1, ".python-version", "3.8.18"),
    )
    edits = raise_floor(texts, PythonModel(">=3.8,<4", ("3.8", "3.12"), declarations=decls), "3.10")
    assert texts["svc/pyproject.toml"] == (
        '[project]\nrequires-python = ">=3.10,<4"\nclassifiers = [\n'
        '    "Programming Language :: Python :: 3.12",\n]\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\n'
    )
    assert texts["svc/tox.ini"] == "[tox]\nenvlist = py310, py312\n"
    assert texts["svc/.github/workflows/ci.yml"].endswith('python: ["3.12"]\n')
    assert texts["svc/.gitlab-ci.yml"] == "matrix:\n  - PY:\n    - \"3.12\"\n"
    assert texts["svc/.python-version"] == "3.10.18\n"
    assert {e.kind for e in edits} == {"requires-python", "classifier", "poetry", "tox-envlist", "github-actions",
                                       "gitlab-ci", ".python-version"}
    # a floor already high enough changes nothing
    tox = {"svc/tox.ini": "[tox]\nenvlist = py310, py312\n"}
    assert raise_floor(tox, PythonModel(declarations=(decls[4],)), "3.10") == []
    assert tox["svc/tox.ini"] == "[tox]\nenvlist = py310, py312\n"


def test_uv_asks_again_for_a_dropped_dns_lookup_after_a_second_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from fleetshift.resolve import DNS_OPTIONS, uv_env

    monkeypatch.delenv("RES_OPTIONS", raising=False)
    assert uv_env()["RES_OPTIONS"] == DNS_OPTIONS == "timeout:1 attempts:4"
    monkeypatch.setenv("RES_OPTIONS", "timeout:3")
    assert uv_env()["RES_OPTIONS"] == "timeout:3"


def test_a_question_asked_offline_runs_uv_without_the_tls_settings_an_online_one_keeps(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fleetshift import resolve
    from fleetshift.proc import Captured

    envs: dict[str, dict[str, str]] = {}

    def fake(cmd: list[str], timeout: float, cwd: object = None, env: dict[str, str] | None = None,
             input: str | None = None) -> Captured:
        if "compile" in cmd:
            envs["offline" if "--offline" in cmd else "online"] = dict(env or {})
        return Captured(0, "tenacity==9.1.2\n" if "compile" in cmd else "uv 0.0.0\n")

    monkeypatch.setattr(resolve, "run_captured", fake)
    monkeypatch.setattr(resolve, "NAME_INTERPRETER", False)
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("SSL_CERT_DIR", "/etc/ssl/certs")
    monkeypatch.setenv("SSL_CLIENT_CERT", "/etc/ssl/client.pem")
    assert Resolver(tmp_path / "a", offline=True).compile(["tenacity>=9.1.2,<10"], "3.11").ok
    assert Resolver(tmp_path / "b").compile(["tenacity>=9.1.2,<10"], "3.11").ok
    assert not {"SSL_CERT_FILE", "SSL_CERT_DIR", "SSL_CLIENT_CERT"} & envs["offline"].keys()
    assert envs["online"]["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert envs["online"]["SSL_CERT_DIR"] == "/etc/ssl/certs" and envs["online"]["SSL_CLIENT_CERT"]
    assert {k: v for k, v in envs["online"].items() if not k.startswith("SSL_")} == envs["offline"]


def test_uvs_version_is_asked_once_per_run_and_read_by_the_processes_it_forks(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fleetshift import resolve
    from fleetshift.proc import Captured

    asked: list[list[str]] = []

    def fake(cmd: list[str], timeout: float, cwd: object = None, env: dict[str, str] | None = None,
             input: str | None = None) -> Captured:
        if "--version" in cmd:
            asked.append(list(cmd))
            return Captured(0, "uv 9.9.9 (test)\n")
        return Captured(0, "tenacity==9.1.2\n")

    monkeypatch.setattr(resolve, "run_captured", fake)
    monkeypatch.setattr(resolve, "NAME_INTERPRETER", False)
    monkeypatch.setattr(resolve, "_versions", {})
    stale = tmp_path / ".fleetshift" / "cache" / "uv-python" / "1-2-version-left-by-an-earlier-run"
    stale.parent.mkdir(parents=True)
    stale.write_text("uv 0.0.1")
    resolver = Resolver(tmp_path)
    assert resolver.compile(["tenacity>=9.1.2,<10"], "3.11").ok and resolver.compile(["tenacity"], "3.12").ok
    assert len(asked) == 1 and not stale.exists()
    monkeypatch.setattr(resolve, "_versions", {})  # another process of the run (a forked worker)
    assert Resolver(tmp_path).compile(["tenacity>=9.1.2,<10"], "3.11").cached
    assert resolve.uv_version(tmp_path / CACHE_DIR) == "uv 9.9.9 (test)" and len(asked) == 1
    monkeypatch.setattr(resolve, "_versions", {})
    assert resolve.uv_version() == "uv 9.9.9 (test)" and len(asked) == 2  # without a cache folder: asked


def test_environments_are_installed_with_the_dns_retry_and_the_tests_run_without_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fleetshift.model import Service
    from fleetshift.resolve import DNS_OPTIONS
    from fleetshift.verify.envs import child_env, install_env

    monkeypatch.delenv("RES_OPTIONS", raising=False)
    service = Service("svc", "svc")
    env = install_env(service, tmp_path / "venv")
    assert env["RES_OPTIONS"] == DNS_OPTIONS and env["UV_PROJECT_ENVIRONMENT"] == str(tmp_path / "venv")
    assert "RES_OPTIONS" not in child_env(service)  # the service's own commands run as the user's
    monkeypatch.setenv("RES_OPTIONS", "timeout:3")
    assert install_env(service, tmp_path / "venv")["RES_OPTIONS"] == "timeout:3"


# ---- real uv against the index ------------------------------------------------------------------------


@pytest.mark.slow
def _recorded_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands fleetshift runs from now on (uv still runs them), in order."""
    from fleetshift import resolve

    commands: list[list[str]] = []
    real = resolve.run_captured

    def recorded(cmd: list[str], *args: object, **kwargs: object) -> object:
        commands.append(list(cmd))
        return real(cmd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve, "run_captured", recorded)
    return commands


def test_compile_is_cached_on_disk(tmp_path: Path) -> None:
    first = Resolver(tmp_path)
    res = first.compile(["tenacity>=9.1.2,<10"], "3.11")
    assert res.ok and Version(res.versions["tenacity"]) >= Version("9.1.2") and first.calls == 1
    assert first.compile(["tenacity>=9.1.2,<10"], "3.11") == res and first.calls == 1
    second = Resolver(tmp_path)
    again = second.compile(["tenacity>=9.1.2,<10"], "3.11")
    assert second.calls == 0 and again.cached and again.versions == res.versions


@pytest.mark.slow
def test_the_same_question_asked_at_once_runs_uv_once(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    resolvers = [Resolver(tmp_path) for _ in range(3)]  # as the rewrite workers ask: one resolver each, one cache
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda r: r.compile(["tenacity>=9.1.2,<10"], "3.12"), resolvers))
    assert sum(r.calls for r in resolvers) == 1
    assert all(a.ok and a.versions == answers[0].versions for a in answers)
    assert [p.name for p in (tmp_path / CACHE_DIR).iterdir()] == [next((tmp_path / CACHE_DIR).glob("*.json")).name]


@pytest.mark.slow
def test_uv_is_named_the_interpreter_it_finds_and_answers_the_same(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every question names the interpreter uv reported it finds for that Python (asked once per run), and the
    answers equal those of uv looking for it itself: solved, unsolvable, lowest, on an installed Python and not."""
    from fleetshift import resolve

    commands = _recorded_commands(monkeypatch)
    monkeypatch.setattr(resolve, "_interpreters", {})
    questions = [(["tenacity>=9.1.2,<10", "pytest>=9,<10"], "3.11", False),
                 (["pytest>=9,<10", "pytest-asyncio==0.23.5"], "3.12", False),
                 (["tenacity>=8,<10"], "3.12", True), (["tenacity>=9.1.2,<10"], "3.11", True)]
    stale = tmp_path / "named" / ".fleetshift" / "cache" / "uv-python" / "1-2-left-by-an-earlier-run"
    stale.parent.mkdir(parents=True)
    stale.write_text("/nowhere/python")
    named = [Resolver(tmp_path / "named").compile(r, py, lowest=low) for r, py, low in questions]
    finds = [c for c in commands if "--verbose" in c]
    asks = [c for c in commands if "--verbose" not in c and "compile" in c]
    assert sorted(c[c.index("--python-version") + 1] for c in finds) == ["3.11", "3.12"]  # once per Python
    for cmd in asks:
        interpreter = cmd[cmd.index("--python") + 1]
        assert Path(interpreter).is_file()
    assert not stale.exists() and len(list(stale.parent.iterdir())) == 2
    # another process of the same run (a forked worker) reads them: uv is not asked again
    monkeypatch.setattr(resolve, "_interpreters", {})
    commands.clear()
    assert Resolver(tmp_path / "named").compile(["tenacity>=8,<10"], "3.11").ok
    assert [c for c in commands if "--verbose" in c] == [] and "--python" in commands[-1]
    monkeypatch.setattr(resolve, "NAME_INTERPRETER", False)
    commands.clear()
    plain = [Resolver(tmp_path / "plain").compile(r, py, lowest=low) for r, py, low in questions]
    assert all("--python" not in c for c in commands)
    assert plain == named and [a.ok for a in named] == [True, False, True, True]


@pytest.mark.slow
def test_a_question_on_packages_fetched_in_this_run_is_asked_offline_and_answered_as_online(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once an online answer of this run chose a package, a question whose requirements are all such packages is
    asked `--offline` (uv reads the pages it just revalidated), and its answer is taken only when it solved and
    uv looked through no package that an online answer did not choose; otherwise it is asked online. Every answer
    equals uv's online one."""
    from fleetshift import resolve

    commands = _recorded_commands(monkeypatch)
    monkeypatch.setattr(resolve._Fetched, "memory", {})
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # holds only what these questions fetch

    def asked(question: tuple[list[str], str, bool]) -> list[str]:
        commands.clear()
        reqs, py, low = question
        answers.append(resolver.compile(reqs, py, lowest=low))
        return ["offline" if "--offline" in c else "online" for c in commands if "compile" in c and "--verbose" not in c]

    questions = [
        (["tenacity>=9.1.2,<10"], "3.11", False),
        (["tenacity>=9.1.2,<10"], "3.12", False),  # chosen online before: offline
        (["tenacity>=9.1.2,<10", "pytest>=9,<10"], "3.11", False),  # pytest never chosen: online at once
        (["pytest>=9,<10"], "3.12", False),  # pytest and what it needs were chosen: offline
        # the lowest release's metadata is not in uv's cache: offline, uv passes it over for the next one
        (["pytest>=9,<10"], "3.12", True),
        (["influxdb3-python>=0.17,<1"], "3.11", False),
        (["influxdb3-python[pandas]>=0.17,<1"], "3.11", False),  # an extra never asked for online: online at once
        (["influxdb3-python[pandas]>=0.17,<1", "tenacity>=9.1.2,<10"], "3.11", False),  # then: offline
        (["pytest-asyncio==0.23.5"], "3.11", False),
        (["pytest>=9,<10", "pytest-asyncio==0.23.5"], "3.11", False),  # no solution offline: asked online
        ([], "3.11", False),
    ]
    answers: list[Resolution] = []
    resolver = Resolver(tmp_path / "fetched")
    ways = [asked(q) for q in questions]
    assert ways == [["online"], ["offline"], ["online"], ["offline"], ["offline", "online"], ["online"], ["online"],
                    ["offline"], ["online"], ["offline", "online"], ["offline"]]
    # a process forked by this one (a rewrite worker) knows what was fetched from the cache folder
    monkeypatch.setattr(resolve._Fetched, "memory", {})
    resolver = Resolver(tmp_path / "fetched")
    assert asked((["tenacity>=9.1.2,<10", "pytest>=9,<10"], "3.12", False)) == ["offline"]
    questions.append((["tenacity>=9.1.2,<10", "pytest>=9,<10"], "3.12", False))
    monkeypatch.setattr(resolve, "FROM_FETCHED", False)
    plain = Resolver(tmp_path / "plain")
    assert answers == [plain.compile(reqs, py, lowest=low) for reqs, py, low in questions]
    assert [a.ok for a in answers] == [True, True, True, True, True, True, True, True, True, False, True, True]
    # what was fetched longer ago than uv itself would read a page from its cache unasked is asked online
    monkeypatch.setattr(resolve, "FROM_FETCHED", True)
    monkeypatch.setattr(resolve, "FETCHED_FOR", 0.0)
    resolver = Resolver(tmp_path / "fetched")
    assert asked((["tenacity>=9.1.2,<10"], "3.13", False)) == ["offline", "online"]


@pytest.mark.slow
def test_a_question_waits_for_the_online_answer_another_thread_is_getting_for_its_packages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The threads asking ahead ask side by side: a question whose packages another thread is asking uv online for
    waits for that answer, then is asked offline, rather than fetching the same pages online too."""
    import threading

    from fleetshift import resolve

    commands: list[tuple[str, list[str]]] = []
    real = resolve.run_captured
    online = threading.Event()
    go = threading.Event()

    def recorded(cmd: list[str], *args: object, **kwargs: object) -> object:
        if "compile" in cmd and "--verbose" not in cmd:
            commands.append((threading.current_thread().name, list(cmd)))
            if "--offline" not in cmd and threading.current_thread().name == "first":
                online.set()
                go.wait(30)  # the second question is asked meanwhile
        return real(cmd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resolve, "run_captured", recorded)
    monkeypatch.setattr(resolve._Fetched, "memory", {})
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    resolver = Resolver(tmp_path)
    resolver._interpreter("3.11"), resolver._interpreter("3.12")
    answers: dict[str, Resolution] = {}
    first = threading.Thread(target=lambda: answers.update(first=resolver.compile(["tenacity>=9.1.2,<10"], "3.11")),
                             name="first")
    first.start()
    assert online.wait(30)
    second = threading.Thread(target=lambda: answers.update(second=resolver.compile(["tenacity>=9.1.2,<10"], "3.12")),
                              name="second")
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first answer
    go.set()
    first.join()
    second.join()
    assert [(who, "--offline" in cmd) for who, cmd in commands] == [("first", False), ("second", True)]
    monkeypatch.setattr(resolve, "FROM_FETCHED", False)
    assert answers["second"] == Resolver(tmp_path / "plain").compile(["tenacity>=9.1.2,<10"], "3.12")


@pytest.mark.slow
def test_a_target_that_needs_a_newer_python_is_python_blocked(tmp_path: Path) -> None:
    res = Resolver(tmp_path).supports("pytest>=9.0.2,<10", "3.8")
    assert not res.ok and not res.unavailable and res.python_blocked


@pytest.mark.slow
def test_blocking_companion_moves_to_its_lowest_release_that_resolves(tmp_path: Path) -> None:
    resolver = Resolver(tmp_path)
    pins = [Pin("pytest", "==8.3.5", "svc/requirements.txt", 1, "pytest==8.3.5"),
            Pin("syrupy", ">=4,<5", "svc/requirements.txt", 2, "syrupy>=4,<5")]
    out = settle(pins, [("pytest", PinChange("pytest", "pytest", ">=9.0.2,<10"))], ["3.10", "3.12"], resolver)
    moved = {c.package: c for _, c in out.changes}
    syrupy = moved["syrupy"]
    found = Version(syrupy.resolved)
    assert found >= Version("5") and "syrupy>=4,<5" in syrupy.reason and "lowest release" in syrupy.reason
    assert [f.rule for f in out.findings] == ["pins/companion"]
    # it resolves with the target, and nothing lower above the old line does
    assert resolver.compile(["pytest>=9.0.2,<10", f"syrupy=={found}"], "3.10").ok
    assert not resolver.compile(["pytest>=9.0.2,<10", f"syrupy>=5,<{found}"], "3.10").ok
    # the exact pin gets the release uv chose for the floor Python
    assert Version(moved["pytest"].resolved) >= Version("9.0.2")


@pytest.mark.slow
def test_floor_policy_raise_and_keep(tmp_path: Path) -> None:
    resolver = Resolver(tmp_path)
    raised = plan_floor("svc", "svc", ["pytest"], {"pytest": ">=9.0.2,<10"}, ["3.8", "3.12"], "raise", resolver)
    assert raised.new_floor == "3.10" and raised.pythons == ["3.10", "3.12"] and raised.chain == ["pytest"]
    kept = plan_floor("svc", "svc", ["pytest"], {"pytest": ">=9.0.2,<10"}, ["3.8", "3.12"], "keep", resolver)
    assert kept.chain == [] and kept.new_floor == ""
    assert [f.severity for f in kept.findings] == [Severity.HUMAN]
    assert "blocked by Python 3.8" in kept.findings[0].message and kept.findings[0].rule == "pytest/python-version"
    # tenacity 9.0 still installs on 3.8: keep narrows the target to the newest release there
    narrowed = plan_floor("svc", "svc", ["tenacity"], {"tenacity": ">=9.1.2,<10"}, ["3.8", "3.12"], "keep", resolver)
    assert narrowed.chain == ["tenacity"]
    spec = SpecifierSet(narrowed.targets["tenacity"])
    newest = resolver.newest("tenacity", "3.8")
    assert newest and spec.contains(newest) and not spec.contains("8.2.3") and "<10" in str(spec)
    assert narrowed.findings[0].rule == "tenacity/python-floor"
    nothing = plan_floor("svc", "svc", ["tenacity"], {"tenacity": ">=9.1.2,<10"}, ["3.10"], "keep", resolver)
    assert nothing.findings == [] and nothing.targets == {"tenacity": ">=9.1.2,<10"}


@pytest.mark.slow
def test_a_target_bringing_a_package_that_needs_numpy2_is_bounded_or_flagged(tmp_path: Path) -> None:
    """uv alone resolves influxdb3-python beside numpy<2 with pyarrow 26 (which imports only on NumPy 2):
    settle finds it, bounds pyarrow beside the target's pin, and checks that this resolves."""
    resolver = Resolver(tmp_path)
    target = PinChange("influxdb-client", "influxdb3-python[pandas]", ">=0.17.0,<1")
    assert Version(resolver.compile(["influxdb3-python[pandas]>=0.17.0,<1", "numpy<2"], "3.12").versions["pyarrow"]) >= Version("26")
    pins = [Pin("influxdb-client", "==1.39.0", "svc/requirements.txt", 1, "influxdb-client==1.39.0"),
            Pin("numpy", "<2", "svc/requirements.txt", 2, "numpy<2"),
            Pin("pytest", "==8.3.5", "svc/requirements-dev.txt", 1, "pytest==8.3.5")]
    out = settle(pins, [("influxdb3", target)], ["3.11", "3.12"], resolver)
    added = [c for _, c in out.changes if c.package == "pyarrow"]
    assert [(c.new_spec, c.add_after, c.files) for c in added] == [("<26", "influxdb-client", ("svc/requirements.txt",))]
    (finding,) = [f for f in out.findings if f.rule == "pins/import-conflict"]
    assert finding.severity is Severity.ADVICE and (finding.file, finding.line) == ("svc/requirements.txt", 2)
    assert "numpy<2" in finding.message and "influxdb3-python" in finding.message and "pyarrow<26" in finding.message
    assert Version(out.versions["pyarrow"]) < Version("26") and out.versions["numpy"].startswith("1.")
    # the project pins pyarrow itself: nothing is added, a Finding names both packages and the fix
    own = [*pins, Pin("pyarrow", ">=20", "svc/requirements.txt", 3, "pyarrow>=20")]
    out = settle(own, [("influxdb3", target)], ["3.12"], resolver)
    assert not [c for _, c in out.changes if c.package == "pyarrow"]
    (finding,) = [f for f in out.findings if f.rule == "pins/import-conflict"]
    assert finding.severity is Severity.HUMAN and "move numpy to >=2, or pin pyarrow<26" in finding.message
    # NumPy 2 allowed: nothing to say
    free = settle([pins[0]], [("influxdb3", target)], ["3.12"], resolver)
    assert not [f for f in free.findings if f.rule == "pins/import-conflict"]


def test_deeper_requirements_files_are_environments_of_their_own() -> None:
    from fleetshift.resolve import install_sets

    pins = [Pin("tenacity", "==8.2.3", "svc/requirements.txt", 1, "tenacity==8.2.3"),
            Pin("urllib3", "==2.2.3", "svc/requirements.txt", 2, "urllib3==2.2.3"),
            Pin("pytest", "==8.3.5", "svc/requirements/test.txt", 1, "pytest==8.3.5"),
            Pin("tenacity", "==8.2.3", "svc/docker/requirements.txt", 1, "tenacity==8.2.3"),
            Pin("urllib3", "==1.26.20", "svc/docker/requirements.txt", 2, "urllib3==1.26.20")]
    sets = [[(p.file, p.package) for p in group] for group in install_sets(pins, "svc")]
    assert sets == [
        [("svc/requirements.txt", "tenacity"), ("svc/requirements.txt", "urllib3"), ("svc/requirements/test.txt", "pytest")],
        [("svc/docker/requirements.txt", "tenacity"), ("svc/docker/requirements.txt", "urllib3")],
    ]
    assert install_sets(pins) == install_sets(pins, "svc")  # the folder of the shallowest manifest


@pytest.mark.slow
def test_an_image_pinning_other_releases_is_no_conflict(tmp_path: Path) -> None:
    pins = [Pin("tenacity", "==8.2.3", "svc/requirements.txt", 1, "tenacity==8.2.3"),
            Pin("urllib3", "==2.2.3", "svc/requirements.txt", 2, "urllib3==2.2.3"),
            Pin("tenacity", "==8.2.3", "svc/docker/requirements.txt", 1, "tenacity==8.2.3"),
            Pin("urllib3", "==1.26.20", "svc/docker/requirements.txt", 2, "urllib3==1.26.20")]
    out = settle(pins, [("tenacity", PinChange("tenacity", "tenacity", ">=9.1.2,<10"))], ["3.12"], Resolver(tmp_path),
                 service_path="svc")
    assert out.findings == [] and Version(out.versions["tenacity"]) >= Version("9.1.2")
    assert out.versions["urllib3"] == "2.2.3"  # the test environment's, for `==` pins


def test_a_question_asked_again_finds_its_key_without_hashing_again(tmp_path, monkeypatch) -> None:
    import hashlib
    import json

    from fleetshift import resolve

    asked: list[list[str]] = []

    def run(self, reqs, python, lowest):  # type: ignore[no-untyped-def]
        asked.append(reqs)
        return resolve.Resolution(python, True, {"tenacity": "9.1.2"})

    monkeypatch.setattr(resolve.Resolver, "_run", run)
    r = resolve.Resolver(tmp_path)
    first = r.compile(["tenacity>=9", "anyio"], "3.11")
    dumps = json.dumps
    monkeypatch.setattr(resolve.json, "dumps", lambda *a, **k: pytest.fail("hashed again"))
    assert r.compile([" anyio", "tenacity>=9", "anyio"], "3.11") is first and asked == [["anyio", "tenacity>=9"]]
    # the key is the one stored answers have always been found by
    want = hashlib.sha256(dumps([["anyio", "tenacity>=9"], [], "3.11", False, resolve.uv_version(r.folder)]).encode())
    assert list(r.keys.values()) == [want.hexdigest()[:32]] and (r.folder / f"{want.hexdigest()[:32]}.json").exists()
