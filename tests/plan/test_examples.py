"""The shipped examples: plan them, then check the written tables against the rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from daulat.catalog.constants import constant, constants
from daulat.catalog.countries import load_countries
from daulat.plan import solve
from daulat.policy.residency import resolve_residency
from daulat.scenario import load_scenario
from tests.plan.invariants import check_all, solved

ROOT = Path(__file__).resolve().parents[2]
DAULAT = str(Path(sys.executable).parent / "daulat")


def _rtt(sites: pd.DataFrame):  # type: ignore[no-untyped-def]
    """Independent latency model: haversine × route inflation / fibre speed, round trip."""
    import math

    countries = load_countries()

    def rtt(country: str, site: str) -> float:
        c, s = countries[country], sites.loc[site]
        p1, p2 = math.radians(c.lat), math.radians(s["lat"])
        dl = math.radians(s["lon"] - c.lon)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        km = 2 * 6371.0088 * math.asin(math.sqrt(a))
        fixed = constants()["latency_fixed_ms"].value if "latency_fixed_ms" in constants() \
            else 0.0
        return 2 * km * constant("route_inflation") / constant("fibre_speed_km_per_s") * 1000 \
            + fixed

    return rtt


def _pack_allows(country: str, site_country: str) -> bool:
    """The one residency rule (planner and gateway): the pack, else in country only."""
    return resolve_residency(country).allows(site_country)


def test_indonesia_plan_from_the_command_line(tmp_path: Path) -> None:
    out = subprocess.run([DAULAT, "plan", "examples/indonesia.yaml", "--out", str(tmp_path),
                          "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)  # stdout is summary.json and nothing else
    # (with finance on by default the printed summary adds the finance block)
    written = json.loads((tmp_path / "summary.json").read_text())
    assert {k: v for k, v in summary.items() if k not in ("finance", "risk")} == written
    assert summary["status"] == "optimal"
    # all demand is served once the candidate cities open (2028); in 2027 only Batam is
    # ready, on its schedule (half its 30 MW programme share: announced_ramp_years, H8).
    # In whole systems a sliver may stay unserved where one more 8-GPU system costs more
    # than the penalty on it (428 tokens/s of 65 M in 2031 since the sizing of 1 Dec; with
    # prefill and decode in separate pools of whole replicas, up to 0.034 % in 2028)
    unmet = pd.read_csv(tmp_path / "unmet.csv").set_index("year")["tokens_per_s"]
    demand = pd.read_csv(tmp_path / "demand.csv").groupby("year")["tokens_per_s"].sum()
    later = (unmet / demand.reindex(unmet.index)).drop(2027, errors="ignore")
    assert (later < 1e-3).all(), later
    assert summary["served_share"] > 0.9
    # the plan is solved to the scenario's MIP gap: the greedy baseline may only beat it
    # within that gap (1 Dec, separate prefill/decode pools: by $0.19 M of $9.7 B)
    assert summary["baseline"]["saving_usd"] >= -summary["mip_gap"] * summary["objective_value"]
    assert summary["cost_of_sovereignty_usd"] is not None
    sites = pd.read_csv(tmp_path / "sites.csv").set_index("site")
    t = check_all(tmp_path, allowed=lambda c, s: c == s == "IDN", rtt_ms=_rtt(sites),
                  latency_ms={"assistant": 150.0})
    # the training run is delivered in Indonesia by 2029
    tr = t["training"]
    assert set(tr["country"]) == {"IDN"} and tr["year"].max() <= 2029
    # (whole systems may deliver a little more than the run needs, never less)
    need = 6 * 70e9 * 10e12 / 1e18
    assert need * (1 - 1e-6) <= tr["eflop"].sum() <= need * 1.02
    # the co-funding rules: government >= 20 %, provider <= 80 % of every funded site
    own = t["ownership"].pivot(index="site", columns="funder", values="share").fillna(0.0)
    provider = own["provider"] if "provider" in own else own["gov-idn"] * 0.0
    assert (own["gov-idn"] >= 0.2 - 1e-6).all() and (provider <= 0.8 + 1e-6).all()
    assert (tmp_path / "scenario.yaml").exists() and (tmp_path / "builds.parquet").exists()
    _whole_systems(t)


def _whole_systems(t: dict[str, pd.DataFrame]) -> None:
    """builds.csv buys whole systems (the catalog's system_gpus) of each accelerator."""
    from daulat.catalog.accelerators import get_accelerator

    acc = t["builds"][t["builds"]["accelerator"] != "facility"]
    assert len(acc)
    size = acc["accelerator"].map(lambda a: get_accelerator(a).system_gpus).astype(float)
    systems = acc["count"] / size
    assert (systems - systems.round()).abs().max() < 1e-6, acc


def test_program_10_chooses_at_most_ten_countries(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "examples" / "program-10.yaml")
    result = solved(ROOT / "examples" / "program-10.yaml")
    result.write(tmp_path)
    chosen = result.summary.selected_countries
    assert 1 <= len(chosen) <= 10
    sites = pd.read_csv(tmp_path / "sites.csv").set_index("site")
    t = check_all(tmp_path, allowed=_pack_allows, rtt_ms=_rtt(sites),
                  latency_ms={"assistant": 150.0, "reasoning": 150.0, "agents": 150.0})
    assert set(t["routing"]["country"]) <= set(chosen)
    # countries without a policy pack (NGA, EGY, PAK, BGD, VNM, PHL, ...) fail closed:
    # served at home only, and the plan directory says why (basis no_pack)
    inputs = pd.read_csv(tmp_path / "inputs_countries.csv").set_index("country")
    no_pack = set(inputs.index[inputs["residency_basis"] == "no_pack"])
    assert {"NGA", "EGY", "PAK", "BGD", "VNM", "PHL"} <= no_pack
    r = t["routing"]
    abroad = r[r["country"].isin(no_pack) & (r["country"] != r["site_country"])]
    assert abroad.empty, abroad
    # builds in the candidate countries only where selected; the frontier runs may also
    # build on the US Stargate campuses (outside the portfolio)
    candidates = {c.iso3 for c in scenario.countries} if isinstance(scenario.countries,
                                                                    list) else set()
    built_in = set(t["builds"]["country"])
    assert built_in & candidates <= set(chosen) and built_in - candidates <= {"USA"}
    stargate = set(scenario.training[0].sites)
    assert set(t["training"]["site"]) <= stargate
    # the demand a programme provisions for makes site power bind at Stargate campuses
    binding = {b["constraint"] for b in result.summary.binding}
    assert binding & {"site-power_built", "site-power_limit"}, result.summary.binding
    # no CHN-origin accelerators anywhere (rules.origin)
    assert not set(t["builds"]["accelerator"]) & {"Ascend-910B", "Ascend-910C"}
    # the provider's cumulative budget: $100B by 2026 ... $500B by 2029
    prov = t["budgets"][t["budgets"]["funder"] == "provider"].sort_values("year")
    assert (prov["committed_usd"].cumsum() <= prov["budget_usd"] + 1).all()
    _whole_systems(t)


def test_an_infeasible_scenario_is_answered_in_words(tmp_path: Path) -> None:
    bad = tmp_path / "early.yaml"
    bad.write_text(
        "name: too-early\nhorizon: {start: 2026, end: 2027}\ncountries: [{iso3: IDN}]\n"
        "sites: {catalog: none, candidates_per_country: 1}\n"
        "funders: [{id: provider, kind: provider, budget_usd: 1.0e9}]\n"
        "rules: {min_served_share: 0.5}\n", encoding="utf-8")
    out = subprocess.run([DAULAT, "plan", str(bad), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 2
    text = " ".join(out.stdout.split()) + " ".join(out.stderr.split())
    assert "Indonesia (IDN)" in text and "not before 2028" in text, text
    assert "min_served_share" in text
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "infeasible" and summary["infeasibility"]


@pytest.mark.slow
def test_global_plan_holds_every_invariant(tmp_path: Path) -> None:
    result = solve(load_scenario(ROOT / "examples" / "global.yaml"), sovereignty=False)
    result.write(tmp_path)
    assert result.summary.status == "optimal"
    assert result.summary.rounding["mode"] == "round"
    assert result.summary.rounding["applied"] is True
    t = check_all(tmp_path, allowed=_pack_allows)
    _whole_systems(t)
