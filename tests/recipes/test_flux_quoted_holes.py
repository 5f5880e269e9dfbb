"""The service's Flux bucket attributes are read only from modules whose literals may put a placeholder right after a
double quote (`flux.migrate.quoted_holes`), found by a lexer of the source's literals that agrees with Python's."""

from __future__ import annotations

import io
import tokenize

import pytest

import fleetshift.recipes.influxdb.facts as facts
from fleetshift.recipes.influxdb.flux.migrate import flux_bucket_attrs, quoted_holes, string_literals

TRICKY = (
    'x = \'a\' "b" f"c{d[\'e\']}" rb\'\\\'\' Rf"""g\n'
    'h\\\n'
    '{i}"""  # comment "not \'a\' literal\n'
    'y = u"\\"#" + fr\'\\\\\' + """\'\'""" + \'\'\'"""\'\'\' + xf"k"\n'
    'z = "é\\N{QUOTATION MARK}"  # a \'comment\' with "quotes"\n'
)


def test_string_literals_are_the_tokenizers() -> None:
    want = []
    for tok in tokenize.generate_tokens(io.StringIO(TRICKY).readline):
        if tok.type == tokenize.STRING:
            prefix = tok.string[: len(tok.string) - len(tok.string.lstrip("rRbBuUfF"))]
            quote = 3 if tok.string[len(prefix):].startswith(("'''", '"""')) else 1
            want.append(("f" in prefix.lower(), tok.string[len(prefix) + quote: len(tok.string) - quote]))
    assert string_literals(TRICKY) == want
    assert string_literals("x = 'open\n") is None


@pytest.mark.parametrize(
    ("source", "holes"),
    [
        ("q = f'from(bucket: \"{self.bucket}\")'\n", True),
        ('q = f"from(bucket: \\"{self.bucket}\\")"\n', True),
        ('q = f"from(bucket: \\x22{b}\\x22)"\n', True),
        ('q = f"""from(bucket: "\\\n{b}")"""\n', True),
        ("q = ('from(bucket: \"'\n     f'{b}\")')\n", True),
        ("q = 'from(bucket: \"' + f'{b}' + '\")'\n", True),
        ('q = f"{bucket}: {value}"\n', False),
        ('q = "{}".format(bucket)\n', False),
        ("d = {\"bucket\": f\"{x}\"}  # f'\"{x}'\n", False),
        ("q = 'from(bucket: \"{b}\")'\n", False),  # not an f-string: no placeholder
    ],
)
def test_quoted_holes(source: str, holes: bool) -> None:
    assert quoted_holes(source) is holes


def test_bucket_attributes_parse_only_modules_with_quoted_holes(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    parse = facts.parse_tree

    def counting(text: str):
        parsed.append(text)
        return parse(text)

    monkeypatch.setattr(facts, "parse_tree", counting)
    flux = 'Q = f\'from(bucket: "{self.db.bucket}") |> range(start: -1h)\'\n'
    other = 'def f(bucket):\n    return f"{bucket}: {1}"\n'
    assert flux_bucket_attrs({"svc/a.py": flux, "svc/b.py": other}) == {"bucket"}
    assert parsed == [flux]
