"""The Ray executor: each baseline and run on the new pins is a Ray task (one CPU), on whichever node of the
cluster Ray picks; the health check runs in the same task, right after the tests, while the "new" environment
is there.

What travels: by default the service's files at the exact bytes of the step (after the rewrite, for the run on
the new pins): its folder, its local path dependencies and the manifests and locks it includes from elsewhere
in the fleet, packed as one gzipped tar, unpacked on the node into a scratch fleet. With a shared filesystem
(`[run] shared_filesystem = true`, `--shared-fs`) only the paths travel. The task returns the run's record and
the bytes of its logs and JUnit files; the conductor writes them under the real run folder and rewrites the
record's paths. Each node uses its own uv and uv cache. fleetshift's own code goes with the tasks (Ray's
`py_modules`), so the nodes run the conductor's version; its dependencies must be installed there
(`pip install 'fleetshift[ray]'`).

Faults: a task lost with its worker or node is retried once by Ray; lost again, its run is RunState.LOST and
the service unverifiable. `cancel` (Ctrl-C) cancels every outstanding task.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import tarfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fleetshift import verify
from fleetshift.discover import SKIP_DIRS
from fleetshift.fsutil import replace_file, scratch_dir
from fleetshift.model import HealthResult, RunState, TestRun, to_jsonable
from fleetshift.verify import VerifyRequest
from fleetshift.verify.cache import _sources

RETRIES = 1  # a task lost with its worker or node runs once more, then its service is unverifiable


class Cancelled(KeyboardInterrupt):
    """Raised in a conductor thread waiting for a task the run cancelled (Ctrl-C)."""


def _skipped(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith((".egg-info", ".pyc", ".pyo"))


def pack(root: Path, request: VerifyRequest) -> bytes:
    """The files a step of `request.service` is built from, fleet-relative, as a gzipped tar: its folder (dot
    files too, caches and environments not), its local path dependencies inside the fleet, and the manifests and
    locks it includes from elsewhere in the fleet. Links leading outside the fleet are left out."""
    root = Path(root).resolve()
    folders, files = _sources(root, request.service)
    buf = io.BytesIO()
    seen: set[str] = set()

    def add(path: Path) -> None:
        rel = path.relative_to(root).as_posix()
        if rel in seen:
            return
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                return
        seen.add(rel)
        tar.add(path, arcname=rel, recursive=False)

    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for folder in sorted(folders, key=len):
            base = root / folder
            if folder.startswith("..") or not base.is_dir():
                continue
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if not _skipped(d))
                for name in sorted(filenames):
                    if not _skipped(name):
                        add(Path(dirpath) / name)
        for rel in sorted(files):
            if not rel.startswith("..") and (root / rel).is_file():
                add(root / rel)
    return buf.getvalue()


def _unpack(payload: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Python 3.11 before 3.11.4
            tar.extractall(dest)


def _node() -> str:
    import ray

    node_id = ray.get_runtime_context().get_node_id() or ""
    return f"{socket.gethostname()} pid {os.getpid()} (ray node {node_id[:12]})"


def _collect(folder: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


def run_step(kind: str, request: VerifyRequest, payload: bytes | None) -> dict[str, Any]:
    """One step on a node (the body of the Ray task): the baseline or the run on the new pins (then the health
    check when the request has one), in a scratch fleet unpacked from `payload` (None: the request's own paths,
    on a shared filesystem). Returns the run, the health result, where it ran, and the logs written under the
    scratch run folder (run-folder-relative path -> bytes) with the scratch paths to rewrite."""
    from fleetshift import proc

    proc.DIE_WITH_PARENT = True  # a worker Ray kills outright takes the step's commands with it
    try:
        return _run_step(kind, request, payload)
    except KeyboardInterrupt:  # cancelled: the step's commands run in sessions of their own; end them too
        kill_descendants()
        raise


def kill_descendants(pid: int | None = None) -> None:
    """SIGKILL every process below `pid` (this one), with its process group (Linux /proc; elsewhere nothing)."""
    root = pid or os.getpid()
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    todo, found = [root], []
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    for child in found:
        for kill in (lambda c: os.killpg(c, signal.SIGKILL), lambda c: os.kill(c, signal.SIGKILL)):
            try:
                kill(child)
            except (ProcessLookupError, PermissionError, OSError):
                pass


def _run_step(kind: str, request: VerifyRequest, payload: bytes | None) -> dict[str, Any]:
    node, start = _node(), time.perf_counter()
    if payload is None:
        out = _steps(kind, request)
        return {"node": node, **out, "logs": {}, "paths": [], "seconds": time.perf_counter() - start}
    with scratch_dir("fleetshift-task-") as scratch:
        root, run_dir = scratch / "fleet", scratch / "run"
        root.mkdir()
        _unpack(payload, root)
        local = replace(request, root=root, run_dir=run_dir, env_root=None)
        try:
            out = _steps(kind, local)
        except KeyboardInterrupt:  # cancelled: end the step's commands BEFORE their folder is removed, which can
            kill_descendants()  # take longer than the conductor waits before it kills this worker (and orphans them)
            raise
        paths = [(str(run_dir), str(request.run_dir)), (str(root), str(request.root))]
        logs = _collect(run_dir)
        return {"node": node, **out, "logs": logs, "paths": paths, "seconds": time.perf_counter() - start}


def _steps(kind: str, request: VerifyRequest) -> dict[str, Any]:
    if kind == "baseline":
        return {"run": verify.baseline(request), "health": None}
    run = verify.after(request)
    health = None
    if request.health is not None and run.installed:
        health = verify.health(request.root, request.service, request.run_dir, request.health,
                               env_root=request.env_root)  # fmt: skip
    return {"run": run, "health": health}


def _moved_paths(data: Any, paths: list[tuple[str, str]]) -> Any:
    """`data` (JSON-like) with every scratch path in its strings moved to its real place."""
    if isinstance(data, str):
        for scratch, real in paths:
            data = data.replace(scratch, real)
        return data
    if isinstance(data, list | tuple):
        return [_moved_paths(x, paths) for x in data]
    if isinstance(data, dict):
        return {k: _moved_paths(v, paths) for k, v in data.items()}
    return data


def runtime_env() -> dict[str, Any]:
    """The Ray job's runtime_env: fleetshift's own code goes to the nodes, so they run the conductor's version."""
    import fleetshift

    return {"py_modules": [str(Path(fleetshift.__file__).parent)], "excludes": ["__pycache__", "*.pyc"]}


