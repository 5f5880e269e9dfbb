"""The tenacity rules look in a module's text before they walk its tree (`resolve.GATES`), and the recipe's tokens
no longer hold `asyncio.sleep` (only the strings a patch of it is written with): neither changes a site. Detection
of each service (and of each file alone) runs with the gates and without them, and with the recipe's tokens and
the wider ones it had, over every Python snippet of the tenacity tests (at a test path and at a source path, and
every service they write as several files), every project of tests/projects, a generated fleet, and modules
written to reach each gate's edge (non-ASCII identifiers, `.retry_with`, a strategy imported from the service,
patches of asyncio.sleep in a module that does not name tenacity): the sites are the same, in the same order."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

from fleetshift.model import UsageSite
from fleetshift.recipes import get
from fleetshift.recipes.base import SourceFile, file_kind
from fleetshift.recipes.tenacity import resolve

ROOT = Path(__file__).resolve().parents[2]
OLD_TOKENS = (b"tenacity", b".retry.statistics", b"asyncio.sleep", b'"sleep"', b"'sleep'")  # before the narrowing
RECIPE = get("tenacity")
EVERY = (b"",)  # every file a source: what the gates judge, whatever the tokens choose

EDGES: dict[str, dict[str, str]] = {
    "nfkc-import": {  # `ｔenacity` is `tenacity` to the parser
        "svc/app/jobs.py": "import asyncio\nfrom ｔenacity import retry, wait_exponential_jitter\n\n"
        "@retry(sleep=asyncio.sleep)\ndef f():\n    return wait_exponential_jitter(1)\n",
    },
    "retry-with-only": {  # a retry call named only by `.retry_with`, in a module that also names a patched sleep
        "svc/app/jobs.py": "import asyncio\n\nasync def cb(s):\n    pass\n\n"
        "def run(fetch):\n    return fetch.retry_with(before=cb, wait=lambda s: print(s))()\n\n"
        "async def pause():\n    await asyncio.sleep(0)\n\nPATCHED = 'asyncio.sleep'\n",
    },
    "strategy-from-the-service": {  # a composition of a strategy bound in another module of the service
        "svc/app/policy.py": "import tenacity\n\nON_IO = tenacity.retry_if_exception_type(OSError)\n",
        "svc/app/jobs.py": "import asyncio\nfrom app.policy import ON_IO\n\ndef bad(state):\n    return False\n\n"
        "WHEN = ON_IO | bad\nBOTH = ON_IO & bad | ON_IO\nNAME = 'asyncio.sleep'\n",
        "svc/app/other.py": "from app.policy import ON_IO as io\n\nWHEN = io | (lambda s: False)\nX = 'sleep'\n",
    },
    "patched-sleep-elsewhere": {  # the patch is in a module not naming tenacity; the service uses it
        "svc/app/jobs.py": "from tenacity import AsyncRetrying\n\nR = AsyncRetrying()\n",
        "svc/tests/test_jobs.py": "import asyncio\nfrom unittest import mock\nfrom unittest.mock import patch as p\n\n"
        "def test_a(monkeypatch):\n    with mock.patch('asyncio.sleep'), p(\"app.asyncio.sleep\"):\n        pass\n"
        "    monkeypatch.setattr(asyncio, 'sleep', None)\n    mock.patch.object(asyncio, \"sleep\")\n"
        "    monkeypatch.setattr('asyncio.sleep', None)\n    mock.patch(\"\"\"asyncio.sleep\"\"\")\n",
        "svc/tests/test_plain.py": "import asyncio\n\nasync def test_b():\n    await asyncio.sleep(0)\n",
    },
    "patched-sleep-no-tenacity": {  # the same patches in a service that does not use tenacity
        "svc/tests/test_jobs.py": "import asyncio\nfrom unittest import mock\n\ndef test_a():\n"
        "    with mock.patch('asyncio.sleep'):\n        pass\n    mock.patch.object(asyncio, 'sleep')\n",
    },
    "statistics-spaced": {
        "svc/app/jobs.py": "from tenacity import retry\n\n@retry\ndef f():\n    pass\n\nS = f.retry .statistics\n"
        "T = f.retry.statistics\n",
    },
}


def _dedent(text: str) -> str:
    return textwrap.dedent(text[1:] if text.startswith("\n") else text)


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def _case_services() -> Iterator[tuple[str, dict[str, str]]]:
    """Every Python snippet of the tenacity tests, as one file at a test and at a source path, and every
    `{path: text}` literal of them as a service."""
    for module in sorted((ROOT / "tests").rglob("test_tenacity*.py")):
        if module.name == Path(__file__).name:
            continue  # the edges below are not all cases: some reach past the old tokens
        for node in ast.walk(ast.parse(module.read_text())):
            where = f"{module.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                text = _dedent(node.value)
                if _parses(text):
                    yield f"{where}:test", {"svc/tests/test_x.py": text}
                    yield f"{where}:source", {"svc/app/mod.py": text}
            elif isinstance(node, ast.Dict) and node.keys:
                pairs = [
                    (k.value, v.value)
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)
                    and isinstance(k.value, str) and isinstance(v.value, str) and k.value.endswith(".py")
                ]
                files = {p: _dedent(t) for p, t in pairs if _parses(_dedent(t))}
                if files:
                    yield f"{where}:service", files


def _tree_services(root: Path, depth: int) -> Iterator[tuple[str, dict[str, str]]]:
    for folder in sorted(p for p in root.glob("/".join(["*"] * depth)) if p.is_dir()):
        files = {str(p.relative_to(root)): p.read_text(errors="replace") for p in sorted(folder.rglob("*.py"))}
        if files:
            yield str(folder.relative_to(root)), files


def _detect(files: Mapping[str, str], tokens: tuple[bytes, ...], gates: bool) -> tuple[list[UsageSite], ...]:
    resolve.GATES = gates
    resolve._WALKED.clear()
    try:
        sources = [
            SourceFile(p, t, ast.parse(t), file_kind(p))
            for p, t in files.items()
            if _parses(t) and any(k.decode() in t for k in tokens)
        ]
        return list(RECIPE.detect_service(sources, files)), [s for src in sources for s in RECIPE.detect(src)]
    finally:
        resolve.GATES = True
        resolve._WALKED.clear()


def _same(services: Iterator[tuple[str, dict[str, str]]], narrowing: bool = True) -> int:
    """Each service's sites with the gates and tokens, without the gates, and (`narrowing`) with the old tokens;
    every file a source, with and without the gates."""
    seen = 0
    for name, files in services:
        now = _detect(files, RECIPE.tokens, True)
        assert _detect(files, RECIPE.tokens, False) == now, f"{name}: the gates changed a site"
        if narrowing:
            assert _detect(files, OLD_TOKENS, False) == now, f"{name}: the narrowed tokens changed a site"
        every = _detect(files, EVERY, True)
        assert _detect(files, EVERY, False) == every, f"{name}: the gates changed a site"
        seen += len(every[0])
    return seen


def test_tokens_no_longer_hold_asyncio_sleep() -> None:
    assert b"asyncio.sleep" not in RECIPE.tokens and b'asyncio.sleep"' in RECIPE.tokens


def test_the_cases_keep_their_sites() -> None:
    assert _same(_case_services()) > 100


def test_the_projects_keep_their_sites() -> None:
    assert _same(_tree_services(ROOT / "tests" / "projects", 1)) > 0


def test_a_generated_fleet_keeps_its_sites(generated: Path) -> None:
    assert _same(_tree_services(generated, 2)) > 0


def test_the_edges_keep_their_sites_with_and_without_the_gates() -> None:
    assert _same(iter(EDGES.items()), narrowing=False) > 10


def test_the_edges_found_what_they_reach() -> None:
    """The edge modules reach each gate: the sites a gate must not lose are there."""
    rules = {
        name: {s.rule for s in _detect(files, EVERY, True)[0]} for name, files in EDGES.items()
    }
    assert {"tenacity/sync-async-sleep", "tenacity/jitter-initial"} <= rules["nfkc-import"]
    assert {"tenacity/async-callback", "tenacity/custom-wait"} <= rules["retry-with-only"]
    assert {"tenacity/retry-compose", "tenacity/retry-compose-unresolved"} & rules["strategy-from-the-service"]
    assert "tenacity/patched-asyncio-sleep" in rules["patched-sleep-elsewhere"]
    assert "tenacity/patched-asyncio-sleep" not in rules["patched-sleep-no-tenacity"]
    assert "tenacity/retry-statistics" in rules["statistics-spaced"]


def test_holds_token_is_any_token_in_the_text() -> None:
    """`holds_token` (the tokens spelling `sleep` looked for only in a text spelling it) answers what looking for
    every token of the recipe answers, on each token alone, beside others, cut short, and on the repository's own
    Python files."""
    from fleetshift.recipes.tenacity import _TOKENS, holds_token

    tokens = [t.decode() for t in RECIPE.tokens]
    assert list(_TOKENS) == tokens
    texts = ["", "sleep", "asyncio.sleep(1)", "x = 'sleep'", 'patch("a.asyncio.sleep")', "retry.statistics"]
    for t in tokens:
        texts += [t, f"x {t} y", t[:-1], t[1:], t.replace("sleep", "Sleep"), f"sleep {t[:-1]}"]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted((ROOT / "src").rglob("*.py"))]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted((ROOT / "tests").rglob("*.py"))]
    for text in texts:
        assert holds_token(text) == any(t in text for t in tokens), text[:80]
