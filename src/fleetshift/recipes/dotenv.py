"""python-dotenv 0.2x/1.0 -> 1.2.x: a pin bump whose behaviour changes are flagged, not rewritten.

The public signatures are unchanged; what changed is where an argument-less `load_dotenv()` looks (under a
tracer), symlink and mode handling of `set_key`, the BOM, and how `KEY= # comment` parses. The one rewrite,
anchoring an argument-less `load_dotenv()` to the calling file, runs only when asked for.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable, Iterator

from packaging.version import Version

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes._ast import Imports, keyword
from fleetshift.recipes._targets import oldest_target
from fleetshift.recipes.base import (
    FileKind,
    Recipe,
    RewriteContext,
    RewriteResult,
    Rule,
    SourceFile,
)

CHANGELOG = "https://github.com/theskumar/python-dotenv/blob/main/CHANGELOG.md"
PR = "https://github.com/theskumar/python-dotenv/pull/"

IMPLICIT_PATH_CALLS = {
    "dotenv.load_dotenv": "load_dotenv",
    "dotenv.main.load_dotenv": "load_dotenv",
    "dotenv.dotenv_values": "dotenv_values",
    "dotenv.main.dotenv_values": "dotenv_values",
    "dotenv.find_dotenv": "find_dotenv",
    "dotenv.main.find_dotenv": "find_dotenv",
}
SET_KEY_CALLS = {"dotenv.set_key", "dotenv.unset_key", "dotenv.main.set_key", "dotenv.main.unset_key"}
EMPTY_WITH_COMMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][\w.-]*)\s*=[ \t]+#")
IMPLICIT_MESSAGE = (
    "argument-less {call}() resolves differently under coverage/debuggers since python-dotenv 1.1.0: whenever "
    "sys.gettrace() is set (pytest-cov, coverage run, a debugger) it searches from os.getcwd() instead of this "
    'file\'s folder. Pass a path: {call}(Path(__file__).resolve().parent / ".env"), or '
    "find_dotenv(usecwd=True) when the working directory is meant."
)


def _rule(slug: str, summary: str, action: Action, fix: str, link: str, since: str) -> Rule:
    return Rule(f"python-dotenv/{slug}", summary, action, fix, link, since)


class DotenvRecipe(Recipe):
    """python-dotenv -> 1.2.x. `anchor_implicit_path=True` opts in to rewriting argument-less loads."""

    id = "python-dotenv"
    title = "python-dotenv 0.2x/1.0 -> 1.2.x"
    package = "python-dotenv"
    migrates_from = "<1.2"
    migrates_to = ">=1.2.1,<2"
    known_versions = (
        "0.19.0", "0.19.1", "0.19.2", "0.20.0", "0.21.0", "0.21.1", "1.0.0", "1.0.1", "1.1.0", "1.1.1",
        "1.2.0", "1.2.1", "1.2.2", "1.2.3", "1.2.4",
    )  # fmt: skip
    tokens = (b"dotenv", b"\\ufeff", b"PYTHON_DOTENV_DISABLED")
    order = 60
    risk_weight = 0.5  # pins plus behaviour notes; nothing is rewritten
    config_kinds = ()  # the Python floor is judged once for every recipe, by the resolver (see _floors)
    docs = CHANGELOG
    rules = (
        _rule("python-floor", "python-dotenv 1.1 needs Python >=3.9, 1.2.2+ need >=3.10", Action.HUMAN,
              "drop Python 3.8 (and 3.9 for python-dotenv>=1.2.2) from requires-python, or pin an older release",
              CHANGELOG, "1.2.2"),
        _rule("implicit-path", "argument-less load_dotenv()/dotenv_values()/find_dotenv() search from the cwd under "
              "a tracer", Action.HUMAN, "pass an explicit path (opt-in rewrite: "
              'load_dotenv(Path(__file__).resolve().parent / ".env")), or find_dotenv(usecwd=True)',
              f"{PR}553", "1.1.0"),
        _rule("run-command", "`dotenv.cli.run_command` now execs (returns None instead of an exit code)",
              Action.HUMAN, "stop relying on run_command's return value; on POSIX it replaces the process",
              CHANGELOG, "1.1.0"),
        _rule("disabled-env", "PYTHON_DOTENV_DISABLED=1/true/yes turns load_dotenv() into a no-op", Action.INFO,
              "make sure PYTHON_DOTENV_DISABLED is set only where loading .env should be skipped", CHANGELOG, "1.2.0"),
        _rule("set-key", "set_key/unset_key no longer follow symlinks and keep the file mode", Action.HUMAN,
              "since python-dotenv 1.2.2 set_key/unset_key write to a symlink itself unless follow_symlinks=True "
              "(a TypeError before 1.2.2), and keep the file's mode instead of resetting it to 0600; check symlinked "
              ".env files and secrets' permissions", CHANGELOG, "1.2.2"),
        _rule("bom-workaround", "a UTF-8 BOM is stripped from .env files", Action.HUMAN,
              "python-dotenv 1.2.3 strips a leading BOM, so the first key no longer starts with '\\ufeff'; drop "
              "code that looks keys up with the BOM", CHANGELOG, "1.2.3"),
        _rule("empty-value-comment", "`KEY= # comment` parses as an empty value", Action.HUMAN,
              "python-dotenv 1.2.4 reads `KEY= # comment` as '' (it was '# comment'); quote the value if the text "
              "was meant", CHANGELOG, "1.2.4"),
    )  # fmt: skip

    def __init__(self, anchor_implicit_path: bool = False) -> None:
        self.anchor_implicit_path = anchor_implicit_path

    # ---- detection -----------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return [self.site(src, node, rule, detail) for node, rule, detail in _sites(src.tree)]

    # ---- rewriting ---------------------------------------------------------------------------------

    def target_floor(self, ctx: RewriteContext) -> Version:
        """The oldest known release the campaign's target admits."""
        return oldest_target(self, ctx, "1.2.1")

    def rewrite_file(
        self, path: str, text: str, ctx: RewriteContext, prepared: object
    ) -> RewriteResult | None:
        name = posixpath.basename(path)
        if not path.endswith(".py") and (name == ".env" or name.startswith(".env.") or name.endswith(".env")):
            return RewriteResult(text, list(self._env_file_findings(path, text)))
        return super().rewrite_file(path, text, ctx, prepared)

    def _env_file_findings(self, path: str, text: str) -> Iterator[Finding]:
        for number, line in enumerate(text.splitlines(), 1):
            m = EMPTY_WITH_COMMENT.match(line)
            if m:
                yield self.finding(
                    path,
                    number,
                    "python-dotenv/empty-value-comment",
                    f"{m.group(1)}: `{line.strip()}` reads as '' since python-dotenv 1.2.4 (it was the comment text); "
                    "quote the value if the text was meant",
                )

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            return RewriteResult(text, [Finding(path, 0, "python-dotenv/implicit-path", f"could not parse: {exc}", Severity.ERROR, CHANGELOG, self.id)])  # fmt: skip
        new_text = text
        if self.anchor_implicit_path:
            env_dir = _nearest_env_dir(path, ctx)
            if env_dir is not None:
                new_text = _anchor(text, tree, env_dir)
                tree = ast.parse(new_text)
        findings = []
        for node, rule, detail in _sites(tree):
            r = self.rule(rule)
            sev = Severity.ADVICE if r.action is Action.INFO else Severity.HUMAN
            findings.append(
                self.finding(path, getattr(node, "lineno", 0), rule, detail or f"{r.summary}; {r.fix}", sev)
            )
        return RewriteResult(new_text, findings)


