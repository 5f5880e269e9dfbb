"""A generated fleet shaped like real services, for the benchmarks and the tests that need a fleet.

`generate(root, services, per_service=34, share=0.10, seed=7)` writes `services` services under
`root/services/svc-NNN/` and returns the number of files written. Each service has:

  - a package (`src/<pkg>/` or `<pkg>/`, sometimes with sub-packages), each folder with its `__init__.py`;
  - `tests/` with a `conftest.py` (session/module fixtures with yield and teardown, autouse fixtures,
    pytest_asyncio fixtures where the service uses pytest-asyncio, hooks), and about half of the service's
    Python files are tests (parametrize tables, test classes, pytest.raises, marked async tests);
  - one to three manifests: requirements.txt (sometimes with a requirements-dev.txt that `-r`-includes it)
    or a pyproject.toml with [project] dependencies, and the pytest configuration in pytest.ini or
    [tool.pytest.ini_options] (asyncio_mode on some), pinning the releases the recipes migrate from
    (pytest 8, pytest-asyncio 0.23, tenacity 8, asyncio-mqtt 0.16, influxdb-client 1.x, python-dotenv 1.0);
    every service uses pytest, and the others come with one of ten stacks (ingest, history, api, worker, ...),
    so each library is used by a different share of the services (STACKS) while the requirement sets that
    `run` resolves with uv stay few whatever the fleet's size.

Module lengths follow a lognormal law (median ~150 lines, mean ~195, up to ~1,500), each module composed
of many varied blocks (classes with methods, dataclasses, enums, helpers with loops, comprehensions and
try/except, constants and lookup tables; tests with parametrize tables, fixtures and test classes), with
names drawn from word lists and the blocks in random order. About `share` of the Python files touch a
migrated library: one to three sites of its old API (tenacity, asyncio-mqtt, pytest-asyncio, pytest 9,
influxdb-client, python-dotenv; sites the recipes rewrite and some they only report) blended into a long
module, as in real code. `per_service` counts every file of a service (manifests included).

Deterministic for a seed (each service has its own random stream). Every file of the first two services and
about 2 % of the others are checked with `ast.parse`.

    python benchmarks/fleetgen.py DIR [--services 20] [--files-per-service 34] [--share 0.10] [--seed 7]
"""

from __future__ import annotations

import ast
import math
import random
import string
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# ---- words ------------------------------------------------------------------------------------------

NOUNS = (
    "sensor", "device", "reading", "metric", "event", "zone", "schedule", "alert", "report", "batch", "record",
    "rule", "job", "order", "invoice", "user", "session", "token", "cache", "queue", "message", "topic",
    "payload", "window", "bucket", "series", "sample", "channel", "route", "policy", "quota", "tenant",
    "account", "profile", "snapshot", "export", "setting", "room", "meter", "tariff", "forecast", "signal",
    "trigger", "scene", "entity", "state", "command", "gateway", "node", "link", "frame", "chunk", "span",
    "label", "tag", "note", "entry", "ledger", "budget", "target", "limit", "threshold", "interval", "period",
    "site", "region", "cluster", "shard", "replica", "lease", "lock", "ticket", "task", "worker", "pipeline",
)
VERBS = (
    "load", "fetch", "build", "parse", "render", "merge", "split", "resolve", "compute", "validate",
    "normalise", "collect", "flush", "publish", "store", "sync", "apply", "filter", "group", "rank", "score",
    "encode", "decode", "refresh", "expire", "schedule", "dispatch", "route", "sample", "aggregate", "summarise",
    "prune", "rotate", "retain", "compact", "index", "lookup", "match", "derive", "convert", "estimate",
)
ADJS = (
    "raw", "daily", "hourly", "pending", "active", "stale", "merged", "cached", "remote", "local", "primary",
    "default", "partial", "rolling", "latest", "nightly", "weekly", "current", "previous", "external", "shared",
)
PHRASES = (
    "Keeps the {a} {n} in step with the upstream {m}.",
    "Helpers for {n} handling; see the {m} module for the storage side.",
    "Reads {a} {n} records and turns them into {m} summaries.",
    "The {n} model and the rules that decide when a {m} is due.",
    "Small utilities shared by the {n} and {m} handlers.",
    "Validation of incoming {n} payloads before they reach the {m} queue.",
    "Periodic {n} maintenance: pruning, compaction and {m} rollups.",
)
SUBPACKAGES = ("core", "api", "adapters", "storage", "services", "domain", "utils", "handlers", "jobs")
STDLIB = {
    "__future__", "asyncio", "collections", "contextlib", "dataclasses", "datetime", "enum", "functools",
    "itertools", "json", "logging", "math", "os", "pathlib", "re", "statistics", "time", "typing", "unittest",
    "unittest.mock", "uuid", "warnings",
}

LOG_MEDIAN, LOG_SIGMA, MIN_LINES, MAX_LINES = 112.0, 0.85, 14, 1450


def camel(*words: str) -> str:
    return "".join(w.capitalize() for w in words)


# ---- one module being written ---------------------------------------------------------------------------


class Mod:
    """The names, imports and blocks of one generated Python module."""

    def __init__(self, rng: random.Random, svc: Service, kind: str) -> None:
        self.rng, self.svc, self.kind = rng, svc, kind
        self.used: set[str] = set()
        self.froms: dict[str, set[str]] = {}
        self.plain: set[str] = set()
        self.log = False
        self.defs: list[str] = []  # top-level functions
        self.classes: list[str] = []

    # names
    def uniq(self, base: str) -> str:
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}_{k}" if base[0].islower() else f"{base}{k}", k + 1
        self.used.add(name)
        return name

    def noun(self) -> str:
        return self.rng.choice(NOUNS)

    def fn(self) -> str:
        r = self.rng
        base = f"{r.choice(VERBS)}_{r.choice(NOUNS)}" if r.random() < 0.7 else \
            f"{r.choice(VERBS)}_{r.choice(ADJS)}_{r.choice(NOUNS)}"
        return self.uniq(base)

    def cls(self, suffix: str = "") -> str:
        r = self.rng
        words = (r.choice(NOUNS), r.choice(("Store", "Service", "Manager", "Handler", "Builder", "Index", "Client",
                                           "Registry", "Policy", "Planner", "Tracker", "Buffer")))
        return self.uniq(camel(r.choice(ADJS), *words) if r.random() < 0.3 else camel(*words) + suffix)

    def const(self) -> str:
        r = self.rng
        return self.uniq(f"{r.choice(ADJS)}_{r.choice(NOUNS)}_{r.choice(('LIMIT', 'TIMEOUT', 'KEYS', 'NAMES', 'SIZE', 'TTL', 'MAP', 'DEFAULTS'))}".upper())

    def text(self) -> str:
        r = self.rng
        return r.choice(PHRASES).format(a=r.choice(ADJS), n=r.choice(NOUNS), m=r.choice(NOUNS))

    # imports
    def frm(self, module: str, *names: str) -> None:
        self.froms.setdefault(module, set()).update(names)

    def imp(self, module: str) -> None:
        self.plain.add(module)

    def logger(self) -> str:
        self.imp("logging")
        self.log = True
        return "log"

    def header(self, docstring: str, future: bool) -> list[str]:
        out = [f'"""{docstring}"""', ""]
        if future:
            out += ["from __future__ import annotations", ""]
        groups: dict[int, list[str]] = {0: [], 1: [], 2: []}

        def group(module: str) -> int:
            top = module.split(".")[0]
            if module in STDLIB or top in STDLIB:
                return 0
            return 2 if top in (self.svc.pkg, "") or module.startswith(".") else 1

        for module in sorted(self.plain):
            groups[group(module)].append(f"import {module}")
        for module in sorted(self.froms):
            names = sorted(self.froms[module], key=lambda n: (not n.isupper(), n.lower()))
            line = f"from {module} import {', '.join(names)}"
            if len(line) > 100:
                line = f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
            groups[group(module)].append(line)
        for g in (0, 1, 2):
            if groups[g]:
                out += [*sorted(groups[g], key=lambda s: (s.startswith("from"), s)), ""]
        return out


@dataclass
class Service:
    index: int
    name: str
    pkg: str
    libs: frozenset[str]
    primary: str
    asyncio_mode: str  # "" (unset), "auto" or "strict"
    stack: str = "library"
    era: int = 0
    modules: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # dotted, functions, classes


# ---- statements inside functions --------------------------------------------------------------------------


def _lit(r: random.Random) -> str:
    return repr(r.choice((f"{r.choice(NOUNS)}", f"{r.choice(ADJS)}-{r.choice(NOUNS)}", f"{r.choice(NOUNS)}/{r.choice(NOUNS)}")))


