"""generator or other one-shot iterator as parametrize argvalues

pytest 9.1 warns PytestRemovedIn10Warning at collection (a collection error where warnings are errors): a
generator expression becomes a list comprehension; a call to a helper that yields or is annotated
Iterator/Generator/Iterable (in this module or the service's own modules), to map/filter/zip or itertools,
and a module-level variable holding one, are wrapped in list(...)
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from fleetshift import astparse
from fleetshift.recipes._ast import dotted, keyword
from fleetshift.recipes.pytest9.facts import Facts, RuleFix, Site, yields
from fleetshift.recipes.pytest9.needs import ArgumentsNeed
from fleetshift.recipes.pytest9.rules import DEPRECATIONS
from fleetshift.recipes.rule import AUTO, rule, target_admits

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="9.1", link=DEPRECATIONS, condition=target_admits("9.1"), order=13)
# a call whose argvalues are a generator expression, a call or a name (see `check`)
NEEDS = ((ArgumentsNeed(lambda a: a.values() is not None and not a.values_display()),),)

# callables that always return a one-shot iterator
BUILTINS = frozenset({"map", "filter", "zip", "reversed", "iter", "enumerate"})
ITERTOOLS = frozenset({
    "accumulate", "batched", "chain", "chain.from_iterable", "combinations", "combinations_with_replacement",
    "compress", "dropwhile", "filterfalse", "groupby", "islice", "pairwise", "permutations", "product", "starmap",
    "takewhile", "zip_longest",
})  # fmt: skip
ITERATOR_TYPES = frozenset({"Iterator", "Generator", "Iterable"})


@dataclass(frozen=True)
class OneShot:
    """Names, as one module writes them, that give a one-shot iterator: when called, or when read."""

    calls: frozenset[str]
    names: frozenset[str]


def check(facts: Facts) -> Iterator[Site]:
    """`parametrize` argvalues that are a generator expression, a call giving a one-shot iterator, or a
    module-level variable holding one."""
    one_shot: OneShot | None = None
    for node in facts.parametrize_calls:
        values = argvalues(node)
        if isinstance(values, ast.GeneratorExp):
            yield node, ""
        elif isinstance(values, (ast.Call, ast.Name)):
            one_shot = one_shot or one_shot_names(facts)
            if isinstance(values, ast.Call) and (name := dotted(values.func)) in one_shot.calls:
                yield node, f"argvalues {name}(...) is a one-shot iterator: wrapped in list(...)"
            elif isinstance(values, ast.Name) and values.id in one_shot.names:
                yield node, f"argvalues {values.id} holds a one-shot iterator: wrapped in list(...)"


def argvalues(call: ast.Call) -> ast.expr | None:
    """The argvalues given to a `parametrize` call (None when the call has *args/**kwargs: the fix leaves it)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    if len(call.args) > 1:
        return call.args[1]
    kw = keyword(call, "argvalues")
    return kw.value if kw is not None else None


class Fix(RuleFix):
    """Argvalues that give a one-shot iterator become a list: a generator expression a list comprehension,
    a call or a variable `list(...)`."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.one_shot: OneShot | None = None  # worked out on the first parametrize call that needs it

    def leave_Call(self, original: cst.Call, call: cst.Call) -> cst.Call:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs
        from fleetshift.recipes.pytest9.syntax import is_parametrize

        if not is_parametrize(call, self.imports) or any(a.star for a in call.args):
            return call
        positional = [i for i, a in enumerate(call.args) if a.keyword is None]
        named = [
            i for i, a in enumerate(call.args) if a.keyword is not None and a.keyword.value == "argvalues"
        ]
        at = positional[1] if len(positional) > 1 else (named[0] if named else None)
        if at is None:
            return call
        values = call.args[at].value
        if isinstance(values, cst.GeneratorExp):
            new: cst.BaseExpression = cst.ListComp(
                values.elt, values.for_in, lbracket=cst.LeftSquareBracket(), rbracket=cst.RightSquareBracket()
            )
        elif isinstance(values, (cst.Call, cst.Name)):
            self.one_shot = self.one_shot or one_shot_names(self.facts)
            if isinstance(values, cst.Call):
                hit = pcs.get_full_name_for_node(values.func) in self.one_shot.calls
            else:
                hit = values.value in self.one_shot.names
            if not hit:
                return call
            new = cst.Call(cst.Name("list"), [cst.Arg(values)])
        else:
            return call
        args = list(call.args)
        args[at] = args[at].with_changes(value=new)
        return call.with_changes(args=args)


# ---- which names give a one-shot iterator ---------------------------------------------------------------


def one_shot_names(facts: Facts) -> OneShot:
    """The names of one module that give a one-shot iterator: its own generator functions and variables,
    those it imports from the service's own modules (`facts.files`; none during a scan of one file),
    map/filter/zip and the like (unless rebound), and itertools."""
    calls: set[str] = set(generator_functions(facts.tree.body))
    names: set[str] = set()
    bound: set[str] = set()
    for node in facts.of(ast.Import):
        for alias in node.names:
            written = alias.asname or alias.name
            bound.add(written.split(".")[0])
            if alias.name == "itertools":
                calls |= {f"{written}.{f}" for f in ITERTOOLS}
            for path in module_paths(facts, alias.name, 0):
                funcs, values = exported(facts.files[path])
                calls |= {f"{written}.{f}" for f in funcs}
                names |= {f"{written}.{v}" for v in values}
    for node in facts.of(ast.ImportFrom):
        for alias in node.names:
            written = alias.asname or alias.name
            bound.add(written)
            if node.module == "itertools" and not node.level and alias.name in ITERTOOLS:
                calls.add(written)
            for path in module_paths(facts, node.module or "", node.level):
                funcs, values = exported(facts.files[path])
                if alias.name in funcs:
                    calls.add(written)
                if alias.name in values:
                    names.add(written)
            sub = f"{node.module}.{alias.name}" if node.module else alias.name
            for path in module_paths(facts, sub, node.level):  # `from tests import helpers`: a module
                funcs, values = exported(facts.files[path])
                calls |= {f"{written}.{f}" for f in funcs}
                names |= {f"{written}.{v}" for v in values}
    bound |= {
        n.name
        for n in facts.tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    calls |= BUILTINS - bound
    names |= generator_variables(facts.tree.body, calls)
    return OneShot(frozenset(calls), frozenset(names))


def generator_functions(body: Iterable[ast.stmt]) -> Iterator[str]:
    """Module-level functions that yield, or whose return annotation is Iterator/Generator/Iterable."""
    for node in body:
        if isinstance(node, ast.FunctionDef) and (yields(node) or iterator_annotation(node.returns)):
            yield node.name


def iterator_annotation(annotation: ast.expr | None) -> bool:
    """`Iterator[...]`, `Generator[...]`, `Iterable[...]` (bare, dotted or quoted)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = astparse.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    return annotation is not None and (dotted(annotation) or "").rsplit(".", 1)[-1] in ITERATOR_TYPES


def generator_variables(body: Iterable[ast.stmt], calls: set[str] | frozenset[str]) -> set[str]:
    """Module-level variables assigned a generator expression or a call in `calls`."""
    found = set()
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and (
            isinstance(value, ast.GeneratorExp)
            or (isinstance(value, ast.Call) and dotted(value.func) in calls)
        ):
            found.add(target.id)
    return found


@lru_cache(maxsize=256)
def exported(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The generator functions and generator variables another module defines at its top level."""
    try:
        body = astparse.parse(text).body
    except SyntaxError:
        return frozenset(), frozenset()
    funcs = frozenset(generator_functions(body))
    return funcs, frozenset(generator_variables(body, funcs | BUILTINS))


def module_paths(facts: Facts, module: str, level: int) -> list[str]:
    """The service's files that an import of `module` (relative at `level`) from `facts.path` may load."""
    if not facts.files or (not module and not level):
        return []
    rel = module.replace(".", "/")
    if level:
        base = posixpath.dirname(facts.path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, rel) if rel else base
        return [p for p in (f"{stem}.py", f"{stem}/__init__.py") if p in facts.files]
    ends = (f"/{rel}.py", f"/{rel}/__init__.py")
    return [p for p in facts.files if p.endswith(ends) or p in (f"{rel}.py", f"{rel}/__init__.py")]
