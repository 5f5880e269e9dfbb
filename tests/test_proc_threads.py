"""uv's executable is looked up from many threads at once (resolutions asked ahead, installs side by side), and
uv's `find_uv_bin` reads `sysconfig`, whose first reading fills a table other threads see half-filled on Python 3.11:
importing `fleetshift.proc` (every module that starts a program does) fills it first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fleetshift

SRC = str(Path(fleetshift.__file__).resolve().parents[1])
ASK = """
import sys, threading
{imports}
import sysconfig
from uv import find_uv_bin
barrier = threading.Barrier(8)
got = []
def ask():
    barrier.wait()
    got.append(sysconfig.get_config_var("EXE"))
    got.append(find_uv_bin())
threads = [threading.Thread(target=ask) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(g is None for g in got), len(got))
"""


def _threads_asking(imports: str) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", ASK.format(imports=imports)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC}, check=False)  # fmt: skip
    missing, asked = done.stdout.split() if done.returncode == 0 else ("-1", "0")
    return int(missing), int(asked)


def test_threads_looking_up_uv_after_proc_is_imported_all_find_it() -> None:
    for _ in range(3):
        assert _threads_asking("import fleetshift.proc") == (0, 16)
