"""Behavioural proof of the tenacity recipe: a small test suite written for tenacity 8.2.3 passes there, fails
on 9.1.2 where the automatic rules apply, and passes on 9.1.2 and 9.2.1 once migrated."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from recipe_harness import rewrite_files
from uvenv import run_pytest, uv_env

from fleetshift.model import Severity

pytestmark = pytest.mark.slow

OLD = ["tenacity==8.2.3", "pytest==8.3.5"]
NEW = {"9.1.2": ["tenacity==9.1.2", "pytest==8.3.5"], "9.2.1": ["tenacity==9.2.1", "pytest==8.3.5"]}

SUITE = {
    # T2: statistics read through `.retry` after decorated sync and async calls.
    "svc/app/jobs.py": """\
        import tenacity
        from tenacity import retry, stop_after_attempt, wait_fixed, retry_if_exception_type

        CALLS = {"sync": 0, "async": 0}


        @retry(stop=stop_after_attempt(4), wait=wait_fixed(0.001), retry=retry_if_exception_type(ConnectionError))
        def flaky():
            CALLS["sync"] += 1
            if CALLS["sync"] < 3:
                raise ConnectionError("boom")
            return "ok"


        @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.001))
        async def aflaky():
            CALLS["async"] += 1
            if CALLS["async"] < 2:
                raise OSError("later")
            return CALLS["async"]
        """,
    "svc/tests/test_statistics.py": """\
        import asyncio

        from app.jobs import aflaky, flaky


        def test_sync_statistics():
            assert flaky() == "ok"
            assert flaky.retry.statistics["attempt_number"] == 3


        def test_async_statistics():
            assert asyncio.run(aflaky()) == 2
            assert aflaky.retry.statistics["attempt_number"] == 2
        """,
    # T1: the private module, as a from-import and as an attribute chain.
    "svc/tests/test_asyncio_import.py": """\
        import asyncio

        import tenacity._asyncio
        from tenacity import stop_after_attempt, wait_fixed
        from tenacity._asyncio import AsyncRetrying, RetryCallState


        async def collect():
            seen = []
            async for attempt in AsyncRetrying(stop=stop_after_attempt(3), wait=wait_fixed(0.001)):
                with attempt:
                    assert isinstance(attempt.retry_state, RetryCallState)
                    seen.append(attempt.retry_state.attempt_number)
                    if len(seen) < 3:
                        raise ValueError(len(seen))
            return seen


        def test_async_for_loop():
            assert asyncio.run(collect()) == [1, 2, 3]


        def test_attribute_chain():
            retrying = tenacity._asyncio.AsyncRetrying(stop=stop_after_attempt(1))
            assert isinstance(retrying, tenacity.BaseRetrying)
        """,
    # T7: a retry strategy composed with plain functions.
    "svc/tests/test_compose.py": """\
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

        ATTEMPTS = []


        def is_transient(retry_state):
            return not retry_state.outcome.failed and retry_state.outcome.result() is None


        @retry(stop=stop_after_attempt(5), wait=wait_fixed(0.001), retry=retry_if_exception_type(IOError) | is_transient)
        def fetch(values):
            ATTEMPTS.append(1)
            value = values.pop(0)
            if isinstance(value, Exception):
                raise value
            return value


        FIRST_ONLY = retry_if_exception_type(ValueError) & (lambda rs: rs.attempt_number < 2)


        @retry(retry=FIRST_ONLY, wait=wait_fixed(0.001), reraise=True)
        def once(values):
            value = values.pop(0)
            if isinstance(value, Exception):
                raise value
            return value


        def test_or_with_function():
            ATTEMPTS.clear()
            assert fetch([IOError("x"), None, 7]) == 7
            assert len(ATTEMPTS) == 3


        def test_and_with_lambda():
            assert once([ValueError("a"), 5]) == 5
            try:
                once([ValueError("a"), ValueError("b"), 5])
            except ValueError as exc:
                assert str(exc) == "b"
            else:
                raise AssertionError("expected ValueError")
        """,
    # Unchanged behaviour the recipe must not touch: callbacks, reraise and RetryError.
    "svc/tests/test_unchanged.py": """\
        import pytest
        from tenacity import RetryError, retry, stop_after_attempt, wait_exponential, wait_fixed


        def fallback(retry_state):
            return ("fallback", retry_state.attempt_number)


        @retry(stop=stop_after_attempt(2), wait=wait_fixed(0.001), retry_error_callback=fallback)
        def always_fails():
            raise RuntimeError("no")


        @retry(stop=stop_after_attempt(2), wait=wait_exponential(multiplier=0.001, max=0.002), reraise=True)
        def reraised():
            raise KeyError("k")


        @retry(stop=stop_after_attempt(2), wait=wait_fixed(0.001))
        def wrapped():
            raise KeyError("k")


        def test_retry_error_callback():
            assert always_fails() == ("fallback", 2)


        def test_reraise_true_gives_the_error():
            with pytest.raises(KeyError):
                reraised()


        def test_default_gives_retry_error():
            with pytest.raises(RetryError) as info:
                wrapped()
            assert isinstance(info.value.last_attempt.exception(), KeyError)
        """,
    "svc/tests/conftest.py": """\
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        """,
}


def _outcomes(output: str) -> dict[str, str]:
    """Per test module: 'passed' when all its tests passed, otherwise 'failed'."""
    out: dict[str, str] = {}
    for status, node in re.findall(r"^(PASSED|FAILED|ERROR) (tests/[\w/]+\.py)", output, re.M):
        module = Path(node).stem
        out[module] = "failed" if status != "PASSED" or out.get(module) == "failed" else "passed"
    return out


def _write(root: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (root / "svc" / "app" / "__init__.py").touch()
    return root / "svc"


def _suite(root: Path, python: Path) -> tuple[dict[str, str], str]:
    proc = run_pytest(python, root, "-rA", "--continue-on-collection-errors", "tests")
    return _outcomes(proc.stdout), proc.stdout + proc.stderr


ALL = {"test_statistics", "test_asyncio_import", "test_compose", "test_unchanged"}


def test_old_suite_passes_on_8_2_3_fails_unmigrated_and_passes_migrated_on_9(tmp_path: Path) -> None:
    old_files = {p: textwrap.dedent(t) for p, t in SUITE.items()}
    old_root = _write(tmp_path / "old", old_files)

    outcomes, log = _suite(old_root, uv_env(OLD))
    assert outcomes == dict.fromkeys(ALL, "passed"), log

    # Unmigrated on 9.1.2: every automatic rule is needed.
    outcomes, log = _suite(old_root, uv_env(NEW["9.1.2"]))
    assert outcomes == {
        "test_statistics": "failed",
        "test_asyncio_import": "failed",
        "test_compose": "failed",
        "test_unchanged": "passed",
    }, log

    new_files, findings = rewrite_files("tenacity", old_files)
    assert [f for f in findings if f.severity is Severity.HUMAN] == []
    assert new_files["svc/app/jobs.py"] == old_files["svc/app/jobs.py"]
    assert new_files["svc/tests/test_unchanged.py"] == old_files["svc/tests/test_unchanged.py"]
    assert (
        "retry_any(retry_if_exception_type(IOError), is_transient)" in new_files["svc/tests/test_compose.py"]
    )
    new_root = _write(tmp_path / "new", new_files)

    for version in ("9.1.2", "9.2.1"):
        outcomes, log = _suite(new_root, uv_env(NEW[version]))
        assert outcomes == dict.fromkeys(ALL, "passed"), f"tenacity {version}\n{log}"


# Patch targets naming tenacity._asyncio: by string (mock.patch, monkeypatch.setattr, patch.multiple) and on
# the module object (patch.object); tenacity.nap.time is patched too and must stay as it is.
PATCHES = {
    "svc/app/fetch.py": """\
        import tenacity


        @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.01))
        async def fetch():
            return "real"


        @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_fixed(5))
        def flaky(calls=[]):
            calls.append(1)
            if len(calls) < 2:
                raise ConnectionError
            return len(calls)
        """,
    "svc/tests/test_patch_targets.py": """\
        import asyncio
        from unittest import mock

        import tenacity

        from app.fetch import fetch, flaky


        async def fake_call(self, fn, *args, **kwargs):
            return "patched"


        def test_patch_by_string():
            with mock.patch("tenacity._asyncio.AsyncRetrying.__call__", fake_call):
                assert asyncio.run(fetch()) == "patched"
            assert asyncio.run(fetch()) == "real"


        def test_setattr_by_string(monkeypatch):
            monkeypatch.setattr("tenacity._asyncio.AsyncRetrying.__call__", fake_call)
            assert asyncio.run(fetch()) == "patched"


        def test_patch_object_on_the_module():
            with mock.patch.object(tenacity._asyncio, "RetryCallState", "stand-in"):
                assert tenacity._asyncio.RetryCallState == "stand-in"
            assert tenacity._asyncio.RetryCallState is tenacity.RetryCallState


        def test_patch_multiple():
            with mock.patch.multiple("tenacity._asyncio", AttemptManager="a", DoSleep="d"):
                assert (tenacity._asyncio.AttemptManager, tenacity._asyncio.DoSleep) == ("a", "d")


        @mock.patch("tenacity.nap.time")
        def test_sync_sleep_patched_as_before(nap_time):
            assert flaky() == 2
            assert nap_time.sleep.call_args_list == [mock.call(5.0)]
        """,
    "svc/tests/conftest.py": SUITE["svc/tests/conftest.py"],
}


def _tests(root: Path, python: Path) -> tuple[dict[str, str], str]:
    """Per test function: PASSED, FAILED or ERROR."""
    proc = run_pytest(python, root, "-rA", "tests")
    found = re.findall(r"^(PASSED|FAILED|ERROR) tests/[\w/]+\.py::(\w+)", proc.stdout, re.M)
    return {name: status for status, name in found}, proc.stdout + proc.stderr


def test_patch_targets_naming_the_private_module_are_moved_and_work_on_9(tmp_path: Path) -> None:
    old_files = {p: textwrap.dedent(t) for p, t in PATCHES.items()}
    old_root = _write(tmp_path / "old", old_files)
    moved = {"test_patch_by_string", "test_setattr_by_string", "test_patch_object_on_the_module", "test_patch_multiple"}
    every = moved | {"test_sync_sleep_patched_as_before"}

    outcomes, log = _tests(old_root, uv_env(OLD))
    assert outcomes == dict.fromkeys(every, "PASSED"), log
    # on 9.1.2 each patch of tenacity._asyncio fails on its own; the tenacity.nap.time patch still works
    outcomes, log = _tests(old_root, uv_env(NEW["9.1.2"]))
    assert outcomes == {**dict.fromkeys(moved, "FAILED"), "test_sync_sleep_patched_as_before": "PASSED"}, log

    new_files, findings = rewrite_files("tenacity", old_files)
    assert findings == []
    migrated = new_files["svc/tests/test_patch_targets.py"]
    assert "_asyncio" not in migrated and 'mock.patch("tenacity.nap.time")' in migrated
    new_root = _write(tmp_path / "new", new_files)
    for version in ("9.1.2", "9.2.1"):
        outcomes, log = _tests(new_root, uv_env(NEW[version]))
        assert outcomes == dict.fromkeys(every, "PASSED"), f"tenacity {version}\n{log}"


# tenacity.iscoroutinefunction: 8.2.3 re-exported inspect's; from 8.4 on the name is gone.
ISCORO = {
    "svc/app/dispatch.py": """\
        import functools

        import tenacity as tn
        from tenacity import (
            AsyncRetrying,
            iscoroutinefunction,
            stop_after_attempt,
        )


        def retried(fn):
            if iscoroutinefunction(fn):
                async def run(*a):
                    async for attempt in AsyncRetrying(stop=stop_after_attempt(2)):
                        with attempt:
                            return await fn(*a)
                return functools.wraps(fn)(run)
            return tn.retry(stop=stop_after_attempt(2))(fn)


        def kind(fn):
            return "async" if tn.iscoroutinefunction(fn) else "sync"
        """,
    "svc/tests/test_dispatch.py": """\
        import asyncio
        import functools

        from app.dispatch import kind, retried


        async def fetch():
            return 1


        def compute():
            return 2


        def test_kinds_and_retries():
            assert kind(fetch) == "async" and kind(compute) == "sync"
            assert kind(functools.partial(fetch)) == "async"  # inspect's own answer on 3.8+
            assert asyncio.run(retried(fetch)()) == 1
            assert retried(compute)() == 2
        """,
    "svc/tests/conftest.py": SUITE["svc/tests/conftest.py"],
}


def test_iscoroutinefunction_moves_to_inspect_and_works_on_every_release(tmp_path: Path) -> None:
    old_files = {p: textwrap.dedent(t) for p, t in ISCORO.items()}
    old_root = _write(tmp_path / "old", old_files)
    assert _suite(old_root, uv_env(OLD))[0] == {"test_dispatch": "passed"}
    outcomes, log = _suite(old_root, uv_env(NEW["9.1.2"]))
    assert outcomes == {"test_dispatch": "failed"} and "iscoroutinefunction" in log, log

    new_files, findings = rewrite_files("tenacity", old_files)
    assert findings == []
    assert "from inspect import iscoroutinefunction" in new_files["svc/app/dispatch.py"]
    assert "inspect.iscoroutinefunction(fn)" in new_files["svc/app/dispatch.py"]
    new_root = _write(tmp_path / "new", new_files)
    for python in (uv_env(OLD), uv_env(NEW["9.1.2"]), uv_env(NEW["9.2.1"])):
        outcomes, log = _suite(new_root, python)
        assert outcomes == {"test_dispatch": "passed"}, log