class RayExecutor:
    """Verification steps as Ray tasks. `address`: "" starts (or joins, with RAY_ADDRESS) a local cluster,
    "auto" the running one, "ray://host:10001" a remote one through Ray Client."""

    name = "ray"

    def __init__(self, address: str = "", shared_fs: bool = False, retries: int = RETRIES) -> None:
        self.address = address
        self.shared_fs = shared_fs
        self.retries = retries
        self._owned = False
        self._remote: Any = None
        self._lock = threading.Lock()
        self._connecting = threading.Lock()  # the conductor's threads ask for the cluster at once: one joins it
        self._pending: set[Any] = set()
        self._cancelling: set[Any] = set()  # the tasks cancel() has cancelled (never twice)
        self._cancelled = False
        self._health: dict[str, HealthResult | None] = {}
        self.tasks: list[dict[str, Any]] = []  # per task: service, step, bytes sent and back, seconds (benchmark)

    # ---- the cluster ----------------------------------------------------------------------------

    def _connect(self) -> Any:
        import ray

        with self._connecting:
            if self._remote is not None:
                return ray
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            if not ray.is_initialized():  # else: this process already joined a cluster, with its own runtime_env
                ray.init(address=self.address or None, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING, runtime_env=runtime_env())  # fmt: skip
                self._owned = True
            self._remote = ray.remote(run_step).options(num_cpus=1, max_retries=self.retries, retry_exceptions=False)
            return ray

    def width(self, jobs: int) -> int:
        """As many services at once as the cluster has CPUs (or `jobs` when given)."""
        if jobs:
            return jobs
        ray = self._connect()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def cancel(self, grace: float = 5.0) -> None:
        """Cancel every outstanding task: first as a KeyboardInterrupt in the task, which kills the step's
        commands on its node; a task not done after `grace` seconds has its worker killed. A task is cancelled
        once, and only one not done is forced: Ray 2.60 aborts the conductor (RAY_CHECK "Tried to complete task
        that was not pending") when a cancel reaches a task whose result is in while its reply is still being
        handled, as forcing a task that had just ended on its first cancel did."""
        if self._remote is None:
            return
        import ray

        with self._lock:
            self._cancelled = True
            pending = [ref for ref in self._pending if ref not in self._cancelling]
            self._cancelling.update(pending)
        if not pending:
            return
        for ref in pending:
            try:
                ray.cancel(ref, force=False)
            except Exception:  # already finished or gone: nothing left to stop
                pass
        _, stuck = ray.wait(pending, num_returns=len(pending), timeout=grace)
        for ref in stuck:
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass

    def close(self) -> None:
        if self._owned:
            import ray

            ray.shutdown()
            self._owned = False
            self._remote = None

    # ---- the steps ------------------------------------------------------------------------------

    def baseline(self, request: VerifyRequest) -> TestRun:
        if not self.shared_fs:  # the cache lives with the conductor
            cache, hit = verify.cached_baseline(request)
            if hit is not None:
                return hit
            run, _ = self._submit("baseline", request)
            verify.store_baseline(cache, run)
            return run
        return self._submit("baseline", request)[0]

    def after(self, request: VerifyRequest) -> TestRun:
        run, health = self._submit("after", request)
        with self._lock:
            self._health[request.service.name] = health
        return run

    def health(self, request: VerifyRequest) -> HealthResult:
        """The health check the run on the new pins made on its node, right after the tests."""
        with self._lock:
            found = self._health.pop(request.service.name, None)
        return found or HealthResult(False, "the health check did not run: the environment on the new pins was not made")

    def _submit(self, kind: str, request: VerifyRequest) -> tuple[TestRun, HealthResult | None]:
        ray = self._connect()
        from ray import exceptions as rx

        start = time.perf_counter()
        payload = None if self.shared_fs else pack(request.root, request)
        with self._lock:
            if self._cancelled:
                raise Cancelled
            ref = self._remote.remote(kind, request, payload)
            self._pending.add(ref)
        try:
            out = ray.get(ref)
        except (rx.TaskCancelledError, rx.WorkerCrashedError, rx.NodeDiedError, rx.ObjectLostError,
                rx.OwnerDiedError, rx.RaySystemError, rx.LocalRayletDiedError) as exc:  # fmt: skip
            if self._cancelled:
                raise Cancelled from None
            return self._lost(kind, request, exc), None
        except rx.RayTaskError as exc:
            if self._cancelled:
                raise Cancelled from None
            cause = exc.as_instanceof_cause()
            if isinstance(cause, rx.RayError):  # a system error inside the task: as lost
                return self._lost(kind, request, cause), None
            raise cause from None  # fleetshift failed on the node: the conductor reports it as its own failure
        finally:
            with self._lock:
                self._pending.discard(ref)
        landed = self._land(out)
        with self._lock:
            self.tasks.append({"service": request.service.name, "step": kind, "node": out["node"],
                               "sent": len(payload or b""), "back": sum(len(b) for b in out["logs"].values()),
                               "task": out["seconds"], "wall": time.perf_counter() - start})  # fmt: skip
        return landed

    def _lost(self, kind: str, request: VerifyRequest, exc: BaseException) -> TestRun:
        label = "old" if kind == "baseline" else "new"
        why = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".rstrip(": ")
        return TestRun(request.service.name, label, installed=False, state=RunState.LOST,
                       error=f"the Ray task was lost {self.retries + 1} time(s) ({why})")  # fmt: skip

    def _land(self, out: dict[str, Any]) -> tuple[TestRun, HealthResult | None]:
        """Write a task's logs under the real run folder and point its records at them."""
        paths: list[tuple[str, str]] = out["paths"]
        run: TestRun = out["run"]
        health: HealthResult | None = out["health"]
        if paths:
            run_dir = Path(paths[0][1])  # the real run folder
            for rel, data in out["logs"].items():
                target = run_dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                replace_file(target, data)
            moved = _moved_paths(json.loads(json.dumps(to_jsonable(run))), paths)
            run = verify.run_from_json(moved)
            if health is not None:
                health = HealthResult(health.ok, _moved_paths(health.detail, paths), _moved_paths(health.log, paths))
        return replace(run, node=out["node"]), health
