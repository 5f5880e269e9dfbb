"""`recipes._matchers.load`: `libcst.matchers` imported without the docstrings `dataclasses` would spell out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fleetshift

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(fleetshift.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}

PROBE = """
import dataclasses, sys, threading
import libcst, libcst.metadata
from fleetshift.recipes import _matchers

made = []
def meanwhile():  # another thread's dataclass, made while the matchers are imported, gets its docstring
    @dataclasses.dataclass
    class Other:
        x: int
    made.append(Other.__doc__)

inspect = dataclasses.inspect
orig = dataclasses._process_class
def process(cls, *args):
    if cls.__module__ == "libcst.matchers" and not made:
        t = threading.Thread(target=meanwhile); t.start(); t.join()
    return orig(cls, *args)
dataclasses._process_class = process
_matchers.load()
dataclasses._process_class = orig
import libcst.matchers as m
assert dataclasses.inspect is inspect, "dataclasses' inspect put back"
assert m.Name.__doc__ == "Name", m.Name.__doc__
assert made == ["Other(x: int)"], made
assert m.matches(libcst.parse_expression("a.b"), m.Attribute(value=m.Name("a"), attr=m.Name("b")))
import fleetshift.recipes.fixes, libcst.codemod.visitors  # what the rewrite imports, on top of it
_matchers.load()  # once only
print("ok")
"""


def test_matchers_are_imported_without_their_signature_docstrings() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