def statements(m: Mod, src: str, ind: str) -> tuple[list[str], str]:
    """A few statements over `src` (a parameter); returns the lines and a local name worth returning."""
    r = m.rng
    a, b = m.rng.choice(NOUNS), m.rng.choice(NOUNS)
    if a == b or a == src:
        a = f"{a}_items"
    k = r.randint(2, 64)
    it = r.choice(("item", "entry", "value", "row", "obj", "x"))
    pick = r.randrange(14)
    if pick == 0:
        lines = [f"{a}_total = 0", f"for {it} in {src}:", f"    if {it} is None:", "        continue",
                 f"    if isinstance({it}, (int, float)):", f"        {a}_total += {it} * {k}", "    else:",
                 f"        {a}_total += len(str({it}))"]
        ret = f"{a}_total"
    elif pick == 1:
        lines = [f"{a} = [str({it}).strip().lower() for {it} in {src} if {it}]",
                 f"{b}_index = {{{it}: n for n, {it} in enumerate({a})}}"]
        ret = f"{b}_index"
    elif pick == 2:
        m.imp("json")
        log = m.logger()
        lines = ["try:", f"    {a} = json.loads({src}) if isinstance({src}, (str, bytes)) else dict({src})",
                 "except (TypeError, ValueError) as exc:",
                 f"    {log}.warning(\"could not decode %s: %s\", {_lit(r)}, exc)", f"    {a} = {{}}"]
        ret = a
    elif pick == 3:
        lines = [f"{a}_groups: dict[str, list] = {{}}", f"for {it} in {src}:",
                 f"    {a}_groups.setdefault(str({it})[:{k % 7 + 1}], []).append({it})"]
        ret = f"{a}_groups"
    elif pick == 4:
        lines = [f"{a} = sorted({src}, key=lambda {it}: (str({it}), len(str({it}))), reverse={r.random() < 0.5})"]
        ret = a
    elif pick == 5:
        lines = [f"{a}_count = 0", f"while {a}_count < {k} and {a}_count < len({src}):",
                 f"    if str({src}[{a}_count]).startswith({_lit(r)}):", "        break", f"    {a}_count += 1"]
        ret = f"{a}_count"
    elif pick == 6:
        lines = [f"if not {src}:", f"    return {r.choice(('None', '[]', '{}', '0', 'False', repr(''))) }"]
        ret = src
    elif pick == 7:
        m.imp("time")
        log = m.logger()
        lines = [f"{a}_started = time.monotonic()", f"{b}_seen = {{str({it}) for {it} in {src}}}",
                 f"{log}.debug(\"%s: %d {b} in %.3fs\", {_lit(r)}, len({b}_seen), time.monotonic() - {a}_started)"]
        ret = f"{b}_seen"
    elif pick == 8:
        m.frm("pathlib", "Path")
        lines = [f"{a}_path = Path(str({src})).with_suffix(\".{r.choice(('json', 'csv', 'txt', 'yaml'))}\")",
                 f"if {a}_path.exists():", f"    with {a}_path.open(encoding=\"utf-8\") as fh:",
                 f"        {a}_lines = [line.rstrip() for line in fh if line.strip() and not line.startswith(\"#\")]",
                 "else:", f"    {a}_lines = []"]
        ret = f"{a}_lines"
    elif pick == 9:
        lines = [f"{a}_pairs = dict(zip(map(str, {src}), range({k})))",
                 f"{a}_sum = sum(v for v in {a}_pairs.values() if v % {k % 5 + 2})"]
        ret = f"{a}_sum"
    elif pick == 10:
        lines = [f"if any(str({it}).startswith({_lit(r)}) for {it} in {src}):", f"    {a}_flag = True",
                 f"elif all({it} for {it} in {src}):", f"    {a}_flag = len({src}) > {k}", "else:",
                 f"    {a}_flag = False"]
        ret = f"{a}_flag"
    elif pick == 11:
        log = m.logger()
        lines = [f"{a}_errors: list[str] = []", f"for {it} in list({src}):", "    try:",
                 f"        {b} = int(str({it}).split(\":\")[-1])", "    except ValueError as exc:",
                 f"        {a}_errors.append(f\"{{{it}!r}}: {{exc}}\")", "        continue",
                 f"    if {b} > {k}:", f"        {log}.info(\"%s over the limit (%d > {k})\", {it}, {b})"]
        ret = f"{a}_errors"
    elif pick == 12:
        m.frm("collections", "Counter")
        lines = [f"{a}_counts = Counter(str({it}).split(\".\")[0] for {it} in {src})",
                 f"{a}_common = [name for name, n in {a}_counts.most_common({k % 9 + 1}) if n > 1]"]
        ret = f"{a}_common"
    else:
        lines = [f"{a}_chunks = [list({src})[i:i + {k}] for i in range(0, len({src}), {k})]",
                 f"{a}_sizes = tuple(len(c) for c in {a}_chunks)"]
        ret = f"{a}_sizes"
    return [ind + ln for ln in lines], ret


def body(m: Mod, src: str, ind: str, lo: int = 1, hi: int = 4) -> list[str]:
    lines: list[str] = []
    ret = src
    for _ in range(m.rng.randint(lo, hi)):
        more, ret = statements(m, src, ind)
        lines += more
    lines.append(f"{ind}return {ret}")
    return lines


# ---- plain source blocks ------------------------------------------------------------------------------------


def b_constants(m: Mod) -> list[str]:
    r = m.rng
    out = []
    for _ in range(r.randint(2, 6)):
        name = m.const()
        kind = r.randrange(5)
        if kind == 0:
            out.append(f"{name} = {r.choice((5, 10, 30, 60, 100, 250, 1000, 3600, 86400))}")
        elif kind == 1:
            out.append(f"{name} = {_lit(r)}")
        elif kind == 2:
            out.append(f"{name} = ({', '.join(_lit(r) for _ in range(r.randint(2, 6)))},)")
        elif kind == 3:
            out.append(f"{name} = frozenset({{{', '.join(_lit(r) for _ in range(r.randint(2, 5)))}}})")
        else:
            out.append(f"{name}: dict[str, int] = {{{', '.join(f'{_lit(r)}: {r.randint(0, 500)}' for _ in range(r.randint(2, 5)))}}}")
    return out


def b_table(m: Mod) -> list[str]:
    r = m.rng
    name = m.const()
    out = [f"{name} = {{"]
    for _ in range(r.randint(5, 24)):
        out.append(f"    {_lit(r)}: ({r.randint(0, 99)}, {_lit(r)}, {r.random() < 0.5}),")
    return [*out, "}"]


def b_function(m: Mod) -> list[str]:
    r = m.rng
    name, src = m.fn(), r.choice(("items", "values", "rows", "entries", "records", "payload", "data"))
    opt = r.choice(("limit", "strict", "prefix", "window"))
    default = {"limit": str(r.randint(1, 500)), "strict": "False", "prefix": repr(""), "window": "60.0"}[opt]
    typ = {"limit": "int", "strict": "bool", "prefix": "str", "window": "float"}[opt]
    m.defs.append(name)
    out = [f"def {name}({src}: Sequence[Any], {opt}: {typ} = {default}) -> Any:"]
    m.frm("typing", "Any")
    m.frm("collections.abc", "Sequence")
    if r.random() < 0.6:
        out.append(f'    """{m.text()}"""')
    return out + body(m, src, "    ", 1, 5)


def b_dataclass(m: Mod) -> list[str]:
    r = m.rng
    m.frm("dataclasses", "dataclass")
    name = m.cls()
    m.classes.append(name)
    frozen = r.random() < 0.4
    out = [f"@dataclass{'(frozen=True)' if frozen else ''}", f"class {name}:"]
    if r.random() < 0.5:
        out.append(f'    """{m.text()}"""')
        out.append("")
    seen = set()
    for i in range(r.randint(2, 8)):
        fname = r.choice(NOUNS) + r.choice(("", "_id", "_at", "_count", "_name"))
        if fname in seen:
            continue
        seen.add(fname)
        typ = r.choice(("str", "int", "float", "bool", "list[str]", "dict[str, Any]", "str | None"))
        if i < 2:
            out.append(f"    {fname}: {typ}")
        elif typ.startswith(("list", "dict")):
            m.frm("dataclasses", "field")
            out.append(f"    {fname}: {typ} = field(default_factory={typ.split('[')[0]})")
        else:
            default = {"str": repr(r.choice(NOUNS)), "int": str(r.randint(0, 99)), "float": "0.0", "bool": "False",
                       "str | None": "None"}[typ]
            out.append(f"    {fname}: {typ} = {default}")
        if "Any" in typ:
            m.frm("typing", "Any")
    if r.random() < 0.6:
        first = next(iter(seen))
        out += ["", "    @property", f"    def {r.choice(VERBS)}_key(self) -> str:",
                f"        return f\"{{self.{first}}}:{r.choice(NOUNS)}\""]
    if r.random() < 0.4:
        m.frm("typing", "Any")
        out += ["", "    @classmethod", f"    def from_dict(cls, data: dict[str, Any]) -> {name}:",
                "        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}",
                "        return cls(**known)"]
    return out


