"""tenacity 8.2 -> 9.x recipe: before/after pairs, no-op twins, Findings, detection, and the false claims."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from recipe_harness import Case, assert_noop, assert_rewrite, detect, rewrite, rewrite_files, rules_of

import fleetshift
from fleetshift.model import Action, Service, Severity
from fleetshift.recipes import get
from fleetshift.recipes.base import ConfigFile, RewriteContext

R = "tenacity"
T92 = {"tenacity": ">=9.2.1,<10"}
T914 = {"tenacity": ">=9.1.4,<10"}

# (id, before, after, targets)
REWRITES = [
    (
        "asyncio-from-import",
        "from tenacity._asyncio import AsyncRetrying\n",
        "from tenacity import AsyncRetrying\n",
        None,
    ),
    (
        "asyncio-from-import-alias",
        "from tenacity._asyncio import AsyncRetrying as AR  # keep\n",
        "from tenacity import AsyncRetrying as AR  # keep\n",
        None,
    ),
    (
        "asyncio-other-names",
        "from tenacity._asyncio import RetryCallState, AttemptManager\n",
        "from tenacity.asyncio import RetryCallState, AttemptManager\n",
        None,
    ),
    (
        "asyncio-split",
        "# header\nfrom tenacity._asyncio import AsyncRetrying, RetryCallState  # both\nx = 1\n",
        "# header\nfrom tenacity import AsyncRetrying\nfrom tenacity.asyncio import RetryCallState  # both\nx = 1\n",
        None,
    ),
    (
        "asyncio-sleep-name",
        "from tenacity._asyncio import sleep\n",
        "from asyncio import sleep\n",
        None,
    ),
    (
        "asyncio-import-module",
        "import tenacity._asyncio\nr = tenacity._asyncio.AsyncRetrying()\ns: tenacity._asyncio.RetryCallState\n",
        "import tenacity.asyncio\nr = tenacity.AsyncRetrying()\ns: tenacity.asyncio.RetryCallState\n",
        None,
    ),
    (
        "asyncio-import-alias",
        "import tenacity._asyncio as ta\nr = ta.AsyncRetrying()\n",
        "import tenacity.asyncio as ta\nr = ta.AsyncRetrying()\n",
        None,
    ),
    (
        "asyncio-from-tenacity-import-module",
        "from tenacity import _asyncio\nr = _asyncio.AsyncRetrying()\n",
        "from tenacity import asyncio as _asyncio\nr = _asyncio.AsyncRetrying()\n",
        None,
    ),
    (
        "asyncio-attribute-chain",
        "import tenacity as t\nasync def f():\n    async for a in t._asyncio.AsyncRetrying():\n        pass\n",
        "import tenacity as t\nasync def f():\n    async for a in t.AsyncRetrying():\n        pass\n",
        None,
    ),
    (
        "statistics-decorated",
        """\
        from tenacity import retry, stop_after_attempt

        @retry(stop=stop_after_attempt(2))
        def fetch():
            return 1

        def report():
            return fetch.retry.statistics["attempt_number"]
        """,
        """\
        from tenacity import retry, stop_after_attempt

        @retry(stop=stop_after_attempt(2))
        def fetch():
            return 1

        def report():
            return fetch.statistics["attempt_number"]
        """,
        None,
    ),
    (
        "statistics-bare-decorator-qualified",
        "import tenacity\n\n@tenacity.retry\nasync def fetch():\n    pass\n\nprint(fetch.retry.statistics)\n",
        "import tenacity\n\n@tenacity.retry\nasync def fetch():\n    pass\n\nprint(fetch.statistics)\n",
        None,
    ),
    (
        "statistics-method",
        """\
        from tenacity import retry

        class Client:
            @retry
            def get(self):
                return 1

            def stats(self):
                return self.get.retry.statistics
        """,
        """\
        from tenacity import retry

        class Client:
            @retry
            def get(self):
                return 1

            def stats(self):
                return self.get.statistics
        """,
        None,
    ),
    (
        "statistics-after-non-ascii-text",
        "from tenacity import retry\n\n@retry\ndef fetch():\n    pass\n\nprint('Überblick ½', fetch.retry.statistics, fetch.retry.statistics)\n",
        "from tenacity import retry\n\n@retry\ndef fetch():\n    pass\n\nprint('Überblick ½', fetch.statistics, fetch.statistics)\n",
        None,
    ),
    (
        "statistics-non-ascii-name",  # the parser reads the fullwidth s as s (NFKC): a retried function's statistics
        "from tenacity import retry\n\n@retry\ndef fetch():\n    pass\n\nprint(fetch.retry.\uff53tatistics, fetch.retry.statistics)\n",
        "from tenacity import retry\n\n@retry\ndef fetch():\n    pass\n\nprint(fetch.\uff53tatistics, fetch.statistics)\n",
        None,
    ),
    (
        "compose-or-def",
        """\
        from tenacity import retry, retry_if_exception_type

        def is_transient(state):
            return False

        @retry(retry=retry_if_exception_type(IOError) | is_transient)
        def f():
            pass
        """,
        """\
        from tenacity import retry, retry_if_exception_type, retry_any

        def is_transient(state):
            return False

        @retry(retry=retry_any(retry_if_exception_type(IOError), is_transient))
        def f():
            pass
        """,
        None,
    ),
    (
        "compose-and-lambda-qualified",
        "import tenacity\nR = tenacity.retry_if_result(bool) & (lambda s: True)\n",
        "import tenacity\nR = tenacity.retry_all(tenacity.retry_if_result(bool), (lambda s: True))\n",
        None,
    ),
    (
        "compose-chain-flattened",
        """\
        from tenacity import retry_if_exception_type as on_exc, retry_if_result, retry_any

        is_none = lambda s: False
        POLICY = on_exc(IOError) | is_none | retry_if_result(is_none)
        """,
        """\
        from tenacity import retry_if_exception_type as on_exc, retry_if_result, retry_any

        is_none = lambda s: False
        POLICY = retry_any(on_exc(IOError), is_none, retry_if_result(is_none))
        """,
        None,
    ),
    (
        "compose-function-first-multiline-import",
        """\
        from tenacity import (
            retry,
            retry_if_exception_type,
        )

        def bad(s):
            return True

        r = retry(retry=bad | retry_if_exception_type())
        """,
        """\
        from tenacity import (
            retry,
            retry_if_exception_type,
            retry_any,
        )

        def bad(s):
            return True

        r = retry(retry=retry_any(bad, retry_if_exception_type()))
        """,
        None,
    ),
    (
        "log-format-after-log",
        "import logging\nfrom tenacity import after_log\nA = after_log(logging.getLogger(), logging.INFO)\n",
        'import logging\nfrom tenacity import after_log\nA = after_log(logging.getLogger(), logging.INFO, sec_format="%0.3f")\n',
        None,
    ),
    (
        "log-format-before-sleep-log-on-9.2",
        "import tenacity, logging\nB = tenacity.before_sleep_log(\n    logging.getLogger(),\n    logging.WARNING,\n)\n",
        'import tenacity, logging\nB = tenacity.before_sleep_log(\n    logging.getLogger(),\n    logging.WARNING,\n    sec_format="%s",\n)\n',
        T92,
    ),
    (
        "jitter-initial-on-9.2",
        "from tenacity import wait_exponential_jitter as wej\nW = wej(initial=0.5, max=4)\nV = wej(2, 10)\n",
        "from tenacity import wait_exponential_jitter as wej\nW = wej(multiplier=0.5, max=4)\nV = wej(multiplier=2, max=10)\n",
        T92,
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "targets"), [c[1:] for c in REWRITES], ids=[c[0] for c in REWRITES]
)
def test_rewrite(before: str, after: str, targets: dict[str, str] | None) -> None:
    findings = assert_rewrite(R, before, after, path="svc/app/mod.py", targets=targets)
    assert not [f for f in findings if f.severity is Severity.HUMAN], findings


# (id, source, targets): already-migrated code or lookalikes that must stay byte for byte.
NOOPS = [
    (
        "asyncio-new-import",
        "from tenacity import AsyncRetrying\nfrom tenacity.asyncio import RetryCallState\n",
        None,
    ),
    ("asyncio-other-lib", "from mylib._asyncio import AsyncRetrying\nimport other._asyncio\n", None),
    (
        "statistics-new",
        "from tenacity import retry\n\n@retry\ndef f():\n    pass\n\nprint(f.statistics)\n",
        None,
    ),
    (
        "statistics-retrying-object",
        "from tenacity import Retrying\n\nclass Job:\n    def __init__(self):\n        self.retry = Retrying()\n\n"
        "    def stats(self):\n        return self.retry.statistics\n",
        None,
    ),
    (
        "compose-strategies",
        "from tenacity import retry_if_exception_type as a, retry_if_result as b\nR = a(IOError) | b(bool)\n",
        None,
    ),
    (
        "compose-retry-any",
        "from tenacity import retry_any, retry_if_result\ndef f(s):\n    return 1\nR = retry_any(retry_if_result(f), f)\n",
        None,
    ),
    ("compose-ints", "import tenacity\nFLAGS = 1 | 2\nMASK = FLAGS & 4\n", None),
    (
        "log-format-given",
        'from tenacity import after_log\nimport logging\nA = after_log(logging.getLogger(), 20, sec_format="%.1f")\n',
        None,
    ),
    (
        "log-format-before-sleep-default-target",
        "import tenacity, logging\nB = tenacity.before_sleep_log(logging.getLogger(), 30)\n",
        None,
    ),
    (
        "jitter-initial-default-target",
        "from tenacity import wait_exponential_jitter\nW = wait_exponential_jitter(initial=1)\n",
        None,
    ),
    (
        "jitter-multiplier-on-9.2",
        "from tenacity import wait_exponential_jitter\nW = wait_exponential_jitter(multiplier=2)\n",
        T92,
    ),
    (
        "jitter-initial-before-9.2",
        "from tenacity import wait_exponential_jitter\nW = wait_exponential_jitter(initial=2)\n",
        T914,
    ),
    (
        "wait-exponential-untouched",
        "from tenacity import retry, wait_exponential\n\n@retry(wait=wait_exponential(multiplier=1, min=1, max=10))\ndef f():\n    pass\n",
        None,
    ),
]


@pytest.mark.parametrize(("source", "targets"), [c[1:] for c in NOOPS], ids=[c[0] for c in NOOPS])
def test_noop(source: str, targets: dict[str, str] | None) -> None:
    findings = assert_noop(R, source, path="svc/app/mod.py", targets=targets)
    assert not [f for f in findings if f.severity is Severity.HUMAN], findings


# (id, source, path, rule expected as a HUMAN Finding, text the message must carry)
HUMAN = [
    (
        "asyncio-patch-string",
        'from unittest import mock\n\n@mock.patch("tenacity._asyncio.sleep")\ndef test_x(m):\n    pass\n',
        "svc/tests/test_a.py",
        "tenacity/asyncio-patch-target",
        'patch target "tenacity._asyncio.sleep" no longer exists',
    ),
    (
        "asyncio-unknown-name",
        "from tenacity._asyncio import functools\n",
        "svc/app/a.py",
        "tenacity/asyncio-module",
        "not rewritten automatically",
    ),
    (
        "statistics-unresolved",
        "def attempts(fn):\n    return fn.retry.statistics.get('attempt_number')\n",
        "svc/app/a.py",
        "tenacity/retry-statistics-unresolved",
        "`fn.statistics`",
    ),
    (
        "retrying-subclass-init",
        "import tenacity\n\nclass Tagged(tenacity.Retrying):\n    def __init__(self, tag, **kw):\n        super().__init__(**kw)\n",
        "svc/app/a.py",
        "tenacity/retrying-subclass",
        "Retrying subclass Tagged",
    ),
    (
        "retrying-subclass-copy",
        "from tenacity import AsyncRetrying\n\nclass Mine(AsyncRetrying):\n    def copy(self, **kw):\n        return self\n",
        "svc/app/a.py",
        "tenacity/retrying-subclass",
        "override copy()",
    ),
    (
        "custom-wait-counting",
        "from tenacity import retry\nCALLS = []\n\ndef wait(state):\n    CALLS.append(state.attempt_number)\n    return 0\n\n"
        "@retry(wait=wait)\ndef f():\n    pass\n",
        "svc/app/a.py",
        "tenacity/custom-wait",
        "side-effect free",
    ),
    (
        "custom-wait-class",
        "import tenacity\n\nclass W(tenacity.wait_base):\n    def __call__(self, rs):\n        self.n += 1\n        return 0\n\n"
        "R = tenacity.Retrying(wait=W())\n",
        "svc/app/a.py",
        "tenacity/custom-wait",
        "custom wait `W()`",
    ),
    (
        "custom-wait-imported",
        "from tenacity import retry\nfrom svc.backoff import wait_policy\n\n@retry(wait=wait_policy)\ndef f():\n    pass\n",
        "svc/app/a.py",
        "tenacity/custom-wait",
        "final attempt",
    ),
    (
        "async-callback",
        "from tenacity import retry, stop_after_attempt\n\nasync def fallback(state):\n    return 'x'\n\n"
        "@retry(stop=stop_after_attempt(2), retry_error_callback=fallback)\nasync def f():\n    raise IOError\n",
        "svc/app/a.py",
        "tenacity/async-callback",
        "async callback fallback (retry_error_callback=)",
    ),
    (
        "async-callback-method",
        "from tenacity import AsyncRetrying\n\nclass C:\n    async def _after(self, rs):\n        pass\n\n"
        "    async def go(self):\n        r = AsyncRetrying(after=self._after)\n",
        "svc/app/a.py",
        "tenacity/async-callback",
        "async callback self._after (after=)",
    ),
    (
        "async-callback-workaround",
        "import inspect\nimport tenacity\n\nasync def g(f):\n    r = await f()\n    if inspect.iscoroutine(r):\n        r = await r\n",
        "svc/app/a.py",
        "tenacity/async-callback",
        "remove the workaround",
    ),
    (
        "patched-asyncio-sleep",
        "from unittest import mock\n\nfrom tenacity import AsyncRetrying\n\ndef test_x():\n    with mock.patch('asyncio.sleep') as s:\n"
        "        pass\n    assert s.call_count == 0\n",
        "svc/tests/test_a.py",
        "tenacity/patched-asyncio-sleep",
        "pass sleep= explicitly",
    ),
    (
        "patched-asyncio-sleep-monkeypatch",
        "import asyncio\n\nimport tenacity\n\ndef test_x(monkeypatch):\n    monkeypatch.setattr(asyncio, 'sleep', lambda s: None)\n",
        "svc/tests/test_a.py",
        "tenacity/patched-asyncio-sleep",
        "tenacity back-off sleeps",
    ),
    (
        "compose-unresolved",
        "from tenacity import retry, retry_if_exception_type\nfrom policies import is_bad\n\n"
        "@retry(retry=retry_if_exception_type(IOError) | is_bad)\ndef f():\n    pass\n",
        "svc/app/a.py",
        "tenacity/retry-compose-unresolved",
        "retry_any(...)",
    ),
    (
        "compose-unresolved-both-unknown",
        "from tenacity import retry\nfrom policies import A, B\n\n@retry(retry=A | B)\ndef f():\n    pass\n",
        "svc/app/a.py",
        "tenacity/retry-compose-unresolved",
        "`A | B`",
    ),
    (
        "random-exponential-min",
        "from tenacity import retry, wait_random_exponential\n\n@retry(wait=wait_random_exponential(min=5, max=10))\ndef f():\n    pass\n",
        "svc/app/a.py",
        "tenacity/random-exponential-min",
        "at least min",
    ),
    (
        "random-exponential-min-positional",
        "import tenacity\nW = tenacity.wait_full_jitter(1, 10, 2, 5)\n",
        "svc/app/a.py",
        "tenacity/random-exponential-min",
        "drop min=",
    ),
    (
        "sync-async-sleep",
        "import asyncio\nfrom tenacity import retry\n\n@retry(sleep=asyncio.sleep)\ndef f():\n    return 1\n",
        "svc/app/a.py",
        "tenacity/sync-async-sleep",
        "sync function f uses async sleep=",
    ),
    (
        "before-sleep-exc-info",
        "import logging, tenacity\nB = tenacity.before_sleep_log(logging.getLogger(), 30, exc_info=True)\n",
        "svc/app/a.py",
        "tenacity/before-sleep-exc-info",
        "no longer passes exc_info",
    ),
    (
        "reraise-tryagain",
        "from tenacity import retry, TryAgain, stop_after_attempt\n\n@retry(stop=stop_after_attempt(2), reraise=True)\n"
        "def f():\n    try:\n        raise ConnectionError\n    except ConnectionError:\n        raise TryAgain\n",
        "svc/app/a.py",
        "tenacity/reraise-tryagain",
        "surfaces the original exception",
    ),
]


@pytest.mark.parametrize(
    ("source", "path", "rule", "text"), [c[1:] for c in HUMAN], ids=[c[0] for c in HUMAN]
)
def test_human_finding(source: str, path: str, rule: str, text: str) -> None:
    findings = assert_noop(R, source, path=path)
    hits = [f for f in findings if f.rule == rule]
    assert hits, findings
    assert all(f.severity is Severity.HUMAN and f.line > 0 and f.link.startswith("https://") for f in hits)
    assert any(text in f.message for f in hits), [f.message for f in hits]
    assert rule in rules_of(detect(R, source, path))


# Lookalikes of the human rules that need nothing.
QUIET = [
    (
        "pure-custom-wait",
        "from tenacity import retry\n\ndef wait(rs):\n    return min(2 ** rs.attempt_number, 10)\n\n@retry(wait=wait)\ndef f():\n    pass\n",
    ),
    (
        "pure-wait-lambda",
        "import tenacity\nR = tenacity.Retrying(wait=lambda rs: rs.outcome.exception().delay)\n",
    ),
    (
        "builtin-wait-sum",
        "from tenacity import retry, wait_fixed, wait_random\n\n@retry(wait=wait_fixed(1) + wait_random(0, 1))\ndef f():\n    pass\n",
    ),
    (
        "sync-callback",
        "from tenacity import retry\n\ndef fallback(s):\n    return 1\n\n@retry(retry_error_callback=fallback)\nasync def f():\n    pass\n",
    ),
    (
        "sync-callback-method",
        "from tenacity import AsyncRetrying\n\nclass C:\n    def _fallback(self, rs):\n        return 1\n\n"
        "    async def go(self):\n        r = AsyncRetrying(retry_error_callback=self._fallback)\n",
    ),
    (
        "async-fn-async-sleep",
        "import asyncio\nfrom tenacity import retry\n\n@retry(sleep=asyncio.sleep)\nasync def f():\n    pass\n",
    ),
    (
        "random-exponential-no-min",
        "from tenacity import wait_random_exponential\nW = wait_random_exponential(multiplier=1, max=10)\n",
    ),
    (
        "exc-info-false",
        "import tenacity, logging\nB = tenacity.before_sleep_log(logging.getLogger(), 30, exc_info=False)\n",
    ),
    (
        "tryagain-without-reraise",
        "from tenacity import retry, TryAgain\n\n@retry\ndef f():\n    try:\n        pass\n    except ValueError:\n        raise TryAgain\n",
    ),
    (
        "subclass-without-init",
        "import tenacity\n\nclass Quiet(tenacity.Retrying):\n    def __repr__(self):\n        return 'q'\n",
    ),
    (
        "patch-other-sleep",
        "from unittest import mock\n\n@mock.patch('tenacity.nap.time.sleep')\ndef test_x(m):\n    pass\n",
    ),
]


@pytest.mark.parametrize("source", [c[1] for c in QUIET], ids=[c[0] for c in QUIET])
def test_quiet(source: str) -> None:
    findings = assert_noop(R, source, path="svc/tests/test_q.py")
    assert [f for f in findings if f.severity is Severity.HUMAN] == []
    assert [s for s in detect(R, source, "svc/tests/test_q.py") if s.action is not Action.INFO] == []


def test_custom_wait_built_in_waits_imported_from_a_service_module_are_not_reported() -> None:
    files = {
        "svc/app/policy.py": "from tenacity import wait_exponential, wait_fixed, wait_random\n\n"
        "WAIT = wait_fixed(1) + wait_random(0, 2)\n\n\ndef backoff():\n"
        "    return wait_exponential(multiplier=1, max=10) + wait_random(0, 1)\n\n\n"
        "def counting(state):\n    print(state.attempt_number)\n    return 1\n",
        "svc/app/jobs.py": "from tenacity import retry\n\nfrom app.policy import WAIT, backoff, counting\n\n\n"
        "@retry(wait=WAIT)\ndef a():\n    pass\n\n\n@retry(wait=backoff())\ndef b():\n    pass\n\n\n"
        "@retry(wait=counting)\ndef c():\n    pass\n",
    }
    _, findings = rewrite_files(R, files)
    assert [(f.file, f.line, f.rule) for f in findings] == [("svc/app/jobs.py", 16, "tenacity/custom-wait")]


def test_statistics_across_files() -> None:
    files = {
        "svc/app/client.py": "from tenacity import retry\n\n@retry\ndef fetch():\n    return 1\n",
        "svc/tests/test_client.py": "from app.client import fetch\n\ndef test_stats():\n    fetch()\n"
        "    assert fetch.retry.statistics['attempt_number'] == 1\n",
        "svc/tests/test_rel.py": "from ..app import client\n\ndef test_stats():\n    assert client.fetch.retry.statistics\n",
    }
    test_sites = detect(R, files["svc/tests/test_client.py"], "svc/tests/test_client.py")
    assert [(s.rule, s.action) for s in test_sites] == [("tenacity/retry-statistics", Action.AUTO)]
    new, findings = rewrite_files(R, files)
    assert "fetch.statistics['attempt_number']" in new["svc/tests/test_client.py"]
    assert "client.fetch.statistics" in new["svc/tests/test_rel.py"]
    assert findings == []


def test_statistics_on_a_name_from_outside_the_service_is_left_for_a_human() -> None:
    source = "from svc_lib import client\n\nprint(client.fetch.retry.statistics)\n"
    findings = assert_noop(R, source, path="svc/app/a.py")
    assert [f.rule for f in findings] == ["tenacity/retry-statistics-unresolved"]
    assert "`client.fetch.statistics`" in findings[0].message
    # Scanning one file cannot see the other modules, so it counts the site as a likely automatic one.
    assert [s.rule for s in detect(R, source, "svc/app/a.py")] == ["tenacity/retry-statistics"]


def test_compose_plain_function_imported_from_service_module() -> None:
    files = {
        "svc/app/predicates.py": "def is_transient(state):\n    return False\n",
        "svc/app/net.py": "from tenacity import retry, retry_if_exception_type\nfrom .predicates import is_transient\n\n"
        "@retry(retry=retry_if_exception_type(IOError) | is_transient)\ndef f():\n    pass\n",
    }
    new, findings = rewrite_files(R, files)
    assert "retry=retry_any(retry_if_exception_type(IOError), is_transient)" in new["svc/app/net.py"]
    assert "retry_if_exception_type, retry_any\n" in new["svc/app/net.py"]
    assert findings == []


def test_compose_when_retry_any_name_is_taken_leaves_code_and_reports() -> None:
    source = "from tenacity import retry_if_result\nfrom mine import retry_any\n\ndef f(s):\n    return 1\n\nR = retry_if_result(f) | f\n"
    findings = assert_noop(R, source, path="svc/app/a.py")
    assert [f.rule for f in findings] == ["tenacity/retry-compose"]
    assert "not rewritten automatically" in findings[0].message


def test_detection_on_old_code_and_silence_on_migrated_code() -> None:
    old = """\
    import tenacity
    from tenacity import retry, retry_if_exception_type
    from tenacity._asyncio import AsyncRetrying

    def transient(s):
        return False

    @retry(retry=retry_if_exception_type(IOError) | transient)
    def f():
        pass

    print(f.retry.statistics, tenacity._asyncio.AsyncRetrying)
    """
    sites = detect(R, old, "svc/app/a.py")
    assert rules_of(sites) >= {
        "tenacity/asyncio-module",
        "tenacity/retry-compose",
        "tenacity/retry-statistics",
    }
    assert all(s.action is Action.AUTO and s.line > 0 for s in sites)
    new, findings = rewrite(R, old, "svc/app/a.py")
    assert findings == []
    assert [s for s in detect(R, new, "svc/app/a.py") if s.action is not Action.INFO] == []


def test_rule_table_is_complete_and_linked() -> None:
    recipe = get(R)
    ids = {r.id for r in recipe.rules}
    assert len(ids) == len(recipe.rules)
    assert all(r.link.startswith("https://") and r.since and r.fix for r in recipe.rules)
    human = {r.id for r in recipe.rules if r.action is Action.HUMAN}
    tested = {c[3] for c in HUMAN} | {"tenacity/python-floor"}
    assert human <= tested, human - tested
    assert recipe.migrates_from == "<9" and recipe.migrates_to == ">=9.1.2,<10"
    assert any(a.versions == "==8.4.0" for a in recipe.advisories)
    assert recipe.is_old("tenacity", "==8.2.3") and recipe.is_old("tenacity", "==8.5.0")
    assert not recipe.is_old("tenacity", "==9.1.2")


def _cfg(path: str, text: str) -> ConfigFile:
    from fleetshift.recipes.base import config_kind

    kind = config_kind(path)
    assert kind is not None
    return ConfigFile(path, textwrap.dedent(text), kind)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("svc/pyproject.toml", '[project]\nname = "s"\nrequires-python = ">=3.8"\n'),
        ("svc/setup.cfg", "[options]\npython_requires = >=3.9\n"),
    ],
)
def test_python_floor_is_not_judged_by_the_recipe(path: str, text: str) -> None:
    """A config file alone is no tenacity use: the Python floor is judged once, for services that use
    tenacity and a campaign that targets it (fleetshift.recipes._floors / fleetshift.resolve)."""
    new, findings = rewrite_files(R, {path: text}, targets=T92)
    assert new[path] == text and findings == []
    assert list(get(R).detect_config(_cfg(path, text))) == []


# ---- the false claims: wait_exponential is never renamed, reraise=True is never added -------------------

CORPUS = [
    """\
    import logging
    import tenacity
    from tenacity import (
        retry, stop_after_attempt, stop_after_delay, wait_exponential, wait_fixed, wait_random,
        retry_if_exception_type, retry_if_result, before_sleep_log, after_log, RetryError,
    )
    from tenacity._asyncio import AsyncRetrying

    log = logging.getLogger(__name__)

    def is_none(value):
        return value is None

    @retry(stop=stop_after_attempt(5), wait=wait_exponential(multiplier=1, min=4, max=10))
    def fetch(url):
        return url

    @retry(wait=wait_exponential(2), retry=retry_if_exception_type(IOError) | is_none,
           before_sleep=before_sleep_log(log, logging.WARNING))
    async def poll():
        return None

    @tenacity.retry(stop=stop_after_delay(3), wait=tenacity.wait_exponential(max=8), reraise=False)
    def strict():
        pass

    def run():
        try:
            fetch("x")
        except RetryError:
            pass
        print(fetch.retry.statistics)
        for attempt in tenacity.Retrying(wait=wait_fixed(1) + wait_random(0, 1), retry=retry_if_result(is_none)):
            with attempt:
                pass

    async def arun():
        async for attempt in AsyncRetrying(wait=wait_exponential(multiplier=0.5)):
            with attempt:
                pass
    """,
    """\
    from tenacity import Retrying, wait_exponential, stop_after_attempt

    RETRY = Retrying(wait=wait_exponential(multiplier=1, max=30), stop=stop_after_attempt(3))
    """,
]


@pytest.mark.parametrize("targets", [None, T92])
@pytest.mark.parametrize("source", CORPUS, ids=["service", "module-policy"])
def test_false_claims_never_applied(source: str, targets: dict[str, str] | None) -> None:
    before = textwrap.dedent(source)
    after, _ = rewrite(R, before, "svc/app/x.py", targets=targets)
    assert after != before or "_asyncio" not in before  # the corpus does get migrated
    assert "wait_exponential_multiplier" not in after
    assert after.count("wait_exponential(") == before.count("wait_exponential(")
    assert after.count("reraise=True") == before.count("reraise=True") == 0
    assert after.count("reraise") == before.count("reraise")
    recipe = get(R)
    text = " ".join(f"{r.summary} {r.fix}" for r in recipe.rules)
    assert "wait_exponential_multiplier" not in text and "reraise=True" not in text.replace(
        "with reraise=True, TryAgain", ""
    ).replace("`reraise=True` + `raise TryAgain`", "")


def test_rule_modules_load_and_check_without_libcst() -> None:
    """Every rule module holds its check and its Fix; importing them and detecting never loads LibCST."""
    code = (
        "import ast, sys\n"
        "from fleetshift.recipes.base import SourceFile\n"
        "from fleetshift.recipes.tenacity import RECIPE\n"
        "text = 'from tenacity._asyncio import AsyncRetrying\\nimport tenacity\\nR = tenacity.retry_if_result(bool) | (lambda s: 1)\\n'\n"
        "sites = list(RECIPE.detect(SourceFile('a.py', text, ast.parse(text), 'source')))\n"
        "assert {s.rule for s in sites} == {'tenacity/asyncio-module', 'tenacity/retry-compose'}, sites\n"
        "from fleetshift.model import Action\n"
        "fixed = {m.rule.slug for m in RECIPE.rule_modules if hasattr(m.module, 'Fix')}\n"
        "assert fixed == {m.rule.slug for m in RECIPE.rule_modules if m.rule.action is Action.AUTO}, fixed\n"
        "assert all(m.hook('check') for m in RECIPE.rule_modules if m.rule.slug != 'python-floor')\n"
        "assert 'libcst' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(fleetshift.__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_rewrite_hook_is_the_same_for_one_file() -> None:
    recipe = get(R)
    ctx = RewriteContext(service=Service("s", "s"), targets={}, files={})
    res = recipe.rewrite_python("s/a.py", "from tenacity._asyncio import AsyncRetrying\n", "source", ctx)
    assert res.text == "from tenacity import AsyncRetrying\n"



def test_a_service_detected_once_without_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no scan record to reuse, a module worth a sparse view goes through the checks once for the service: one
    where they find no site is not checked again by its rewrite (which could only find none and change nothing)."""
    recipe = get(R)
    defs = "".join(f"\n\ndef f{i}():\n    return {i}\n" for i in range(5))
    quiet = "import tenacity  # no site\n" + defs
    hot = "from tenacity._asyncio import AsyncRetrying\n" + defs
    files = {"s/quiet.py": quiet, "s/hot.py": hot}
    checked: list[str] = []
    detect = type(recipe)._detect

    def counting(self: object, src: object, facts: object) -> object:
        checked.append(src.path)  # type: ignore[attr-defined]
        return detect(self, src, facts)  # type: ignore[arg-type]

    monkeypatch.setattr(type(recipe), "_detect", counting)
    out = recipe.migrate(RewriteContext(service=Service("s", "s"), targets={}, files=files))
    assert checked.count("s/quiet.py") == 1, checked
    assert out.texts == {"s/hot.py": hot.replace("tenacity._asyncio", "tenacity")}
    assert not out.findings


