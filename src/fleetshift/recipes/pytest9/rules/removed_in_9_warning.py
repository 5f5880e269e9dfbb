"""PytestRemovedIn9Warning referenced

filters naming PytestRemovedIn9Warning are deleted: the class no longer exists in pytest 9.1 and a
config filter naming it stops pytest with exit code 4
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVar

from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.needs import Starting
from fleetshift.recipes.pytest9.facts import Facts, RuleFix, Site
from fleetshift.recipes.pytest_asyncio.gates import may_match
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes._cst import Imports

    Decorated = TypeVar("Decorated", cst.FunctionDef, cst.ClassDef)

RULE = rule(__name__, __doc__, AUTO, since="9.1", order=4)

NAME = "PytestRemovedIn9Warning"
W_OPTION = re.compile(r"(?<!\S)(?:-W\s*|--pythonwarnings[=\s]+)\S*PytestRemovedIn9Warning\S*")




def _prefixes(word: str) -> str:
    """A pattern matching any non-empty prefix of `word` (`P(?:y(?:t...)?)?`)."""
    return re.escape(word[0]) + (f"(?:{_prefixes(word[1:])})?" if len(word) > 1 else "")


# Where a string constant may name the warning: its text spells it out, or an escape or the end of a string
# literal (one of several written side by side, which Python joins) comes before the whole name is spelled
# out: after a part of it spelled out (`"Pytest" "RemovedIn9Warning"`, `"Pytest\x52emoved..."`, a
# backslash-newline), or as its first letter (`"\x50ytest..."`, `\120`, `\u0050`, `\U00000050`, `\N{...}`).
MAY_NAME = re.compile(
    NAME
    + "|" + _prefixes(NAME[:-1]) + r"""(?:\\|["'](?:\s|#[^\n]*|\\\r?\n)*[rRuUfFbB]{0,2}["'])"""
    + r"|\\(?:x50|120|u0050|U00000050|N\{)"
)
NEEDS = ((Starting(MAY_NAME, "P\\"),),)  # a string constant that may spell the name (each match starts with P or \\)


def check(facts: Facts) -> Iterator[Site]:
    """A string naming the warning (a filter)."""
    if not may_match(facts.text, MAY_NAME):
        return
    for node in facts.of(ast.Constant):
        if isinstance(node.value, str) and NAME in node.value:
            yield node, ""


def check_config(path: str, text: str) -> Iterator[tuple[int, str]]:
    """Filters and `-W` options naming the warning in a pytest config file."""
    conf = pc.read(path, text)
    if conf is None:
        return
    for entry in conf.lines("filterwarnings"):
        if NAME in entry:
            yield pc.line_of(text, entry), f"filterwarnings {entry}"
    if any(NAME in a for a in conf.args()):
        yield pc.line_of(text, NAME), "-W in addopts"


def fix_config(path: str, text: str) -> tuple[str, list[tuple[int, str]]]:
    """The config without the filters and `-W` options naming the warning."""
    conf = pc.read(path, text)
    if conf is None:
        return text, []
    text = pc.filter_lines(conf, text, "filterwarnings", lambda e: NAME in e)
    return pc.sub_args(conf, text, "addopts", W_OPTION, ""), []


class Fix(RuleFix):
    """Delete `pytest.mark.filterwarnings(...)` marks whose single filter names the warning (decorators and
    `pytestmark` entries)."""

    def undecorated(self, updated: Decorated) -> Decorated:
        decs = [d for d in updated.decorators if not removed_in_9(d.decorator, self.imports)]
        return updated.with_changes(decorators=decs) if len(decs) != len(updated.decorators) else updated

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return self.undecorated(updated)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return self.undecorated(updated)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign | cst.RemovalSentinel:
        import libcst as cst

        from fleetshift.recipes._pytest_config import syntax as pcs

        if not pcs.is_pytestmark(updated):
            return updated
        v = updated.value
        if isinstance(v, (cst.List, cst.Tuple)):
            elems = [e for e in v.elements if not removed_in_9(e.value, self.imports)]
            if len(elems) == len(v.elements):
                return updated
            if elems and not isinstance(v.elements[-1].comma, cst.Comma):
                elems[-1] = elems[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(value=v.with_changes(elements=elems))
        if removed_in_9(v, self.imports):
            return cst.RemoveFromParent()
        return updated


def removed_in_9(expr: cst.BaseExpression, imports: Imports) -> bool:
    """`pytest.mark.filterwarnings("...PytestRemovedIn9Warning...")` with that single filter."""
    from fleetshift.recipes._pytest_config import syntax as pcs

    func, call = pcs.callee(expr)
    if imports.qualname(func) != "pytest.mark.filterwarnings" or call is None or len(call.args) != 1:
        return False
    value = pcs.string_value(call.args[0].value)
    return value is not None and NAME in value
