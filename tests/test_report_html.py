"""report.html with its pictures, from a real verified run of a small fleet (one service passes, one fails and is
rolled back, one has nothing to migrate), checked as text and rendered in headless Chromium; and the plan's
picture from `plan --out`."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from fleet_factory import make_fleet

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else "")

APP = '''\
from tenacity import Retrying, retry, stop_after_attempt
from tenacity._asyncio import AsyncRetrying
# <script>alert("file contents are not markup")</script>


@retry(stop=stop_after_attempt(3))
def flaky(box):
    box.append(1)
    if len(box) < 2:
        raise ValueError("the first try fails")
    return len(box)


class Budgeted(Retrying):
    def __init__(self, budget, **kw):
        super().__init__(**kw)
        self.budget = budget


def async_retrying():
    return AsyncRetrying()
'''
FLEET = {
    "fleetshift.toml": """
        [fleet]
        services = ["services/*"]
        failure_threshold = 1.0

        [fleet.phases]
        clock = "A"
        ledger = "B"

        [targets]
        tenacity = ">=9.1.2,<10"
    """,
    "docker-compose.yml": """
        services:
          ledger:
            build: services/ledger
            depends_on: [clock]
          clock:
            build: services/clock
    """,
    "services/clock/requirements.txt": "tenacity==8.2.3\n",
    "services/clock/app.py": APP,
    "services/clock/tests/test_app.py": "from app import flaky\n\n\ndef test_retries_until_it_works():\n    assert flaky([]) == 2\n",
    "services/ledger/requirements.txt": "tenacity==8.2.3\n",
    "services/ledger/ledger.py": "from tenacity import retry\n",
    # Passes on tenacity 8 only: the migration regresses it, so ledger is rolled back.
    "services/ledger/tests/test_ledger.py": (
        "from importlib.metadata import version\n\n\ndef test_still_on_tenacity_8():\n"
        '    assert version("tenacity").startswith("8.")\n'
    ),
    "services/notes/requirements.txt": "packaging\n",
    "services/notes/notes.py": "X = 1\n",
    "services/notes/tests/test_notes.py": "def test_x():\n    from notes import X\n    assert X == 1\n",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    fleet = make_fleet(tmp_path_factory.mktemp("report") / "mini", FLEET)
    res = subprocess.run([sys.executable, "-m", "fleetshift", "run", str(fleet), "--yes"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, cwd=ROOT, timeout=600)
    assert res.returncode == 1, res.stdout + res.stderr  # ledger failed
    (run,) = (fleet / ".fleetshift" / "runs").iterdir()
    return run


def _section(html: str, service: str) -> str:
    start = html.index(f'<section class="service" id="svc-{service}"')
    return html[start:html.index("</section>", start)]


def test_report_has_the_graph_the_bars_and_every_change(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    # The graph: one node per service coloured by its status, the dependency as an edge, a legend.
    assert re.search(r'<g class="node" data-service="clock" data-status="passed" data-phase="A">', html)
    assert re.search(r'<g class="node" data-service="ledger" data-status="failed" data-phase="B">', html)
    assert re.search(r'<g class="node" data-service="notes" data-status="no-op" data-phase="A">', html)
    assert '<path class="edge" data-from="clock" data-to="ledger"' in html
    assert '<g class="legend"' in html and "failed (rolled back)" in html
    assert '<a href="#svc-clock">' in html and 'id="svc-clock"' in html
    # Per-phase bars.
    assert '<g class="bar" data-phase="A">' in html and '<g class="bar" data-phase="B">' in html
    # clock's change as a diff, escaped; its finding with file:line; its tests on both sides with log links.
    section = _section(html, "clock")
    assert '<span class="del">-from tenacity._asyncio import AsyncRetrying</span>' in section
    assert '<span class="del">-tenacity==8.2.3</span>' in section
    assert "&lt;script&gt;alert(&quot;file contents are not markup&quot;)&lt;/script&gt;" in section
    assert "<script>alert(" not in html
    assert "services/clock/app.py:14</code> <code>tenacity/retrying-subclass</code>" in section
    assert section.count("1 passed, 0 failed, 0 errors, 0 skipped") == 2
    assert 'href="logs/clock/old-tests.log"' in section and 'href="logs/clock/new-tests.log"' in section
    # ledger: failed, its regression named; its rolled-back change is shown too (recomputed, same hash).
    ledger = _section(html, "ledger")
    assert "test_still_on_tenacity_8" in ledger and "rolled back: the file holds its old bytes again" in ledger
    assert re.search(r'<span class="del">-tenacity==8\.2\.3</span><span class="add">\+tenacity==9\.[0-9.]+</span>', ledger)
    assert (run_dir.parents[2] / "services/ledger/requirements.txt").read_text() == "tenacity==8.2.3\n"
    # Self-contained: nothing is loaded from elsewhere.
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", html) and "@import" not in html and "url(http" not in html


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows (RGB or RGBA bytes) of an 8-bit PNG, decoded with zlib alone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, channels, rows


def _count(rows: list[bytes], channels: int, rgb: tuple[int, int, int]) -> int:
    want = bytes(rgb)
    return sum(1 for row in rows for i in range(0, len(row), channels) if row[i:i + 3] == want)


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
         *args],
        capture_output=True, text=True, timeout=120,
    )


def test_report_renders_in_headless_chromium(run_dir: Path, tmp_path: Path) -> None:
    if not CHROMIUM:
        pytest.fail("chromium is not installed: scripts/install.sh installs Debian's chromium")
    url = (run_dir / "report.html").as_uri()
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile").stdout
    # The DOM the browser built (after the page's script ran) holds the graph, a diff and a finding.
    assert dom.count('class="node"') == 3 and 'data-service="ledger" data-status="failed"' in dom
    assert '<pre class="diff">' in dom and "-from tenacity._asyncio import AsyncRetrying" in dom
    assert "services/clock/app.py:14" in dom and "tenacity/retrying-subclass" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    res = _chromium(f"--screenshot={shot}", "--window-size=1400,2000", url, profile=tmp_path / "profile")
    assert shot.is_file(), res.stderr
    print(f"screenshot of the report: {shot}")
    # The picture at the top is drawn: the passed and failed nodes' fills are on screen, over real areas.
    top = ARTIFACTS / "report-top.png"
    _chromium(f"--screenshot={top}", "--window-size=1000,560", url, profile=tmp_path / "profile")
    _, channels, rows = _png_pixels(top.read_bytes())
    assert _count(rows, channels, (0xC3, 0xF0, 0xC8)) > 2000  # passed: clock
    assert _count(rows, channels, (0xFF, 0xC9, 0xC9)) > 2000  # failed: ledger


def test_plan_out_writes_the_graph_as_a_page_and_as_svg(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "mini", FLEET)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for name in ("plan.html", "plan.svg"):
        res = subprocess.run([sys.executable, "-m", "fleetshift", "plan", str(fleet), "--out", str(tmp_path / name)],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
    page = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert 'data-service="ledger" data-status="planned" data-phase="B"' in page
    assert '<path class="edge" data-from="clock" data-to="ledger"' in page and "<h3>Phase B</h3>" in page
    svg = (tmp_path / "plan.svg").read_text(encoding="utf-8")
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    import xml.etree.ElementTree as ET

    ET.fromstring(svg.split("\n", 1)[1])  # well-formed XML
