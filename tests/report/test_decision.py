"""The report as a decision document (issue 13): each finding a minister's office made on the
old report, as a test on the words, the numbers and the charts of a small programme plan.

The programme is the hand-made Indonesia fixture turned into a two-country ``max_access``
plan: Malaysia chosen and served from Batam (Indonesia) under its law, the Philippines left
out by the portfolio, a site in Norway that the plan does not use but whose power "binds".
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from daulat.catalog.revenue import revenue_inputs
from daulat.finance.risk import run_risk
from daulat.report import LOCALES, load_strings, write_report
from daulat.report.charts import all_charts, country_bounds, nice_ticks
from daulat.report.data import gather
from daulat.report.text import Formatter
from tests.finance.conftest import FIXTURE

TODAY = dt.date(2026, 11, 27)


def _append(path: Path, rows: list[dict[str, object]]) -> None:
    table = pd.read_csv(path)
    pd.concat([table, pd.DataFrame(rows)]).to_csv(path, index=False)


@pytest.fixture(scope="module")
def programme_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two chosen countries of three, Malaysia served abroad, an unused site that binds."""
    d = tmp_path_factory.mktemp("programme") / "plan"
    shutil.copytree(FIXTURE, d)
    run_risk(d, 500, seed=1)
    demand = pd.read_csv(d / "demand.csv")
    idn = demand[demand["country"] == "IDN"]
    extra = []
    for iso3, scale in (("MYS", 0.1), ("PHL", 0.3)):
        rows = idn.copy()
        rows["country"] = iso3
        rows["tokens_per_s"] *= scale
        rows["users"] *= scale
        extra.append(rows)
    pd.concat([demand, *extra]).to_csv(d / "demand.csv", index=False)
    mys = extra[0]
    _append(d / "routing.csv", [
        {"country": "MYS", "site": "batam-1", "site_country": "IDN", "workload": w,
         "year": y, "tokens_per_s": t}
        for w, y, t in zip(mys["workload"], mys["year"], mys["tokens_per_s"], strict=True)
        if y >= 2027])
    _append(d / "unmet.csv", [
        {"country": c, "workload": w, "year": y, "tokens_per_s": t if c == "PHL" or y < 2027
         else 0.0}
        for rows, c in ((extra[0], "MYS"), (extra[1], "PHL"))
        for w, y, t in zip(rows["workload"], rows["year"], rows["tokens_per_s"], strict=True)])
    _append(d / "sites.csv", [{
        "site": "stargate-norway", "name": "Stargate Norway", "country": "NOR", "lat": 68.44,
        "lon": 17.43, "status": "announced", "built_mw": 0.0, "power_limit_mw": 520.0,
        "existing_mw": 520.0, "earliest_year": 2026, "it_mw": 0.0}])
    countries = pd.read_csv(d / "inputs_countries.csv")
    base = countries.iloc[0].to_dict()
    countries = pd.concat([countries, pd.DataFrame([
        {**base, "country": "MYS", "name": "Malaysia", "lat": 3.14, "lon": 101.69,
         "weight": 1.2, "residency": "jurisdictions", "residency_jurisdictions": "MYS;IDN",
         "residency_basis": "law", "residency_source": "MYS.yaml: PDPA 2010, s. 129"},
        {**base, "country": "PHL", "name": "Philippines", "lat": 14.6, "lon": 120.98,
         "weight": 2.5, "residency": "in_country", "residency_jurisdictions": "PHL",
         "residency_basis": "no_pack", "residency_source": "no policy pack"}])])
    countries.to_csv(d / "inputs_countries.csv", index=False)
    funders = pd.read_csv(d / "inputs_funders.csv")
    funders["name"] = funders["funder"].map({"provider": "Provider",
                                             "government-idn": "Government of Indonesia"})
    funders.to_csv(d / "inputs_funders.csv", index=False)

    summary = json.loads((d / "summary.json").read_text())
    summary.update(
        objective="max_access", selected_countries=["IDN", "MYS"],
        people_served=56_875_068.0,
        # the planner's plan cost adds a $9.9B price on unmet demand: never shown
        totals={**summary["totals"], "npv_cost_usd": 340.0e6, "plan_cost_usd": 10.24e9,
                "shell_mw_built": 2.2},
        baseline={"method": "greedy", "cost_usd": 331.5e6, "npv_usd": 331.5e6,
                  "saving_usd": -8.5e6, "saving_share": -0.0256, "people_served": 41.5e6,
                  "served_share": 0.62, "countries": ["IDN"],
                  "note": "The greedy baseline picks its own countries."},
        binding=[
            {"constraint": "site-power_built", "site": "stargate-norway", "year": 2028,
             "shadow_price": 1_112_427.97,
             "text": "One more MW ready at Stargate Norway in 2028 would be worth $1.11M."},
            {"constraint": "site-power_limit", "site": "batam-1", "shadow_price": 250_000.0,
             "text": "One more MW of power at Batam would be worth $250k."},
            {"constraint": "training-compute", "workload": "national-model",
             "shadow_price": 0.21, "text": "Training run national-model costs $0.21 per extra"
                                           " EFLOP at the margin."},
        ],
        unmet_causes=[
            {"country": "PHL", "workload": "assistant-medium", "year_from": 2026,
             "year_to": 2030, "unmet_tokens_per_s": 1.0e6, "share": 1.0,
             "cause": "not_selected", "ready_year": None, "sites": []},
            {"country": "MYS", "workload": "assistant-medium", "year_from": 2026,
             "year_to": 2026, "unmet_tokens_per_s": 1.0e5, "share": 1.0,
             "cause": "not_ready_until", "ready_year": 2027, "sites": ["batam-1"]},
            {"country": "IDN", "workload": "assistant-medium", "year_from": 2030,
             "year_to": 2030, "unmet_tokens_per_s": 1.0e5, "share": 0.12, "cause": "budget",
             "ready_year": None, "sites": []},
        ],
        unmet_explained=["Japan (JPN): 100% of reasoning demand unserved in 2026–2029 — "
                         "serving it would cost more than the unmet-demand price, or budgets,"
                         " power ceilings or the portfolio limit leave no room."],
    )
    summary["inputs"]["rules"] = {**summary["inputs"].get("rules", {}),
                                  "portfolio_max_countries": 2}
    (d / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame([{"workload": "national-model", "country": "IDN", "site": "batam-1",
                   "accelerator": "GB200", "year": 2029, "accelerators": 96.0,
                   "eflop": 4.2e6}]).to_csv(d / "training.csv", index=False)
    return d


@pytest.fixture
def programme(programme_once: Path, tmp_path: Path) -> Path:
    """A copy of the programme plan a test may change."""
    return Path(shutil.copytree(programme_once, tmp_path / "plan"))


def _md(plan: Path, lang: str) -> str:
    return write_report(plan, lang, today=TODAY).markdown.read_text(encoding="utf-8")


def _summary(md: str) -> str:
    return md.split("\n## ")[1]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_summary_names_every_chosen_country_and_who_is_served_abroad(programme: Path,
                                                                       lang: str) -> None:
    summary = _summary(_md(programme, lang))
    for name in {"en": ("Indonesia", "Malaysia"), "id": ("Indonesia", "Malaysia")}[lang]:
        assert name in summary
    if lang == "en":
        assert "The plan chooses 2 of 3 candidate countries, chosen for the most weighted" \
            " people served" in summary
        assert "Served abroad (1): Malaysia (100% at Batam (Nongsa), Indonesia; in Malaysia," \
            " Indonesia (law: PDPA 2010, s. 129))." in summary
        assert "| Malaysia | 100% at Batam (Nongsa), Indonesia | abroad |" in summary
        assert "MYS.yaml" not in summary  # the citation, not our file name
    else:
        assert "Dilayani di luar negeri (1): Malaysia (100% di Batam (Nongsa), Indonesia;" \
            " di Malaysia, Indonesia (undang-undang: PDPA 2010, s. 129))." in summary
    assert "Philippines" not in summary.split("\n### ")[1].split("|")[0]  # not chosen


def test_max_access_headline_is_people_served_not_a_negative_saving(programme: Path) -> None:
    summary = _summary(_md(programme, "en"))
    lines = [x for x in summary.splitlines() if x.startswith("- ")]
    assert lines[0] == ("- People served in 2030: 56,875,068 (78.6% of demand met). That is"
                        " +15,375,068 people (+37.0%) against the baseline's 41,500,000.")
    # unmet demand in people, never as a penalty in dollars
    assert lines[1] == ("- People not served in 2030: 15,511,382 (21.4% of the people with"
                        " demand). Unmet demand is counted in people; it is not a cost anyone"
                        " pays.")
    assert lines[2].startswith("- Cost per person served: $5.98 (the plan's whole cost, NPV,"
                               " training runs included,")
    assert lines[2].endswith("Baseline: $7.99.")
    assert lines[3].startswith("- Capital and operating cost of the plan (NPV at 8.0%): $340M.")
    assert "That is $8.5M (2.6%) more than the baseline's $331.5M." in lines[3]
    assert "$10.2B" not in summary and "10.24" not in summary
    assert "Saving" not in summary and "-$8.5" not in summary
    assert "Solver status" not in summary


def test_min_cost_headline_is_the_cost_against_the_baseline(plan_dir: Path) -> None:
    lines = [x for x in _summary(_md(plan_dir, "en")).splitlines() if x.startswith("- ")]
    assert lines[0] == ("- Capital and operating cost of the plan (NPV at 8.0%): $332.6M. That is"
                        " $59.9M (15.3%)"
                        " less than the baseline's $392.4M.")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_limits_only_where_they_bind_with_units(programme: Path, lang: str) -> None:
    md = _md(programme, lang)
    limits = md.split(f"## {load_strings(lang).t('sections.binding')}")[1]
    assert "Norway" not in limits and "Norwegia" not in limits  # 0 MW used there
    assert "Batam" in limits
    if lang == "en":
        assert "| $250K per MW |" in limits
        assert "| $0.21 per EFLOP |" in limits
        assert "Training run national-model must deliver 4,200,000 EFLOP (10^18" \
            " floating-point operations); each extra EFLOP costs $0.21 at the margin, so 10%" \
            " more compute would cost about $88.2K." in limits
        assert "| Value of one more unit |" in limits


@pytest.mark.parametrize("lang", ["en", "id"])
def test_unmet_demand_by_its_real_cause(programme: Path, lang: str) -> None:
    md = _md(programme, lang)
    unmet = md.split("\n### ")[-1]
    if lang == "en":
        assert "- Not among the chosen countries (1; the programme takes at most 2" \
            " countries): Philippines — their demand is left unserved in 2026–2030." in unmet
        assert "- Malaysia (MYS): 100% of assistant-medium demand unserved in 2026 — its" \
            " allowed sites (Batam (Nongsa)) are not ready until 2027." in unmet
        assert "- Indonesia (IDN): 12% of assistant-medium demand unserved in 2030 — the" \
            " funders' budgets are used up." in unmet
        assert "or budgets, power ceilings or the portfolio limit" not in md
    else:
        assert "Tidak termasuk negara terpilih (1; program mengambil paling banyak 2" \
            " negara): Filipina" in unmet
        assert "Malaysia (MYS): 100% permintaan assistant-medium tidak terlayani pada 2026 —" \
            " lokasi yang diizinkan (Batam (Nongsa)) baru siap pada 2027." in unmet
        assert "anggaran para penyandang dana sudah habis" in unmet


def test_names_not_ids_training_runs_and_no_internal_paths(programme: Path) -> None:
    files = write_report(programme, "en", today=TODAY)
    md = files.markdown.read_text(encoding="utf-8")
    page = html_lib.unescape(re.sub(r"<script.*?</script>", "", files.html.read_text(
        encoding="utf-8"), flags=re.S))
    for text in (md, page):
        assert "government-idn" not in text
        assert "Government of Indonesia" in text
        assert "../shared" not in text and "/work/" not in text
        assert "Solver status" not in text
    assert "Training run national-model: 4,200,000 EFLOP (4.2e24 FLOP) delivered at Batam" \
        " (Nongsa) in 2029, with up to 96 accelerators a year. A national model for" \
        " Indonesia." in md
    assumptions = md.split("## Assumptions and sources")[1]
    assert "Users of assistant-medium in 2030 (chosen countries)" in assumptions
    assert "Price of GB200" in assumptions


def _charts(plan: Path, lang: str = "en") -> dict[str, object]:
    d = gather(plan)
    return {c.id: c for c in all_charts(d, load_strings(lang), Formatter(LOCALES[lang]))}


def test_map_draws_chosen_countries_and_built_sites_fitted_to_the_region(
        programme: Path) -> None:
    chart = _charts(programme)["chart-map"]
    fig = chart.figure  # type: ignore[attr-defined]
    points = [(lat, lon) for tr in fig.data if tr.type == "scattergeo" and tr.mode != "lines"
              for lat, lon in zip(tr.lat, tr.lon, strict=True)]
    assert (68.44, 17.43) not in points  # Stargate Norway: not built, not drawn
    labels = {t for tr in fig.data if tr.type == "scattergeo" and tr.text is not None
              and tr.mode != "lines" for t in tr.text}
    assert {"Indonesia", "Malaysia"} <= labels and "Philippines" not in labels
    flows = [tr for tr in fig.data if tr.type == "scattergeo" and tr.mode == "lines"]
    assert any("Malaysia → Batam (Nongsa)" in str(tr.text) for tr in flows)
    lon_lo, lon_hi = fig.layout.geo.lonaxis.range
    lat_lo, lat_hi = fig.layout.geo.lataxis.range
    w, s, e, n = country_bounds("IDN")  # type: ignore[misc]
    assert lon_lo <= w and lon_hi >= e and lat_lo <= s and lat_hi >= n  # Papua in view
    assert lon_hi - lon_lo < 90  # the region, not the world


def test_charts_a_reader_can_trust(programme: Path) -> None:
    charts = _charts(programme)
    energy = charts["chart-energy"].figure  # type: ignore[attr-defined]
    for axis in (energy.layout.yaxis, energy.layout.yaxis2):
        step = axis.tickvals[1] - axis.tickvals[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 6) in (1, 2, 2.5, 5), axis.tickvals  # never 1,388 / 2,776
    own = charts["chart-ownership"].figure  # type: ignore[attr-defined]
    assert {tr.name for tr in own.data} == {"Provider", "Government of Indonesia"}
    funding = charts["chart-funding"].figure  # type: ignore[attr-defined]
    assert {tr.name for tr in funding.data} <= {"Provider", "Government of Indonesia"}
    ramp = charts["chart-ramp"]
    assert ramp.note  # type: ignore[attr-defined]


def test_tornado_titles_fit_and_flat_inputs_are_explained(programme: Path) -> None:
    d = gather(programme)
    tornado = d.tornado
    assert tornado is not None
    flat = tornado.copy()
    flat.loc[(flat["metric"] == "cost_usd") & (flat["input"] == "adoption"),
             ["value_low", "value_high", "swing"]] = [flat["base"].iloc[0]] * 2 + [0.0]
    flat.to_csv(programme / "tornado.csv", index=False)
    for lang in ("en", "id"):
        charts = _charts(programme, lang)
        cost = charts["chart-tornado-cost"]
        labels = list(cost.figure.data[0].y)  # type: ignore[attr-defined]
        adoption = load_strings(lang).t("inputs.adoption")
        assert adoption not in labels  # no empty row
        assert adoption in cost.note  # type: ignore[attr-defined]  # ... but said why
        for chart in ("chart-tornado-cost", "chart-tornado-npv"):
            title = charts[chart].figure.layout.title.text  # type: ignore[attr-defined]
            assert all(len(line) <= 58 for line in title.split("<br>")), title


def test_plan_line_outside_the_band_is_explained(programme: Path) -> None:
    fan = pd.read_csv(programme / "risk_fan.csv")
    fan.loc[fan["metric"] == "people_served", "base"] = fan["p90"] * 1.2 + 1
    fan.to_csv(programme / "risk_fan.csv", index=False)
    note = _charts(programme)["chart-risk-people"].note  # type: ignore[attr-defined]
    assert "the plan lies outside the band in 2026, 2027, 2028, 2029, 2030" in note


def test_nice_ticks() -> None:
    assert nice_ticks(2776.0) == [0.0, 1000.0, 2000.0, 3000.0]
    assert nice_ticks(16_049_928.0)[-1] >= 16_049_928.0
    assert all(t % 2_500_000 == 0 for t in nice_ticks(16_049_928.0))


def test_demand_drivers_from_the_planners_inputs_demand(programme: Path) -> None:
    demand = pd.read_csv(programme / "demand.csv")
    last = demand[demand["year"] == 2030]
    pd.DataFrame({
        "country": last["country"], "workload": last["workload"], "year": last["year"],
        "users": last["users"], "adoption": 1.0, "queries_per_day": last["users"] * 3.5,
        "output_tokens_per_day": last["users"] * 1400.0,
        "input_tokens_per_day": last["users"] * 3500.0, "cached_input_share": 0.0,
        "mean_output_tokens_per_s": 1.0, "peak_output_tokens_per_s": 2.0,
        "usage_profile": "assistant", "model": "assistant-medium",
    }).to_csv(programme / "inputs_demand.csv", index=False)
    assumptions = _md(programme, "en").split("## Assumptions and sources")[1]
    assert "| Queries per user per day, assistant-medium (2030) | 3.5 | demand profile" \
        " 'assistant'" in assumptions
    assert "| Output tokens per user per day, assistant-medium (2030) | 1,400 |" in assumptions
    assert "| Input tokens per user per day, assistant-medium (2030) | 3,500 |" in assumptions


def test_min_cost_sovereignty_priced_on_unmet_demand_is_said_in_people(plan_dir: Path) -> None:
    """A min_cost plan whose relaxed twin serves more people: the planner's cost of
    sovereignty is its unmet-demand price, so the report says the people, not the dollars."""
    path = plan_dir / "summary.json"
    summary = json.loads(path.read_text())
    people = summary["people_served"]
    summary.update(cost_of_sovereignty_usd=4.2e12, sovereignty={
        "relaxed_cost_usd": 1.0e13, "relaxed_people_served": people + 1_000_000})
    path.write_text(json.dumps(summary))
    md = _md(plan_dir, "en")
    assert "$4.2T" not in md and "4,200,000,000,000" not in md
    assert "Cost of sovereignty" not in _summary(md)
    assert ("leaves 1,000,000 fewer people served than a plan free to serve anywhere within"
            " latency targets") in md
    # with the relaxed plan's capital and operating cost known, the money difference shows
    summary["sovereignty"]["relaxed_npv_cost_usd"] = summary["totals"]["npv_cost_usd"] - 7.0e6
    path.write_text(json.dumps(summary))
    md = _md(plan_dir, "en")
    assert "Cost of sovereignty (keeping each country's data within its permitted" \
        " jurisdictions): $7M." in _summary(md)
    # residency cheaper but serving fewer: the explanation gives both, signed, never
    # "costs -$29B more" (the global plan's case)
    summary["sovereignty"]["relaxed_npv_cost_usd"] = summary["totals"]["npv_cost_usd"] + 9.0e6
    path.write_text(json.dumps(summary))
    md = _md(plan_dir, "en")
    assert "changes capital and operating cost by -$9M (NPV) and leaves 1,000,000 fewer" \
        " people served" in md.replace("−", "-"), md
    assert "costs -$9M" not in md.replace("−", "-")


def test_each_funders_npv_comes_with_its_revenue_lines_and_the_licence_it_pays(
        plan_dir: Path) -> None:
    # the fixture predates revenue with a payer: give it the catalog's lines for Indonesia
    revenue_inputs([("IDN", "UMC")]).to_csv(plan_dir / "inputs_revenue.csv", index=False)
    md = _md(plan_dir, "en")
    header = next(x for x in md.splitlines() if x.startswith("| Funder |"))
    assert ("| New revenue: subscriptions / government licence / API & enterprise / VAT |"
            " Licence paid | NPV |") in header
    gov = next(x for x in md.splitlines() if x.startswith("| government-idn |"))
    cells = [c.strip() for c in gov.strip("|").split("|")]
    lines, licence = cells[4], cells[5]
    assert lines.count("$") == 4 and lines.count(" / ") == 3
    assert licence.startswith("$") and licence != "$0.00"  # a government pays its licence
    assert "Revenue has a payer" in md and "the time it saves them is not counted" in md