def b_class(m: Mod, asynchronous: bool = False) -> list[str]:
    r = m.rng
    name = m.cls()
    m.classes.append(name)
    a, b = r.choice(NOUNS), r.choice(("limit", "size", "retries", "ttl", "depth"))
    out = [f"class {name}:"]
    if r.random() < 0.7:
        out += [f'    """{m.text()}', "", f"    Thread-safe only for readers; {r.choice(VERBS)} holds no lock.", '    """',
                ""]
    out += [f"    def __init__(self, {a}: str, {b}: int = {r.randint(1, 100)}) -> None:", f"        self.{a} = {a}",
            f"        self._{b} = {b}", "        self._cache: dict[str, Any] = {}", ""]
    m.frm("typing", "Any")
    if r.random() < 0.5:
        out += ["    @property", f"    def {b}(self) -> int:", f"        return self._{b}", ""]
    methods = r.randint(2, 9)
    for i in range(methods):
        meth = r.choice(VERBS) + "_" + r.choice(NOUNS)
        if f"def {meth}(" in "\n".join(out):
            meth += f"_{i}"
        src = r.choice(("items", "values", "batch", "rows"))
        is_async = asynchronous and r.random() < 0.5
        out.append(f"    {'async ' if is_async else ''}def {meth}(self, {src}: list[Any]) -> Any:")
        if r.random() < 0.4:
            out.append(f'        """{m.text()}"""')
        if is_async:
            m.imp("asyncio")
            out += ["        await asyncio.sleep(0)", f"        if len({src}) > self._{b}:",
                    f"            {src} = {src}[: self._{b}]"]
        elif r.random() < 0.4:
            out += [f"        key = f\"{{self.{a}}}:{{len({src})}}\"", "        if key in self._cache:",
                    "            return self._cache[key]"]
        out += body(m, src, "        ", 1, 4)
        out.append("")
    if r.random() < 0.5:
        out += ["    def __repr__(self) -> str:", f"        return f\"{name}({{self.{a}!r}}, {b}={{self._{b}}})\"", ""]
    return out[:-1] if out[-1] == "" else out


def b_enum(m: Mod) -> list[str]:
    r = m.rng
    m.frm("enum", "Enum")
    name = m.uniq(camel(r.choice(NOUNS), r.choice(("Kind", "State", "Level", "Mode"))))
    m.classes.append(name)
    members = sorted({r.choice(ADJS).upper() for _ in range(r.randint(3, 7))})
    out = [f"class {name}(str, Enum):"] + [f"    {mem} = {mem.lower()!r}" for mem in members]
    if r.random() < 0.5:
        out += ["", "    @classmethod", f"    def parse(cls, text: str) -> {name}:", "        try:",
                "            return cls(text.strip().lower())", "        except ValueError:",
                f"            return cls.{members[0]}"]
    return out


def b_errors(m: Mod) -> list[str]:
    r = m.rng
    base = m.uniq(camel(r.choice(NOUNS), "Error"))
    out = [f"class {base}(Exception):", f'    """Raised when a {r.choice(NOUNS)} cannot be {r.choice(VERBS)}d."""']
    for _ in range(r.randint(1, 3)):
        sub = m.uniq(camel(r.choice(ADJS), r.choice(NOUNS), "Error"))
        out += ["", "", f"class {sub}({base}):", "    def __init__(self, key: str, reason: str = \"\") -> None:",
                "        super().__init__(f\"{key}: {reason}\" if reason else key)", "        self.key = key"]
    m.classes.append(base)
    return out


def b_async(m: Mod) -> list[str]:
    r = m.rng
    m.imp("asyncio")
    m.frm("typing", "Any")
    m.frm("collections.abc", "Awaitable", "Callable")
    name = m.fn()
    m.defs.append(name)
    log = m.logger()
    pick = r.randrange(3)
    if pick == 0:
        return [f"async def {name}(jobs: list[Callable[[], Awaitable[Any]]], limit: int = {r.randint(2, 16)}) -> list[Any]:",
                "    semaphore = asyncio.Semaphore(limit)", "", "    async def one(job: Callable[[], Awaitable[Any]]) -> Any:",
                "        async with semaphore:", "            return await job()", "",
                "    results = await asyncio.gather(*(one(j) for j in jobs), return_exceptions=True)",
                "    failed = [res for res in results if isinstance(res, Exception)]", "    if failed:",
                f"        {log}.warning(\"%d of %d jobs failed\", len(failed), len(results))",
                "    return [res for res in results if not isinstance(res, Exception)]"]
    if pick == 1:
        return [f"async def {name}(queue: asyncio.Queue, handler: Callable[[Any], Awaitable[None]]) -> int:",
                "    handled = 0", "    while True:", "        item = await queue.get()", "        try:",
                "            if item is None:", "                return handled", "            await handler(item)",
                "            handled += 1", "        except Exception:",
                f"            {log}.exception(\"handler failed for %r\", item)", "        finally:",
                "            queue.task_done()"]
    return [f"async def {name}(call: Callable[[], Awaitable[Any]], timeout: float = {r.choice((1.0, 2.5, 5.0, 30.0))}) -> Any:",
            "    try:", "        return await asyncio.wait_for(call(), timeout)", "    except asyncio.TimeoutError:",
            f"        {log}.error(\"timed out after %.1fs\", timeout)", "        return None"]


def b_context(m: Mod) -> list[str]:
    r = m.rng
    m.frm("contextlib", "contextmanager")
    m.frm("collections.abc", "Iterator")
    m.imp("time")
    log = m.logger()
    name = m.fn()
    m.defs.append(name)
    return ["@contextmanager", f"def {name}(label: str) -> Iterator[dict[str, float]]:",
            "    stats = {\"started\": time.monotonic()}", "    try:", "        yield stats", "    except Exception:",
            f"        {log}.exception(\"%s failed\", label)", "        raise", "    finally:",
            "        stats[\"elapsed\"] = time.monotonic() - stats[\"started\"]",
            f"        {log}.{r.choice(('debug', 'info'))}(\"%s took %.3fs\", label, stats[\"elapsed\"])"]


def b_settings(m: Mod) -> list[str]:
    r = m.rng
    m.imp("os")
    name = m.fn()
    m.defs.append(name)
    keys = sorted({f"{r.choice(NOUNS)}_{r.choice(('URL', 'HOST', 'PORT', 'TIMEOUT', 'LEVEL', 'PATH'))}".upper()
                   for _ in range(r.randint(2, 6))})
    out = [f"def {name}() -> dict[str, str]:", "    return {"]
    out += [f"        {k.lower()!r}: os.environ.get({k!r}, {_lit(r)})," for k in keys]
    return [*out, "    }"]


def b_protocol(m: Mod) -> list[str]:
    r = m.rng
    m.frm("typing", "Protocol")
    name = m.uniq(camel(r.choice(NOUNS), r.choice(("Sink", "Source", "Reader", "Writer"))))
    m.classes.append(name)
    out = [f"class {name}(Protocol):"]
    for _ in range(r.randint(1, 4)):
        out += [f"    def {r.choice(VERBS)}_{r.choice(NOUNS)}(self, key: str) -> object: ...", ""]
    return out[:-1]


SOURCE_BLOCKS: list[tuple[Callable[[Mod], list[str]], int]] = [
    (b_function, 30), (b_class, 18), (b_dataclass, 10), (b_constants, 6), (b_table, 3), (b_enum, 4), (b_errors, 3),
    (b_context, 3), (b_settings, 3), (b_protocol, 2),
]


# ---- plain test blocks -------------------------------------------------------------------------------------


def _target(m: Mod) -> tuple[str, str]:
    """A module of the service and one of its names, imported the way the tests of a real service do."""
    r = m.rng
    mods = [x for x in m.svc.modules if x[1] or x[2]]
    if not mods:
        return "", "len"
    dotted, defs, classes = r.choice(mods)
    alias = dotted.rsplit(".", 1)[-1]
    m.frm(dotted.rsplit(".", 1)[0], alias) if "." in dotted else m.imp(dotted)
    name = r.choice(defs or classes)
    return alias, f"{alias}.{name}"