def test_a_fix_reads_what_the_check_found_on_the_same_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module's rewrite runs each rule's check once: its fix reads what the detection of the same facts found."""
    from fleetshift.recipes.tenacity.rules import asyncio_module

    calls: list[object] = []
    check = asyncio_module.check

    def counting(facts: object) -> object:
        calls.append(facts)
        return check(facts)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio_module, "check", counting)
    text = "import tenacity\nfrom tenacity._asyncio import AsyncRetrying\n\nx = tenacity._asyncio.AsyncRetrying\n"
    res = get(R).rewrite_python("s/a.py", text, "source", RewriteContext(Service("s", "s"), {}, {}))
    assert res.text == text.replace("tenacity._asyncio", "tenacity")
    assert len(calls) == 2, calls  # the module as written, and as rewritten

# ---- cases keyed by rule (run by test_rule_cases.py), built from the tables above ---------------------------

JUDGED_ELSEWHERE = ("python-floor",)  # judged with the pins and the service's Pythons, not by a file rewrite


def _row(table: list, name: str) -> tuple:
    (row,) = [r for r in table if r[0] == name]
    return row


def _rewritten(rule: str, name: str) -> Case:
    _, before, after, targets = _row(REWRITES, name)
    return Case(rule, before, after, targets=targets, name=name)


def _twin(rule: str, name: str) -> Case:
    row = _row(NOOPS, name) if any(r[0] == name for r in NOOPS) else (*_row(QUIET, name), None)
    return Case(rule, row[1], targets=row[2], name=name)


def _flagged(name: str) -> Case:
    _, source, path, rule, _text = _row(HUMAN, name)
    return Case(rule.split("/", 1)[1], source, findings=(rule,), path=path, name=name)


# a test that patches asyncio.sleep, and the code it tests: with tenacity, or with a back-off loop of its own
PATCHING_TEST = """\
import asyncio
from unittest import mock

