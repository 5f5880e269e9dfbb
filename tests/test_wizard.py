"""`fleetshift wizard` driven in a real pseudo-terminal (pexpect), as a person would answer it, and without a
terminal, where it must refuse unless flags answer every question."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pexpect
import pytest
from fleet_factory import make_fleet

from fleetshift.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "homeiq"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1", "COLUMNS": "160"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _tree(root: Path, leave_out: tuple[str, ...] = ("fleetshift.toml",)) -> dict[str, str]:
    """Every file of the fleet by its hash, without fleetshift's own folder."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".fleetshift" not in p.relative_to(root).parts and p.name not in leave_out
    }


def _spawn(*args: str) -> pexpect.spawn:
    child = pexpect.spawn(sys.executable, ["-m", "fleetshift", "wizard", *args], env=ENV, encoding="utf-8",
                          timeout=40, dimensions=(50, 160), cwd=str(ROOT))
    child.logfile_read = _Log()
    return child


class _Log:
    """What the wizard printed, kept to assert on (without colour codes)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        return ANSI.sub("", "".join(self.parts)).replace("\r\n", "\n")


def _finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.logfile_read.text


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    dst = tmp_path / "homeiq"
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache", ".venv"))
    return dst


TINY = {
    "fleetshift.toml": """
        [fleet]
        services = ["services/*"]

        [targets]
        tenacity = ">=9.0,<10"  # kept as it is when the wizard is told not to replace the file
    """,
    "services/clock/requirements.txt": "tenacity==8.2.3\n",
    "services/clock/clock.py": """
        from tenacity._asyncio import AsyncRetrying


        def retrying():
            return AsyncRetrying()
    """,
}


def test_first_run_on_the_demo_fleet_writes_a_commented_config_and_changes_nothing_else(demo: Path) -> None:
    (demo / "fleetshift.toml").unlink()
    before = _tree(demo)
    child = _spawn(str(demo))
    child.expect(r"Migrations to run .*: ")
    child.sendline("tenacity, pytest")
    child.expect(r"Target for pytest .*: ")
    child.sendline("")  # the recipe's default
    child.expect(r"Target for tenacity .*: ")
    child.sendline("not a version")
    child.expect(r"is not a version specifier")
    child.expect(r"Target for tenacity .*: ")
    child.sendline(">=9.1.2,<10")
    child.expect(r"Show the diff of which service\? .*: ")
    child.sendline("ai-core-service")
    child.expect(r"Show the diff of which service\? .*: ")
    child.sendline("")
    child.expect(r"Write .*fleetshift\.toml\? .*: ")
    child.sendline("y")
    child.expect(r"Start phase A now\? .*: ")
    child.sendline("n")
    code, text = _finish(child)
    assert code == 0, text

    # Step 1: the services, their Pythons, the libraries with their pins, the locks.
    assert "Step 1 of 6" in text and "14 service(s)" in text
    assert "websocket-ingestion" in text and "asyncio-mqtt ==0.16.2" in text and "pip-compile" in text
    # Step 2: the recipes with their default targets and advisories.
    assert "tenacity==8.4.0: broken wheel" in text
    # Step 3: the plan by phase with its reasons; step 4: the dry-run diff asked for.
    assert "Phase A" in text and "phase A: lowest-risk quarter" in text
    assert "--- a/services/ai-core-service/pyproject.toml" in text and '-    "tenacity==8.2.3",' in text
    assert "nothing was written" in text
    # The equivalent commands.
    assert (f"fleetshift wizard {demo} --recipe pytest --recipe tenacity --diff ai-core-service --write-config "
            "--no-start --yes") in text  # the targets were the defaults
    assert f"fleetshift run {demo} --phase a   " in text  # the written config targets just these two

    written = (demo / "fleetshift.toml").read_text(encoding="utf-8")
    assert "# pytest 8 -> 9 (recipe pytest)" in written and "# Folders that are services" in written
    data = tomllib.loads(written)
    assert data["targets"] == {"pytest": ">=9.0.2,<10", "tenacity": ">=9.1.2,<10"}
    config = load_config(demo)
    assert set(config.targets) == {"pytest", "tenacity"}
    assert _tree(demo) == before  # the fleet's own files are untouched


def test_declining_to_replace_the_config_then_starting_phase_a_without_tests(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "tiny", TINY)
    config_before = (fleet / "fleetshift.toml").read_bytes()
    child = _spawn(str(fleet))
    child.expect(r"Migrations to run .*: ")
    child.sendline("")  # default: what the fleet needs (tenacity)
    child.expect(r"Target for tenacity \S*\(>=9\.0,<10\)\S*: ")  # the file's target is the default
    child.sendline(">=9.1.2,<10")
    child.expect(r"Show the diff of which service\? .*: ")
    child.sendline("")
    child.expect(r"Replace .*fleetshift\.toml with this\? .*: ")
    child.sendline("")  # default: no
    child.expect(r"Start phase A now\? .*: ")
    child.sendline("y")
    child.expect(r"tests before and after \(recommended\)\? .*: ")
    child.sendline("n")
    code, text = _finish(child)
    assert code == 0, text
    assert '-tenacity = ">=9.0,<10"' in text and '+tenacity = ">=9.1.2,<10"' in text  # the change it offered
    assert (fleet / "fleetshift.toml").read_bytes() == config_before
    assert "from tenacity.asyncio import AsyncRetrying" in (fleet / "services/clock/clock.py").read_text() or \
        "from tenacity import AsyncRetrying" in (fleet / "services/clock/clock.py").read_text()
    runs = list((fleet / ".fleetshift" / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "report.html").is_file()
    assert "applied, not verified" in text and (runs[0] / "report.html").as_uri() in text
    assert f"fleetshift wizard {fleet} --target 'tenacity=>=9.1.2,<10' --no-write-config " \
           "--start-phase-a --no-verify --yes" in text


def test_without_a_terminal_it_refuses_and_names_the_commands(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "tiny", TINY)
    res = subprocess.run([sys.executable, "-m", "fleetshift", "wizard", str(fleet)], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "no terminal" in res.stderr or "there is none" in res.stderr
    assert f"fleetshift wizard {fleet} --yes" in res.stdout and f"fleetshift run {fleet} --dry-run" in res.stdout
    assert not (fleet / ".fleetshift" / "runs").exists()


def test_flags_answer_every_question_without_a_terminal(tmp_path: Path) -> None:
    files = dict(TINY)
    del files["fleetshift.toml"]
    files["docs/requirements.txt"] = "sphinx\n"  # not a service: the wizard says it skipped it, and why
    fleet = make_fleet(tmp_path / "tiny", files)
    before = _tree(fleet)
    res = subprocess.run(
        [sys.executable, "-m", "fleetshift", "wizard", str(fleet), "--recipe", "tenacity", "--target", "tenacity=>=9.1.2,<10",
         "--diff", "clock", "--write-config", "--no-start"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "-from tenacity._asyncio import AsyncRetrying" in res.stdout
    assert tomllib.loads((fleet / "fleetshift.toml").read_text())["targets"] == {"tenacity": ">=9.1.2,<10"}
    assert _tree(fleet) == before
    assert "Start phase A now? no (from the command line)" in res.stdout
    assert re.search(r"Skipped .*:\n  docs: ", res.stdout), res.stdout
