"""The command line's simple values are coerced without pydantic, to the values typer's own coercion gives."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fleetshift

APP = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from typing import Annotated

    import typer

    if sys.argv[1] == "plain":
        from fleetshift import cliparams

        cliparams.install()
    app = typer.Typer()

    @app.command()
    def cmd(path: Path, name: Annotated[str, typer.Option("--name")] = "x",
            maybe: Annotated[str | None, typer.Option("--maybe")] = None,
            jobs: Annotated[int, typer.Option("--jobs")] = 0,
            flag: Annotated[bool, typer.Option("--flag")] = False,
            tri: Annotated[bool | None, typer.Option("--tri/--no-tri")] = None,
            many: Annotated[list[str] | None, typer.Option("--many")] = None,
            where: Annotated[Path | None, typer.Option("--where")] = None) -> None:
        print(json.dumps({"path": repr(path), "name": name, "maybe": maybe, "jobs": jobs, "flag": flag, "tri": tri,
                          "many": many, "where": repr(where), "pydantic": "pydantic" in sys.modules}))

    app(sys.argv[2:], standalone_mode=True)
""")


def _run(tmp_path: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {**os.environ, "PYTHONPATH": str(Path(fleetshift.__file__).parents[1])}
    return subprocess.run([sys.executable, str(script), mode, *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env)


def _values(stdout: str) -> str:
    return stdout.replace('"pydantic": true', "").replace('"pydantic": false', "")


def test_simple_values_are_typers_values_without_pydantic(tmp_path: Path) -> None:
    (tmp_path / "fleet").mkdir()
    for args in (["fleet"], ["fleet/", "--name", "a b", "--maybe", "", "--jobs", "+07", "--flag", "--no-tri",
                             "--many", "x", "--many", "y"], ["fleet", "--jobs", "-3", "--tri"]):
        own, plain = _run(tmp_path, "own", *args), _run(tmp_path, "plain", *args)
        assert own.returncode == plain.returncode == 0, (own.stderr, plain.stderr)
        assert '"pydantic": false' in plain.stdout
        assert _values(own.stdout) == _values(plain.stdout)


def test_values_the_rules_do_not_take_get_typers_coercion_and_errors(tmp_path: Path) -> None:
    (tmp_path / "fleet").mkdir()
    for args in (["fleet", "--jobs", " 3"], ["fleet", "--jobs", "3_000"], ["fleet", "--jobs", "three"],
                 ["fleet", "--where", "w"], ["./fleet"]):
        own, plain = _run(tmp_path, "own", *args), _run(tmp_path, "plain", *args)
        assert (own.returncode, _values(own.stdout), own.stderr) == (plain.returncode, _values(plain.stdout), plain.stderr)
