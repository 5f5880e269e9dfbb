"""Build small throwaway fleets on disk for tests."""

from __future__ import annotations

import textwrap
from pathlib import Path


def make_fleet(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (fleet-relative path -> text or bytes) under `root` and return root."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root
