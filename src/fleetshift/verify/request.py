"""One verification step's inputs as a record: what `verify.baseline` and `verify.after` take, and what an
executor sends to wherever the step runs (this process, or a worker of a cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fleetshift.config import HealthCheck, ServiceOptions
from fleetshift.model import Service
from fleetshift.verify.envs import DEFAULT_TIMEOUT


@dataclass(frozen=True)
class VerifyRequest:
    """A service's tests on its old pins (`verify.baseline`) or its new ones (`verify.after`).

    `moved`: the distributions the campaign moves (its targets and what they replace): the baseline runs the
    API check on the files importing them, the after-environment upgrades only these in a lock.
    `before`: the service as discovered before the rewrite (after only). `old_files`: fleet-relative path ->
    bytes before this run rewrote it (None: it did not exist); the baseline puts them back in a scratch copy,
    the after-run checks the touched Python files. `extra_env` (after only) replaces `options.env` for the
    test command. `health`: the check an executor may run in the same place right after the tests, while the
    "new" environment is there (`verify.after` itself never runs it). `keep_env` keeps the baseline's "old"
    environment.
    """

    root: Path
    service: Service
    run_dir: Path
    timeout: float = DEFAULT_TIMEOUT
    test_command: str = ""
    options: ServiceOptions | None = None
    config_file: str = ""
    moved: tuple[str, ...] = ()
    before: Service | None = None
    old_files: Mapping[str, bytes | None] | None = None
    python: str = ""
    pin_overrides: Mapping[str, str] | None = None
    env_root: Path | None = None
    extra_env: Mapping[str, str] | None = None
    keep_env: bool = False
    health: HealthCheck | None = None
