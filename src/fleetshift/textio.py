"""Read fleet files whole, decode them to text and back to the exact same kind of bytes (encoding, BOM, newlines
kept)."""

from __future__ import annotations

import codecs
import errno
import io
import os
import stat
import tokenize
from dataclasses import dataclass

MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    """A file's text plus what is needed to write it back byte-faithfully."""

    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return (codecs.BOM_UTF8 + data) if self.bom else data


class UnreadableFile(Exception):
    """A file that cannot be turned into text; the message says why and what to do."""


def _check(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise UnreadableFile(f"file is {len(data) // 1024} KiB, over the {MAX_BYTES // 1024 // 1024} MiB limit; skipped")
    if b"\0" in data:
        raise UnreadableFile("file contains NUL bytes (binary?); skipped")


def _plain_head(body: bytes) -> bool:
    """Whether the first two lines (after a BOM) are ASCII without the word coding: tokenize.detect_encoding,
    which reads at most those two lines, finds no cookie in them and no undecodable byte, and answers UTF-8
    ("utf-8-sig" after a BOM)."""
    end = body.find(b"\n")
    if end != -1:
        end = body.find(b"\n", end + 1)
    head = body if end == -1 else body[:end + 1]
    return head.isascii() and b"coding" not in head


def decode_python(data: bytes) -> Decoded:
    """Decode Python source as the interpreter would: BOM, then a coding cookie, else UTF-8."""
    _check(data)
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    if _plain_head(body):  # what tokenize.detect_encoding answers for it, without its line reader
        encoding = "utf-8"
    else:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            raise UnreadableFile(f"bad encoding declaration: {exc}") from None
        if encoding == "utf-8-sig":
            encoding = "utf-8"
    try:
        return Decoded(body.decode(encoding), encoding, bom)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UnreadableFile(f"cannot decode as {encoding}: {exc}; save it as UTF-8 or add a correct coding line") from None


def decode_text(data: bytes) -> Decoded:
    """Decode a config or manifest file: UTF-8 with or without BOM."""
    _check(data)
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    try:
        return Decoded(body.decode("utf-8"), "utf-8", bom)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text ({exc}); save it as UTF-8") from None


def read_file(path: str) -> tuple[os.stat_result, bytes]:
    """A file's stat (taken before it is read) and its whole content, as open(path, "rb").read() gives it and with
    the same errors, from os.open, os.fstat and os.read until the end: without the two file objects, their isatty
    check, a second fstat and a seek, which cost a cold scan of 10,000 small files a third of its reading. A first
    read that gives exactly the size the stat said is the whole file: the read that would confirm the end (a
    system call per file, a tenth of the reading) is made only when the size moved (a file being written)."""
    fd = os.open(path, os.O_RDONLY)  # not inheritable, as open() makes it
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # open() refuses a folder, os.open does not
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        data = os.read(fd, st.st_size + 1)
        if not data or len(data) == st.st_size:
            return st, data
        more = os.read(fd, max(st.st_size, 65536))  # the end (b""), unless the file is growing
        if not more:
            return st, data
        chunks = [data, more]
        while more:
            more = os.read(fd, 65536)
            chunks.append(more)
        return st, b"".join(chunks)
    finally:
        os.close(fd)