from app.client import poll


def test_poll_backs_off():
    with mock.patch("asyncio.sleep", new=mock.AsyncMock()) as sleep:
        assert asyncio.run(poll()) == 3
    assert sleep.await_count == 2
"""
RETRIED_POLL = """\
from tenacity import retry, stop_after_attempt, wait_fixed

CALLS = []


@retry(stop=stop_after_attempt(3), wait=wait_fixed(1))
async def poll():
    CALLS.append(1)
    if len(CALLS) < 3:
        raise IOError
    return len(CALLS)
"""
HAND_BACKOFF_POLL = """\
import asyncio


async def poll():
    for attempt in range(1, 4):
        try:
            if attempt < 3:
                raise IOError
            return attempt
        except IOError:
            await asyncio.sleep(attempt)
"""


def test_patched_asyncio_sleep_is_information_until_the_service_is_known_to_use_tenacity() -> None:
    """Scanning one file: a test that imports tenacity is a site for a person, one that does not is
    information only (so a service without tenacity is not counted as using it)."""
    alone = detect(R, PATCHING_TEST, "svc/tests/test_client.py")
    assert [(s.rule, s.action) for s in alone] == [("tenacity/patched-asyncio-sleep", Action.INFO)]
    with_import = detect(R, "import tenacity\n" + PATCHING_TEST, "svc/tests/test_client.py")
    assert [(s.rule, s.action) for s in with_import] == [("tenacity/patched-asyncio-sleep", Action.HUMAN)]


CASES = [
    _rewritten("asyncio-module", "asyncio-from-import"),
    _flagged("asyncio-unknown-name"),
    _twin("asyncio-module", "asyncio-new-import"),
    _twin("asyncio-module", "asyncio-other-lib"),
    Case(
        "asyncio-module",
        """\
        import asyncio
        from unittest import mock

        import tenacity._asyncio


        @mock.patch("tenacity._asyncio.AsyncRetrying.__call__")
        def test_patched(call, mocker, monkeypatch):
            mocker.patch(target="tenacity._asyncio.RetryCallState")
            monkeypatch.setattr(tenacity._asyncio, "DoSleep", None)
            with mock.patch.object(tenacity._asyncio, 'AsyncRetrying'), mock.patch.multiple(
                "tenacity._asyncio", AttemptManager=mock.DEFAULT, create=True
            ):
                assert tenacity._asyncio.AsyncRetrying is not None
        """,
        """\
        import asyncio
        from unittest import mock

        import tenacity.asyncio


        @mock.patch("tenacity.asyncio.AsyncRetrying.__call__")
        def test_patched(call, mocker, monkeypatch):
            mocker.patch(target="tenacity.asyncio.RetryCallState")
            monkeypatch.setattr(tenacity.asyncio, "DoSleep", None)
            with mock.patch.object(tenacity.asyncio, 'AsyncRetrying'), mock.patch.multiple(
                "tenacity.asyncio", AttemptManager=mock.DEFAULT, create=True
            ):
                assert tenacity.AsyncRetrying is not None
        """,
        path="svc/tests/test_a.py",
        name="patch-targets-by-string-and-by-module",
    ),
    Case(
        "asyncio-module",
        """\
        from unittest import mock

        import tenacity


        @mock.patch("tenacity.nap.time")
        def test_a(nap_time, mocker):
            mocker.patch.object(tenacity.nap, "sleep")
            mocker.patch.object(tenacity.Retrying, "__call__", lambda self, fn, *a, **k: fn(*a, **k))
            mock.patch("tenacity.asyncio.AsyncRetrying.__call__")
        """,
        path="svc/tests/test_a.py",
        name="patch-targets-that-stay",
    ),
    Case(
        "asyncio-module",
        "import importlib\n\nimport tenacity._asyncio\n\nimportlib.reload(tenacity._asyncio)\nMODULES = {'retry': tenacity._asyncio}\n",
        "import importlib\n\nimport tenacity.asyncio\n\nimportlib.reload(tenacity.asyncio)\nMODULES = {'retry': tenacity.asyncio}\n",
        name="the-module-object-itself",
    ),
    _flagged("asyncio-patch-string"),
    Case(
        "asyncio-patch-target",
        """\
        from tenacity import _asyncio


        def test_a(mocker, monkeypatch):
            mocker.patch.object(_asyncio, "sleep")
            monkeypatch.setattr("tenacity._asyncio.sleep", lambda s: None)
            return _asyncio.AsyncRetrying
        """,
        findings=("asyncio-patch-target", "asyncio-module"),
        path="svc/tests/test_a.py",
        name="sleep-patched-on-the-module-keeps-its-import",
    ),
    Case(
        "asyncio-patch-target",
        'from unittest import mock\n\n\n@mock.patch("tenacity.nap.sleep")\ndef test_a(sleep):\n    pass\n',
        path="svc/tests/test_a.py",
    ),
    _rewritten("retry-statistics", "statistics-decorated"),
    _twin("retry-statistics", "statistics-new"),
    _flagged("statistics-unresolved"),
    _twin("retry-statistics-unresolved", "statistics-retrying-object"),
    _flagged("retrying-subclass-init"),
    _twin("retrying-subclass", "subclass-without-init"),
    _flagged("custom-wait-counting"),
    _twin("custom-wait", "pure-custom-wait"),
    Case(
        "custom-wait",
        """\
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_chain, wait_exponential, wait_fixed, wait_random

        WAIT = wait_fixed(1) + wait_random(0, 2)


        def backoff(max_wait=10):
            base = wait_exponential(multiplier=1, max=max_wait)
            return base + wait_random(0, 1)


        @retry(wait=backoff(), stop=stop_after_attempt(3), retry=retry_if_exception_type(IOError))
        def fetch():
            pass


        @retry(wait=WAIT)
        def push():
            pass


        @retry(wait=wait_chain(*[wait_fixed(3) for _ in range(3)] + [wait_fixed(7)] * 2 + [wait_fixed(9)]))
        def sync():
            pass
        """,
        name="helpers-composing-built-in-waits",
    ),
    Case(
        "custom-wait",
        """\
        import functools

        from tenacity import AsyncRetrying, wait_exponential, wait_fixed, wait_random


        @functools.lru_cache(maxsize=None)
        def default_wait():
            return wait_exponential(multiplier=0.5, max=8) + wait_random(0, 0.5)


        class Client:
            WAIT = wait_fixed(1) + wait_random(0, 1)

            def __init__(self, max_wait=10):
                self.max_wait = max_wait

            def backoff(self):
                if self.max_wait > 30:
                    return wait_exponential(max=self.max_wait)
                return wait_exponential(max=self.max_wait) + wait_random(0, 1)

            async def get(self):
                async for attempt in AsyncRetrying(wait=self.backoff()):
                    with attempt:
                        pass
                async for attempt in AsyncRetrying(wait=self.WAIT):
                    with attempt:
                        pass
                async for attempt in AsyncRetrying(wait=default_wait()):
                    with attempt:
                        pass
        """,
        name="helper-methods-and-cached-helpers-composing-built-in-waits",
    ),
    Case(
        "custom-wait",
        """\
        from tenacity import AsyncRetrying


        class Client:
            def __init__(self):
                self.waits = []

            def backoff(self):
                def wait(retry_state):
                    self.waits.append(retry_state.attempt_number)
                    return 0
                return wait

            async def get(self):
                async for attempt in AsyncRetrying(wait=self.backoff()):
                    with attempt:
                        pass
        """,
        findings=("custom-wait",),
        name="helper-method-returning-a-recording-wait",
    ),
    Case(
        "custom-wait",
        """\
        from tenacity import Retrying, wait_fixed

        SEEN = []


        def counting(base):
            def wait(retry_state):
                SEEN.append(retry_state.attempt_number)
                return base
            return wait


        def backoff():
            return counting(0.5) + wait_fixed(1)


        for attempt in Retrying(wait=backoff()):
            with attempt:
                pass
        """,
        findings=("custom-wait",),
        name="helper-composing-a-counting-wait",
    ),
    _flagged("async-callback"),
    _twin("async-callback", "sync-callback"),
    _flagged("patched-asyncio-sleep"),
    _twin("patched-asyncio-sleep", "patch-other-sleep"),
    Case(
        "patched-asyncio-sleep",
        PATCHING_TEST,
        findings=("patched-asyncio-sleep",),
        path="svc/tests/test_client.py",
        extra_files={"svc/app/client.py": RETRIED_POLL},
        name="test-of-a-tenacity-service-without-its-own-import",
    ),
    Case(
        "patched-asyncio-sleep",
        PATCHING_TEST,
        path="svc/tests/test_client.py",
        extra_files={"svc/app/client.py": HAND_BACKOFF_POLL},
        name="service-without-tenacity",
    ),

    _rewritten("retry-compose", "compose-or-def"),
    _twin("retry-compose", "compose-strategies"),
    _flagged("compose-unresolved"),
    _twin("retry-compose-unresolved", "compose-retry-any"),
    _flagged("random-exponential-min"),
    _twin("random-exponential-min", "random-exponential-no-min"),
    _flagged("sync-async-sleep"),
    _twin("sync-async-sleep", "async-fn-async-sleep"),
    _rewritten("log-format", "log-format-after-log"),
    _twin("log-format", "log-format-given"),
    _flagged("before-sleep-exc-info"),
    _twin("before-sleep-exc-info", "exc-info-false"),
    _flagged("reraise-tryagain"),
    _twin("reraise-tryagain", "tryagain-without-reraise"),
    _rewritten("jitter-initial", "jitter-initial-on-9.2"),
    _twin("jitter-initial", "jitter-multiplier-on-9.2"),
    Case("jitter-initial", "from tenacity import wait_exponential_jitter\nw = wait_exponential_jitter(initial=2)\n",
         targets=T914, name="gated-out-before-9.2.1"),
    Case("empty-wait-chain", "from tenacity import wait_chain\nw = wait_chain()\n", sites=("empty-wait-chain",)),
    Case("empty-wait-chain", "from tenacity import wait_chain, wait_fixed\nw = wait_chain(wait_fixed(1))\n"),
    # `.retry.statistics` of a function another module of the service defines: judged with that module, by
    # check as by the run (retried there: rewritten; not retried: left for a person)
    Case(
        "retry-statistics",
        "from app.jobs import fetch\n\n\ndef stats():\n    return fetch.retry.statistics\n",
        "from app.jobs import fetch\n\n\ndef stats():\n    return fetch.statistics\n",
        extra_files={"svc/app/jobs.py": "from tenacity import retry\n\n\n@retry\ndef fetch():\n    return 1\n"},
        name="imported-retried-function",
    ),
    Case(
        "retry-statistics",
        "from app.jobs import fetch\n\n\ndef stats():\n    return fetch.retry.statistics\n",
        findings=("tenacity/retry-statistics-unresolved",),
        extra_files={"svc/app/jobs.py": "def fetch():\n    return 1\n"},
        name="imported-plain-function",
    ),
    # tenacity.iscoroutinefunction (8.2.3/8.3.0 re-exported inspect's; gone from 8.4): a name among others in a
    # parenthesised import, the module under an alias, an aliased import moved whole
    Case(
        "iscoroutinefunction",
        """\
        import functools

        import tenacity as tn
        from tenacity import (
            AsyncRetrying,
            iscoroutinefunction,
            retry,
        )


        def wrap(fn):
            if iscoroutinefunction(fn):
                return AsyncRetrying()
            return retry(fn)


        def maybe_async(fn):
            return fn if tn.iscoroutinefunction(fn) else functools.partial(fn)
        """,
        """\
        import functools

        import tenacity as tn
        from tenacity import (
            AsyncRetrying,
            retry,
        )
        import inspect
        from inspect import iscoroutinefunction


        def wrap(fn):
            if iscoroutinefunction(fn):
                return AsyncRetrying()
            return retry(fn)


        def maybe_async(fn):
            return fn if inspect.iscoroutinefunction(fn) else functools.partial(fn)
        """,
    ),
    Case(
        "iscoroutinefunction",
        "from tenacity import iscoroutinefunction as is_async\n\nOK = is_async(print)\n",
        "from inspect import iscoroutinefunction as is_async\n\nOK = is_async(print)\n",
        name="aliased-import",
    ),
    Case(
        "iscoroutinefunction",
        "import asyncio\nimport inspect\n\nimport tenacity\n\nA = inspect.iscoroutinefunction(print) or asyncio.iscoroutinefunction(print)\n",
        name="inspect-already",
    ),
    Case(
        "iscoroutinefunction",
        "from unittest import mock\n\n\n@mock.patch('tenacity.iscoroutinefunction', return_value=True)\ndef test_x(m):\n    pass\n",
        findings=("tenacity/iscoroutinefunction",),
        name="patched",
    ),
    Case(
        "iscoroutinefunction",
        "import tenacity\n\ninspect = None\nOK = tenacity.iscoroutinefunction(print)\n",
        findings=("tenacity/iscoroutinefunction",),
        name="inspect-is-taken",
    ),
]


def test_module_summaries_shared_bounded_and_safe_from_a_forget_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summaries the indexes of a service's files share (by path and text) are kept for a service's worth of
    modules, and an index keeps the summary it made when another thread's `forget` empties the cache meanwhile."""
    from fleetshift.recipes.tenacity import resolve

    class Forgetting(dict):  # another thread's service ends (forget_trees) right after each summary is kept
        def __setitem__(self, key: object, value: object) -> None:
            super().__setitem__(key, value)
            self.clear()

    text = "from tenacity import retry\n\n@retry\ndef f():\n    pass\n"
    monkeypatch.setattr(resolve, "_SUMMARIES", Forgetting())
    index = resolve.ServiceIndex({"svc/a.py": text})
    summary = index.summary_of("svc/a.py")
    assert summary is not None and summary.retry_funcs == {"f"}

    monkeypatch.setattr(resolve, "_SUMMARIES", {})
    files = {f"svc/m{i}.py": f"def f{i}():\n    pass\n" for i in range(300)}
    index = resolve.ServiceIndex(files)
    assert all(index.summary_of(p).plain_funcs == {f"f{i}"} for i, p in enumerate(files))  # type: ignore[union-attr]
    assert len(resolve._SUMMARIES) <= 257
    again = resolve.ServiceIndex(files)
    assert again.summary_of("svc/m299.py") is index.summary_of("svc/m299.py")  # shared


