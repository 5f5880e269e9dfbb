"""python-dotenv -> 1.2.x recipe: flags (with no-op twins), the opt-in anchor rewrite, detection, pins."""

from __future__ import annotations

import textwrap

import pytest
from recipe_harness import Case, assert_noop, detect, rewrite_files, rules_of

from fleetshift.model import Action, Service, Severity
from fleetshift.recipes import get
from fleetshift.recipes.base import RewriteContext
from fleetshift.recipes.dotenv import DotenvRecipe

R = "python-dotenv"

# (id, source, rule expected as a Finding, text the message must carry)
FLAGGED = [
    (
        "load-no-args",
        "from dotenv import load_dotenv\n\nload_dotenv()\n",
        "python-dotenv/implicit-path",
        "os.getcwd()",
    ),
    (
        "load-override-only",
        "import dotenv\n\ndotenv.load_dotenv(override=True)\n",
        "python-dotenv/implicit-path",
        "argument-less load_dotenv()",
    ),
    (
        "values-no-args",
        "from dotenv import dotenv_values\nCFG = dotenv_values()\n",
        "python-dotenv/implicit-path",
        "dotenv_values",
    ),
    (
        "find-inside-load",
        "from dotenv import load_dotenv, find_dotenv\nload_dotenv(find_dotenv())\n",
        "python-dotenv/implicit-path",
        "argument-less find_dotenv()",
    ),
    (
        "find-filename",
        "from dotenv import find_dotenv\nP = find_dotenv('.env.test')\n",
        "python-dotenv/implicit-path",
        "usecwd=True",
    ),
    ("run-command", "from dotenv.cli import run_command\n", "python-dotenv/run-command", "return value"),
    (
        "run-command-attr",
        "import dotenv.cli\n\nrc = dotenv.cli.run_command(['true'], {})\n",
        "python-dotenv/run-command",
        "replaces the process",
    ),
    (
        "set-key",
        "from dotenv import set_key\nset_key('.env', 'A', '1')\n",
        "python-dotenv/set-key",
        "follow_symlinks=True",
    ),
    ("unset-key", "import dotenv\ndotenv.unset_key('.env', 'A')\n", "python-dotenv/set-key", "0600"),
    (
        "bom-workaround",
        "from dotenv import dotenv_values\nvals = dotenv_values('.env')\nfirst = vals.get('\\ufeffFIRST')\n",
        "python-dotenv/bom-workaround",
        "BOM",
    ),
]


@pytest.mark.parametrize(("source", "rule", "text"), [c[1:] for c in FLAGGED], ids=[c[0] for c in FLAGGED])
def test_flagged(source: str, rule: str, text: str) -> None:
    findings = assert_noop(R, source, path="svc/app/settings.py")
    hits = [f for f in findings if f.rule == rule]
    assert hits and all(f.severity is Severity.HUMAN and f.line > 0 and f.link for f in hits), findings
    assert any(text in f.message for f in hits), [f.message for f in hits]
    assert rule in rules_of(detect(R, source, "svc/app/settings.py"))


# Code already explicit (or new API) and lookalikes: nothing to flag, nothing changed (each the no-op twin of a rule).
QUIET = [
    Case(
        "implicit-path",
        "from pathlib import Path\nfrom dotenv import load_dotenv\nload_dotenv(Path(__file__).parent / '.env')\n",
        name="load-explicit",
    ),
    Case(
        "implicit-path",
        "from dotenv import load_dotenv\nload_dotenv(dotenv_path='/etc/app.env', override=True)\n",
        name="load-kw-path",
    ),
    Case(
        "implicit-path",
        "import io\nfrom dotenv import load_dotenv\nload_dotenv(stream=io.StringIO('A=1'))\n",
        name="load-stream",
    ),
    Case(
        "implicit-path", "from dotenv import find_dotenv\nP = find_dotenv(usecwd=True)\n", name="find-usecwd"
    ),
    Case(
        "implicit-path",
        "from dotenv import dotenv_values\nV = dotenv_values('.env')\n",
        name="values-explicit",
    ),
    Case(
        "set-key",
        "from dotenv import set_key\nset_key('.env', 'A', '1', follow_symlinks=True)\n",
        name="set-key-migrated",
    ),
    Case("implicit-path", "from mylib import load_dotenv\nload_dotenv()\n", name="other-load-dotenv"),
    Case("run-command", "from dotenv.cli import cli\n", name="cli-other-name"),
    Case("run-command", "import dotenv.cli\n\nrc = mylib.run_command(['true'])\n", name="other-run-command"),
    Case("bom-workaround", "TEXT = '\\ufeffhello'\n", name="bom-without-dotenv"),
    Case("disabled-env", "import os\nimport dotenv\nos.environ['DOTENV_OFF'] = '1'\n", name="other-variable"),
]
QUIET = [Case(c.rule, c.before, path="svc/app/settings.py", name=c.name) for c in QUIET]


