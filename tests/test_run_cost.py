"""What makes `run` cost grow with the work, checked for sameness: LibCST's visitor searches done once per class
return what LibCST's own searches return, and rewrites in worker processes equal rewrites in this process; and
where its work is done: the rewrites' modules are imported once, by the process that forks the workers, while
the child of its discovery or scan works (`forked.meanwhile`)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import libcst as cst
import libcst.matchers as m
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, GatherImportsVisitor, RemoveImportsVisitor
from libcst.metadata import ParentNodeProvider, QualifiedNameProvider, ScopeProvider

from fleetshift import forked, rewrite
from fleetshift.model import Selection
from fleetshift.pipeline import analyse
from fleetshift.recipes import fixes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import scan as scan_bench


class Decorated(m.MatcherDecoratableTransformer):
    @m.call_if_inside(m.FunctionDef(name=m.Name("f")))
    def visit_Call(self, node: cst.Call) -> None:
        pass

    @m.visit(m.Name("x"))
    def on_x(self, node: cst.Name) -> None:
        pass

    @m.leave(m.Name("y") | m.Name("z"))
    def off_yz(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated

    @m.call_if_not_inside(m.ClassDef())
    @m.leave(m.Integer())
    def off_int(self, original: cst.Integer, updated: cst.Integer) -> cst.Integer:
        return updated

    @property
    def broken(self) -> int:
        raise AssertionError("a property is never read by the search")


def test_visitor_searches_once_per_class_find_what_libcst_finds() -> None:
    from libcst.matchers import _visitors as mv

    assert mv._gather_matchers is not fixes.ORIGINAL["gather_matchers"]  # installed when fixes is imported
    for make in (Decorated, lambda: AddImportsVisitor(CodemodContext()), lambda: RemoveImportsVisitor(CodemodContext()),
                 lambda: GatherImportsVisitor(CodemodContext())):
        for _ in range(2):  # the first instance fills the per-class record, the second reads it
            obj = make()
            assert mv._gather_matchers(obj) == fixes.ORIGINAL["gather_matchers"](obj)
            assert mv._gather_constructed_visit_funcs(obj) == fixes.ORIGINAL["visit_funcs"](obj)
            assert mv._gather_constructed_leave_funcs(obj) == fixes.ORIGINAL["leave_funcs"](obj)
    assert fixes.ORIGINAL["visit_funcs"](Decorated())  # the decorated class does have something to find
    for provider in (ParentNodeProvider, ScopeProvider, QualifiedNameProvider):
        for _ in range(2):
            obj = provider()
            if hasattr(obj, "get_visitors"):
                assert obj.get_visitors() == fixes.ORIGINAL["get_visitors"](obj)
                assert obj.get_visitors()


def test_parsed_modules_skip_node_validation_and_equal_libcsts_own(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "import a\n\n\nasync def f(x: int = (1 +  2)) -> None:\n    await g(*x, **{'k': [y for y in x if y]})\n"
    validated: list[str] = []
    real = cst.CSTNode._validate

    def counted(self: cst.CSTNode) -> None:
        validated.append(type(self).__name__)
        real(self)

    monkeypatch.setattr(cst.CSTNode, "_validate", counted)
    fixes.forget()
    module = fixes.parse(text)
    assert validated == []  # the parser's nodes are not validated one by one
    assert cst.CSTNode.__post_init__ is not fixes.ORIGINAL["post_init"]  # installed when fixes is imported
    assert module.deep_equals(cst.parse_module(text)) and module.code == text
    assert validated  # LibCST's own parse, and every node built anywhere else, still is
    validated.clear()
    with pytest.raises(cst.CSTValidationError):
        cst.BinaryOperation(cst.Name("a"), cst.Add(), cst.Name("b"), lpar=[cst.LeftParen()])  # unbalanced
    with pytest.raises(cst.ParserSyntaxError):
        fixes.parse("def (:\n")
    assert not fixes._PARSING.on  # a parse that fails leaves validation on
    fixes.forget()


def test_rewrites_in_worker_processes_equal_rewrites_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = tmp_path / "fleet"
    scan_bench.generate(fleet, 4, 12, 0.5, stack="ingest")
    a = analyse(fleet)
    sel = Selection()
    work = [(a.fleet.service(sp.service), sel.chain(sp)) for sp in sel.services_of(a.plan) if sel.chain(sp)]
    assert len(work) == 4
    here = [rewrite.rewrite_service(fleet, svc, chain, a.config) for svc, chain in work]
    assert any(cs.changes for cs in here)
    monkeypatch.setattr(rewrite, "PROCESSES_MIN_SERVICES", 2)
    with rewrite.worker_processes(2, len(work)):
        assert rewrite._pool is not None
        there = [rewrite.rewrite_service(fleet, svc, chain, a.config) for svc, chain in work]
    assert rewrite._pool is None
    assert there == here
    with rewrite.worker_processes(2, len(work)):  # sent ahead: the same ChangeSets, each taken once
        assert rewrite.rewrite_ahead(fleet, work, a.config) == len(work)
        assert rewrite.rewrite_ahead(fleet, work, a.config) == 0
        ahead = [rewrite.rewrite_service(fleet, svc, chain, a.config) for svc, chain in work]
        assert not rewrite._ahead
        other = replace(a.config)  # another config than the one the rewrite was sent with: asked anew
        assert rewrite.rewrite_ahead(fleet, work[:1], other) == 1
        assert rewrite.rewrite_service(fleet, work[0][0], work[0][1], a.config) == here[0]
        assert not rewrite._ahead
    assert not rewrite._ahead
    assert ahead == here
    assert rewrite.rewrite_ahead(fleet, work, a.config) == 0  # no workers: nothing is sent
    with rewrite.worker_processes(1, len(work)):  # one job: no worker
        assert rewrite._pool is None


def test_meanwhile_runs_here_once_after_the_next_share_forks() -> None:
    ran: list[str] = []

    def work() -> None:
        ran.append("here")

    with forked.meanwhile(work):
        mine, theirs = forked.share(lambda: list(ran), lambda alive: list(ran))
        assert (mine, theirs) == (["here"], [])  # run here, after the fork: the child never saw it
        forked.share(lambda: None, lambda alive: None)
    assert ran == ["here"]  # once
    with forked.meanwhile(work):  # no share inside the block: never run, and forgotten at its end
        pass
    assert ran == ["here"] and not forked._meanwhile
    with forked.meanwhile(lambda: 1 / 0):  # a failed preparation changes nothing of the share
        assert forked.share(lambda: 2, lambda alive: 1) == (1, 2)


def test_run_imports_the_rewrites_modules_while_it_analyses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from fleetshift import cli

    pending: list[list[object]] = []
    real = cli._analyse

    def analysed(*args: object, **kwargs: object) -> object:
        pending.append(list(forked._meanwhile))
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "_analyse", analysed)
    fleet = tmp_path / "fleet"
    scan_bench.generate(fleet, 2, 4, 0.5, stack="ingest")
    result = CliRunner().invoke(cli.app, ["run", str(fleet), "--dry-run"])
    assert result.exit_code == 0, result.output  # the dry run ran whole
    assert pending == [[cli._run_modules]]
    assert not forked._meanwhile


def test_warm_imports_every_module_a_rewrite_imports(tmp_path: Path) -> None:
    """What the workers forked after `warm` inherit: no rewrite imports a module of fleetshift's recipes itself."""
    import subprocess

    fleet = tmp_path / "fleet"
    scan_bench.generate(fleet, 3, 4, 0.5, stack="ingest")
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from fleetshift.pipeline import analyse\n"
        "from fleetshift.rewrite import rewrite_fleet, warm\n"
        f"a = analyse(Path({str(fleet)!r}), use_cache=False)\n"
        "warm()\n"
        "before = set(sys.modules)\n"
        "changes = rewrite_fleet(a.fleet, a.plan, a.config)\n"
        "assert any(c.changes for c in changes)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('fleetshift.recipes')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path(rewrite.__file__).parents[1])})
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_questions_asked_ahead_are_the_rewrites_own(generated: Path, tmp_path: Path) -> None:
    """Asked ahead (the Python floors, then each service's pins as its rewrite will settle them), every question
    the rewrites ask is already answered: uv does not run for them."""
    import shutil
    import threading

    from fleetshift.resolve import Resolver

    fleet = tmp_path / "fleet"
    shutil.copytree(generated, fleet, ignore=shutil.ignore_patterns(".fleetshift"))
    a = analyse(fleet)
    sel = Selection()
    work = [(a.fleet.service(sp.service), sel.chain(sp)) for sp in sel.services_of(a.plan) if sel.chain(sp)]
    rewrite._ask_ahead(fleet, work, a.config, threading.Event())
    resolver = Resolver(fleet)
    changesets = [rewrite.rewrite_service(fleet, svc, chain, a.config, resolver=resolver) for svc, chain in work]
    assert sum(1 for cs in changesets for c in cs.changes if c.file.endswith((".txt", ".toml"))) >= len(work) // 2
    assert resolver.calls == 0