def test_statistics_fix_asks_where_only_attributes_named_statistics_stand(monkeypatch: pytest.MonkeyPatch) -> None:
    """The statistics fix works out the position (the code of its statement) only of an attribute spelled
    `statistics`, or spelled in other letters the parser may read as it: no other attribute can be its site."""
    from fleetshift.recipes.tenacity.rewrite import SiteFix
    from fleetshift.recipes.tenacity.rules import retry_statistics

    asked: list[str] = []
    site = SiteFix.site

    def spy(self: SiteFix, node: object) -> object:
        if isinstance(self, retry_statistics.Fix):
            asked.append(node.attr.value)  # type: ignore[attr-defined]
        return site(self, node)  # type: ignore[arg-type]

    monkeypatch.setattr(SiteFix, "site", spy)
    before = textwrap.dedent(
        """\
        import os.path
        from tenacity import retry

        @retry
        def fetch():
            return os.path.join(os.sep, "a")

        print(fetch.retry.statistics, fetch.retry.\uff53tatistics, os.path.sep)
        """
    )
    new, _ = rewrite(R, before)
    assert "fetch.statistics, fetch.\uff53tatistics, os.path.sep" in new
    assert sorted(asked) == ["statistics", "\uff53tatistics"]


def test_a_module_importing_tenacity_answers_for_itself_without_its_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether the service uses tenacity, asked by a module that imports it, is read off that module's imports: its
    summary (which walks the whole module) is not made for it; the answers are the summaries'."""
    from fleetshift.recipes.tenacity import resolve

    made: list[str] = []
    summary = resolve.Facts.summary
    monkeypatch.setattr(resolve.Facts, "summary", lambda self: made.append(self.path) or summary(self))
    resolve.forget()
    first = "svc/tests/test_own_summary.py"
    files = {first: "import tenacity\nfrom unittest import mock\n\n@mock.patch('asyncio.sleep')\ndef test_x(s):\n"
             "    pass\n", "svc/app/other_summary.py": "x = 1\n"}
    index = resolve.ServiceIndex(files)
    assert index.uses_tenacity(first) is True
    assert made == []
    assert index.summary_of(first).uses_tenacity is True  # type: ignore[union-attr]
    for texts, uses in [
        (("# tenacity, not imported\n", "from tenacity import retry\n"), True),
        (("# tenacity, not imported\n", "y = 2\n"), False),
        (("import tenacity\n(\n", "z = 3\n"), False),  # does not parse: no import read
    ]:
        resolve.forget()
        one = resolve.ServiceIndex({"svc/a_summary.py": texts[0], "svc/b_summary.py": texts[1]})
        assert one.uses_tenacity("svc/a_summary.py") is uses


