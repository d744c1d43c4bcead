"""The report in a real browser: headless Debian chromium opens it offline, logs nothing to
the console and draws every chart (each chart's div holds plotly's svg.main-svg; the map has
its land drawn from the embedded world map). A screenshot is written for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from daulat.report import write_report

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0", "--window-size=1280,6400"]
# No --virtual-time-budget: with it headless chromium now and then never exits. The charts
# are drawn synchronously during load (the map's data is inline), so the DOM dumped after
# the load event holds them. A run that still hangs is killed and tried once more.
TIMEOUT_S = 90


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `apt-get install -y chromium`"
                    " (scripts/ensure-services.sh does it for make test)")
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    for _ in range(2):
        # its own process group, so a hung browser is killed with all its helpers
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            shutil.rmtree(profile, ignore_errors=True)
            continue
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    pytest.fail(f"chromium did not finish in {TIMEOUT_S} s, twice")


def _chart_chunks(dom: str) -> dict[str, str]:
    marks = list(re.finditer(r'<div class="chart" data-chart="([^"]+)">', dom))
    out = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(dom)
        out[m.group(1)] = dom[m.end():end]
    return out


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_chart_renders_with_no_console_output(risky_plan: Path, tmp_path: Path,
                                                     lang: str) -> None:
    files = write_report(risky_plan, lang, today=dt.date(2026, 11, 27))
    url = files.html.resolve().as_uri()
    shot = tmp_path / f"report-{lang}.png"
    run = _chromium([f"--screenshot={shot}", "--dump-dom", url], tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
    chunks = _chart_chunks(run.stdout)
    assert set(chunks) == set(files.charts)
    for chart, chunk in chunks.items():
        assert 'class="main-svg"' in chunk, f"{chart} did not render"
    land = re.search(r'class="layer land"><path d="([^"]*)"', chunks["chart-map"])
    assert land and len(land.group(1)) > 1000, "the map has no land: world map not loaded"
    assert shot.exists() and shot.stat().st_size > 50_000