def _implicit(call: ast.Call, func: str) -> bool:
    if any(kw.arg is None for kw in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return False
    if func == "find_dotenv":
        kw = keyword(call, "usecwd")
        usecwd = kw.value if kw is not None else (call.args[2] if len(call.args) > 2 else None)
        return usecwd is None or (isinstance(usecwd, ast.Constant) and not usecwd.value)
    if call.args:
        return False
    return keyword(call, "dotenv_path") is None and keyword(call, "stream") is None


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, rule id, detail) for every python-dotenv site in a module."""
    imports = Imports(tree)
    uses_dotenv = imports.imports_module("dotenv")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            q = imports.qualname(node.func)
            if q in IMPLICIT_PATH_CALLS and _implicit(node, IMPLICIT_PATH_CALLS[q]):
                yield (
                    node,
                    "python-dotenv/implicit-path",
                    IMPLICIT_MESSAGE.format(call=IMPLICIT_PATH_CALLS[q]),
                )
            elif q in SET_KEY_CALLS and keyword(node, "follow_symlinks") is None:
                yield node, "python-dotenv/set-key", ""
        elif isinstance(node, ast.ImportFrom) and node.module == "dotenv.cli":
            if any(a.name == "run_command" for a in node.names):
                yield node, "python-dotenv/run-command", ""
        elif isinstance(node, ast.Attribute) and node.attr == "run_command":
            if imports.qualname(node) == "dotenv.cli.run_command":
                yield node, "python-dotenv/run-command", ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if uses_dotenv and "\ufeff" in node.value:
                yield node, "python-dotenv/bom-workaround", ""
            elif node.value.startswith("PYTHON_DOTENV_DISABLED"):
                yield node, "python-dotenv/disabled-env", ""


def _nearest_env_dir(path: str, ctx: RewriteContext) -> int | None:
    """How many folders above `path`'s own folder the nearest visible `.env` sits (0 = beside it)."""
    envs = {posixpath.dirname(p) for p in ctx.files if posixpath.basename(p) == ".env"}
    folder = posixpath.dirname(path)
    for up in range(folder.count("/") + 2):
        if folder in envs:
            return up
        if not folder:
            break
        folder = posixpath.dirname(folder)
    return None


def _anchor(text: str, tree: ast.Module, up: int) -> str:
    """Give argument-less load_dotenv()/dotenv_values() calls the path the pre-1.1 search would start from."""
    import libcst as cst  # the rewrite is opt-in; detection stays on `ast`
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    imports = Imports(tree)
    targets = {
        (n.lineno, n.col_offset)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and (q := imports.qualname(n.func)) in IMPLICIT_PATH_CALLS
        and IMPLICIT_PATH_CALLS[q] != "find_dotenv"
        and _implicit(n, IMPLICIT_PATH_CALLS[q])
    }
    path_bound = imports.names.get("Path")
    if not targets or path_bound not in (None, "pathlib.Path"):
        return text
    folder = "parent" if up == 0 else f"parents[{up}]"
    arg = cst.Arg(value=cst.parse_expression(f'Path(__file__).resolve().{folder} / ".env"'))
    wrapper = cst.MetadataWrapper(cst.parse_module(text))
    positions = wrapper.resolve(cst.metadata.PositionProvider)
    line_text = text.splitlines()

    class Anchor(cst.CSTTransformer):
        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
            pos = positions[original_node].start
            col = len(line_text[pos.line - 1][: pos.column].encode())
            if (pos.line, col) not in targets:
                return updated_node
            first = arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            return updated_node.with_changes(args=[first, *updated_node.args] if updated_node.args else [arg])

    module = wrapper.module.visit(Anchor())
    if path_bound is None:
        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "pathlib", "Path")
        module = AddImportsVisitor(context).transform_module(module)
    return module.code


RECIPE = DotenvRecipe()
