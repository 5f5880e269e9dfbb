"""Behavioural proof of the python-dotenv recipe on real 1.0.1 and 1.2.1 environments: explicit-path code is
unchanged (and left alone), and the argument-less load the recipe flags really behaves differently."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from recipe_harness import rewrite_files
from uvenv import run, uv_env

from fleetshift.model import Service, Severity
from fleetshift.recipes.base import RewriteContext
from fleetshift.recipes.dotenv import DotenvRecipe

pytestmark = pytest.mark.slow

OLD = ["python-dotenv==1.0.1"]
NEW = ["python-dotenv==1.2.1"]

ENV = """\
# settings
export HOST=db.local
PORT=5432
URL="postgres://${HOST}:${PORT}/app"
QUOTED='single # not a comment'
MULTI="line1
line2"
EMPTY=
SPACED = padded value   # trailing comment
"""

EXPLICIT = """\
import json
import os
from pathlib import Path

from dotenv import dotenv_values, find_dotenv, get_key, load_dotenv

HERE = Path(__file__).resolve().parent
ENV = HERE / "config" / ".env"

values = dotenv_values(ENV)
loaded = load_dotenv(ENV, override=False)
os.chdir(HERE / "config")
print(json.dumps({
    "values": values,
    "loaded": loaded,
    "env_url": os.environ.get("URL"),
    "get_key": get_key(str(ENV), "PORT"),
    "cwd_find": Path(find_dotenv(usecwd=True)).name,
}, sort_keys=True))
"""

IMPLICIT = """\
import json
import os

from dotenv import load_dotenv

found = load_dotenv()
print(json.dumps({"found": found, "greeting": os.environ.get("GREETING")}))
"""

# Runs a program the way `coverage run` or a debugger would: with a trace function installed.
TRACED = """\
import runpy
import sys

sys.settrace(lambda *args: None)
runpy.run_path(sys.argv[1], run_name="__main__")
"""

EXPECTED_VALUES = {
    "HOST": "db.local",
    "PORT": "5432",
    "URL": "postgres://db.local:5432/app",
    "QUOTED": "single # not a comment",
    "MULTI": "line1\nline2",
    "EMPTY": "",
    "SPACED": "padded value",
}


def _json(proc) -> dict:  # type: ignore[no-untyped-def]
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_explicit_paths_behave_the_same_on_1_0_1_and_1_2_1(tmp_path: Path) -> None:
    files = {"svc/app/main.py": EXPLICIT}
    new, findings = rewrite_files("python-dotenv", files)
    assert new == {p: textwrap.dedent(t) for p, t in files.items()}
    assert findings == []
    app = tmp_path / "svc" / "app"
    (app / "config").mkdir(parents=True)
    (app / "main.py").write_text(new["svc/app/main.py"])
    (app / "config" / ".env").write_text(ENV)
    results = {}
    for name, reqs in (("1.0.1", OLD), ("1.2.1", NEW)):
        results[name] = _json(run(uv_env(reqs), str(app / "main.py"), cwd=tmp_path))
    assert results["1.0.1"] == results["1.2.1"]
    assert results["1.2.1"]["values"] == EXPECTED_VALUES
    assert results["1.2.1"]["env_url"] == EXPECTED_VALUES["URL"] and results["1.2.1"]["loaded"] is True
    assert results["1.2.1"]["get_key"] == "5432" and results["1.2.1"]["cwd_find"] == ".env"


def test_argumentless_load_changes_under_a_tracer_and_is_flagged(tmp_path: Path) -> None:
    files = {"svc/app/settings.py": IMPLICIT, "svc/app/.env": "GREETING=hello\n"}
    _, findings = rewrite_files("python-dotenv", files)
    assert [(f.rule, f.line, f.severity) for f in findings] == [
        ("python-dotenv/implicit-path", 6, Severity.HUMAN)
    ]

    app = tmp_path / "svc" / "app"
    app.mkdir(parents=True)
    (app / ".env").write_text("GREETING=hello\n")
    (app / "settings.py").write_text(IMPLICIT)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "traced.py").write_text(TRACED)

    def traced(reqs: list[str], program: Path) -> dict:
        return _json(run(uv_env(reqs), "traced.py", str(program), cwd=elsewhere))

    # Not traced: both versions find the .env beside the calling file.
    for reqs in (OLD, NEW):
        plain = _json(run(uv_env(reqs), str(app / "settings.py"), cwd=elsewhere))
        assert plain == {"found": True, "greeting": "hello"}
    # Traced (coverage, debugger): 1.0.1 still finds it; 1.2.1 searches the cwd and finds nothing.
    assert traced(OLD, app / "settings.py") == {"found": True, "greeting": "hello"}
    assert traced(NEW, app / "settings.py") == {"found": False, "greeting": None}

    # The opt-in rewrite restores the 1.0.1 behaviour on 1.2.1.
    recipe = DotenvRecipe(anchor_implicit_path=True)
    ctx = RewriteContext(Service("svc", "svc"), {}, {p: textwrap.dedent(t) for p, t in files.items()})
    out = recipe.rewrite_service(ctx)
    assert out.findings == []
    (app / "settings.py").write_text(out.texts["svc/app/settings.py"])
    assert traced(NEW, app / "settings.py") == {"found": True, "greeting": "hello"}
    assert traced(OLD, app / "settings.py") == {"found": True, "greeting": "hello"}