def t_parametrize(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    alias, target = _target(m)
    name = m.uniq(f"test_{r.choice(VERBS)}_{r.choice(NOUNS)}")
    a, b = r.choice(NOUNS), r.choice(ADJS)
    if a == b:
        b += "_value"
    rows = []
    for i in range(r.randint(3, 14)):
        x, y = r.randint(-50, 500), r.randint(0, 99)
        row = f"{x}, {y}, {x + y}" if r.random() < 0.5 else f"{_lit(r)}, {y}, {y > 50}"
        if r.random() < 0.2:
            mark = r.choice(("pytest.mark.slow", "pytest.mark.xfail(reason=\"upstream bug\")", "pytest.mark.skip"))
            row = f"pytest.param({row}, marks={mark}, id=\"{r.choice(NOUNS)}-{i}\")"
        else:
            row = f"({row})"
        rows.append(f"        {row},")
    out = ["@pytest.mark.parametrize(", f"    (\"{a}\", \"{b}\", \"expected\"),", "    [", *rows, "    ],"]
    if r.random() < 0.25:
        out.append("    ids=str,")
    out += [")", f"def {name}({a}, {b}, expected):"]
    if r.random() < 0.5:
        out += [f"    result = {target}([{a}, {b}])" if alias else f"    result = [{a}, {b}]",
                "    assert result is not None or expected is not None"]
    out += [f"    if isinstance({a}, int):", f"        assert {a} + {b} == expected", "    else:",
            f"        assert ({b} > 50) == expected"]
    return out


def t_simple(m: Mod) -> list[str]:
    r = m.rng
    alias, target = _target(m)
    name = m.uniq(f"test_{r.choice(VERBS)}_{r.choice(ADJS)}_{r.choice(NOUNS)}")
    fixture = r.choice(("tmp_path", "monkeypatch", "caplog", ""))
    out = [f"def {name}({fixture}):"]
    if r.random() < 0.3:
        out.append(f'    """{m.text()}"""')
    if fixture == "tmp_path":
        out += [f"    path = tmp_path / \"{r.choice(NOUNS)}.json\"", f"    path.write_text('{{\"{r.choice(NOUNS)}\": {r.randint(1, 9)}}}')",
                "    assert path.exists()"]
    elif fixture == "monkeypatch":
        out += [f"    monkeypatch.setenv(\"{r.choice(NOUNS).upper()}_URL\", \"http://localhost:{r.randint(1024, 9999)}\")"]
    elif fixture == "caplog":
        out += ["    caplog.set_level(\"DEBUG\")"]
    items = [_lit(r) for _ in range(r.randint(2, 6))]
    out += [f"    items = [{', '.join(items)}]"]
    if alias:
        out += [f"    result = {target}(items)"]
    else:
        out += ["    result = sorted(items)"]
    checks = [f"    assert len(items) == {len(items)}", "    assert result is not None or items",
              "    assert all(isinstance(i, str) for i in items)", f"    assert {items[0]} in items"]
    r.shuffle(checks)
    return out + checks[: r.randint(1, 4)]


def t_raises(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    name = m.uniq(f"test_{r.choice(VERBS)}_rejects_{r.choice(ADJS)}_{r.choice(NOUNS)}")
    exc = r.choice(("ValueError", "KeyError", "TypeError", "RuntimeError"))
    out = [f"def {name}():"]
    out += [f"    with pytest.raises({exc}{', match=' + repr(r.choice(NOUNS)) if r.random() < 0.5 else ''}):",
            f"        raise {exc}({r.choice(NOUNS)!r})"]
    if r.random() < 0.5:
        out += ["    with pytest.raises(ZeroDivisionError) as info:", "        _ = 1 / 0",
                "    assert \"division\" in str(info.value)"]
    return out


def t_class(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    alias, target = _target(m)
    name = m.uniq(f"Test{camel(r.choice(NOUNS), r.choice(VERBS))}")
    out = [f"class {name}:"]
    if r.random() < 0.4:
        out += [f'    """{m.text()}"""', ""]
    if r.random() < 0.5:
        out += ["    @pytest.fixture", f"    def {r.choice(NOUNS)}_data(self):",
                f"        return {{{', '.join(f'{_lit(r)}: {r.randint(0, 9)}' for _ in range(3))}}}", ""]
    for i in range(r.randint(2, 7)):
        meth = f"test_{r.choice(VERBS)}_{r.choice(NOUNS)}_{i}"
        out.append(f"    def {meth}(self):")
        values = [str(r.randint(0, 100)) for _ in range(r.randint(2, 6))]
        out += [f"        values = [{', '.join(values)}]"]
        pick = r.randrange(4)
        if pick == 0:
            out += [f"        assert sum(values) == {sum(int(v) for v in values)}"]
        elif pick == 1:
            out += ["        assert max(values) >= min(values)", "        assert sorted(values) == sorted(values, reverse=True)[::-1]"]
        elif pick == 2 and alias:
            out += [f"        assert {target} is not None"]
        else:
            out += [f"        assert len(values) == {len(values)}", f"        assert pytest.approx(sum(values) / len(values)) == {sum(int(v) for v in values) / len(values)!r}"]
        out.append("")
    return out[:-1]


def t_fixture(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    name = m.uniq(f"{r.choice(ADJS)}_{r.choice(NOUNS)}")
    if r.random() < 0.5:
        return ["@pytest.fixture", f"def {name}():", f"    return {{{', '.join(f'{_lit(r)}: {r.randint(0, 99)}' for _ in range(r.randint(1, 4)))}}}"]
    return ["@pytest.fixture", f"def {name}(tmp_path):", f"    folder = tmp_path / {r.choice(NOUNS)!r}", "    folder.mkdir()",
            "    yield folder", "    for child in folder.iterdir():", "        child.unlink()"]


def t_async(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    m.imp("asyncio")
    name = m.uniq(f"test_{r.choice(VERBS)}_{r.choice(NOUNS)}_async")
    out = ["@pytest.mark.asyncio", f"async def {name}():"]
    pick = r.randrange(3)
    if pick == 0:
        out += ["    queue: asyncio.Queue = asyncio.Queue()", *[f"    await queue.put({r.randint(0, 99)})" for _ in range(r.randint(1, 4))],
                "    assert not queue.empty()"]
    elif pick == 1:
        out += ["    async def work(n):", "        await asyncio.sleep(0)", "        return n * 2", "",
                f"    results = await asyncio.gather(*(work(i) for i in range({r.randint(2, 9)})))", "    assert results[0] == 0"]
    else:
        out += ["    event = asyncio.Event()", "    event.set()", "    await asyncio.wait_for(event.wait(), timeout=1)",
                "    assert event.is_set()"]
    return out


def t_helper(m: Mod) -> list[str]:
    r = m.rng
    name = m.uniq(f"make_{r.choice(NOUNS)}")
    keys = sorted({r.choice(NOUNS) for _ in range(r.randint(2, 5))})
    out = [f"def {name}(**overrides):", "    data = {"]
    out += [f"        {k!r}: {_lit(r)}," for k in keys]
    return [*out, "    }", "    data.update(overrides)", "    return data"]


TEST_BLOCKS: list[tuple[Callable[[Mod], list[str]], int]] = [
    (t_parametrize, 24), (t_simple, 26), (t_raises, 10), (t_class, 14), (t_fixture, 8), (t_helper, 6),
]


def c_fixtures(m: Mod) -> list[str]:
    """conftest.py blocks: wide fixtures with teardown, autouse, factories, hooks."""
    r = m.rng
    m.imp("pytest")
    pick = r.randrange(6)
    name = m.uniq(f"{r.choice(ADJS)}_{r.choice(NOUNS)}")
    if pick == 0:
        scope = r.choice(("session", "module", "package"))
        return [f"@pytest.fixture(scope=\"{scope}\")", f"def {name}(tmp_path_factory):",
                f"    root = tmp_path_factory.mktemp({r.choice(NOUNS)!r})", f"    (root / \"{r.choice(NOUNS)}.db\").touch()",
                "    yield root", "    for path in sorted(root.rglob(\"*\"), reverse=True):",
                "        path.unlink() if path.is_file() else path.rmdir()"]
    if pick == 1:
        return ["@pytest.fixture(autouse=True)", f"def {name}(monkeypatch):",
                f"    monkeypatch.setenv(\"{r.choice(NOUNS).upper()}_ENV\", \"test\")",
                f"    monkeypatch.delenv(\"{r.choice(NOUNS).upper()}_TOKEN\", raising=False)"]
    if pick == 2:
        return ["@pytest.fixture", f"def {name}_factory():", "    made = []", "", "    def make(**kwargs):",
                f"        obj = {{\"id\": len(made) + 1, \"kind\": {_lit(r)}, **kwargs}}", "        made.append(obj)",
                "        return obj", "", "    yield make", "    made.clear()"]
    if pick == 3 and "pytest-asyncio" in m.svc.libs:
        m.imp("pytest_asyncio")
        m.imp("asyncio")
        return ["@pytest_asyncio.fixture", f"async def {name}():", "    queue: asyncio.Queue = asyncio.Queue()",
                "    yield queue", "    while not queue.empty():", "        queue.get_nowait()"]
    if pick == 4 and "pytest_configure" not in m.used:
        m.used.add("pytest_configure")
        return ["def pytest_configure(config):",
                "    config.addinivalue_line(\"markers\", \"slow: takes more than a second\")",
                f"    config.addinivalue_line(\"markers\", \"{r.choice(NOUNS)}: needs the {r.choice(NOUNS)} double\")"]
    if pick == 4:
        return t_helper(m)
    return [f"@pytest.fixture(scope=\"{r.choice(('session', 'module'))}\")", f"def {name}():",
            f"    return {{{', '.join(f'{_lit(r)}: {r.randint(0, 99)}' for _ in range(r.randint(2, 5)))}}}"]


# ---- migrated-library sites ----------------------------------------------------------------------------------------


def _t(text: str, m: Mod, **extra: str) -> list[str]:
    """A template with $names: $fn, $Cls, $noun, $topic, $n (fresh for each block), and `extra`."""
    r = m.rng
    values = {"fn": m.fn(), "fn2": m.fn(), "Cls": m.cls(), "noun": r.choice(NOUNS), "topic": r.choice(NOUNS) + "s",
              "log": "log", "bucket": r.choice(("home", "sensors", "metrics", "energy", "telemetry")),
              "n": str(r.randint(2, 8)), "svc": m.svc.name, "w": str(r.choice((0.5, 1, 2, 5))), **extra}
    return string.Template(text).substitute(values).splitlines()


def s_tenacity(m: Mod) -> list[str]:
    r = m.rng
    pick = r.randrange(8)
    m.logger()
    if pick == 0:
        m.frm("tenacity", "retry", "stop_after_attempt", "wait_exponential", "retry_if_exception_type")
        return _t('''@retry(
    stop=stop_after_attempt($n),
    wait=wait_exponential(multiplier=$w, max=30),
    retry=retry_if_exception_type((ConnectionError, TimeoutError)),
    reraise=True,
)
def $fn(key: str) -> dict:
    """Fetch one $noun, retrying transient failures."""
    response = _transport().get(f"/$noun/{key}")
    response.raise_for_status()
    return response.json()


def $fn2() -> int:
    """Attempts the last $fn call took (exported as a metric)."""
    return $fn.retry.statistics.get("attempt_number", 0)''', m)
    if pick == 1:
        m.frm("tenacity", "stop_after_attempt", "wait_fixed", "retry_if_exception_type")
        m.frm("tenacity._asyncio", "AsyncRetrying")
        return _t('''async def $fn(send, payload: bytes) -> None:
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt($n),
        wait=wait_fixed($w),
        retry=retry_if_exception_type(OSError),
        reraise=True,
    ):
        with attempt:
            await send(payload)
            log.debug("sent %d bytes (attempt %d)", len(payload), attempt.retry_state.attempt_number)''', m)
    if pick == 2:
        m.frm("tenacity", "retry", "retry_if_exception_type", "stop_after_delay")
        return _t('''def _${noun}_retryable(state) -> bool:
    outcome = state.outcome
    return outcome is not None and not outcome.failed and outcome.result() is None


@retry(retry=retry_if_exception_type(IOError) | _${noun}_retryable, stop=stop_after_delay($n))
def $fn(path: str) -> bytes | None:
    with open(path, "rb") as fh:
        return fh.read() or None''', m)
    if pick == 3:
        m.frm("tenacity", "retry", "stop_after_attempt", "wait_random", "before_sleep_log")
        return _t('''@retry(
    stop=stop_after_attempt($n),
    wait=wait_random(0, $w),
    before_sleep=before_sleep_log($log, logging.WARNING),
)
def $fn(client, batch: list) -> int:
    written = client.write_many(batch)
    if written != len(batch):
        raise RuntimeError(f"short write: {written} of {len(batch)}")
    return written''', m)
    if pick == 4:
        m.frm("tenacity", "AsyncRetrying", "stop_after_attempt", "wait_exponential_jitter")
        return _t('''async def $fn(call, *args):
    retrying = AsyncRetrying(stop=stop_after_attempt($n), wait=wait_exponential_jitter(initial=$w, max=20))
    return await retrying(call, *args)''', m)
    if pick == 5:
        m.imp("tenacity")
        return _t('''class $Cls(tenacity.Retrying):
    """Retrying that counts its attempts under a label."""

    def __init__(self, label: str, **kwargs):
        super().__init__(**kwargs)
        self.label = label
        self.attempts = 0

    def __call__(self, fn, *args, **kwargs):
        self.attempts += 1
        return super().__call__(fn, *args, **kwargs)''', m)
    if pick == 6:
        m.frm("tenacity", "retry", "stop_after_attempt", "wait_random_exponential")
        return _t('''@retry(wait=wait_random_exponential(min=1, max=60), stop=stop_after_attempt($n))
def $fn(session, url: str):
    reply = session.post(url, timeout=10)
    if reply.status_code >= 500:
        raise ConnectionError(reply.status_code)
    return reply''', m)
    m.frm("tenacity", "retry", "stop_after_attempt", "wait_exponential")
    return _t('''@retry(stop=stop_after_attempt($n), wait=wait_exponential(multiplier=$w))
async def $fn(pool, query: str):
    async with pool.acquire() as conn:
        return await conn.fetch(query)


def $fn2(fn) -> dict:
    stats = fn.retry.statistics
    return {"attempts": stats.get("attempt_number", 0), "idle": stats.get("idle_for", 0.0)}''', m)


def s_tenacity_test(m: Mod) -> list[str]:
    m.frm("unittest", "mock")
    if m.rng.random() < 0.5:
        return _t('''@mock.patch("tenacity._asyncio.sleep", new_callable=mock.AsyncMock)
def test_${fn}_does_not_sleep(sleep):
    sleep.return_value = None
    assert sleep.call_count == 0''', m)
    m.frm("tenacity", "retry", "stop_after_attempt")
    return _t('''def test_${fn}_retries_until_it_succeeds():
    calls = []

    @retry(stop=stop_after_attempt(3))
    def flaky():
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionError
        return len(calls)

    assert flaky() == 2
    assert flaky.retry.statistics["attempt_number"] == 2''', m)


def s_mqtt(m: Mod) -> list[str]:
    r = m.rng
    m.imp("asyncio")
    m.logger()
    pick = r.randrange(6)
    if pick == 0:
        m.frm("asyncio_mqtt", "Client")
        return _t('''async def $fn(host: str, port: int = 1883) -> None:
    async with Client(host, port=port, client_id="$svc-$noun") as client:
        async with client.filtered_messages("$topic/+/state") as messages:
            await client.subscribe("$topic/#")
            async for message in messages:
                room = message.topic.split("/")[1]
                log.debug("%s: %s", room, message.payload.decode())''', m)
    if pick == 1:
        m.frm("asyncio_mqtt", "Client")
        m.imp("json")
        return _t('''async def $fn(client: Client, sink: dict) -> None:
    async with client.unfiltered_messages() as messages:
        async for message in messages:
            if message.topic.startswith("$topic/"):
                sink[message.topic] = json.loads(message.payload)''', m)
    if pick == 2:
        m.frm("asyncio_mqtt", "Client", "MqttError")
        return _t('''async def $fn(settings, handle) -> None:
    reconnect = $n
    while True:
        try:
            async with Client(settings.host, port=settings.port, username=settings.user, password=settings.password) as client:
                async with client.messages() as messages:
                    await client.subscribe("$topic/#", qos=1)
                    async for message in messages:
                        await handle(message)
        except MqttError as err:
            $log.warning("MQTT connection lost (%s); reconnecting in %ss", err, reconnect)
            await asyncio.sleep(reconnect)''', m)
    if pick == 3:
        m.frm("asyncio_mqtt", "Client")
        m.imp("json")
        return _t('''class $Cls:
    """Publishes $noun readings to the bus."""

    def __init__(self, host: str, prefix: str = "$topic") -> None:
        self._host = host
        self._prefix = prefix

    async def publish_all(self, readings: list[dict]) -> int:
        async with Client(self._host, client_id="$svc-publisher", max_queued_messages=${n}00) as client:
            for reading in readings:
                await client.publish(f"{self._prefix}/{reading['id']}", payload=json.dumps(reading), qos=1)
        return len(readings)''', m)
    if pick == 4:
        m.frm("asyncio_mqtt", "Client", "MqttError")
        return _t('''async def $fn(host: str, topics: list[str]) -> list[str]:
    seen = []
    try:
        async with Client(host, keepalive=30) as client:
            for topic in topics:
                await client.subscribe(topic)
            async with client.filtered_messages(topics[0]) as messages:
                async for message in messages:
                    seen.append(str(message.topic))
                    if len(seen) >= $n:
                        break
    except MqttError:
        log.exception("subscription to %s failed", topics)
    return seen''', m)
    m.frm("asyncio_mqtt", "Client")
    return _t('''async def $fn(host: str, handlers: dict) -> None:
    async with Client(host) as client:
        tasks = set()
        for pattern, handler in handlers.items():
            manager = client.filtered_messages(pattern)
            messages = await manager.__aenter__()
            tasks.add(asyncio.create_task(handler(messages)))
        await client.subscribe("$topic/#")
        await asyncio.gather(*tasks)''', m)


def s_influx(m: Mod) -> list[str]:
    r = m.rng
    pick = r.randrange(7)
    if pick == 0:
        m.frm("influxdb_client", "InfluxDBClient", "Point")
        m.frm("influxdb_client.client.write_api", "SYNCHRONOUS")
        return _t('''class $Cls:
    """Writes $noun points to InfluxDB."""

    def __init__(self, url: str, token: str, org: str, bucket: str = "$bucket") -> None:
        self._client = InfluxDBClient(url=url, token=token, org=org)
        self._writer = self._client.write_api(write_options=SYNCHRONOUS)
        self._bucket = bucket

    def write(self, name: str, value: float, **tags: str) -> None:
        point = Point("$noun").field("value", value).tag("name", name)
        for key, tag in tags.items():
            point = point.tag(key, tag)
        self._writer.write(bucket=self._bucket, record=point)

    def close(self) -> None:
        self._client.close()''', m)
    if pick == 1:
        m.frm("influxdb_client", "InfluxDBClient")
        return _t('''${NAME}_FLUX = 'from(bucket: "$bucket") |> range(start: -$range) |> filter(fn: (r) => r._measurement == "$noun" and r._field == "value")'


def $fn(client: InfluxDBClient) -> list[tuple]:
    tables = client.query_api().query(${NAME}_FLUX)
    out = []
    for table in tables:
        for record in table.records:
            out.append((record.get_time(), record.get_value()))
    return out''', m, NAME=r.choice(NOUNS).upper(), range=r.choice(("1h", "24h", "7d")))
    if pick == 2:
        m.frm("influxdb_client", "InfluxDBClient")
        return _t('''def $fn(client: InfluxDBClient, field: str = "value") -> float:
    frame = client.query_api().query_data_frame(
        'from(bucket: "$bucket") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "$noun" and r._field == "value")'
    )
    return float(frame["_value"].mean()) if len(frame) else 0.0''', m)
    if pick == 3:
        m.frm("influxdb_client", "InfluxDBClient")
        return _t('''def $fn() -> InfluxDBClient:
    """The client configured from INFLUXDB_V2_URL / _TOKEN / _ORG."""
    return InfluxDBClient.from_env_properties()''', m)
    if pick == 4:
        m.frm("influxdb_client", "InfluxDBClient", "WriteOptions")
        return _t('''def $fn(url: str, token: str):
    client = InfluxDBClient(url=url, token=token, org="$svc")
    writer = client.write_api(write_options=WriteOptions(batch_size=${n}00, flush_interval=10_000))
    return client, writer''', m)
    if pick == 5:
        m.frm("influxdb_client.client.write_api", "SYNCHRONOUS")
        m.frm("influxdb_client.rest", "ApiException")
        m.logger()
        return _t('''def $fn(client, lines: list[str]) -> bool:
    try:
        client.write_api(write_options=SYNCHRONOUS).write(bucket="$bucket", record=lines)
    except ApiException as exc:
        $log.error("write of %d lines failed: %s", len(lines), exc)
        return False
    return True''', m)
    m.frm("influxdb_client", "InfluxDBClient")
    return _t('''def $fn(client: InfluxDBClient, days: int = 30) -> None:
    client.delete_api().delete("1970-01-01T00:00:00Z", f"-{days}d", '_measurement="$noun"', bucket="$bucket", org="$svc")''', m)


def s_dotenv(m: Mod) -> list[str]:
    r = m.rng
    m.imp("os")
    pick = r.randrange(4)
    if pick == 0:
        m.frm("dotenv", "load_dotenv")
        return _t('''load_dotenv()

${NAME}_URL = os.environ.get("${NAME}_URL", "http://localhost:8080")
${NAME}_TIMEOUT = float(os.environ.get("${NAME}_TIMEOUT", "5"))''', m, NAME=r.choice(NOUNS).upper())
    if pick == 1:
        m.frm("dotenv", "dotenv_values")
        return _t('''def $fn(path: str = ".env") -> dict[str, str]:
    values = {**dotenv_values(path), **os.environ}
    first = values.get("\\ufeff${NAME}_HOST") or values.get("${NAME}_HOST", "")
    return {"host": first, "port": values.get("${NAME}_PORT", "1883")}''', m, NAME=r.choice(NOUNS).upper())
    if pick == 2:
        m.frm("dotenv", "set_key", "find_dotenv")
        return _t('''def $fn(key: str, value: str) -> None:
    path = find_dotenv(usecwd=True) or ".env"
    set_key(path, key, value)
    os.environ[key] = value''', m)
    m.frm("dotenv", "load_dotenv", "find_dotenv")
    return _t('''def $fn(override: bool = False) -> bool:
    loaded = load_dotenv(find_dotenv(), override=override)
    if os.environ.get("${NAME}_DEBUG"):
        print("environment loaded:", loaded)
    return loaded''', m, NAME=r.choice(NOUNS).upper())


def s_asyncio_test(m: Mod) -> list[str]:
    """pytest-asyncio 0.23 sites in a test module."""
    r = m.rng
    m.imp("pytest")
    m.imp("asyncio")
    pick = r.randrange(5)
    if pick == 0:
        return _t('''@pytest.mark.asyncio
async def test_${fn}_on_loop(event_loop):
    future = event_loop.create_future()
    event_loop.call_soon(future.set_result, $n)
    assert await future == $n''', m)
    if pick == 1:
        return _t('''@pytest.mark.asyncio(scope="module")
class Test$Cls:
    async def test_shares_the_loop(self):
        await asyncio.sleep(0)

    async def test_queue(self):
        queue = asyncio.Queue()
        await queue.put($n)
        assert await queue.get() == $n''', m)
    if pick == 2:
        m.imp("pytest_asyncio")
        return _t('''@pytest_asyncio.fixture(scope="module")
async def ${fn}_server():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    yield server
    server.close()
    await server.wait_closed()''', m)
    if pick == 3:
        return _t('''@pytest.fixture
async def ${fn}_queue():
    queue = asyncio.Queue()
    yield queue
    assert queue.empty()''', m)
    return _t('''def test_${fn}_sync_wrapper():
    result = asyncio.get_event_loop().run_until_complete(asyncio.sleep(0, result=$n))
    assert result == $n''', m)


def s_asyncio_conftest(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    m.imp("asyncio")
    pick = r.randrange(3)
    if pick == 0:
        return _t('''@pytest.fixture(scope="$scope")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()''', m, scope=r.choice(("session", "module")))
    if pick == 1:
        m.imp("pytest_asyncio")
        return _t('''@pytest_asyncio.fixture(scope="$scope")
async def $fn():
    queue = asyncio.Queue(maxsize=$n)
    yield queue
    while not queue.empty():
        queue.get_nowait()''', m, scope=r.choice(("session", "module")))
    return _t('''@pytest.fixture(scope="session")
def event_loop():
    loop = asyncio.get_event_loop_policy().new_event_loop()
    yield loop
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()''', m)


def s_pytest9_test(m: Mod) -> list[str]:
    r = m.rng
    m.imp("pytest")
    pick = r.randrange(6)
    if pick == 0:
        return _t('''@pytest.yield_fixture
def ${fn}_files(tmp_path):
    made = [tmp_path / f"$noun-{i}.txt" for i in range($n)]
    for path in made:
        path.write_text("x")
    yield made
    for path in made:
        path.unlink(missing_ok=True)''', m)
    if pick == 1:
        return _t('''@pytest.mark.parametrize("$noun", (i * $n for i in range(4)))
def test_${fn}_multiples($noun):
    assert $noun % $n == 0''', m)
    if pick == 2:
        return _t('''@pytest.mark.parametrize("$noun", [1, 2, 3], False, ["one", "two", "three"])
def test_${fn}_small($noun):
    assert 0 < $noun < 4''', m)
    if pick == 3:
        return _t('''class Test$Cls:
    limit = $n

    @pytest.fixture(scope="class")
    def ${noun}_limit(self):
        return self.limit * 2

    def test_limit(self, ${noun}_limit):
        assert ${noun}_limit == $n * 2''', m)
    if pick == 4:
        return _t('''@pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn9Warning")
def test_${fn}_legacy():
    assert "$noun"''', m)
    return _t('''${noun}_yaml = pytest.importorskip("yaml")


def test_${fn}_yaml_roundtrip():
    assert ${noun}_yaml.safe_load("a: 1") == {"a": 1}''', m)


def s_pytest9_conftest(m: Mod) -> list[str]:
    r = m.rng
    if "pytest_ignore_collect" in m.used or r.random() < 0.5:
        m.imp("pytest")
        return _t('''@pytest.yield_fixture(scope="session")
def ${fn}_dir(tmp_path_factory):
    yield tmp_path_factory.mktemp("$noun")''', m)
    m.used.add("pytest_ignore_collect")
    return _t('''def pytest_ignore_collect(path, config):
    return path.basename.startswith("_$noun") or path.ext == ".txt"''', m)


@dataclass(frozen=True)
class Site:
    lib: str  # the package the service must use
    kinds: tuple[str, ...]  # "src", "test", "conftest"
    make: Callable[[Mod], list[str]]


SITES = (
    Site("tenacity", ("src",), s_tenacity),
    Site("tenacity", ("test",), s_tenacity_test),
    Site("asyncio-mqtt", ("src",), s_mqtt),
    Site("influxdb-client", ("src",), s_influx),
    Site("python-dotenv", ("src", "conftest"), s_dotenv),
    Site("pytest-asyncio", ("test",), s_asyncio_test),
    Site("pytest-asyncio", ("conftest",), s_asyncio_conftest),
    Site("pytest", ("test",), s_pytest9_test),
    Site("pytest", ("conftest",), s_pytest9_conftest),
)
# how often a library is picked for a touching file, among those the service uses (pytest: only where no other fits)
SITE_WEIGHT = {"tenacity": 4, "asyncio-mqtt": 3, "influxdb-client": 3, "python-dotenv": 2, "pytest-asyncio": 4, "pytest": 1}


# ---- modules --------------------------------------------------------------------------------------------------


def lines_target(r: random.Random) -> int:
    return max(MIN_LINES, min(MAX_LINES, int(r.lognormvariate(math.log(LOG_MEDIAN), LOG_SIGMA))))


def pick_weighted(r: random.Random, table: Sequence[tuple[Callable[[Mod], list[str]], int]]) -> Callable[[Mod], list[str]]:
    return r.choices([b for b, _ in table], weights=[w for _, w in table])[0]


def compose(m: Mod, target: int, sites: list[Site]) -> str:
    r = m.rng
    asynchronous = bool({"pytest-asyncio", "asyncio-mqtt"} & m.svc.libs)
    blocks: list[list[str]] = []
    total = 0
    if m.kind == "conftest":
        while total < target:
            blk = c_fixtures(m)
            blocks.append(blk)
            total += len(blk) + 2
    else:
        table = TEST_BLOCKS if m.kind == "test" else SOURCE_BLOCKS
        while total < target:
            if m.kind == "src" and asynchronous and r.random() < 0.12:
                blk = b_async(m) if r.random() < 0.5 else b_class(m, asynchronous=True)
            elif m.kind == "test" and "pytest-asyncio" in m.svc.libs and r.random() < 0.15:
                blk = t_async(m)
            else:
                blk = pick_weighted(r, table)(m)
            blocks.append(blk)
            total += len(blk) + 2
    for site in sites:  # a few sites of the old API, blended in among the plain blocks
        blk = site.make(m)
        blocks.insert(r.randint(0, len(blocks)), blk)
    if m.kind != "test" and r.random() < 0.2:  # constants first, as modules often start
        blocks.insert(0, b_constants(m))
    mark = r.choice(("unit", "integration", "slow")) if m.kind == "test" and r.random() < 0.25 else ""
    if mark:
        m.imp("pytest")
    out = m.header(m.text(), r.random() < 0.5)
    if m.log:
        out += ["log = logging.getLogger(__name__)", ""]
    if mark:
        out += [f"pytestmark = pytest.mark.{mark}", ""]
    for blk in blocks:
        out += ["", *blk, ""]
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def init_text(r: random.Random, svc: Service, names: Sequence[tuple[str, str]]) -> str:
    pick = r.random()
    if pick < 0.45 or not names:
        return ""
    if pick < 0.7:
        return f'"""{svc.name}: {r.choice(PHRASES).format(a=r.choice(ADJS), n=r.choice(NOUNS), m=r.choice(NOUNS))}"""\n\n__version__ = "0.{r.randint(1, 30)}.{r.randint(0, 9)}"\n'
    chosen = list(names)[: r.randint(1, 4)]
    lines = [f"from .{mod} import {name}" for mod, name in chosen]
    return "\n".join(lines) + "\n\n__all__ = [" + ", ".join(repr(n) for _, n in chosen) + "]\n"


# ---- manifests --------------------------------------------------------------------------------------------------

# Services of a fleet are built from a few templates: each service takes one stack (its libraries and other
# dependencies) and one era of pins, so the distinct requirement sets `run` resolves with uv stay bounded (about
# 2 x len(STACKS)) whatever the fleet's size, while the manifests' form varies freely.
ERAS = (
    {"pytest": "==8.3.5", "pytest-asyncio": "==0.23.8", "tenacity": "==8.2.3", "asyncio-mqtt": "==0.16.2",
     "influxdb-client": "==1.50.0", "python-dotenv": "==1.0.1", "paho-mqtt": "==1.6.1"},
    {"pytest": "==8.2.2", "pytest-asyncio": "==0.23.6", "tenacity": "==8.3.0", "asyncio-mqtt": "==0.16.1",
     "influxdb-client": "==1.44.0", "python-dotenv": "==1.0.0", "paho-mqtt": "<2"},
)
RANGES = {"pytest": ">=8.2,<9", "pytest-asyncio": ">=0.23,<0.24", "tenacity": ">=8.2,<9", "asyncio-mqtt": "~=0.16.1",
          "influxdb-client": ">=1.40,<2", "python-dotenv": ">=1.0,<1.1"}
# name: (libraries besides pytest, other dependencies, weight); shares of services (weights of 100): tenacity 56,
# pytest-asyncio 64, python-dotenv 42, asyncio-mqtt 32, influxdb-client 28; pytest all
STACKS = {
    "ingest": (("asyncio-mqtt", "pytest-asyncio", "tenacity", "python-dotenv"), ("paho-mqtt",), 12),
    "history": (("influxdb-client", "tenacity", "python-dotenv"), ("pydantic==2.7.1",), 10),
    "api": (("python-dotenv", "pytest-asyncio", "tenacity"), ("pydantic==2.7.1", "httpx==0.27.0"), 14),
    "worker": (("tenacity", "pytest-asyncio"), ("structlog==24.1.0",), 10),
    "bridge": (("asyncio-mqtt", "influxdb-client", "pytest-asyncio"), (), 10),
    "library": ((), ("requests==2.32.3",), 10),
    "cli": (("python-dotenv",), (), 6),
    "analytics": (("influxdb-client", "pytest-asyncio"), ("structlog==24.1.0",), 8),
    "devices": (("asyncio-mqtt", "tenacity"), ("paho-mqtt",), 10),
    "jobs": (("pytest-asyncio",), ("httpx==0.27.0",), 10),
}
# the first services, so a small fleet already uses every library: (stack, the library its sites start with)
FIRST = (("ingest", "asyncio-mqtt"), ("history", "influxdb-client"), ("api", "python-dotenv"),
         ("worker", "tenacity"), ("bridge", "pytest-asyncio"), ("library", "pytest"))


def manifests(r: random.Random, svc: Service, src_layout: bool) -> dict[str, str]:
    era = ERAS[svc.era]
    ranged = svc.stack == "library"  # a library declares ranges

    def spec(lib: str) -> str:
        return RANGES[lib] if ranged else era[lib]

    runtime = sorted(lib for lib in svc.libs if lib not in ("pytest", "pytest-asyncio"))
    test = ["pytest"] + (["pytest-asyncio"] if "pytest-asyncio" in svc.libs else [])
    reqs = [f"{lib}{spec(lib)}" for lib in runtime]
    reqs += [f"paho-mqtt{era['paho-mqtt']}" if dep == "paho-mqtt" else dep for dep in STACKS[svc.stack][1]]
    tests = [f"{lib}{spec(lib)}" for lib in test]
    desc = r.choice(PHRASES).format(a=r.choice(ADJS), n=r.choice(NOUNS), m=r.choice(NOUNS))
    ini: dict[str, str] = {"testpaths": "tests"}
    if r.random() < 0.6:
        ini["addopts"] = r.choice(("-ra", "-ra -q", "-ra --strict-markers", "--strict -ra", "-q --tb=short"))
    if svc.asyncio_mode:
        ini["asyncio_mode"] = svc.asyncio_mode
    if src_layout and r.random() < 0.5:
        ini["pythonpath"] = "src"
    markers = sorted({r.choice(("slow", "integration", "unit")) for _ in range(r.randint(0, 3))})
    files: dict[str, str] = {}
    if r.random() < 0.45:  # requirements files
        head = f"# {svc.name}: {desc}\n"
        if r.random() < 0.6:
            files["requirements.txt"] = head + "\n".join(reqs) + "\n"
            files["requirements-dev.txt"] = "-r requirements.txt\n" + "\n".join(tests) + "\n"
        else:
            files["requirements.txt"] = head + "\n".join([*reqs, "", "# tests", *tests]) + "\n"
        where = r.random()
        if where < 0.6:
            text = "[pytest]\n" + "".join(f"{k} = {v}\n" for k, v in ini.items())
            if markers:
                text += "markers =\n" + "".join(f"    {mk}: {mk} tests\n" for mk in markers)
            files["pytest.ini"] = text
        elif where < 0.8:
            files["pyproject.toml"] = toml_pytest(ini, markers)
        return files
    q = '"'
    text = ("[build-system]\n" + (
        'requires = ["setuptools>=68", "wheel"]\nbuild-backend = "setuptools.build_meta"\n' if r.random() < 0.6
        else 'requires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'))
    text += (f'\n[project]\nname = "{svc.name}"\nversion = "0.{r.randint(1, 40)}.{r.randint(0, 9)}"\n'
             f'description = "{desc}"\nrequires-python = ">=3.11"\n'
             "dependencies = [\n" + "".join(f"    {q}{d}{q},\n" for d in reqs) + "]\n")
    if r.random() < 0.7:
        text += "\n[project.optional-dependencies]\ntest = [\n" + "".join(f"    {q}{d}{q},\n" for d in tests) + "]\n"
    else:
        text += "\n[dependency-groups]\ndev = [\n" + "".join(f"    {q}{d}{q},\n" for d in tests) + "]\n"
    if src_layout and "setuptools" in text:
        text += '\n[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    if r.random() < 0.8:
        text += "\n" + toml_pytest(ini, markers)
        files["pyproject.toml"] = text
    else:
        files["pyproject.toml"] = text
        files["pytest.ini"] = "[pytest]\n" + "".join(f"{k} = {v}\n" for k, v in ini.items())
    return files


def toml_pytest(ini: dict[str, str], markers: list[str]) -> str:
    text = "[tool.pytest.ini_options]\n"
    for k, v in ini.items():
        text += f'{k} = ["{v}"]\n' if k in ("testpaths", "pythonpath") else f'{k} = "{v}"\n'
    if markers:
        text += "markers = [\n" + "".join(f'    "{mk}: {mk} tests",\n' for mk in markers) + "]\n"
    if ini and "filterwarnings" not in ini and len(markers) > 1:
        text += 'filterwarnings = [\n    "error",\n    "ignore::DeprecationWarning",\n]\n'
    return text


# ---- services ----------------------------------------------------------------------------------------------------


def service(root: Path, seed: int, s: int, per_service: int, share: float, check: bool, only: str | None) -> int:
    r = random.Random(f"{seed}:{s}")
    if only:
        stack, primary = only, r.choice(STACKS[only][0] or ("pytest",))
    elif s < len(FIRST):
        stack, primary = FIRST[s]
    else:
        stack = r.choices(list(STACKS), weights=[w for *_, w in STACKS.values()])[0]
        primary = r.choice(STACKS[stack][0] or ("pytest",))
    libs = {"pytest", *STACKS[stack][0]}
    era = 0 if r.random() < 0.6 else 1
    pkg = f"{r.choice(ADJS)}_{r.choice(NOUNS)}" if r.random() < 0.5 else f"{r.choice(NOUNS)}_{r.choice(('service', 'api', 'worker', 'sync', 'core'))}"
    mode = r.choice(("auto", "strict", "")) if "pytest-asyncio" in libs else ""
    svc = Service(s, f"svc-{s:03d}", pkg, frozenset(libs), primary, mode, stack, era)
    base = root / "services" / svc.name
    src_layout = r.random() < 0.5
    pkg_dir = base / "src" / pkg if src_layout else base / pkg
    files = manifests(r, svc, src_layout)
    py = max(per_service - len(files), 4)
    # the Python files: package __init__s, sources, tests/conftest.py and tests (about half of all)
    n_tests = max(1, round(py / 2) - 1)  # and conftest.py: about half of the Python files are tests
    n_src = max(1, py - n_tests - 2)
    subs = r.sample(SUBPACKAGES, min(3, n_src // 6)) if n_src >= 8 and r.random() < 0.7 else []
    n_src -= len(subs)  # each sub-package has its __init__.py
    slots: list[tuple[str, Path]] = []  # (kind, path)
    used_names: set[Path] = set()
    for _ in range(n_src):
        folder = pkg_dir / r.choice(subs) if subs and r.random() < 0.6 else pkg_dir
        while True:
            path = folder / r.choice((f"{r.choice(NOUNS)}.py", f"{r.choice(NOUNS)}s.py", f"{r.choice(NOUNS)}_{r.choice(NOUNS)}.py",
                                      f"{r.choice(VERBS)}_{r.choice(NOUNS)}.py", f"{r.choice(VERBS)}.py"))
            if path not in used_names:
                break
        used_names.add(path)
        slots.append(("src", path))
    split = n_tests >= 10 and r.random() < 0.3
    slots.append(("conftest", base / "tests" / "conftest.py"))
    for _ in range(n_tests):
        folder = base / "tests" / (r.choice(("unit", "integration")) if split else "")
        while True:
            path = folder / f"test_{r.choice(NOUNS)}{r.choice(('', 's', '_' + r.choice(VERBS + NOUNS)))}.py"
            if path not in used_names:
                break
        used_names.add(path)
        slots.append(("test", path))
    inits = [pkg_dir / "__init__.py", *[pkg_dir / sub / "__init__.py" for sub in subs]]

    # which files touch a migrated library, and which library
    touching: dict[int, Site] = {}
    deficit = 0
    for i, (kind, _) in enumerate(slots):
        if r.random() >= share:
            continue
        fit = [st for st in SITES if kind in st.kinds and st.lib in libs]
        if not fit:
            deficit += 1
            continue
        weights = [SITE_WEIGHT[st.lib] for st in fit]
        touching[i] = r.choices(fit, weights=weights)[0]
    free = [i for i, (kind, _) in enumerate(slots) if kind == "test" and i not in touching]
    r.shuffle(free)
    for i in free[:deficit]:
        fit = [st for st in SITES if "test" in st.kinds and st.lib in libs]
        touching[i] = r.choices(fit, weights=[SITE_WEIGHT[st.lib] for st in fit])[0]
    if share > 0 and not touching:  # every service has a site or more
        touching[len(slots) - 1] = next(x for x in SITES if x.lib == "pytest" and "test" in x.kinds)
    if touching and not any(st.lib == primary for st in touching.values()):  # the service's own library first
        kinds = {k for x in SITES if x.lib == primary for k in x.kinds}
        same = [i for i in touching if slots[i][0] in kinds]
        if not same:  # move one touching file to a file of a kind the library's sites fit
            del touching[r.choice(sorted(touching))]
            same = [r.choice([i for i, (k, _) in enumerate(slots) if k in kinds and i not in touching])]
        i = r.choice(same)
        touching[i] = r.choice([x for x in SITES if x.lib == primary and slots[i][0] in x.kinds])

    written = 0
    texts: dict[Path, str] = {}
    exports: list[tuple[str, str]] = []
    order = sorted(range(len(slots)), key=lambda i: {"src": 0, "conftest": 1, "test": 2}[slots[i][0]])
    for i in order:
        kind, path = slots[i]
        m = Mod(r, svc, kind)
        target = lines_target(r)
        if kind == "conftest":
            target = r.randint(25, 220)
        sites = []
        if i in touching:
            st = touching[i]
            more = [x for x in SITES if x.lib == st.lib and kind in x.kinds]
            sites = [st, *more[: r.choice((0, 0, 1, 2))]]
        texts[path] = compose(m, target, sites)
        if kind == "src":
            rel = path.relative_to(pkg_dir.parent).with_suffix("")
            svc.modules.append((".".join(rel.parts), m.defs, m.classes))
            if path.parent == pkg_dir and (m.classes or m.defs):
                exports.append((path.stem, (m.classes or m.defs)[0]))
    for init in inits:
        texts[init] = init_text(r, svc, exports if init.parent == pkg_dir else [])
    for name, text in files.items():
        texts[base / name] = text
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written += 1
        if path.suffix == ".py" and (check or r.random() < 0.02):
            ast.parse(text, str(path))
    return written


def generate(root: Path, services: int, per_service: int = 34, share: float = 0.10, seed: int = 7, *,
             stack: str | None = None) -> int:
    """Write `services` services under root/services/ (`per_service` files each, about `share` of the Python
    files touching a migrated library); returns the number of files written. `stack` (a key of STACKS): every
    service takes that stack, so uv resolves one requirement set for the whole fleet (small fleets in tests)."""
    root = Path(root)
    if stack is not None and stack not in STACKS:
        raise ValueError(f"unknown stack {stack!r}: one of {', '.join(STACKS)}")
    return sum(service(root, seed, s, per_service, share, s < 2, stack) for s in range(services))


def describe(root: Path) -> str:
    """The fleet in one line: files, total bytes, mean file size, Python lines (median, mean, max)."""
    sizes = []
    lines = []
    for path in Path(root).rglob("*"):
        if path.is_file() and ".fleetshift" not in path.parts:
            data = path.read_bytes()
            sizes.append(len(data))
            if path.suffix == ".py" and path.name != "__init__.py":
                lines.append(data.count(b"\n"))
    lines.sort()
    total = sum(sizes)
    return (f"{len(sizes)} files, {total / 1e6:.1f} MB, mean {total / max(len(sizes), 1) / 1e3:.1f} kB/file; "
            f"modules median {lines[len(lines) // 2] if lines else 0} lines, mean "
            f"{sum(lines) / max(len(lines), 1):.0f}, max {lines[-1] if lines else 0}")


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", type=Path)
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--files-per-service", type=int, default=34)
    ap.add_argument("--share", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    start = time.perf_counter()
    n = generate(args.root, args.services, args.files_per_service, args.share, args.seed)
    print(f"{n} files in {time.perf_counter() - start:.2f} s: {describe(args.root)}", file=sys.stderr)
