"""pytest 8.x -> 9.x: py.path hook arguments, keyword-only parametrize options, removed warnings, config.

Removals land in 9.0 (errors) and 9.1 (gone); 9.2 adds keyword-only `parametrize` options. Only what is
certainly safe is rewritten; the rest becomes a Finding with file:line and the changelog link.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from typing import ClassVar

import libcst as cst
import tomlkit
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes._ast import Imports, decorator_calls, keyword
from fleetshift.recipes.base import (
    ConfigFile,
    PinChange,
    Recipe,
    RewriteContext,
    Rule,
    ServiceRewrite,
    SourceFile,
    config_kind,
)
from fleetshift.recipes.pytest_asyncio import PA_VERSIONS, PYTEST_VERSIONS, excludes

CHANGELOG = "https://docs.pytest.org/en/stable/changelog.html"
DEPRECATIONS = "https://docs.pytest.org/en/stable/deprecations.html"
CUSTOMIZE = "https://docs.pytest.org/en/stable/reference/customize.html"
PY_PATH = f"{DEPRECATIONS}#py-path-local-arguments-for-hooks-replaced-with-pathlib-path"

WIDE = pc.WIDE
PY310 = (
    "pytest 9 / pytest-asyncio >=1.3 / python-dotenv >=1.2.2 need Python >=3.10; drop 3.9 from the support matrix "
    "or pin the older versions"
)

# hook name -> (old py.path argument, new pathlib argument)
HOOK_ARGS = {
    "pytest_ignore_collect": ("path", "collection_path"),
    "pytest_collect_file": ("path", "file_path"),
    "pytest_pycollect_makemodule": ("path", "module_path"),
    "pytest_report_header": ("startdir", "start_path"),
    "pytest_report_collectionfinish": ("startdir", "start_path"),
}
# py.path attribute -> pathlib attribute
PATH_ATTRS = {"basename": "name", "ext": "suffix", "purebasename": "stem"}
# py.path method -> pathlib method (called with no arguments)
PATH_METHODS = {
    "exists": "exists",
    "isdir": "is_dir",
    "isfile": "is_file",
    "islink": "is_symlink",
    "read": "read_text",
    "read_text": "read_text",
    "read_bytes": "read_bytes",
}
# calls that accept a py.path or a pathlib.Path alike
PATH_SAFE_CALLS = {"str", "os.fspath", "open", "pathlib.Path", "os.path"}
PARAMETRIZE_KW = ("indirect", "ids", "scope")


def _r(slug: str, summary: str, action: Action, fix: str, link: str, since: str) -> Rule:
    return Rule(f"pytest/{slug}", summary, action, fix, link, since)


RULES = (
    _r("hook-path-args", "py.path hook arguments (path, startdir)", Action.AUTO,
       "renamed to collection_path/file_path/module_path/start_path (pathlib.Path); .basename->.name, "
       ".ext->.suffix, .purebasename->.stem, .dirname->str(p.parent), .strpath->str(p)", PY_PATH, "9.1"),
    _r("hook-path-args-human", "py.path hook argument used in a way pathlib does not support", Action.HUMAN,
       "the hook argument is removed in pytest 9.1 (PluginValidationError) and its replacement is a "
       "pathlib.Path: port .check()/.join()/.fnmatch()/... to pathlib by hand", PY_PATH, "9.1"),
    _r("from-parent-fspath", "`fspath=` argument of Node.from_parent", Action.AUTO,
       "replaced by path=pathlib.Path(...)", DEPRECATIONS, "9.1"),
    _r("importorskip-exc-type", "pytest.importorskip without exc_type", Action.HUMAN,
       "from pytest 9.1 importorskip skips only on ModuleNotFoundError and fails the test on any other "
       "ImportError; pass exc_type=ImportError to keep the old behaviour or exc_type=ModuleNotFoundError to "
       "accept the new one", DEPRECATIONS, "9.1"),
    _r("removed-in-9-warning", "PytestRemovedIn9Warning referenced", Action.AUTO,
       "filters naming PytestRemovedIn9Warning are deleted: the class no longer exists in pytest 9.1 and a "
       "config filter naming it stops pytest with exit code 4", CHANGELOG, "9.1"),
    _r("removed-in-9-warning-code", "PytestRemovedIn9Warning used in code", Action.HUMAN,
       "pytest.PytestRemovedIn9Warning does not exist from pytest 9.1; remove this reference", CHANGELOG, "9.1"),
    _r("strict-flag", "`--strict` in addopts or tox commands", Action.AUTO,
       "--strict now turns on every strictness option; replaced by --strict-markers (its old meaning)",
       CHANGELOG, "9.0"),
    _r("mark-on-fixture", "a mark applied to a fixture", Action.AUTO,
       "@pytest.mark.asyncio on a fixture is deleted (it never had an effect); pytest 9.0 fails collection",
       DEPRECATIONS, "9.0"),
    _r("mark-on-fixture-human", "a mark with an effect intended on a fixture", Action.HUMAN,
       "marks cannot be applied to fixtures (collection error from pytest 9.0); for usefixtures move the "
       "dependency into the fixture's parameters, otherwise move the mark to the tests", DEPRECATIONS, "9.0"),
    _r("fixture-instance-method", "wider-scoped fixture defined as an instance method", Action.AUTO,
       "@classmethod is inserted below the fixture decorator and self renamed to cls (deprecated in 9.1 for "
       "class scope, 9.2 for module/package/session)", DEPRECATIONS, "9.1"),
    _r("fixture-instance-method-human", "wider-scoped instance-method fixture that uses its instance", Action.HUMAN,
       "the fixture uses self beyond class attributes; make it a @classmethod (below the fixture decorator) or "
       "a module-level fixture by hand", DEPRECATIONS, "9.1"),
    _r("yield-fixture", "pytest.yield_fixture", Action.AUTO, "replaced by pytest.fixture", DEPRECATIONS, "9.2"),
    _r("parametrize-keywords", "positional indirect/ids/scope in parametrize", Action.AUTO,
       "turned into keywords (pytest 9.2 makes them keyword-only: TypeError at collection)", CHANGELOG, "9.2"),
    _r("parametrize-generator", "generator expression as parametrize argvalues", Action.AUTO,
       "turned into a list comprehension (non-Collection iterables are deprecated in 9.1)", DEPRECATIONS, "9.1"),
    _r("python-version", "Python < 3.10 in the support matrix", Action.HUMAN, PY310, CHANGELOG, "9.0"),
    _r("toml-tables", "[tool.pytest] and [tool.pytest.ini_options] together", Action.HUMAN,
       "pytest 9 stops with 'Cannot use both [tool.pytest] and [tool.pytest.ini_options]'; keep one table "
       "(the native [tool.pytest] is typed: addopts must be a list)", CUSTOMIZE, "9.0"),
    _r("inactive-config", "pytest settings in a config file pytest does not read", Action.INFO,
       "pytest reads only the first config file and prints 'ignoring pytest config in ...' from 9.0; merge "
       "the settings into the active file", CUSTOMIZE, "9.0"),
    _r("yield-test", "a test function that yields", Action.HUMAN,
       "yield tests are a collection error since pytest 8.4; use parametrize", CHANGELOG, "8.4"),
    _r("deprecated-9-1", "API deprecated in pytest 9.1 or removed", Action.HUMAN,
       "config.inicfg, --pastebin and pytest.console_main are deprecated in pytest 9.1; use "
       "config.getini(), drop --pastebin, call pytest.main()", DEPRECATIONS, "9.1"),
    _r("doctest-autouse", "wide autouse fixtures in test modules with --doctest-modules", Action.INFO,
       "with --doctest-modules, module/package/session autouse fixtures defined inside test modules may run "
       "twice from pytest 9.1; move them to conftest.py", CHANGELOG, "9.1"),
    _r("collect-duplicates", "overlapping paths on the command line collect once", Action.INFO,
       "`pytest a/ a/b` collects a/ once from 9.0; use --keep-duplicates in CI for the old behaviour",
       CHANGELOG, "9.0"),
    _r("ci-mode", "CI detection", Action.INFO, "CI mode needs a non-empty $CI or $BUILD_NUMBER from 9.0", CHANGELOG,
       "9.0"),
    _r("exit-codes", "usage-error and plugin-import exit codes", Action.INFO,
       "a missing -c path is a usage error and plugin import failures exit 4/3 instead of 1 from 9.2", CHANGELOG,
       "9.2"),
)  # fmt: skip


# ---- hook arguments -----------------------------------------------------------------------------


class _Uses(cst.CSTVisitor):
    """Classifies every use of a py.path hook argument inside a hook body."""

    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self, name: str, imports: pc.ImportMap) -> None:
        self.name = name
        self.imports = imports
        self.bad: list[str] = []
        self.depth = 0

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.name:
            self.bad.append("rebound in a nested scope")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.bad.append("reassigned")

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != self.name:
            return
        parent = self.get_metadata(ParentNodeProvider, node)
        if (isinstance(parent, cst.Param) and parent.name is node) or (
            isinstance(parent, cst.Arg) and parent.keyword is node
        ):
            return  # a parameter name or a keyword name
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            attr = parent.attr.value
            if attr in PATH_ATTRS or attr in ("dirname", "strpath"):
                return
            grand = self.get_metadata(ParentNodeProvider, parent)
            if (
                attr in PATH_METHODS
                and isinstance(grand, cst.Call)
                and grand.func is parent
                and not grand.args
            ):
                return
            if attr == "dirpath" and isinstance(grand, cst.Call) and grand.func is parent and not grand.args:
                return
            self.bad.append(f".{attr}")
            return
        if isinstance(parent, cst.Arg):
            call = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(call, cst.Call):
                q = self.imports.qualname(call.func) or pc.get_full_name_for_node(call.func) or ""
                if q in PATH_SAFE_CALLS or q.startswith("os.path.") or q.endswith(".from_parent"):
                    return
        if isinstance(parent, cst.FormattedStringExpression):
            return
        self.bad.append("used as a value")


class _Rename(cst.CSTTransformer):
    """Renames a hook argument and maps its py.path attributes to pathlib."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        f = updated.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == self.new:
            attr = f.attr.value
            if attr == "dirpath" and not updated.args:
                return cst.Attribute(cst.Name(self.new), cst.Name("parent"))
            if attr in PATH_METHODS and not updated.args:
                return updated.with_changes(func=f.with_changes(attr=cst.Name(PATH_METHODS[attr])))
        return updated

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword) if original.keyword is not None else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        updated = updated.with_changes(attr=original.attr)
        if isinstance(updated.value, cst.Name) and updated.value.value == self.new:
            attr = updated.attr.value
            if attr in PATH_ATTRS:
                return updated.with_changes(attr=cst.Name(PATH_ATTRS[attr]))
            if attr == "dirname":
                return cst.Call(
                    cst.Name("str"), [cst.Arg(cst.Attribute(cst.Name(self.new), cst.Name("parent")))]
                )
            if attr == "strpath":
                return cst.Call(cst.Name("str"), [cst.Arg(cst.Name(self.new))])
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=self.new) if updated.value == self.old else updated