@pytest.mark.parametrize("case", QUIET, ids=[c.name for c in QUIET])
def test_quiet(case: Case) -> None:
    assert assert_noop(R, case.before, path=case.path) == []
    assert detect(R, case.before, case.path) == []


# Every rule's cases, keyed by rule (run by tests/recipes/test_rule_cases.py): the flagged sources above,
# their quiet twins, and the rules judged on whole files or as information.
CASES = [
    *[
        Case(rule.split("/", 1)[1], source, findings=(rule,), path="svc/app/settings.py", name=name)
        for name, source, rule, _ in FLAGGED
    ],
    *QUIET,
    Case(
        "disabled-env",
        "import os\nimport dotenv\nos.environ['PYTHON_DOTENV_DISABLED'] = '1'\n",
        findings=("disabled-env",),
        sites=("disabled-env",),
    ),
    Case("empty-value-comment", "A=1\nB= # set me\n", findings=("empty-value-comment",), path="svc/.env"),
    Case("empty-value-comment", "A=1\nD='# quoted'\nE=#nospace\n", path="svc/.env"),
]
JUDGED_ELSEWHERE = ("python-floor",)  # judged with the pins and the service's Pythons, not by a file rewrite


def test_disabled_env_is_info_only() -> None:
    source = "import os\nimport dotenv\nos.environ['PYTHON_DOTENV_DISABLED'] = '1'\n"
    findings = assert_noop(R, source, path="svc/app/a.py")
    assert [(f.rule, f.severity) for f in findings] == [("python-dotenv/disabled-env", Severity.ADVICE)]
    assert [s.action for s in detect(R, source, "svc/app/a.py")] == [Action.INFO]


def test_env_file_empty_value_with_comment() -> None:
    env = "A=1\nB= # set me\nexport C=   # later\nD='# quoted'\nE=#nospace\n"
    new, findings = rewrite_files(
        R,
        {
            "svc/.env": env,
            "svc/.env.example": "X= # doc\n",
            "svc/notes.env": "Y= # z\n",
            "svc/env.txt": "Z= # q\n",
        },
    )
    assert new["svc/.env"] == env
    assert [(f.file, f.line, f.rule) for f in findings] == [
        ("svc/.env", 2, "python-dotenv/empty-value-comment"),
        ("svc/.env", 3, "python-dotenv/empty-value-comment"),
        ("svc/.env.example", 1, "python-dotenv/empty-value-comment"),
        ("svc/notes.env", 1, "python-dotenv/empty-value-comment"),
    ]
    assert "reads as ''" in findings[0].message


# ---- opt-in rewrite of argument-less loads ---------------------------------------------------------


def _anchor(files: dict[str, str]) -> tuple[dict[str, str], list]:
    files = {p: textwrap.dedent(t) for p, t in files.items()}
    recipe = DotenvRecipe(anchor_implicit_path=True)
    ctx = RewriteContext(service=Service("svc", "svc"), targets={}, files=files)
    out = recipe.rewrite_service(ctx)
    new = {**files, **out.texts}
    again = recipe.rewrite_service(RewriteContext(service=Service("svc", "svc"), targets={}, files=new))
    assert again.texts == {}, "not idempotent"
    return new, out.findings


ANCHORS = [
    (
        "beside",
        {"svc/app/settings.py": "from dotenv import load_dotenv\n\nload_dotenv()\n", "svc/app/.env": "A=1\n"},
        'from dotenv import load_dotenv\nfrom pathlib import Path\n\nload_dotenv(Path(__file__).resolve().parent / ".env")\n',
    ),
    (
        "two-up-with-kwargs",
        {
            "svc/src/app/settings.py": "from pathlib import Path\nimport dotenv\n\nCFG = dotenv.dotenv_values()\ndotenv.load_dotenv(override=True)\n",
            "svc/.env": "A=1\n",
        },
        "from pathlib import Path\nimport dotenv\n\n"
        'CFG = dotenv.dotenv_values(Path(__file__).resolve().parents[2] / ".env")\n'
        'dotenv.load_dotenv(Path(__file__).resolve().parents[2] / ".env", override=True)\n',
    ),
]


@pytest.mark.parametrize(("files", "after"), [c[1:] for c in ANCHORS], ids=[c[0] for c in ANCHORS])
def test_opt_in_anchor(files: dict[str, str], after: str) -> None:
    path = next(p for p in files if p.endswith(".py"))
    new, findings = _anchor(files)
    assert new[path] == after
    assert [f for f in findings if f.rule == "python-dotenv/implicit-path"] == []


