"""Python string literals <-> text with f-string placeholder sentinels (see `flux.hole`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from fleetshift import astparse
from fleetshift.recipes.influxdb.flux import HOLE_RE, hole


@dataclass(frozen=True)
class Template:
    """The text of a string expression, with `{...}` placeholders replaced by sentinels."""

    text: str
    holes: tuple[str, ...]  # source of each placeholder's inside, e.g. "bucket" or "n!r:>3"

    def render(self, text: str | None = None) -> str:
        """Python source of a (possibly f-) string literal for `text` (default: the template's own)."""
        return python_literal(self.text if text is None else text, self.holes)

    def expression(self, text: str) -> str:
        """Python source of an expression for `text`: the placeholder itself when text is exactly one."""
        m = HOLE_RE.fullmatch(text)
        if m:
            inner = self.holes[int(m.group(1))]
            try:
                astparse.parse(inner, mode="eval")
                return inner
            except SyntaxError:
                pass
        return self.render(text)


def _prefix_quote(node: cst.SimpleString | cst.FormattedString) -> tuple[str, str]:
    raw = node.value if isinstance(node, cst.SimpleString) else node.start
    prefix = ""
    for ch in raw:
        if ch in "'\"":
            break
        prefix += ch
    rest = raw[len(prefix) :]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    return prefix.lower(), quote


def template_of(node: cst.BaseExpression) -> Template | None:
    """The template of a literal string expression (plain, f-string, implicit concatenation), or None."""
    parts: list[str] = []
    holes: list[str] = []

    def add(n: cst.BaseExpression) -> bool:
        if isinstance(n, cst.SimpleString):
            if "b" in _prefix_quote(n)[0]:
                return False
            parts.append(n.evaluated_value)  # type: ignore[arg-type]
            return True
        if isinstance(n, cst.ConcatenatedString):
            return add(n.left) and add(n.right)
        if isinstance(n, cst.FormattedString):
            prefix, quote = _prefix_quote(n)
            raw = "r" in prefix
            for p in n.parts:
                if isinstance(p, cst.FormattedStringText):
                    text = p.value.replace("{{", "{").replace("}}", "}")
                    if not raw:
                        try:
                            text = ast.literal_eval(quote + text + quote) if quote else text
                        except (SyntaxError, ValueError):
                            return False
                    parts.append(text)
                else:
                    code = cst.Module([]).code_for_node(p.expression)
                    if p.conversion:
                        code += "!" + p.conversion
                    if p.format_spec is not None:
                        spec = "".join(cst.Module([]).code_for_node(s) for s in p.format_spec)
                        code += ":" + spec
                    parts.append(hole(len(holes)))
                    holes.append(code)
            return True
        return False

    if not add(node):
        return None
    return Template("".join(parts), tuple(holes))


def python_literal(text: str, holes: tuple[str, ...] = ()) -> str:
    """Source of a Python string literal for `text`; an f-string when it carries placeholders."""
    used = [int(m.group(1)) for m in HOLE_RE.finditer(text)]
    is_f = bool(used)
    codes = "".join(holes[i] for i in used)
    for quote in ('"', "'", '"""', "'''"):
        body = text
        if quote in text or (len(quote) == 3 and body.endswith(quote[0])) or quote[0] in codes:
            continue
        body = body.replace("\\", "\\\\")
        if len(quote) == 1:
            body = body.replace("\n", "\\n")
        if is_f:
            body = body.replace("{", "{{").replace("}", "}}")
            body = HOLE_RE.sub(lambda m: "{" + holes[int(m.group(1))] + "}", body)
        return ("f" if is_f else "") + quote + body + quote
    if is_f:
        raise ValueError("no quote style fits this f-string")
    return repr(text)
