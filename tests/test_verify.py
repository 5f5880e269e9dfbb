"""The verify stage: requirement lists per manifest format, real uv environments, real pytest runs read from
JUnit XML, the baseline cache, regressions versus pre-existing failures, timeouts and health checks."""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fleet_factory import make_fleet

from fleetshift import verify
from fleetshift.config import FleetConfig, HealthCheck
from fleetshift.discover import discover
from fleetshift.model import (
    Project,
    RunState,
    Service,
    TestCommand,
    TestOutcome,
    TestRun,
    TestStatus,
    VerdictState,
)

PYTEST = "pytest==8.3.5"  # the demo fleet's pin: already in uv's cache

P, F, E, S = TestStatus.PASSED, TestStatus.FAILED, TestStatus.ERROR, TestStatus.SKIPPED


def service_of(root: Path, name: str) -> Service:
    return discover(root, FleetConfig(root=root)).service(name)


def run_of(
    label: str, *outcomes: tuple[str, TestStatus], installed: bool = True, timed_out: bool = False,
    state: RunState | None = None,
) -> TestRun:  # fmt: skip
    if state is None:
        state = RunState.INSTALL_FAILED if not installed else (RunState.TIMEOUT if timed_out else RunState.RAN)
    return TestRun(
        "svc",
        label,
        outcomes=tuple(TestOutcome(i, s) for i, s in outcomes),
        installed=installed,
        timed_out=timed_out,
        state=state,
        log=f"/x/{label}-tests.log",
    )


# ---- compare: pure ------------------------------------------------------------------------------------


def test_compare_blames_only_regressions() -> None:
    before = run_of(
        "old",
        ("t::ok", P),
        ("t::breaks", P),
        ("t::broken", F),
        ("t::healed", F),
        ("t::gone", P),
        ("t::skip", S),
    )
    after = run_of(
        "new",
        ("t::ok", P),
        ("t::breaks", E),
        ("t::broken", F),
        ("t::healed", P),
        ("t::skip", F),
        ("t::new", F),
    )
    v = verify.compare(before, after)
    assert not v.passed
    assert v.regressions == ("t::breaks", "t::skip", "t::new")
    assert v.pre_existing == ("t::broken",)
    assert v.fixed == ("t::healed",)
    assert v.missing == ("t::gone",)
    assert "3 regression(s): t::breaks, t::skip, t::new" in v.reason


def test_compare_passes_with_pre_existing_failures_only() -> None:
    before = run_of("old", ("t::ok", P), ("t::broken", F))
    v = verify.compare(before, run_of("new", ("t::ok", P), ("t::broken", F)))
    assert v.passed and v.regressions == () and v.pre_existing == ("t::broken",)
    assert "pre-existing" in v.reason


def test_compare_without_baseline_requires_all_green() -> None:
    v = verify.compare(None, run_of("new", ("t::ok", P), ("t::skip", S)))
    assert v.passed and v.outcome is VerdictState.PASSED
    v = verify.compare(None, run_of("new", ("t::ok", P), ("t::broken", F)))
    assert not v.passed and v.regressions == ("t::broken",) and "no baseline" in v.reason
    assert v.outcome is VerdictState.FAILED


# Every way a baseline can fail to run. Before, a baseline that "ran" into a usage error counted as a run whose
# failures were pre-existing, and the service passed (issue: a verdict you can trust).
NOT_RAN = [
    run_of("old", installed=False),
    run_of("old", ("t::broken", F), timed_out=True),
    run_of("old", ("pytest::session", E), state=RunState.USAGE_ERROR),
    run_of("old", state=RunState.IMPORT_ERROR),
    run_of("old", ("tests.test_a", E), state=RunState.COLLECTION_ERROR),
    run_of("old", state=RunState.NO_TESTS),
    run_of("old", state=RunState.INTERNAL_ERROR),
    run_of("old", ("t::needs_aiohttp", E), ("t::also", E), state=RunState.NO_PASSING),
]