# ---- file rewriter ------------------------------------------------------------------------------


class _SelfUses(cst.CSTVisitor):
    """Attributes read through `self` in a fixture method, and whether self is used otherwise."""

    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self) -> None:
        self.attrs: set[str] = set()
        self.other = False

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == "self":
            self.other = True  # a nested function taking self

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != "self":
            return
        parent = self.get_metadata(ParentNodeProvider, node)
        if isinstance(parent, cst.Param):
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.get_metadata(ParentNodeProvider, parent)
            if isinstance(grand, (cst.AssignTarget, cst.AugAssign, cst.Del)) or (
                isinstance(grand, cst.AnnAssign) and grand.target is parent
            ):
                self.other = True
            self.attrs.add(parent.attr.value)
            return
        self.other = True


def _class_safe_attrs(cls: cst.ClassDef) -> set[str]:
    """Names in a class body that read the same through the class as through an instance."""
    safe: set[str] = set()
    for stmt in cls.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    safe |= {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value:
                    safe.add(small.target.value)
        elif isinstance(stmt, cst.FunctionDef):
            names = {pc.get_full_name_for_node(d.decorator) for d in stmt.decorators}
            if names & {"classmethod", "staticmethod"}:
                safe.add(stmt.name.value)
    return safe


class FileRewriter(cst.CSTTransformer):
    """Rewrites one Python file for pytest 9."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, recipe: PytestRecipe, path: str, wrapper: MetadataWrapper) -> None:
        super().__init__()
        self.recipe, self.path, self.wrapper = recipe, path, wrapper
        self.findings: list[Finding] = []
        self.imports = pc.ImportMap(cst.Module([]))
        self.need_pathlib = False
        self.classes: list[cst.ClassDef] = []
        self.depth = 0
        self.hook_params: set[str] = set()  # renamed pathlib hook arguments in the current hook
        self.test_module = pc.is_test_module(path)

    def _line(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return 0

    def _find(self, node: cst.CSTNode | int, rule: str, message: str = "") -> None:
        line = node if isinstance(node, int) else self._line(node)
        self.findings.append(self.recipe.finding(self.path, line, rule, message))

    def visit_Module(self, node: cst.Module) -> None:
        self.imports = pc.ImportMap(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.classes.pop()
        return updated

    # -- imports: `from pytest import yield_fixture` --

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        module = pc.get_full_name_for_node(updated.module) if updated.module else None
        if module != "pytest":
            return updated
        if isinstance(updated.names, cst.ImportStar):
            return updated
        names = list(updated.names)
        has_fixture = any(
            a.name.value == "fixture" and a.asname is None for a in names if isinstance(a.name, cst.Name)
        )
        out = []
        for a in names:
            if isinstance(a.name, cst.Name) and a.name.value == "yield_fixture":
                if a.asname is None and has_fixture:
                    continue
                a = a.with_changes(name=cst.Name("fixture"))
            out.append(a)
        if out and out != names:
            out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(names=out)
        return updated

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if (
            updated.value == "yield_fixture"
            and self.imports.names.get("yield_fixture") == "pytest.yield_fixture"
        ):
            parent = self.get_metadata(ParentNodeProvider, original, None)
            if not isinstance(parent, (cst.ImportAlias, cst.Attribute)):
                return updated.with_changes(value="fixture")
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        q = self.imports.qualname(original)
        if q == "pytest.yield_fixture":
            return updated.with_changes(attr=cst.Name("fixture"))
        if q == "pytest.PytestRemovedIn9Warning":
            parent = self.get_metadata(ParentNodeProvider, original, None)
            if not isinstance(parent, cst.Attribute):
                self._find(original, "removed-in-9-warning-code")
        if q == "pytest.console_main":
            self._find(original, "deprecated-9-1")
        if updated.attr.value == "inicfg" and isinstance(updated.value, (cst.Name, cst.Attribute)):
            target = pc.get_full_name_for_node(updated.value) or ""
            if target.split(".")[-1] in ("config", "pytestconfig", "_config"):
                self._find(original, "deprecated-9-1")
        return updated

    # -- calls --

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        q = self.imports.qualname(updated.func) or ""
        func_name = pc.get_full_name_for_node(updated.func) or ""
        if q == "pytest.mark.parametrize" or (
            func_name.endswith(".parametrize") and func_name.split(".")[0] == "metafunc"
        ):
            return self._parametrize(original, updated)
        if q == "pytest.importorskip" and pc.kwarg(updated, "exc_type") is None:
            self._find(original, "importorskip-exc-type")
        if func_name.endswith(".from_parent") and pc.kwarg(updated, "fspath") is not None:
            if pc.kwarg(updated, "path") is not None:
                self._find(
                    original, "from-parent-fspath", "from_parent gets both fspath= and path=; keep only path="
                )
                return updated
            args = []
            for a in updated.args:
                if a.keyword is not None and a.keyword.value == "fspath":
                    value = a.value
                    if not (isinstance(value, cst.Name) and value.value in self.hook_params):
                        self.need_pathlib = True
                        value = cst.Call(
                            cst.Attribute(cst.Name("pathlib"), cst.Name("Path")), [cst.Arg(value)]
                        )
                    a = a.with_changes(keyword=cst.Name("path"), value=value)
                args.append(a)
            return updated.with_changes(args=args)
        return updated

    def _parametrize(self, original: cst.Call, call: cst.Call) -> cst.Call:
        args = list(call.args)
        if any(a.star for a in args):
            positional = [a for a in args if a.keyword is None]
            if len(positional) > 2 or any(a.star == "*" for a in args):
                self._find(
                    original,
                    "parametrize-keywords",
                    "parametrize gets *args; pass indirect/ids/scope "
                    "as keywords (keyword-only from pytest 9.2)",
                )
            return call
        positional = [i for i, a in enumerate(args) if a.keyword is None]
        if len(positional) >= 2:
            values = args[positional[1]].value
            if isinstance(values, cst.GeneratorExp):
                args[positional[1]] = args[positional[1]].with_changes(
                    value=cst.ListComp(
                        values.elt,
                        values.for_in,
                        lbracket=cst.LeftSquareBracket(),
                        rbracket=cst.RightSquareBracket(),
                    )
                )
        for n, i in enumerate(positional[2:5]):
            name = PARAMETRIZE_KW[n]
            if pc.kwarg(call, name) is not None:
                self._find(original, "parametrize-keywords", f"parametrize gets {name} twice")
                return call
            args[i] = args[i].with_changes(
                keyword=cst.Name(name),
                equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
                ),
            )
        return call.with_changes(args=args)

    # -- functions --

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1
        if self.depth == 1 and node.name.value in HOOK_ARGS:
            old, _ = HOOK_ARGS[node.name.value]
            if old in [p.name.value for p in node.params.params]:
                uses = _Uses(old, self.imports)
                MetadataWrapper(cst.Module(body=_body(node))).visit(uses)
                if not uses.bad:
                    self.hook_params.add(old)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        if self.depth:
            return updated
        name = updated.name.value
        if name in HOOK_ARGS:
            updated = self._hook(original, updated)
            self.hook_params.clear()
        fix = pc.fixture_decorator(updated, self.imports)
        if fix is not None:
            return self._fixture(original, updated, fix)
        in_test_class = not self.classes or self.classes[-1].name.value.startswith("Test")
        if self.test_module and name.startswith("test") and in_test_class and _yields(updated):
            self._find(original, "yield-test")
        return updated

    def _hook(self, original: cst.FunctionDef, fn: cst.FunctionDef) -> cst.FunctionDef:
        old, new = HOOK_ARGS[fn.name.value]
        params = list(fn.params.params)
        names = [p.name.value for p in params]
        if old not in names:
            return fn
        uses = _Uses(old, self.imports)
        MetadataWrapper(cst.Module(body=_body(fn)), unsafe_skip_copy=True).visit(uses)
        bad = uses.bad
        if bad:
            self._find(
                original,
                "hook-path-args-human",
                f"{fn.name.value}({old}): pytest 9.1 removes the py.path argument `{old}`; use `{new}` "
                f"(pathlib.Path) — not rewritten because of {', '.join(sorted(set(bad)))}",
            )
            return fn
        if new in names:
            fn = pc.drop_param(fn, old)
        else:
            params = [p.with_changes(name=cst.Name(new)) if p.name.value == old else p for p in params]
            fn = fn.with_changes(params=fn.params.with_changes(params=params))
        return fn.with_changes(body=fn.body.visit(_Rename(old, new)))

    def _fixture(
        self, original: cst.FunctionDef, fn: cst.FunctionDef, fix: tuple[int, str, cst.Call | None]
    ) -> cst.FunctionDef:
        idx, _, call = fix
        kept = pc.without_decorator(fn, self.imports, "pytest.mark.asyncio")
        for d in kept.decorators:
            q = self.imports.qualname(pc.callee(d)[0]) or ""
            if q.startswith("pytest.mark."):
                self._find(
                    original,
                    "mark-on-fixture-human",
                    f"@{q} on fixture {fn.name.value}: marks cannot be applied to fixtures (pytest 9); "
                    + (
                        "move the dependency into the fixture's parameters"
                        if q.endswith("usefixtures")
                        else "move the mark to the tests that need it"
                    ),
                )
        if kept is not fn:
            fn = kept
            fix = pc.fixture_decorator(fn, self.imports)
            assert fix is not None
            idx, _, call = fix
        decs = list(fn.decorators)
        if not self.classes:
            return fn
        scope = pc.kwarg_string(call, "scope")
        if scope not in WIDE:
            return fn
        params = fn.params.params
        if not params or params[0].name.value != "self":
            cm = [i for i, d in enumerate(decs) if pc.get_full_name_for_node(d.decorator) == "classmethod"]
            if cm and cm[0] < idx:  # pytest 9.2 warns when @classmethod sits above the fixture decorator
                moved = decs.pop(cm[0])
                decs.insert(idx, moved)
                return fn.with_changes(decorators=decs)
            return fn
        names = {pc.get_full_name_for_node(d.decorator) for d in decs}
        if names & {"staticmethod", "property"}:
            return fn
        uses = _SelfUses()
        MetadataWrapper(cst.Module(body=_body(fn)), unsafe_skip_copy=True).visit(uses)
        safe = _class_safe_attrs(self.classes[-1])
        if uses.other or not uses.attrs <= safe:
            self._find(
                original,
                "fixture-instance-method-human",
                f"{scope}-scoped fixture {fn.name.value} is an instance method (deprecated from pytest 9.1/9.2) "
                "and uses self beyond class attributes; make it a @classmethod below the fixture decorator, "
                "or move it out of the class",
            )
            return fn
        decs.insert(idx + 1, cst.Decorator(cst.Name("classmethod")))
        new_params = [params[0].with_changes(name=cst.Name("cls")), *params[1:]]
        body = fn.body.visit(_Rename("self", "cls")) if uses.attrs else fn.body
        return fn.with_changes(decorators=decs, params=fn.params.with_changes(params=new_params), body=body)


def _body(fn: cst.FunctionDef) -> list[cst.BaseStatement]:
    if isinstance(fn.body, cst.IndentedBlock):
        return list(fn.body.body)
    return [cst.SimpleStatementLine(list(fn.body.body))]


class _Yield(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True


def _yields(fn: cst.FunctionDef) -> bool:
    v = _Yield()
    fn.body.visit(v)
    return v.found


# ---- config -------------------------------------------------------------------------------------

_STRICT = re.compile(r"(?<!\S)--strict(?![\w-])")
_W9 = re.compile(r"(?<!\S)(?:-W\s*|--pythonwarnings[=\s]+)\S*PytestRemovedIn9Warning\S*")
_PY_OLD = re.compile(r"\bpy(?:3)?(2\d?|3[0-9](?!\d))\b")
_CLASSIFIER_OLD = re.compile(r"Programming Language :: Python :: (2(?:\.\d+)?|3\.[0-9])\s*$")


def _old_python_spec(spec: str) -> bool:
    try:
        s = SpecifierSet(spec.strip().strip("'\""))
    except InvalidSpecifier:
        return False
    return any(s.contains(v) for v in ("2.7", "3.6", "3.7", "3.8", "3.9"))


class PytestRecipe(Recipe):
    """pytest 8.x -> 9.x."""

    id = "pytest"
    title = "pytest 8 -> 9"
    package = "pytest"
    migrates_from = "<9"
    migrates_to = ">=9.0.2,<10"
    known_versions = PYTEST_VERSIONS
    tokens = (
        b"pytest_", b"from_parent", b"importorskip", b"PytestRemovedIn9Warning", b"yield_fixture", b"parametrize",
        b"fixture", b"inicfg", b"console_main", b"def test",
    )  # fmt: skip
    config_tokens = (b"pytest", b"python", b"envlist", b"Python")
    rules = RULES
    requires: ClassVar[Mapping[str, str]] = {"pytest-asyncio": ">=1.3.0"}
    order = 20
    docs = f"{CHANGELOG} {DEPRECATIONS}"

    def pin_changes(self, ctx: RewriteContext, pinned: Mapping[str, str]) -> list[PinChange]:
        """pytest moves to the target; a pinned pytest-asyncio moves to >=1.3.0 when its pin excludes it."""
        if self.package not in pinned:
            return []
        target = ctx.targets.get(self.package, self.migrates_to)
        out = [PinChange(self.package, self.package, target, reason=f"{self.id}: target {target}")]
        pa = "pytest-asyncio"
        if pa in pinned and excludes(pinned[pa], "1.3.0", PA_VERSIONS):
            want = ctx.targets.get(pa, ">=1.3.0")
            out.append(PinChange(pa, pa, want, reason=f"{self.id}: pytest 9 needs pytest-asyncio>=1.3.0"))
        return out

    # -- detection --

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        imports = Imports(src.tree)
        for node in ast.walk(src.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.name in HOOK_ARGS and HOOK_ARGS[node.name][0] in {a.arg for a in node.args.args}:
                    yield self.site(src, node, "hook-path-args", f"{node.name}({HOOK_ARGS[node.name][0]})")
                fixture = pc.ast_fixture_call(node, imports)
                if fixture is not None:
                    for func, _ in decorator_calls(node):
                        q = imports.qualname(func) or ""
                        if q == "pytest.mark.asyncio":
                            yield self.site(src, node, "mark-on-fixture")
                        elif q.startswith("pytest.mark."):
                            yield self.site(
                                src, node, "mark-on-fixture-human", f"@{q} on fixture {node.name}"
                            )
                    scope_kw = keyword(fixture, "scope") if isinstance(fixture, ast.Call) else None
                    args = node.args.args
                    if (
                        scope_kw is not None
                        and isinstance(scope_kw.value, ast.Constant)
                        and scope_kw.value.value in WIDE
                        and args
                        and args[0].arg == "self"
                    ):
                        yield self.site(
                            src, node, "fixture-instance-method", f"{scope_kw.value.value}-scoped {node.name}"
                        )
            elif isinstance(node, ast.Call):
                q = imports.qualname(node.func) or ""
                if q == "pytest.mark.parametrize" or (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "parametrize"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "metafunc"
                ):
                    if len(node.args) > 2:
                        yield self.site(src, node, "parametrize-keywords")
                    if len(node.args) > 1 and isinstance(node.args[1], ast.GeneratorExp):
                        yield self.site(src, node, "parametrize-generator")
                elif q == "pytest.importorskip" and keyword(node, "exc_type") is None:
                    yield self.site(src, node, "importorskip-exc-type")
                elif (
                    isinstance(node.func, ast.Attribute)
                    and node.func.attr == "from_parent"
                    and keyword(node, "fspath")
                ):
                    yield self.site(src, node, "from-parent-fspath")
            elif isinstance(node, ast.Attribute):
                q = imports.qualname(node) or ""
                if q == "pytest.yield_fixture":
                    yield self.site(src, node, "yield-fixture")
                elif q == "pytest.PytestRemovedIn9Warning":
                    yield self.site(src, node, "removed-in-9-warning-code")
                elif q == "pytest.console_main":
                    yield self.site(src, node, "deprecated-9-1")
            elif isinstance(node, ast.ImportFrom) and node.module == "pytest":
                if any(a.name == "yield_fixture" for a in node.names):
                    yield self.site(src, node, "yield-fixture")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "PytestRemovedIn9Warning" in node.value
            ):
                yield self.site(src, node, "removed-in-9-warning")

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        for line, rule, detail in self._config_issues(cfg.path, cfg.text):
            yield self.site(cfg, line, rule, detail)

    def _config_issues(self, path: str, text: str) -> Iterable[tuple[int, str, str]]:
        conf = pc.read(path, text)
        if conf is not None:
            for entry in conf.lines("filterwarnings"):
                if "PytestRemovedIn9Warning" in entry:
                    yield pc.line_of(text, entry), "removed-in-9-warning", f"filterwarnings {entry}"
            args = conf.args()
            if "--strict" in args:
                yield pc.line_of(text, "--strict"), "strict-flag", "--strict in addopts"
            if any("PytestRemovedIn9Warning" in a for a in args):
                yield pc.line_of(text, "PytestRemovedIn9Warning"), "removed-in-9-warning", "-W in addopts"
            if any(a.startswith("--pastebin") for a in args):
                yield pc.line_of(text, "--pastebin"), "deprecated-9-1", "--pastebin in addopts"
        kind = config_kind(path)
        if kind == "pyproject.toml":
            found = pc.sections(path, text)
            if "tool.pytest" in found and "tool.pytest.ini_options" in found:
                yield pc.line_of(text, "[tool.pytest"), "toml-tables", "both pytest tables"
            try:
                doc = tomlkit.parse(text).unwrap()
            except Exception:
                doc = {}
            project = doc.get("project", {}) if isinstance(doc, dict) else {}
            rp = project.get("requires-python") if isinstance(project, dict) else None
            if isinstance(rp, str) and _old_python_spec(rp):
                yield pc.line_of(text, "requires-python"), "python-version", f"requires-python {rp}"
            for c in project.get("classifiers", []) if isinstance(project, dict) else []:
                if isinstance(c, str) and _CLASSIFIER_OLD.search(c):
                    yield pc.line_of(text, c), "python-version", c
        elif kind in ("setup.cfg", "tox.ini"):
            for n, section, line in pc.ini_lines(text):
                key = line.split("=", 1)[0].strip() if "=" in line else ""
                if (
                    kind == "setup.cfg"
                    and key == "python_requires"
                    and _old_python_spec(line.split("=", 1)[1])
                ):
                    yield n, "python-version", line
                elif _CLASSIFIER_OLD.search(line):
                    yield n, "python-version", line
                elif (
                    kind == "tox.ini"
                    and section == "tox"
                    and (key == "envlist" or not key)
                    and _PY_OLD.search(line)
                ):
                    yield n, "python-version", line
                elif (
                    kind == "tox.ini"
                    and section.startswith("testenv")
                    and "pytest" in line
                    and _STRICT.search(line)
                ):
                    yield n, "strict-flag", line

    # -- rewriting --

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        out = ServiceRewrite()
        root = ctx.service.path
        for path, text in ctx.files.items():
            if path.endswith(".py"):
                if not any(t.decode() in text for t in self.tokens):
                    continue
                new, findings = self.rewrite_file(path, text)
            elif config_kind(path) is not None:
                new, findings = self.rewrite_config_text(path, text)
            else:
                continue
            if new != text:
                out.texts[path] = new
            out.findings.extend(findings)
        files = {**ctx.files, **out.texts}
        found = pc.candidates(files, root)
        if found:
            act = found[0]
            for other in found[1:]:
                if other.path.rsplit("/", 1)[0] == act.path.rsplit("/", 1)[0] and other.values:
                    out.findings.append(
                        self.finding(
                            other.path,
                            0,
                            "inactive-config",
                            f"pytest reads only {act.path}; the settings in {other.path} are ignored (pytest 9 says "
                            "'ignoring pytest config'): merge them into the active file",
                            Severity.ADVICE,
                        )
                    )
            if any(a == "--doctest-modules" for a in act.args()):
                out.findings.extend(self._doctest_autouse(files))
        return out

    def rewrite_file(self, path: str, text: str) -> tuple[str, list[Finding]]:
        """Rewrite one Python file; returns the new text and findings."""
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            return text, [
                self.finding(
                    path, 0, "hook-path-args", f"not parsed ({exc}); nothing rewritten", Severity.ERROR
                )
            ]
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        rw = FileRewriter(self, path, wrapper)
        new = wrapper.visit(rw)
        new = _drop_removed_in_9_marks(new, rw.imports)
        reported = {f.line for f in rw.findings if f.rule == "pytest/removed-in-9-warning-code"}
        for n, line in enumerate(new.code.splitlines(), 1):
            if "PytestRemovedIn9Warning" in line and n not in reported and not line.lstrip().startswith("#"):
                rw.findings.append(self.finding(path, n, "removed-in-9-warning-code"))
        if rw.need_pathlib:
            cctx = CodemodContext()
            AddImportsVisitor.add_needed_import(cctx, "pathlib")
            new = AddImportsVisitor(cctx).transform_module(new)
        return new.code, rw.findings

    def rewrite_config_text(self, path: str, text: str) -> tuple[str, list[Finding]]:
        """Rewrite one config file: PytestRemovedIn9Warning filters, --strict; findings for the rest."""
        findings: list[Finding] = []
        new = text
        conf = pc.read(path, text)
        if conf is not None:
            new = pc.filter_lines(conf, new, "filterwarnings", lambda e: "PytestRemovedIn9Warning" in e)
            new = pc.sub_args(conf, new, "addopts", _W9, "")
            new = pc.sub_args(conf, new, "addopts", _STRICT, "--strict-markers")
            if conf.native and isinstance(conf.get("addopts"), str):
                findings.append(
                    self.finding(
                        path,
                        pc.line_of(text, "addopts"),
                        "toml-tables",
                        "the native pytest TOML table is typed: addopts must be a list of "
                        "strings (TypeError otherwise)",
                    )
                )
        if config_kind(path) == "tox.ini":
            lines = new.splitlines(keepends=True)
            for i, (_, section, line) in enumerate(pc.ini_lines(new)):
                if section.startswith("testenv") and "pytest" in line and _STRICT.search(line):
                    lines[i] = _STRICT.sub("--strict-markers", lines[i])
            new = "".join(lines)
        for line, rule, detail in self._config_issues(path, new):
            if rule in (
                "python-version",
                "toml-tables",
                "deprecated-9-1",
                "removed-in-9-warning",
                "strict-flag",
            ):
                msg = self.rule(rule).fix
                findings.append(
                    self.finding(path, line, rule, f"{detail}: {msg}" if rule == "python-version" else msg)
                )
        return new, findings

    def _doctest_autouse(self, files: Mapping[str, str]) -> list[Finding]:
        out = []
        for path, text in files.items():
            if not pc.is_test_module(path) or "autouse" not in text:
                continue
            try:
                tree = ast.parse(text)
            except SyntaxError:
                continue
            imports = Imports(tree)
            for node in tree.body:
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                call = pc.ast_fixture_call(node, imports)
                if not isinstance(call, ast.Call):
                    continue
                auto = keyword(call, "autouse")
                scope = keyword(call, "scope")
                if (
                    auto is not None
                    and isinstance(auto.value, ast.Constant)
                    and auto.value.value is True
                    and scope is not None
                    and isinstance(scope.value, ast.Constant)
                    and scope.value.value in ("module", "package", "session")
                ):
                    out.append(self.finding(path, node.lineno, "doctest-autouse", severity=Severity.ADVICE))
        return out


def _removed_in_9(expr: cst.BaseExpression, imports: pc.ImportMap) -> bool:
    """`pytest.mark.filterwarnings("...PytestRemovedIn9Warning...")` with that single filter."""
    func, call = pc.callee(expr)
    if imports.qualname(func) != "pytest.mark.filterwarnings" or call is None or len(call.args) != 1:
        return False
    value = pc.string_value(call.args[0].value)
    return value is not None and "PytestRemovedIn9Warning" in value


class _DropMarks(cst.CSTTransformer):
    def __init__(self, imports: pc.ImportMap) -> None:
        self.imports = imports

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        decs = [d for d in updated.decorators if not _removed_in_9(d.decorator, self.imports)]
        return updated.with_changes(decorators=decs) if len(decs) != len(updated.decorators) else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        decs = [d for d in updated.decorators if not _removed_in_9(d.decorator, self.imports)]
        return updated.with_changes(decorators=decs) if len(decs) != len(updated.decorators) else updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign | cst.RemovalSentinel:
        if not pc.is_pytestmark(updated):
            return updated
        v = updated.value
        if isinstance(v, (cst.List, cst.Tuple)):
            elems = [e for e in v.elements if not _removed_in_9(e.value, self.imports)]
            if len(elems) == len(v.elements):
                return updated
            if elems and not isinstance(v.elements[-1].comma, cst.Comma):
                elems[-1] = elems[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(value=v.with_changes(elements=elems))
        if _removed_in_9(v, self.imports):
            return cst.RemoveFromParent()
        return updated


def _drop_removed_in_9_marks(module: cst.Module, imports: pc.ImportMap) -> cst.Module:
    if "PytestRemovedIn9Warning" not in module.code:
        return module
    return module.visit(_DropMarks(imports))


RECIPE = PytestRecipe()