def test_a_view_of_a_module_importing_tenacity_answers_for_it_without_parsing_it(
        record_calls: Callable[[object, str], list[object]]) -> None:
    """A sparse view made of a module (`sparse.made`) holds the module's top-level statements as they are: when it
    imports tenacity, so does the module, and the service's index answers whether the service uses tenacity (for
    that module, or for another one) without parsing the whole module. A view that does not import it (the import is
    in a def it leaves out) answers nothing: the module is parsed, and the answers are those without views."""
    from fleetshift.recipes import _ast, sparse
    from fleetshift.recipes.tenacity import resolve

    defs = "".join(f"\n\ndef helper_{i}():\n    return {i}\n" for i in range(4))
    top = "import tenacity\nfrom unittest import mock\n" + defs + "\n\n@mock.patch('asyncio.sleep')\ndef test_x(s):\n    pass\n"
    inner = "from unittest import mock\n" + defs + "\n\ndef later():\n    import tenacity\n    return tenacity\n"
    first, other = "svc/tests/test_view_top.py", "svc/tests/test_view_inner.py"
    try:
        views = {}
        for text in (top, inner):
            views[text] = sparse.view(text, _ast.parse_tree(text), {text.splitlines().index("    return 0") + 1})
            assert views[text] is not None
        for text, v in views.items():
            sparse.made(v, text)  # type: ignore[arg-type]
        _ast.forget()
        parsed = record_calls(_ast, "_parse")  # every whole module asked for, parsed or kept
        expected = {}
        for files, path in [({first: top, other: "x = 1\n"}, first), ({other: inner, first: "y = 2  # tenacity\n"}, first),
                            ({other: inner}, other)]:
            resolve.forget()
            parsed.clear()
            answer = resolve.ServiceIndex(files).uses_tenacity(path)
            expected[(tuple(files), path)] = (answer, [t for t in parsed if t in (top, inner)])
        assert expected == {((first, other), first): (True, []),  # its view imports tenacity
                            ((other, first), first): (True, [inner]),  # the view of `inner` leaves its import out
                            ((other,), other): (True, [inner])}
        sparse.forget()
        for files, path in [({first: top, other: "x = 1\n"}, first), ({other: inner}, other)]:
            resolve.forget()
            assert resolve.ServiceIndex(files).uses_tenacity(path) is True  # parsed whole, without views
    finally:
        sparse.forget()
        resolve.forget()