@pytest.mark.parametrize("before", NOT_RAN, ids=[r.state.value for r in NOT_RAN])
def test_a_baseline_that_did_not_run_makes_the_service_unverifiable(before: TestRun) -> None:
    for after in (run_of("new", ("t::ok", P)), before.__class__(**{**before.__dict__, "label": "new"})):
        v = verify.compare(before, after)
        assert not v.passed and v.outcome is VerdictState.UNVERIFIABLE, v
        assert f"[{before.state.value}]" in v.reason and before.log in v.reason and v.log == before.log
    v = verify.compare(before, run_of("new", ("t::ok", P), ("t::broken", F)))  # fails now, nothing shows it passed
    assert v.outcome is VerdictState.FAILED and v.regressions == ("t::broken",)


# A baseline that "ran" but where not one test passed: a conftest fixture importing a package the install
# left out errors every test on both sides, and the errors were "pre-existing" (issue: beyond the tests).
NONE_PASSED = {
    "every test errors": run_of("old", ("t::a", E), ("t::b", E)),
    "fails and skips": run_of("old", ("t::a", F), ("t::b", S)),
    "smoke import fails": TestRun("svc", "old", kind="import-smoke", log="/x/old-tests.log",
                                  outcomes=(TestOutcome("import:svc", F, "ModuleNotFoundError: aiohttp"),)),
    "command fails": TestRun("svc", "old", kind="command", outcomes=(TestOutcome("command::make test", F),)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(NONE_PASSED))
def test_a_baseline_where_not_one_test_passed_is_no_evidence(name: str) -> None:
    before = NONE_PASSED[name]
    taken = verify.as_baseline(before)
    assert taken.state is RunState.NO_PASSING and "none passed" in taken.error, taken
    v = verify.compare(before, run_of("new", ("t::a", P), ("t::b", P)))
    assert not v.passed and v.outcome is VerdictState.UNVERIFIABLE, v
    assert "[no-passing]" in v.reason and "not one passed" in v.reason, v.reason
    v = verify.compare(before, TestRun(**{**before.__dict__, "label": "new"}))  # the same failures: never "passed"
    assert not v.passed and v.outcome is VerdictState.FAILED and "[no-passing]" in v.reason, v
    assert verify.as_baseline(run_of("old", ("t::a", P), ("t::b", E))).state is RunState.RAN  # one passed: evidence


@pytest.mark.parametrize(
    "state", [RunState.USAGE_ERROR, RunState.IMPORT_ERROR, RunState.COLLECTION_ERROR, RunState.NO_TESTS]
)
def test_an_after_run_that_did_not_run_is_a_failure_when_the_baseline_ran(state: RunState) -> None:
    v = verify.compare(run_of("old", ("t::ok", P)), run_of("new", ("pytest::session", E), state=state))
    assert not v.passed and v.outcome is VerdictState.FAILED
    assert "ran on the old pins but not on the new ones" in v.reason and f"[{state.value}]" in v.reason
    assert "/x/new-tests.log" in v.reason


def test_compare_fails_when_the_tests_vanish() -> None:
    before = run_of("old", ("t::ok", P))
    after = TestRun("svc", "new", kind="import-smoke", outcomes=(TestOutcome("import:svc", P),))
    v = verify.compare(before, after)
    assert not v.passed and v.missing == ("t::ok",) and "as import-smoke on the new ones" in v.reason


def test_renamed_parametrize_ids_are_matched_and_a_renamed_failure_is_a_regression() -> None:
    before = run_of(
        "old", ("t::test_x[a-b]", P), ("t::test_x[c-d]", P), ("t::test_y[1-2]", P), ("t::test_z[p]", P),
        ("t::test_z[q]", P),
    )  # fmt: skip
    after = run_of(
        "new", ("t::test_x[a_b]", P), ("t::test_x[c_d]", P), ("t::test_y[1_2]", F), ("t::test_z[p]", P),
    )  # fmt: skip
    v = verify.compare(before, after)
    assert set(v.renamed) == {
        ("t::test_x[a-b]", "t::test_x[a_b]"), ("t::test_x[c-d]", "t::test_x[c_d]"), ("t::test_y[1-2]", "t::test_y[1_2]"),
    }  # fmt: skip
    assert v.regressions == ("t::test_y[1_2]",) and not v.passed
    assert v.missing == ("t::test_z[q]",)  # one of two gone, none new: not a rename
    assert "3 renamed (parametrize id changed; 1 of them now fail)" in v.reason
    ok = verify.compare(before, run_of("new", ("t::test_x[a_b]", P), ("t::test_x[c_d]", P), ("t::test_y[1_2]", P),
                                       ("t::test_z[p]", P), ("t::test_z[q]", P)))  # fmt: skip
    assert ok.passed and ok.missing == () and "3 renamed (parametrize id changed; all still pass)" in ok.reason


@pytest.mark.parametrize(
    ("runner", "code", "outcomes", "log", "state"),
    [
        ("pytest", 0, [("t::a", P)], "", RunState.RAN),
        ("pytest", 1, [("t::a", F)], "", RunState.RAN),
        ("pytest", 0, [("t::a", S)], "", RunState.NO_TESTS),
        ("pytest", 5, [], "no tests ran", RunState.NO_TESTS),
        ("pytest", 4, [], "ERROR: usage: ...\nerror: unrecognized arguments: --failed-first", RunState.USAGE_ERROR),
        ("pytest", 4, [], "ImportError while loading conftest '/x/conftest.py'.\nE   ModuleNotFoundError: No module named 'x'",
         RunState.IMPORT_ERROR),
        ("pytest", 3, [], "INTERNALERROR> Traceback", RunState.INTERNAL_ERROR),
        ("pytest", 2, [("tests.test_a", E)], "Interrupted: 1 error during collection", RunState.COLLECTION_ERROR),
        ("pytest", None, [], "", RunState.TIMEOUT),
        ("behave", 0, [("f.Feature::scenario", P)], "", RunState.RAN),
        ("behave", 1, [], "ConfigError: No steps directory in '/x/features'", RunState.USAGE_ERROR),
        ("unittest", 5, [], "Ran 0 tests", RunState.NO_TESTS),
        ("unittest", 1, [("unittest-import-error:tests.test_a", E)], "", RunState.COLLECTION_ERROR),
        ("other", 0, [("command::make test", P)], "", RunState.RAN),
    ],
)
def test_classify_every_way_a_run_ends(
    runner: str, code: int | None, outcomes: list[tuple[str, TestStatus]], log: str, state: RunState
) -> None:
    found = [TestOutcome(i, s, "collection failure" if i == "tests.test_a" else "") for i, s in outcomes]
    assert verify.classify(runner, code, code is None, found, log) is state


def test_the_test_command_and_its_runner() -> None:
    svc = Service("svc", "svc")
    assert verify.resolve_test_command(svc) == ("python -m pytest", "default")
    tox = Service("svc", "svc", project=Project(test_command=TestCommand("pytest tests/unit {posargs}", "tox.ini [testenv]")))
    assert verify.resolve_test_command(tox) == ("pytest tests/unit", "tox.ini [testenv]")
    assert verify.resolve_test_command(tox, "behave -t @fast") == ("behave -t @fast", "config")
    assert [verify.runner_of(c) for c in ("pytest -x", "python3 -m pytest", "coverage run -m pytest", "behave",
                                          "python -m unittest discover -s tests", "make test")] == [
        "pytest", "pytest", "pytest", "behave", "unittest", "other"]  # fmt: skip
    assert verify.with_options("pytest -q", "pytest", "--junitxml=j") == "pytest -q --junitxml=j"
    assert verify.with_options("make db && pytest tests && coverage report", "pytest", "--junitxml=j") == (
        "make db && pytest tests --junitxml=j && coverage report")


def test_compare_fails_when_after_cannot_install_or_times_out() -> None:
    before = run_of("old", ("t::ok", P))
    broken = TestRun(
        "svc", "new", installed=False, error="installing failed: no such package", log="/x/new-install.log"
    )
    v = verify.compare(before, broken)
    assert not v.passed and v.error == broken.error and v.log == "/x/new-install.log"
    assert "/x/new-install.log" in v.reason
    assert not verify.compare(before, run_of("new", ("t::ok", P), timed_out=True)).passed


def test_parse_junit_ids_statuses_and_worst_of_duplicates(tmp_path: Path) -> None:
    xml = tmp_path / "j.xml"
    xml.write_text(
        """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
        <testcase classname="tests.test_a" name="test_ok" time="0.5"/>
        <testcase classname="tests.test_a.TestK" name="test_p[1-x]" time="0.1"><failure message="assert 1 == 2">tb</failure></testcase>
        <testcase classname="tests.test_a" name="test_teardown"><error message="teardown boom"/></testcase>
        <testcase classname="tests.test_a" name="test_teardown"><failure message="boom"/></testcase>
        <testcase classname="tests.test_a" name="test_skip"><skipped type="pytest.skip" message="no"/></testcase>
        <testcase classname="" name="tests.test_b"><error message="collection failure"/></testcase>
        </testsuite></testsuites>"""
    )
    got = {o.id: (o.status, o.message) for o in verify.parse_junit(xml)}
    assert got == {
        "tests.test_a::test_ok": (P, ""),
        "tests.test_a.TestK::test_p[1-x]": (F, "assert 1 == 2"),
        "tests.test_a::test_teardown": (F, "boom"),
        "tests.test_a::test_skip": (S, "no"),
        "tests.test_b": (E, "collection failure"),
    }
    assert verify.parse_junit(tmp_path / "missing.xml") == []


def test_child_env_drops_pytest_vars_and_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    monkeypatch.setenv("FLEETSHIFT_USER_VAR", "kept")
    env = verify.child_env(Service("svc", "services/svc"), Path("/venv/bin"), Path("/venv"))
    assert not [k for k in env if k.startswith("PYTEST_")]
    assert env["FLEETSHIFT_SERVICE"] == "svc" and env["FLEETSHIFT_USER_VAR"] == "kept"
    assert env["PATH"].startswith("/venv/bin" + os.pathsep) and env["VIRTUAL_ENV"] == "/venv"


# ---- requirements per manifest format ------------------------------------------------------------------

LIB_X = {
    "libs/x/pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "xlib"
        version = "0.1"
        dependencies = ["six==1.16.0"]
        """,
    "libs/x/xlib/__init__.py": "import six\nANSWER = 42\n",
}


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fleet with one service per manifest style, each with a test that checks its pins are installed."""
    root = tmp_path_factory.mktemp("formats")
    check = 'import six\n\n\ndef test_pins():\n    assert six.__version__ == "1.16.0"\n'
    return make_fleet(
        root,
        {
            **LIB_X,
            "services/reqs/requirements.txt": "-e ../../libs/x\n",
            "services/reqs/requirements-dev.txt": f"-r requirements.txt\n{PYTEST}\n",
            "services/reqs/tests/test_x.py": "from xlib import ANSWER\n\ndef test_lib():\n    assert ANSWER == 42\n",
            "services/pep621/pyproject.toml": f"""
                [build-system]
                requires = ["setuptools>=68"]
                build-backend = "setuptools.build_meta"
                [project]
                name = "pep621"
                version = "1.0"
                dependencies = ["six==1.16.0"]
                [project.optional-dependencies]
                test = ["{PYTEST}"]
                [tool.setuptools.packages.find]
                where = ["src"]
                """,
            "services/pep621/src/pep621/__init__.py": "NAME = 'pep621'\n",
            "services/pep621/tests/test_p.py": check
            + "\ndef test_installed():\n    import pep621\n    assert pep621.NAME == 'pep621'\n",
            "services/poetry/pyproject.toml": f"""
                [tool.poetry]
                name = "poetry-svc"
                version = "0.1.0"
                description = ""
                authors = ["x <x@example.invalid>"]
                packages = [{{ include = "poetry_svc" }}]
                [tool.poetry.dependencies]
                python = "^3.11"
                six = "1.16.0"
                [tool.poetry.group.dev.dependencies]
                pytest = "{PYTEST.split("==")[1]}"
                [build-system]
                requires = ["poetry-core>=1.9"]
                build-backend = "poetry.core.masonry.api"
                """,
            "services/poetry/poetry_svc/__init__.py": "",
            "services/poetry/tests/test_p.py": check,
            "services/pipenv/Pipfile": f"""
                [packages]
                six = "==1.16.0"
                [dev-packages]
                pytest = "{PYTEST.split("pytest")[1]}"
                """,
            "services/pipenv/tests/test_p.py": check,
        },
    )


def test_requirements_for_each_manifest_style(formats: Path) -> None:
    root = formats.resolve()
    reqs = verify.requirements_for(root, service_of(root, "reqs"))
    assert reqs.requirements == ("-r requirements-dev.txt",) and reqs.editable_self == ""
    assert reqs.args() == ["-r", "requirements-dev.txt"]
    pep = verify.requirements_for(root, service_of(root, "pep621"))
    assert pep.requirements == ("six==1.16.0", PYTEST)
    assert pep.editable_self == str(root / "services/pep621")
    poetry = verify.requirements_for(root, service_of(root, "poetry"), {"six": ">=1.17"})
    assert poetry.requirements == ("six==1.16.0", PYTEST) and poetry.editable_self == str(
        root / "services/poetry"
    )
    assert poetry.overrides == ("six>=1.17",)
    pipenv = verify.requirements_for(root, service_of(root, "pipenv"))
    assert pipenv.requirements == ("six==1.16.0", PYTEST) and pipenv.editable_self == ""


def test_requirements_for_path_deps_setup_cfg_includes_and_missing_pytest(tmp_path: Path) -> None:
    root = make_fleet(
        tmp_path,
        {
            **LIB_X,
            "svc/pyproject.toml": """
                [project]
                name = "svc"
                version = "1"
                dependencies = ["xlib @ file:///ABS", "six[x]>=1; python_version >= '3'"]
                """.replace("file:///ABS", (tmp_path / "libs/x").as_uri()),
            "svc/tests/test_a.py": "def test_a():\n    pass\n",
            "cfg/setup.cfg": "[metadata]\nname = cfg\n[options]\ninstall_requires = file: requirements.txt\nsetup_requires =\n    wheel\n",
            "cfg/requirements.txt": "six\n",
        },
    ).resolve()
    svc = verify.requirements_for(root, service_of(root, "svc"))
    assert svc.requirements == (f"-e {root / 'libs/x'}", 'six[x]>=1; python_version >= "3"', "pytest")
    cfg = verify.requirements_for(root, service_of(root, "cfg"))
    assert cfg.requirements == ("-r requirements.txt",) and cfg.editable_self == str(root / "cfg")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["reqs", "pep621", "poetry", "pipenv"])
def test_each_manifest_style_installs_and_passes(formats: Path, name: str, tmp_path: Path) -> None:
    root = formats.resolve()
    run = verify.after(verify.VerifyRequest(root, service_of(root, name), tmp_path / "run", timeout=240))
    assert run.installed, run.error
    assert run.kind == "pytest" and run.exit_code == 0 and run.failing == ()
    assert len(run.passed) >= 1 and all(i.startswith("tests.test_") for i in run.passed)


@pytest.mark.slow
def test_pin_overrides_and_test_command(formats: Path, tmp_path: Path) -> None:
    root = formats.resolve()
    service = service_of(root, "pipenv")
    run = verify.after(verify.VerifyRequest(
        root,
        service,
        tmp_path / "run",
        pin_overrides={"six": "==1.17.0"},
        test_command="python -m pytest tests",
    ))
    assert run.installed, run.error
    assert run.failing == ("tests.test_p::test_pins",) and run.exit_code == 1  # read from the JUnit XML
    log = Path(run.log).read_text()
    # Only JUnit and cache-location options are added; the cache plugin stays as the project has it.
    assert "$ python -m pytest tests --junitxml=" in log and "-o junit_family=xunit2 -o cache_dir=" in log
    assert "no:cacheprovider" not in log and run.command.startswith("python -m pytest tests --junitxml=")
    assert not (root / service.path / ".pytest_cache").exists()


# ---- baseline vs after: regressions, pre-existing failures, the cache ---------------------------------


@pytest.mark.slow
def test_regression_found_pre_existing_not_blamed_and_baseline_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PYTEST_ADDOPTS", "--no-such-option-leaks-in"
    )  # would break the inner pytest if passed on
    monkeypatch.setenv("FLEETSHIFT_USER_VAR", "from-the-user")
    root = make_fleet(
        tmp_path / "fleet",
        {
            "svc/requirements.txt": f"six==1.16.0\n{PYTEST}\n",
            "svc/tests/test_a.py": """
                import os
                import six

                def test_env():
                    assert os.environ["FLEETSHIFT_SERVICE"] == "svc"
                    assert os.environ["FLEETSHIFT_USER_VAR"] == "from-the-user"

                def test_six_version():
                    assert six.__version__.startswith("1.16")

                def test_broken_already():
                    assert 1 == 2
                """,
        },
    ).resolve()
    service = service_of(root, "svc")
    base = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run1"))
    assert base.installed and not base.cached and base.kind == "pytest"
    assert set(base.passed) == {"tests.test_a::test_env", "tests.test_a::test_six_version"}
    assert base.failing == ("tests.test_a::test_broken_already",)
    assert not verify.env_path(root, service, "old").exists()  # the old env is gone once recorded

    again = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run2"))
    assert again.cached and again.outcomes == base.outcomes
    assert not (verify.log_dir(tmp_path / "run2", service) / "old-install.log").exists()  # nothing installed
    assert list((root / verify.BASELINE_CACHE_DIR).glob("svc-*.json"))

    (root / "svc/requirements.txt").write_text(f"six==1.17.0\n{PYTEST}\n")  # the "rewrite"
    after = verify.after(verify.VerifyRequest(root, service, tmp_path / "run2"))
    verdict = verify.compare(base, after)
    assert not verdict.passed
    assert verdict.regressions == ("tests.test_a::test_six_version",)
    assert verdict.pre_existing == ("tests.test_a::test_broken_already",)
    assert "tests.test_a::test_six_version" in verdict.reason and verdict.log.endswith("new-tests.log")
    assert verify.env_path(root, service, "new").is_dir()  # kept for the health check

    changed = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run3"))  # manifests changed: a new key, a new run
    assert not changed.cached and (verify.log_dir(tmp_path / "run3", service) / "old-install.log").exists()


