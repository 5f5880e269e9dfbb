"""The reports' diffs (report.changes.service_changes): made by this process alone or split with a forked one,
the same diffs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fleet_factory import make_fleet
from typer.testing import CliRunner

from fleetshift import forked
from fleetshift.cli import app
from fleetshift.report import changes

APP = "from tenacity._asyncio import AsyncRetrying\n\n\nasync def go():\n    async for attempt in AsyncRetrying():\n        with attempt:\n            pass\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files: dict[str, str | bytes] = {}
    for i in range(6):
        files[f"svc{i}/requirements.txt"] = "tenacity==8.2.3\n"
        for k in range(i + 1):  # files of several sizes
            files[f"svc{i}/app{k}.py"] = APP + "".join(f"X{n} = {n}\n" for n in range(k * 40))
    fleet = make_fleet(tmp_path_factory.mktemp("changes") / "fleet", files)
    res = CliRunner().invoke(app, ["run", str(fleet), "--no-verify", "--yes"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (run,) = (fleet / ".fleetshift" / "runs").iterdir()
    return run


def _flat(diffs: dict[str, list[changes.FileDiff]]) -> list[Any]:
    return sorted((name, [(d.file, d.diff, d.recipes, d.note, d.kept) for d in files]) for name, files in diffs.items())


def test_the_diffs_split_with_a_forked_process_are_the_diffs_made_here(run_dir: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    here = changes.service_changes(run_dir)  # a small run: this process alone
    assert sum(len(files) for files in here.values()) >= 12 and all(d.diff for files in here.values() for d in files)
    shared: list[int] = []
    real_share = forked.share

    def share(child: Any, mine: Any) -> Any:
        shared.append(1)
        return real_share(child, mine)

    monkeypatch.setattr(changes, "FORK_MIN_FILES", 0)
    monkeypatch.setattr(forked, "share", share)
    assert _flat(changes.service_changes(run_dir)) == _flat(here)
    assert shared == [1]
    meanwhile: list[int] = []  # run once, here, while the child makes its part
    assert _flat(changes.service_changes(run_dir, meanwhile=lambda: meanwhile.append(forked.os.getpid()))) == _flat(here)
    assert shared == [1, 1] and meanwhile == [forked.os.getpid()]


def test_the_forked_share_is_made_here_when_the_child_fails(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = changes.service_changes(run_dir)
    monkeypatch.setattr(changes, "FORK_MIN_FILES", 0)
    monkeypatch.setattr(forked, "share", lambda child, mine: (mine(lambda: False), None))  # the child died
    assert _flat(changes.service_changes(run_dir)) == _flat(here)
    meanwhile: list[int] = []
    assert _flat(changes.service_changes(run_dir, meanwhile=lambda: meanwhile.append(1))) == _flat(here)
    assert meanwhile == [1]
