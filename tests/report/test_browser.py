"""The report in a real browser: headless Debian chromium opens it offline, logs nothing to
the console and draws every chart (each chart's div holds plotly's svg.main-svg; the map has
its land drawn from the embedded world map). A screenshot is written for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from daulat.finance.risk import run_risk
from daulat.report import LOCALES, load_strings, write_report
from daulat.report.data import country_name
from tests.plan.invariants import solved

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-logging=stderr", "--v=0", "--window-size=1280,6400"]
# No --virtual-time-budget: with it headless chromium now and then never exits. The charts
# are drawn synchronously during load (the map's data is inline), so the DOM dumped after
# the load event holds them. A run that still hangs is killed and tried once more.
TIMEOUT_S = 90
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture(scope="module")
def programme_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/program-10.yaml planned (shared with tests/plan when the suite runs whole),
    with risk results: 10 countries chosen of 30, max_access."""
    out = tmp_path_factory.mktemp("program-10") / "plan"
    solved(ROOT / "examples" / "program-10.yaml").write(out)
    run_risk(out, 300, seed=1)
    return out


def _visible_text(dom: str) -> str:
    """The page's text as a reader sees it: no scripts, styles or plotly's JSON."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html_lib.unescape(body))


def _section(dom: str, section_id: str) -> str:
    m = re.search(rf'<section id="{section_id}">(.*?)</section>', dom, flags=re.S)
    assert m, section_id
    return _visible_text(m.group(1))


@pytest.mark.parametrize("lang", ["en", "id"])
def test_programme_report_in_the_browser_reads_as_a_decision(programme_plan: Path,
                                                             tmp_path: Path,
                                                             lang: str) -> None:
    """program-10 in headless chromium, both languages: what the minister's office found
    wrong is not on the page any more (screenshot written beside it for a person)."""
    files = write_report(programme_plan, lang, today=dt.date(2026, 11, 27))
    shot = tmp_path / f"program-10-{lang}.png"
    run = _chromium([f"--screenshot={shot}", "--dump-dom", files.html.resolve().as_uri()],
                    tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 50_000
    dom = run.stdout
    page = _visible_text(dom)
    summary_json = json.loads((programme_plan / "summary.json").read_text())
    locale = LOCALES[lang]
    summary = _section(dom, "summary")
    # 1. the summary names every chosen country
    for iso3 in summary_json["selected_countries"]:
        assert country_name(iso3, locale) in summary, iso3
    # 2. a max_access plan's headline is people served against the baseline, no "saving"
    assert summary_json["objective"] == "max_access"
    headline = summary.split(load_strings(lang).t("countries.heading"))[0]
    assert not re.search(r"(Saving|Penghematan)[^.]*-(US)?\$", headline)
    assert load_strings(lang).t("summary.per_person").split("{")[0] in headline
    # 3. no binding limit at a site the plan does not use
    builds = pd.read_csv(programme_plan / "builds.csv")
    used = set(builds[builds["facility_mw"] > 0]["site"])
    sites = pd.read_csv(programme_plan / "sites.csv")
    unused = [str(n) for s, n in zip(sites["site"], sites["name"], strict=True)
              if s not in used]
    limits = _section(dom, "binding").split(load_strings(lang).t("explain.unmet_heading"))[0]
    for name in unused:
        assert name not in limits, name
    # 4. every funder asked for capital is shown by name, never by id
    funders = pd.read_csv(programme_plan / "inputs_funders.csv")
    returns = pd.read_csv(programme_plan / "returns.csv") if (
        programme_plan / "returns.csv").exists() else None
    paying = set(funders["funder"]) if returns is None else set(
        returns[returns["capital_usd"] > 0]["funder"])
    for fid, name in zip(funders["funder"], funders["name"], strict=True):
        if fid in paying:
            assert name in summary, name
        assert fid.lower() == name.lower() or not re.search(rf"\b{re.escape(fid)}\b", page), fid
    # 5. no internal paths, no solver jargon
    assert "../shared" not in page and "/work/" not in page
    assert "Solver status" not in page and "Status solver" not in page