@pytest.mark.slow
def test_baseline_puts_back_a_shared_library_migrated_earlier_in_the_run(tmp_path: Path) -> None:
    root = make_fleet(
        tmp_path / "fleet",
        {
            **LIB_X,
            "services/svc/requirements.txt": f"-e ../../libs/x\nsix==1.16.0\n{PYTEST}\n",
            "services/svc/tests/test_a.py": "import six\n\ndef test_a():\n    assert six.__version__ == '1.16.0'\n",
        },
    ).resolve()
    service = service_of(root, "svc")
    lib = root / "libs/x/pyproject.toml"
    before = {"libs/x/pyproject.toml": lib.read_bytes()}
    first = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run"))
    assert first.passed == ("tests.test_a::test_a",)

    lib.write_bytes(lib.read_bytes().replace(b"six==1.16.0", b"six==1.17.0"))  # phase A migrated the library
    migrated = lib.read_bytes()
    assert verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run", old_files=before)).cached  # same key as before

    shutil.rmtree(root / verify.BASELINE_CACHE_DIR)
    plain = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run2"))
    assert not plain.installed and "six" in plain.error  # the old service cannot resolve with the new library
    again = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run3", old_files=before))
    assert again.installed and not again.cached and again.passed == ("tests.test_a::test_a",)
    assert lib.read_bytes() == migrated  # the fleet itself was not touched


