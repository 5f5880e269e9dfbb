"""decode_python decodes Python source as the interpreter would: its shortcut for a plain head (two ASCII lines
without a coding cookie) answers what tokenize.detect_encoding answers, and every other file still goes to it."""

from __future__ import annotations

import codecs
import io
import tokenize

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetshift.textio import Decoded, UnreadableFile, decode_python


def reference(data: bytes) -> Decoded | str:
    """decode_python as it was before the shortcut: tokenize.detect_encoding on every file."""
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return f"bad encoding declaration: {exc}"
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        return Decoded(body.decode(encoding), encoding, bom)
    except (UnicodeDecodeError, LookupError) as exc:
        return f"cannot decode as {encoding}: {exc}; save it as UTF-8 or add a correct coding line"


def decoded(data: bytes) -> Decoded | str:
    try:
        return decode_python(data)
    except UnreadableFile as exc:
        return str(exc)


CASES = [
    b"", b"\n", b"x = 1\n", b"x = 1", b"\xef\xbb\xbfx = 1\n", b"\xef\xbb\xbf",
    b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", b"#!/usr/bin/env python\n# coding: latin-1\nx = '\xe9'\n",
    b"x = 1\n# coding: latin-1\ny = '\xe9'\n",  # a cookie on line 2 after code: not a cookie
    b"\n\n# coding: latin-1\nx = '\xe9'\n",  # line 3: not read
    b"# coding: utf-8\nx = '\xc3\xa9'\n", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
    b"# coding: nope\nx = 1\n", b"x = '\xe9'\n", b"# \xe9\nx = 1\n", b"\n# \xe9\nx = 1\n",
    b"x = 1\ny = '\xe9'\n", b"x = 1\ny = 2\nz = '\xe9'\n", b"x = 'caf\xc3\xa9'\n", b"# decoding: x\n",
    b"\r\n# coding: latin-1\r\nx = '\xe9'\r\n", b"\f# coding=latin-1\nx = '\xe9'\n", b"  \t# vim: set fileencoding=cp1252 :\n",
]


@pytest.mark.parametrize("data", CASES)
def test_decode_python_answers_as_detect_encoding(data: bytes) -> None:
    assert decoded(data) == reference(data)


_LINE = st.one_of(
    st.sampled_from([b"", b"x = 1", b"# coding: latin-1", b"# -*- coding: cp1252 -*-", b"#!/usr/bin/env python",
                     b"  # comment", b"\f", b"\r", b"# coding: bogus", b"s = '\xe9'", b"s = '\xc3\xa9'", b"\xef\xbb\xbf"]),
    st.binary(max_size=12),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(_LINE, max_size=4), st.booleans())
def test_decode_python_answers_as_detect_encoding_on_any_head(lines: list[bytes], bom: bool) -> None:
    data = (codecs.BOM_UTF8 if bom else b"") + b"\n".join(lines)
    if b"\0" in data:
        return
    assert decoded(data) == reference(data)


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 131072, 131073, 3 * 1024 * 1024 + 7])
def test_the_rewrite_reads_every_byte_of_a_file_of_any_size(tmp_path, size: int) -> None:
    from fleetshift.rewrite import _read
    from fleetshift.textio import read_file

    data = bytes((i * 7 + i // 251) % 256 for i in range(size))
    (tmp_path / "f.bin").write_bytes(data)
    st, got = read_file(str(tmp_path / "f.bin"))
    assert got == data and st.st_size == size
    (tmp_path / "m.py").write_bytes(b"x = 1\n" * (size // 6))
    findings: list = []
    got = _read(tmp_path, "m.py", findings, digests := {})
    assert got is not None and got.text == "x = 1\n" * (size // 6) and not findings and set(digests) == {"m.py"}


def test_a_folder_or_a_missing_file_is_reported_unreadable(tmp_path) -> None:
    from fleetshift.rewrite import _read

    (tmp_path / "pkg.py").mkdir()
    findings: list = []
    assert _read(tmp_path, "pkg.py", findings) is None and _read(tmp_path, "gone.py", findings) is None
    assert [f.rule for f in findings] == ["rewrite/unreadable"] * 2
    assert "Is a directory" in findings[0].message and "No such file" in findings[1].message
