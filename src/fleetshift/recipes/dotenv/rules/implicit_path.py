"""argument-less load_dotenv()/dotenv_values()/find_dotenv() search from the cwd under a tracer

pass an explicit path (opt-in rewrite: load_dotenv(Path(__file__).resolve().parent / ".env")), or
find_dotenv(usecwd=True)
"""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports, keyword
from fleetshift.recipes.dotenv.rules import PR
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="1.1.0", link=f"{PR}553", order=2)

CALLS = {
    "dotenv.load_dotenv": "load_dotenv",
    "dotenv.main.load_dotenv": "load_dotenv",
    "dotenv.dotenv_values": "dotenv_values",
    "dotenv.main.dotenv_values": "dotenv_values",
    "dotenv.find_dotenv": "find_dotenv",
    "dotenv.main.find_dotenv": "find_dotenv",
}
MESSAGE = (
    "argument-less {call}() resolves differently under coverage/debuggers since python-dotenv 1.1.0: whenever "
    "sys.gettrace() is set (pytest-cov, coverage run, a debugger) it searches from os.getcwd() instead of this "
    'file\'s folder. Pass a path: {call}(Path(__file__).resolve().parent / ".env"), or '
    "find_dotenv(usecwd=True) when the working directory is meant."
)


MATCHES = (ast.Call,)  # the only nodes `match` reports (see `DotenvRecipe` `_sites`)


def match(node: ast.AST, imports: Imports) -> str | None:
    """A load_dotenv()/dotenv_values()/find_dotenv() call that leaves the search start to python-dotenv."""
    if not isinstance(node, ast.Call):
        return None
    func = CALLS.get(imports.qualname(node.func) or "")
    return MESSAGE.format(call=func) if func and _implicit(node, func) else None


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


def anchor(text: str, tree: ast.Module, up: int) -> str:
    """Give argument-less load_dotenv()/dotenv_values() calls the path the pre-1.1 search would start from."""
    import libcst as cst  # the rewrite is opt-in; detection stays on `ast`
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    imports = Imports(tree)
    targets = {
        (n.lineno, n.col_offset)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and (q := imports.qualname(n.func)) in CALLS
        and CALLS[q] != "find_dotenv"
        and _implicit(n, CALLS[q])
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