@pytest.mark.slow
def test_install_failure_is_a_record_with_the_error_and_log(tmp_path: Path) -> None:
    root = make_fleet(
        tmp_path / "fleet",
        {
            "svc/requirements.txt": "fleetshift-no-such-package==1\n",
            "svc/tests/test_a.py": "def test_a():\n    pass\n",
        },
    ).resolve()
    service = service_of(root, "svc")
    run = verify.after(verify.VerifyRequest(root, service, tmp_path / "run"))
    assert not run.installed and run.outcomes == ()
    assert "installing failed" in run.error and "fleetshift-no-such-package" in run.error
    log = Path(run.log)
    assert log == verify.log_dir(tmp_path / "run", service) / "new-install.log"
    assert "fleetshift-no-such-package" in log.read_text()
    verdict = verify.compare(None, run)
    assert not verdict.passed and verdict.log == run.log and "could not install" in verdict.reason
    base = verify.baseline(verify.VerifyRequest(root, service, tmp_path / "run"))  # a failed install is not cached
    assert not base.installed and not list((root / verify.BASELINE_CACHE_DIR).glob("*.json"))


@pytest.mark.slow
def test_timeout_kills_the_test_run_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    root = make_fleet(
        tmp_path / "fleet",
        {
            "svc/requirements.txt": f"{PYTEST}\n",
            "svc/tests/test_hang.py": f"""
                import os, subprocess, sys, time

                def test_hang():
                    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
                    with open({str(pids)!r}, "w") as fh:
                        fh.write(f"{{os.getpid()}} {{child.pid}}")
                    time.sleep(120)
                """,
        },
    ).resolve()
    service = service_of(root, "svc")
    env = verify.make_env(root, service, tmp_path / "run", "new")
    assert env.ok, env.error
    started = time.monotonic()
    run = verify.run_tests(root, service, env, tmp_path / "run", timeout=4)
    assert time.monotonic() - started < 20
    assert run.timed_out and not run.ran and "did not finish within 4 s" in run.error
    assert not verify.compare(None, run).passed
    time.sleep(0.5)
    assert not [pid for pid in map(int, pids.read_text().split()) if _alive(pid)]


