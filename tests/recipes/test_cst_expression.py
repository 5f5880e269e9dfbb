"""`_cst.expression`: the nodes `cst.parse_expression` gives, built without the parser for names and plain strings."""

from __future__ import annotations

import libcst as cst
import pytest

from fleetshift.recipes._cst import expression

CASES = ["client", "client.messages", "a.b.c", "match", "_", "x1", "print", '"b"', "'a b'", '""', "''", '"a\\"b"',
         "None", "True", "a.None", "a..b", ".a", "a.", "", "1", "a.1", "f(x)", '"""x"""', 'b"x"', 'f"{x}"', "é",
         "a .b", " a", "a\n", '"a" "b"', "lambda", '"tab\there"']


@pytest.mark.parametrize("code", CASES)
def test_expression_gives_what_the_parser_gives(code: str) -> None:
    try:
        want: cst.BaseExpression | None = cst.parse_expression(code)
    except cst.ParserSyntaxError:
        want = None
    if want is None:
        with pytest.raises(cst.ParserSyntaxError):
            expression(code)
        return
    got = expression(code)
    assert got.deep_equals(want) and repr(got) == repr(want)
    assert cst.Module([]).code_for_node(got) == cst.Module([]).code_for_node(want)


def test_each_expression_is_a_node_of_its_own() -> None:
    assert expression("client.messages") is not expression("client.messages")


@pytest.mark.parametrize("func,arg", [("m.topic.matches", '"sensors/+/temp"'), ("m.topic.matches", "TOPIC"),
                                      ("msg.topic.matches", "cfg.topic"), ("m.topic.matches", "f(x)"),
                                      ("m.topic.matches", "a, b"), ("m.topic.matches", "x for x in y"),
                                      ("m.topic.matches", ""), ("(m).topic.matches", '"a"'), ("f", "'a'")])
def test_call_gives_what_the_parser_gives(func: str, arg: str) -> None:
    from fleetshift.recipes._cst import call

    want = cst.parse_expression(f"{func}({arg})")
    got = call(func, arg)
    assert got.deep_equals(want) and repr(got) == repr(want)
