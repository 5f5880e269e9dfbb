"""The scan cache: what past scans learned of each file, so a scan of an unchanged fleet reads no file again.

One file, `.fleetshift/cache/scan-<signature>.pickle`, whose name changes with fleetshift and its recipes' code
(and, beside it, `scan-<signature>.pickle.more`: what the forked child of a scan shared by two processes learned,
written by the child itself, read with the file it names). It holds, per fleet-relative path, the file's size and
mtime_ns as last seen, its content digest and what reading it told (the recipes whose tokens it holds, the sibling
packages it imports, the key of its detection result); the detection results by content key; the service-level
results by the digests of the service's files; and the parsed manifests by content. An entry is reused without
reading the file only when size, mtime_ns, ctime_ns and mode are unchanged and the file was already at least
`SETTLED_NS` old when it was read (a file written in the same clock tick as the read could change again without
its mtime moving); otherwise the file is read and its digest decides. Each save keeps only what the scan used, so
the cache never outgrows the fleet.

The file is fleetshift's own, but it lies in the fleet's folder: it is read with an unpickler that builds
nothing but fleetshift's model records and plain containers, so a planted file cannot run code. A cache that
cannot be read (corrupted, truncated, from another format) is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import time
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from fleetshift import __version__

FORMAT = 3
SETTLED_NS = 2_000_000_000  # coarser than any file system's timestamp granularity (FAT: 2 s)
_SAFE_BUILTINS = frozenset({"tuple", "list", "dict", "set", "frozenset", "bytes", "bytearray", "str", "int",
                            "float", "bool", "complex", "NoneType"})


class FileEntry(NamedTuple):
    """What one read of a file told, and the stat it was read under."""

    stamp: tuple[int, ...]  # stamp(): size, mtime_ns, ctime_ns and mode bits
    settled: bool  # the file was older than SETTLED_NS when read: a matching stamp proves it unchanged
    digest: bytes
    service_recipes: tuple[str, ...] = ()  # service-level recipes whose tokens the file holds
    parsed: bool = False  # the per-file pass parsed it (and reported it if it does not parse)
    imported: tuple[str, ...] = ()  # sibling packages it imports (under the cache's import pattern)
    result: bytes | None = None  # key of its per-file detection result


class _Loader(pickle.Unpickler):
    """Builds only fleetshift's model records and plain containers."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if module == "fleetshift.model" and "." not in name:  # a dotted name could reach any attribute's attribute
            found = super().find_class(module, name)
            if isinstance(found, type) and found.__module__ == module:  # a record or enum the model defines
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a scan cache")


def signature() -> str:
    """Changes whenever fleetshift's code (any module of the package, recipes included) or a plugin recipe's
    module changes, so stale entries are never used. Built from stats, without importing anything."""
    from fleetshift import recipes
    from fleetshift.quickscan import package_files

    h = hashlib.sha256(__version__.encode())
    for path, (size, mtime_ns) in package_files():  # (the walk the snapshot's code state takes too)
        h.update(f"{path}:{mtime_ns}:{size}".encode())
    # plugins' recipes count too (where no distribution may declare one, every recipe is built in: none is loaded
    # for this, so the cold `scan --json` can discover the fleet while it loads them)
    for recipe in recipes.all_recipes() if recipes._may_declare_plugins() else ():
        module = type(recipe).__module__
        if module.startswith("fleetshift."):
            continue
        h.update(recipe.id.encode())
        path = getattr(__import__(module, fromlist=["_"]), "__file__", None)
        if path:
            st = os.stat(path)
            h.update(f"{path}:{st.st_mtime_ns}:{st.st_size}".encode())
    return h.hexdigest()[:16]


def stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    """What a file's stat says of its content: size and mtime_ns, and ctime_ns and mode bits, which move on any
    write, chmod or utime (an mtime set back by hand does not hide an edit), and on a reading becoming
    impossible."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class ScanCache:
    """The scan cache of one fleet (see the module's doc). With `enabled=False` nothing is read or written
    and every lookup misses."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.started_ns = time.time_ns()
        self.path = root / ".fleetshift" / "cache" / f"scan-{signature()}.pickle" if enabled else None
        self.imports = b""  # the sibling-import pattern the stored `imported` fields were found with
        self.files: dict[str, tuple[Any, ...]] = {}  # FileEntry fields, stored as plain tuples (faster to load)
        self.results: dict[bytes, Any] = {}
        self.services: dict[bytes, Any] = {}
        self.manifests: dict[bytes, Any] = {}
        # what this scan used or learned: the next save writes exactly this (a forked scan's child sends its file
        # entries as the plain tuples the cache file keeps: FileEntry or its fields, saved alike)
        self.new_files: dict[str, FileEntry | tuple[Any, ...]] = {}
        self.new_results: dict[bytes, Any] = {}
        self.new_services: dict[bytes, Any] = {}
        self.new_manifests: dict[bytes, Any] = {}
        self.new_imports = b""
        self.part: bytes | None = None  # the id the two parts of a shared scan's cache are written under
        self.written = False  # this scan's cache is written already (by `save_shared`)
        if self.path is not None:
            self._load()

    @property
    def more(self) -> Path | None:
        """The second part of the cache: what the forked child of a shared scan learned."""
        return None if self.path is None else self.path.with_name(self.path.name + ".more")

    def _read(self, path: Path) -> dict[str, Any] | None:
        with open(path, "rb") as fh:
            data = _Loader(io.BytesIO(fh.read())).load()
        if not (isinstance(data, dict) and data.get("format") == FORMAT):
            return None
        if not all(isinstance(data[k], dict) for k in ("files", "results", "services", "manifests")):
            return None
        files = data["files"]
        if files and not all(isinstance(v, tuple) and len(v) == len(FileEntry._fields) for v in files.values()):
            return None
        return data

    def _load(self) -> None:
        assert self.path is not None and self.more is not None
        try:
            data = self._read(self.path)
            if data is None:
                return
            files, results, services, manifests = (data["files"], data["results"], data["services"],
                                                   data["manifests"])
            imports = data["imports"]
            part = data.get("part")
            if part is not None:  # the other part, written with it by the child of the same scan
                more = self._read(self.more)
                if more is None or more.get("of") != part or more["imports"] != imports:
                    return
                for mine, theirs in zip((files, results, services, manifests),
                                        (more["files"], more["results"], more["services"], more["manifests"]),
                                        strict=True):
                    mine.update(theirs)
        except Exception:  # unreadable, corrupted, truncated, planted, half of it missing: start afresh
            return
        self.imports = imports if isinstance(imports, bytes) else b""
        self.files, self.results, self.services, self.manifests = files, results, services, manifests

    # ---- files

    def known(self, rel: str, st: os.stat_result, imports: bytes) -> FileEntry | None:
        """The entry of a file whose stat proves it unchanged since it was read (None: read it)."""
        raw = self.files.get(rel)
        if raw is not None and raw[1] and raw[0] == stamp(st) and imports == self.imports:
            return FileEntry._make(raw)
        return None

    def same_content(self, rel: str, content: bytes, imports: bytes) -> FileEntry | None:
        """The entry of a file read again whose content is what it was (its stat moved, or was not settled)."""
        raw = self.files.get(rel)
        if raw is not None and raw[2] == content and imports == self.imports:
            return FileEntry._make(raw)
        return None

    def record(self, rel: str, st: os.stat_result, entry: FileEntry) -> FileEntry:
        """Keep a file's entry, under the stat it was read with."""
        settled = st.st_mtime_ns + SETTLED_NS < self.started_ns
        now = stamp(st)
        if entry.stamp != now or entry.settled != settled:
            entry = FileEntry(now, settled, *entry[2:])  # (_replace costs twice as much, for every file read)
        self.new_files[rel] = entry
        return entry

    # ---- results by key

    def result(self, key: bytes) -> Any | None:
        hit = self.results.get(key)
        if hit is not None:
            self.new_results[key] = hit
        return hit

    def put_result(self, key: bytes, value: Any) -> None:
        self.new_results[key] = value

    def service(self, key: bytes) -> Any | None:
        hit = self.services.get(key)
        if hit is not None:
            self.new_services[key] = hit
        return hit

    def put_service(self, key: bytes, value: Any) -> None:
        self.new_services[key] = value

    def manifest(self, key: bytes) -> Any | None:
        hit = self.manifests.get(key)
        if hit is not None:
            self.new_manifests[key] = hit
        return hit

    def put_manifest(self, key: bytes, value: Any) -> None:
        self.new_manifests[key] = value

    # ---- saving

    def save(self) -> None:
        """Write what this scan used and learned, when that differs from what was loaded (one file: a second part
        left by an earlier shared scan is removed)."""
        if self.path is None or self.written:
            return
        if (self.new_files == self.files and self.new_results.keys() == self.results.keys()
                and self.new_services.keys() == self.services.keys()
                and self.new_manifests.keys() == self.manifests.keys() and self.new_imports == self.imports):
            return
        self._write(self.path, None)

    def save_shared(self, part: bytes, marks: tuple[int, int, int] | None = None) -> bool:
        """For a scan shared by two processes, each writing what it learned while the other does too (neither
        sends it to the other): this process's part under the id `part`, the first part with the manifests and
        what was known before the fork; with `marks` (the sizes of the records at the fork), the child's, only
        what it learned since. True when it was written."""
        if self.path is None or self.more is None:
            return False
        if marks is None:
            return self._write(self.path, {"part": part}, keep_more=True)
        learned = [dict(islice(d.items(), n, None)) for d, n in zip(
            (self.new_files, self.new_results, self.new_services), marks, strict=True)]
        return self._write(self.more, {"of": part}, learned=(*learned, {}))

    def _write(self, path: Path, extra: dict[str, Any] | None, *, keep_more: bool = False,
               learned: tuple[dict[Any, Any], ...] | None = None) -> bool:
        assert self.path is not None and self.more is not None
        new = learned or (self.new_files, self.new_results, self.new_services, self.new_manifests)
        files = {rel: tuple(entry) for rel, entry in new[0].items()}
        data = {"format": FORMAT, "imports": self.new_imports, "files": files, "results": new[1],
                "services": new[2], "manifests": new[3], **(extra or {})}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            gitignore = self.path.parent.parent / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n")
            if learned is None:
                for old in (*self.path.parent.glob("scan-*.pickle"), *self.path.parent.glob("scan-*.pickle.more")):
                    if old != self.path and (keep_more is False or old != self.more):
                        old.unlink(missing_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, path)
        except OSError:
            return False  # a read-only fleet can still be scanned
        return True