def test_opt_in_anchor_without_visible_env_file_still_reports() -> None:
    files = {
        "svc/app/settings.py": "from dotenv import load_dotenv, find_dotenv\nload_dotenv()\nP = find_dotenv()\n"
    }
    new, findings = _anchor(files)
    assert new == files
    assert [f.line for f in findings if f.rule == "python-dotenv/implicit-path"] == [2, 3]


def test_opt_in_anchor_leaves_find_dotenv_and_other_path_names() -> None:
    files = {
        "svc/app/a.py": "from dotenv import find_dotenv\nP = find_dotenv()\n",
        "svc/app/b.py": "from mylib import Path\nfrom dotenv import load_dotenv\nload_dotenv()\n",
        "svc/app/.env": "A=1\n",
    }
    new, findings = _anchor(files)
    assert new == files
    assert sorted(f.file for f in findings) == ["svc/app/a.py", "svc/app/b.py"]


def test_default_recipe_never_rewrites() -> None:
    files = {
        "svc/app/settings.py": "from dotenv import load_dotenv\nload_dotenv()\n",
        "svc/app/.env": "A=1\n",
    }
    new, findings = rewrite_files(R, files)
    assert new == files
    assert [f.rule for f in findings] == ["python-dotenv/implicit-path"]


def test_rewrite_reads_only_around_the_scans_site_lines() -> None:
    """With the scan's detection of the same text (`Known`), only the nodes that may hold a site line are handed to
    the matches: the same findings as a whole walk when the lines are the sites' (the scan's), and none outside."""
    import ast

    from fleetshift.recipes._ast import parse_tree, walk
    from fleetshift.recipes.base import Known
    from fleetshift.recipes.dotenv import _around, _sites

    source = textwrap.dedent(
        """\
        import os
        from dotenv import load_dotenv, set_key

        @decorate(load_dotenv())
        def configure(path):
            x = [1, 2, (3, 4)]
            set_key(path, "A", "1")
            return f"{load_dotenv()}"

        class Settings:
            flag = os.environ.get("PYTHON_DOTENV_DISABLED")
            other = {"a": [1, 2, 3]}
        """
    )
    tree = parse_tree(source)
    whole = list(_sites(tree))
    lines = sorted({node.lineno for node, _rule, _detail in whole})
    assert lines == [4, 7, 8, 11]
    assert list(_sites(tree, lines)) == whole
    around = _around(tree, lines)
    rest = iter(walk(tree))
    assert all(any(n is m for m in rest) for n in around)  # in the walk's order
    assert not any(isinstance(n, ast.List) for n in around)  # lines 6 and 12 are not looked into
    path = "svc/app/settings.py"
    ctx = RewriteContext(service=Service("svc", "svc"), targets={}, files={path: source},
                         known=Known(frozenset({path}), {path: (7,)}))
    assert [(f.line, f.rule) for f in DotenvRecipe().rewrite_service(ctx).findings] == [(7, "python-dotenv/set-key")]


# ---- data, pins and Python floor -----------------------------------------------------------------


def test_recipe_data() -> None:
    recipe = get(R)
    assert (recipe.id, recipe.package, recipe.migrates_from, recipe.migrates_to) == (
        "python-dotenv",
        "python-dotenv",
        "<1.2",
        ">=1.2.1,<2",
    )
    assert recipe.is_old("python-dotenv", "==1.0.1") and recipe.is_old("python-dotenv", "==0.21.1")
    assert not recipe.is_old("python-dotenv", "==1.2.1")
    human = {r.id for r in recipe.rules if r.action is Action.HUMAN}
    covered = {c[2] for c in FLAGGED} | {"python-dotenv/python-floor", "python-dotenv/empty-value-comment"}
    assert human <= covered
    assert all(r.link.startswith("https://") and r.fix and r.since for r in recipe.rules)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("svc/pyproject.toml", '[project]\nname = "s"\nrequires-python = ">=3.8"\n'),
        ("svc/setup.cfg", "[options]\npython_requires = >=3.9\n"),
    ],
)
def test_python_floor_is_not_judged_by_the_recipe(path: str, text: str) -> None:
    """No python-dotenv finding from a config file alone: the Python floor is judged once, for services
    that use python-dotenv (fleetshift.recipes._floors / fleetshift.resolve)."""
    new, findings = rewrite_files(R, {path: text}, targets={R: ">=1.2.4,<2"})
    assert new[path] == text and findings == []
    assert detect(R, text, path) == []
