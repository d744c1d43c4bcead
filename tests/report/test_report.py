"""`daulat report DIR --lang en|id`: one offline HTML file and report.md, in two languages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from daulat.cli import app
from daulat.errors import UserError
from daulat.report import languages, load_strings, write_report

runner = CliRunner()
TODAY = dt.date(2026, 11, 27)
ALL_CHARTS = {"chart-map", "chart-timeline", "chart-capacity", "chart-funding",
              "chart-ownership", "chart-costs", "chart-ramp", "chart-energy",
              "chart-risk-cost", "chart-risk-people", "chart-tornado-cost",
              "chart-tornado-npv"}


def _keys(node: object, prefix: str = "") -> set[str]:
    if not isinstance(node, dict):
        return {prefix}
    return set().union(*(_keys(v, f"{prefix}.{k}" if prefix else str(k))
                         for k, v in node.items()))


def test_every_language_has_every_string() -> None:
    assert {"en", "id"} <= set(languages())
    en = _keys(load_strings("en").data)
    for lang in languages():
        assert _keys(load_strings(lang).data) == en, lang


def test_indonesian_report_formats_numbers_the_indonesian_way(risky_plan: Path) -> None:
    files = write_report(risky_plan, "id", today=TODAY)
    html = files.html.read_text(encoding="utf-8")
    assert '<html lang="id">' in html
    assert "Ringkasan eksekutif" in html and "Asumsi dan sumber" in html
    assert "27 November 2026" in html  # babel long date, id
    assert "51.704.607" in html  # people served in 2030, '.' groups thousands
    assert "US$332,6\xa0jt" in html or "US$332,6 jt" in html  # total cost, 'jt' = juta
    assert "8,0%" in html  # the discount rate, ',' as decimal mark
    assert '"separators":",."' in html.replace(" ", "")  # plotly axes follow the locale
    md = files.markdown.read_text(encoding="utf-8")
    assert "## Ringkasan eksekutif" in md and "| Penyandang dana |" in md


def test_english_report_formats_numbers_the_english_way(risky_plan: Path) -> None:
    files = write_report(risky_plan, "en", today=TODAY)
    html = files.html.read_text(encoding="utf-8")
    assert '<html lang="en">' in html
    assert "Executive summary" in html and "Who pays, who owns, what it returns" in html
    assert "November 27, 2026" in html
    assert "51,704,607" in html
    assert "$332.6M" in html
    assert "Cost of sovereignty" in html and "$12.4M" in html
    assert "That is $59.9M (15.3%) less than the baseline&#39;s $392.4M." in html
    assert "P10" in html and "Over 2,000 Monte Carlo samples" in html


def test_report_is_one_self_contained_offline_file(risky_plan: Path) -> None:
    files = write_report(risky_plan, "en", today=TODAY)
    html = files.html.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc=", html), "no external scripts"
    assert not re.search(r"<link[^>]*\shref=", html), "no external stylesheets"
    assert not re.search(r"<img[^>]*\ssrc=\"?https?:", html)
    assert "Plotly.newPlot" in html and "window.PlotlyGeoAssets" in html
    assert '"world_110m"' in html or "world_110m:" in html
    assert set(files.charts) == ALL_CHARTS
    for chart in ALL_CHARTS:
        assert f'id="{chart}"' in html


def test_executive_summary_says_what_where_when_and_who(risky_plan: Path) -> None:
    md = write_report(risky_plan, "en", today=TODAY).markdown.read_text(encoding="utf-8")
    summary = md.split("## Risk")[0]
    assert "Install 3,040 accelerators" in summary
    assert "Batam (Nongsa) (Indonesia): 576 × GB200 in 2027, 864 × GB300 in 2030" in summary
    assert "| government-idn | government | $115.9M |" in summary
    assert "provider 53.1%" in summary  # ownership of Batam
    assert "People served in 2030: 51,704,607" in summary
    assert "$1.00 per million tokens" in summary


def test_assumptions_carry_their_sources(risky_plan: Path) -> None:
    md = write_report(risky_plan, "en", today=TODAY).markdown.read_text(encoding="utf-8")
    assumptions = md.split("## Assumptions and sources")[1]
    rows = [r for r in assumptions.splitlines() if r.startswith("| ") and "---" not in r][1:]
    assert rows and all(r.rstrip(" |").split(" | ")[-1].strip() for r in rows)
    assert "| Price of GB200 (per accelerator, system share included) | $62,000 |" in assumptions
    assert "Users of assistant-medium in 2030" in assumptions  # a demand driver
    assert "../" not in md and "/shared/" not in md


def test_without_risk_results_the_report_says_how_to_get_them(plan_dir: Path) -> None:
    files = write_report(plan_dir, "en", today=TODAY)
    assert not {c for c in files.charts if "risk" in c or "tornado" in c}
    assert "daulat risk DIR --samples 10000" in files.html.read_text(encoding="utf-8")


def test_report_command_and_bad_language(risky_plan: Path) -> None:
    result = runner.invoke(app, ["report", str(risky_plan), "--lang", "id", "--json"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["lang"] == "id"
    with pytest.raises(UserError, match=r"--lang: 'fr' .* use one of en, id"):
        write_report(risky_plan, "fr")


def test_report_of_the_real_planner_output(real_plan_with_risk: Path) -> None:
    for lang in ("en", "id"):
        files = write_report(real_plan_with_risk, lang, today=TODAY)
        assert set(files.charts) == ALL_CHARTS
        assert files.html.stat().st_size > 1_000_000  # plotly.js inline


def test_re_solved_sweep_is_summarised_when_present(risky_plan: Path) -> None:
    import json

    risk = json.loads((risky_plan / "risk.json").read_text())
    risk["resolve"] = {"plans": 2, "solved": 2, "seconds": 9.0, "quantiles": {
        "cost_usd": {"p10": 300e6, "p50": 320e6, "p90": 360e6},
        "people_served": {"p10": 40e6, "p50": 45e6, "p90": 50e6}}}
    (risky_plan / "risk.json").write_text(json.dumps(risk))
    md = write_report(risky_plan, "en", today=TODAY).markdown.read_text(encoding="utf-8")
    assert "Re-planning 2 times" in md and "between $300M and $360M" in md


def test_facility_shells_and_unfunded_funders_read_well(plan_dir: Path) -> None:
    import pandas as pd

    builds = pd.read_csv(plan_dir / "builds.csv")
    shell = {"site": "surabaya-1", "country": "IDN", "year": 2028, "accelerator": "facility",
             "count": 0, "it_mw": 0.0, "facility_mw": 0.0, "capex_usd": 5e6, "shell_mw": 2.0}
    pd.concat([builds, pd.DataFrame([shell])]).to_csv(plan_dir / "builds.csv", index=False)
    with (plan_dir / "inputs_funders.csv").open("a", encoding="utf-8") as out:
        out.write("gov-mys,Government of Malaysia,government,MYS,per_year\n")
    md = write_report(plan_dir, "en", today=TODAY).markdown.read_text(encoding="utf-8")
    assert "× facility" not in md
    assert "| Government of Malaysia |" not in md and "gov-mys" not in md
    assert "Funders in the programme that this plan asks for no capital: Government of" \
        " Malaysia." in md
