"""Where a service's verification steps run: the conductor (the process running the campaign) hands each
baseline, run on the new pins and health check to an executor. `LocalExecutor` runs them in this process
(the default); `RayExecutor` (in `executors_ray`, with the `ray` extra) sends them to a Ray cluster.

Rewrites, rollbacks and every journal write stay in the conductor whatever the executor: an executor only
runs tests and hands back their records (and writes their logs under the run folder).
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING, Protocol

from fleetshift.model import HealthResult, TestRun

if TYPE_CHECKING:  # the verify package is loaded by the first step an executor runs (a --no-verify run has none)
    from fleetshift.verify import VerifyRequest

EXECUTORS = ("local", "ray")
RAY_MISSING = "the ray executor needs Ray: install it with: pip install 'fleetshift[ray]'"


class Executor(Protocol):
    """Runs verification steps for the conductor; each call blocks until its step is done and never raises for
    a failing service (every problem is in the record it returns). `width(jobs)` is how many services the
    conductor works on at once with this executor (`jobs` 0: the executor's default)."""

    name: str

    def width(self, jobs: int) -> int: ...

    def baseline(self, request: VerifyRequest) -> TestRun: ...

    def after(self, request: VerifyRequest) -> TestRun: ...

    def health(self, request: VerifyRequest) -> HealthResult: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Every step in this process, on this machine (the conductor's thread pool gives the concurrency)."""

    name = "local"

    def width(self, jobs: int) -> int:
        """`jobs` services at once; 0: one per core."""
        return jobs or os.cpu_count() or 1

    def baseline(self, request: VerifyRequest) -> TestRun:
        from fleetshift import verify

        return verify.baseline(request)

    def after(self, request: VerifyRequest) -> TestRun:
        from fleetshift import verify

        return verify.after(request)

    def health(self, request: VerifyRequest) -> HealthResult:
        from fleetshift import verify

        assert request.health is not None
        return verify.health(request.root, request.service, request.run_dir, request.health, env_root=request.env_root)

    def cancel(self) -> None:  # the steps' processes get the terminal's Ctrl-C themselves
        pass

    def close(self) -> None:
        pass


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def make_executor(name: str, *, address: str = "", shared_fs: bool = False) -> Executor:
    """The executor called `name` ("local" or "ray"); raises RuntimeError naming the install when Ray is not
    installed."""
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        if not ray_available():
            raise RuntimeError(RAY_MISSING)
        from fleetshift.executors_ray import RayExecutor

        return RayExecutor(address=address, shared_fs=shared_fs)
    raise ValueError(f"unknown executor {name!r} (one of: {', '.join(EXECUTORS)})")