def _alive(pid: int) -> bool:
    """Running (a killed process whose parent is gone may linger as a zombie until reaped: that is dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "\nState:\tZ" in status.read_text())


@pytest.mark.slow
def test_no_tests_runs_an_import_smoke_test_but_empty_test_files_are_no_tests(tmp_path: Path) -> None:
    root = make_fleet(
        tmp_path / "fleet",
        {
            "svc/requirements.txt": "six==1.16.0\n",
            "svc/good/__init__.py": "import six\n",
            "svc/bad/__init__.py": "import fleetshift_not_installed_module\n",
            "empty/requirements.txt": f"six==1.16.0\n{PYTEST}\n",
            "empty/src/emptypkg/__init__.py": "import six\n",
            "empty/tests/test_nothing.py": "HELPER = 1\n",  # pytest collects nothing: exit code 5
        },
    ).resolve()
    svc = service_of(root, "svc")
    run = verify.after(verify.VerifyRequest(root, svc, tmp_path / "run"))
    assert run.kind == "import-smoke" and run.installed
    got = {o.id: o.status for o in run.outcomes}
    assert got == {"import:good": P, "import:bad": F}
    assert "fleetshift_not_installed_module" in run.outcome("import:bad").message  # type: ignore[union-attr]

    # Test files that hold no test are "no tests" (exit 5), not an import smoke test that passes: before, the
    # smoke test stood in for them and the service passed without a single test (issue: a verdict you can trust).
    empty = verify.after(verify.VerifyRequest(root, service_of(root, "empty"), tmp_path / "run"))
    assert empty.kind == "pytest" and empty.state is RunState.NO_TESTS and empty.exit_code == 5
    assert "exit code 5" in empty.error and "no tests ran" in empty.error and empty.outcomes == ()


# ---- health checks -------------------------------------------------------------------------------------

SERVE = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1"


def _gone(url: str) -> bool:
    try:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=1)
    except OSError:
        return True
    return False


def test_health_check_ok_then_stopped(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc/health").write_text("ok")
    check = HealthCheck(start=SERVE, url="http://127.0.0.1:{port}/health", timeout=20)
    result = verify.check_health(
        Path(sys.executable).parent, tmp_path / "svc", check, tmp_path / "logs/health.log"
    )
    assert result.ok, result.detail
    assert "HTTP 200" in result.detail and result.log == str(tmp_path / "logs/health.log")
    port = Path(result.log).read_text().split("http.server ")[1].split()[0]
    assert _gone(f"http://127.0.0.1:{port}/health")  # the server was stopped


def test_health_check_failing_probe_times_out(tmp_path: Path) -> None:
    check = HealthCheck(start=SERVE, url="http://127.0.0.1:{port}/missing", timeout=1.5)
    started = time.monotonic()
    result = verify.check_health(None, tmp_path, check, tmp_path / "health.log")
    assert not result.ok and "not healthy within 1.5 s" in result.detail and "HTTP 404" in result.detail
    assert time.monotonic() - started < 10


def test_health_check_command_probe_and_stop_command(tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    check = HealthCheck(
        start="sleep 30", command='test -n "$FLEETSHIFT_PORT"', stop=f"touch {marker}", timeout=5
    )
    result = verify.check_health(None, tmp_path, check, tmp_path / "health.log")
    assert result.ok and marker.exists()


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (HealthCheck(start="exit 3", url="http://127.0.0.1:{port}/", timeout=10), "exited with code 3"),
        (HealthCheck(url="http://example.com/health", timeout=1), "only loopback URLs"),
    ],
)
def test_health_check_failures_say_why(tmp_path: Path, check: HealthCheck, expected: str) -> None:
    result = verify.check_health(None, tmp_path, check, tmp_path / "health.log")
    assert not result.ok and expected in result.detail


def test_health_uses_the_new_environment(tmp_path: Path) -> None:
    root = make_fleet(tmp_path, {"svc/requirements.txt": "six\n"})
    service = service_of(root, "svc")
    fake_bin = verify.env_path(root, service, "new") / "bin"
    fake_bin.mkdir(parents=True)
    (fake_bin / "fleetshift-probe").write_text("#!/bin/sh\nexit 0\n")
    (fake_bin / "fleetshift-probe").chmod(0o755)
    result = verify.health(
        root, service, tmp_path / "run", HealthCheck(command="fleetshift-probe", timeout=3)
    )
    assert result.ok and result.log.endswith("logs/svc/new-health.log")


# ---- how verdict states read in the closing line and the reports ---------------------------------------------


def test_closing_line_and_report_labels_never_call_an_unproven_service_passed() -> None:
    from fleetshift.model import Verdict
    from fleetshift.orchestrate import closing_line
    from fleetshift.report.results import verdict_of

    verdicts = {
        "ok": Verdict("ok", True, state=VerdictState.PASSED),
        "same": Verdict("same", True, state=VerdictState.NO_OP),
        "blind": Verdict("blind", True, state=VerdictState.NOT_VERIFIED),
        "kept": Verdict("kept", False, state=VerdictState.UNVERIFIABLE),
        "dropped": Verdict("dropped", False, rolled_back=True, state=VerdictState.UNVERIFIABLE),
        "bad": Verdict("bad", False, rolled_back=True, state=VerdictState.FAILED),
    }
    line = closing_line(verdicts)
    assert line.startswith("6 service(s) processed: 1 passed; 1 no-op; 1 applied, not verified; ")
    assert "1 kept unverified (the baseline could not run): kept" in line
    assert "1 unverifiable and not applied (the baseline could not run): dropped" in line
    assert line.endswith("1 failed and rolled back: bad")
    labels = {
        name: verdict_of(status, {"state": v.outcome.value, "rolled_back": v.rolled_back, "passed": v.passed})
        for name, status, v in (
            ("ok", "passed", verdicts["ok"]), ("blind", "not-verified", verdicts["blind"]),
            ("kept", "kept-unverified", verdicts["kept"]), ("dropped", "unverifiable", verdicts["dropped"]),
            ("bad", "failed", verdicts["bad"]),
        )
    }  # fmt: skip
    assert labels == {
        "ok": ("passed", "passed"),
        "blind": ("not-verified", "applied, not verified"),
        "kept": ("unverifiable", "unverifiable, kept (not proven)"),
        "dropped": ("unverifiable", "unverifiable, rolled back (not applied)"),
        "bad": ("failed", "failed, rolled back"),
    }
    assert verdict_of("passed", {"passed": True}) == ("passed", "passed")  # a record from before verdict states
    assert verdict_of("pending", {}) == ("pending", "not reached")


def test_results_do_not_count_a_recipe_the_python_floor_blocked_as_a_success(tmp_path) -> None:
    """A service planned for two recipes whose Python floor blocked one: the run applied only the other, so
    results.json says the blocked one did not succeed, even though the service passed."""
    import json

    from fleetshift.model import Verdict, VerdictState, to_jsonable
    from fleetshift.report.results import build_results

    run_dir = tmp_path / "run"
    (run_dir / "verdicts").mkdir(parents=True)
    plan = {"svc": {"recipes": ["pytest", "tenacity"], "phase": "A", "order": 1}}
    (run_dir / "state.json").write_text(json.dumps({
        "run_id": "r", "fleet_root": str(tmp_path), "status": "completed", "meta": {"plan": plan},
        "services": {"svc": {"status": "passed"}},
    }))
    verdict = Verdict("svc", True, "pytest: 3 passed", recipes=("pytest", "tenacity"), applied=("pytest",),
                      state=VerdictState.PASSED)
    (run_dir / "verdicts" / "svc.json").write_text(json.dumps(to_jsonable(verdict)))
    (svc,) = build_results(run_dir)["services"]
    assert svc["overall_success"]
    assert svc["migrations"] == [{"recipe": "pytest", "success": True}, {"recipe": "tenacity", "success": False}]
