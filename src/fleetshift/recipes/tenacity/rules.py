"""What tenacity changed between 8.2 and 9.x, as declared data: the rules and the bad releases."""

from __future__ import annotations

from fleetshift.model import Action
from fleetshift.recipes.base import Advisory, Rule

CHANGELOG = "https://tenacity.readthedocs.io/en/latest/changelog.html"
PR = "https://github.com/jd/tenacity/pull/"


def _rule(slug: str, summary: str, action: Action, fix: str, pr: str, since: str) -> Rule:
    return Rule(f"tenacity/{slug}", summary, action, fix, f"{PR}{pr}" if pr else CHANGELOG, since)


ADVISORIES = (
    Advisory("==8.4.0", "broken wheel: `import tenacity` fails with No module named 'tenacity.asyncio'; never pin 8.4.0", f"{PR}474"),
    Advisory(
        ">=9.0,<9.2",
        "`retry_strategy | plain_function` (and `&`) raises AttributeError on 8.4.x-9.1.4 (fixed in 9.2); "
        "the recipe rewrites such compositions to retry_any()/retry_all(), which work on every version",
        f"{PR}606",
    ),
    Advisory(">=9.1.3", "needs Python >=3.10; a service still on Python 3.9 stops at 9.1.2", CHANGELOG),
)  # fmt: skip

# Rules whose sites detection reports as information only.
INFO_SITES = frozenset({"tenacity/log-format", "tenacity/jitter-initial"})

RULES = (
    _rule("asyncio-module", "`tenacity._asyncio` was removed (now `tenacity.asyncio`)", Action.AUTO,
          "import AsyncRetrying from `tenacity`, other names from `tenacity.asyncio`", "451", "8.4.0"),
    _rule("asyncio-patch-target", "a patch target names `tenacity._asyncio`, which no longer exists", Action.HUMAN,
          'tenacity._asyncio was removed in 8.4; patch "asyncio.sleep" or pass sleep= to AsyncRetrying', "451", "8.4.0"),
    _rule("retry-statistics", "`f.retry.statistics` is empty on tenacity 8.5-9.1; read `f.statistics`", Action.AUTO,
          "drop `.retry` before `.statistics` on tenacity-decorated functions", "484", "8.5.0"),
    _rule("retry-statistics-unresolved", "`x.retry.statistics` on something not known to be a retried function",
          Action.HUMAN, "if it is a tenacity-decorated function, read `.statistics` instead of `.retry.statistics`",
          "484", "8.5.0"),
    _rule("retrying-subclass", "decorated calls run `self.copy()`, which calls `__init__` with the base keywords",
          Action.HUMAN, "since tenacity 8.4.2 decorated calls run self.copy(), which calls __init__ with only the base "
          "keywords (plus name=, enabled= in 9.2); accept **kwargs and/or override copy()", "479", "8.4.2"),
    _rule("custom-wait", "a custom wait is now also evaluated on the final attempt", Action.HUMAN,
          "custom wait strategy is now also evaluated on the final attempt (tenacity>=8.3); make it side-effect free",
          "423", "8.3.0"),
    _rule("async-callback", "async callbacks are awaited under AsyncRetrying", Action.HUMAN,
          "async callback is now awaited by tenacity (>=8.3); remove manual awaiting of the result", "437", "8.3.0"),
    _rule("patched-asyncio-sleep", "a patched `asyncio.sleep` now also sees tenacity's back-off sleeps", Action.HUMAN,
          "asyncio.sleep patch now also sees tenacity back-off sleeps (tenacity>=8.3); adjust call-count assertions "
          "or pass sleep= explicitly", "450", "8.3.0"),
    _rule("retry-compose", "`retry_strategy | plain_function` raises AttributeError on 8.4-9.1.4", Action.AUTO,
          "rewrite to retry_any(...) / retry_all(...), valid on every version", "606", "8.4.0"),
    _rule("retry-compose-unresolved", "a retry composition whose operands could not be resolved", Action.HUMAN,
          "`a | b` / `a & b` raises AttributeError on tenacity 8.4-9.1.4 when an operand is a plain function; "
          "write retry_any(a, b) / retry_all(a, b)", "606", "8.4.0"),
    _rule("random-exponential-min", "`wait_random_exponential(min=...)` is now honoured", Action.HUMAN,
          "wait_random_exponential(min=...) now really waits at least min (tenacity>=9.0); back-off gets longer. "
          "Keep it (intended) or drop min= to keep 8.x timing", "425", "9.0.0"),
    _rule("sync-async-sleep", "a sync function with an async `sleep=` now returns a coroutine", Action.HUMAN,
          "from tenacity 9.1.3 a sync function with an async sleep= returns a coroutine; make it async (and await "
          "callers) or use a sync sleep", "551", "9.1.3"),
    _rule("log-format", "`after_log`/`before_sleep_log` format seconds with `%.3g`", Action.AUTO,
          'after_log gets sec_format="%0.3f" (valid on 8.x too); before_sleep_log gets sec_format="%s" when the '
          "target is >=9.1.3", "489", "9.1.3"),
    _rule("before-sleep-exc-info", "`before_sleep_log(exc_info=True)` puts the traceback in the message",
          Action.HUMAN, "tenacity>=9.2 no longer passes exc_info to the logger; tracebacks are embedded in the "
          "message text (structured logging, Sentry and caplog .exc_info assertions change)", "622", "9.2.1"),
    _rule("reraise-tryagain", "`reraise=True` + `raise TryAgain` in `except` re-raises the underlying error",
          Action.HUMAN, "with reraise=True, TryAgain raised inside an except block now surfaces the original "
          "exception (tenacity>=9.2); update callers that catch TryAgain", "640", "9.2.1"),
    _rule("jitter-initial", "`wait_exponential_jitter(initial=)` is deprecated for `multiplier=`", Action.AUTO,
          "rename initial= to multiplier= (only when the target is >=9.2; multiplier= does not exist before)",
          "629", "9.2.1"),
    _rule("empty-wait-chain", "`wait_chain()` with no strategies raises ValueError at construction", Action.INFO,
          "give wait_chain() at least one strategy (it raised IndexError on first use before)", "647", "9.2.1"),
    _rule("python-floor", "tenacity 9.1.2 needs Python >=3.9, 9.1.3+ need >=3.10", Action.HUMAN,
          "drop Python 3.8 (and 3.9 for tenacity>=9.1.3) from requires-python, or pin an older tenacity", "552",
          "9.1.2"),
)  # fmt: skip
