"""Finance of a plan: cash flows, ownership, NPV/IRR/payback against hand-computed values,
and the funding ramp."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from daulat.errors import PlanDirectoryError, UserError
from daulat.finance import load_plan, write_finance
from daulat.finance.returns import irr, npv, payback
from tests.finance.conftest import edit_summary

RATE = 0.08


def test_npv_irr_payback_match_hand_computed_values() -> None:
    values = [-100.0, 60.0, 60.0]
    # NPV = -100 + 60/1.08 + 60/1.08^2
    assert npv(RATE, pd.Series(values).to_numpy()) == pytest.approx(
        -100 + 60 / 1.08 + 60 / 1.08**2)
    # IRR: 60x^2 + 60x - 100 = 0 with x = 1/(1+r)  =>  x = (-1 + sqrt(1 + 4*100/60)) / 2
    x = (-1 + (1 + 4 * 100 / 60) ** 0.5) / 2
    assert irr(pd.Series(values).to_numpy()) == pytest.approx(1 / x - 1, rel=1e-9)
    # cumulative -100, -40, +20: back to zero 40/60 of the way through the second year
    assert payback(pd.Series(values).to_numpy(), [2026, 2027, 2028]) == (
        2028, pytest.approx(1 + 40 / 60))
    assert irr(pd.Series([-1.0, -2.0]).to_numpy()) is None
    assert payback(pd.Series([-5.0, 1.0]).to_numpy(), [2026, 2027]) == (None, None)


def test_tiny_plan_returns_per_funder_by_hand(tiny_plan: Path) -> None:
    summary = write_finance(tiny_plan, life_years=0)
    by_funder = {f["funder"]: f for f in summary["funders"]}
    # funder a: 60 % owner. 2026: -60 capex - 6 opex + 30 revenue; then +24 a year (USD M)
    flows_a = [-36e6, 24e6, 24e6]
    flows_b = [-24e6, 16e6, 16e6]
    for funder, flows in (("a", flows_a), ("b", flows_b)):
        hand_npv = sum(v / (1 + RATE) ** t for t, v in enumerate(flows))
        assert by_funder[funder]["npv_usd"] == pytest.approx(hand_npv, rel=1e-6)
        # x^2 + x - 1.5 = 0 for both funders (flows are proportional)
        x = (-1 + 7**0.5) / 2
        assert by_funder[funder]["irr"] == pytest.approx(1 / x - 1, rel=1e-6)
        assert by_funder[funder]["payback_year"] == 2028
        assert by_funder[funder]["payback_years"] == pytest.approx(1.5)
    assert by_funder["a"]["capital_usd"] == pytest.approx(60e6)
    cash = pd.read_csv(tiny_plan / "cashflows.csv")
    assert set(cash.columns) >= {"funder", "funder_kind", "site", "year", "capex_usd",
                                 "opex_usd", "revenue_usd", "net_usd"}
    # every dollar of opex and revenue is shared out, none lost or doubled
    assert cash["opex_usd"].sum() == pytest.approx(30e6)
    assert cash["revenue_usd"].sum() == pytest.approx(150e6)
    assert (tiny_plan / "cashflows.parquet").exists()
    assert json.loads((tiny_plan / "finance.json").read_text())["funders"]


def test_ownership_of_each_site_sums_to_one_and_is_pro_rata(plan_dir: Path) -> None:
    summary = write_finance(plan_dir)
    own = pd.DataFrame(summary["ownership"])
    assert own.groupby("site")["share"].sum().to_numpy() == pytest.approx(1.0)
    funding = pd.read_csv(plan_dir / "funding.csv")
    batam = funding[funding["site"] == "batam-1"]
    provider = batam[batam["funder"] == "provider"]["usd"].sum() / batam["usd"].sum()
    got = own[(own["site"] == "batam-1") & (own["funder"] == "provider")]["share"].item()
    assert got == pytest.approx(provider)
    # and it agrees with the planner's own ownership.csv
    plan_own = pd.read_csv(plan_dir / "ownership.csv")
    merged = own.merge(plan_own, on=["funder", "site"], suffixes=("", "_plan"))
    assert merged["share"].to_numpy() == pytest.approx(merged["share_plan"].to_numpy(), abs=1e-5)


def test_capex_in_cash_flows_equals_the_plans_funding(plan_dir: Path) -> None:
    write_finance(plan_dir)
    cash = pd.read_csv(plan_dir / "cashflows.csv")
    funding = pd.read_csv(plan_dir / "funding.csv")
    assert cash["capex_usd"].sum() == pytest.approx(funding["usd"].sum())
    costs = pd.read_csv(plan_dir / "costs.csv")
    plan_years = cash[cash["phase"] == "plan"]
    assert plan_years["opex_usd"].sum() == pytest.approx(costs["opex_usd"].sum())
    # after the plan the assets keep earning until the end of their life: no new capital
    tail = cash[cash["phase"] == "tail"]
    assert not tail.empty and tail["capex_usd"].sum() == 0


def test_ramp_tracks_committed_against_budget_cumulatively(plan_dir: Path) -> None:
    write_finance(plan_dir)
    ramp = pd.read_csv(plan_dir / "ramp.csv")
    prog = ramp[ramp["scope"] == "programme"].sort_values("year")
    budgets = pd.read_csv(plan_dir / "budgets.csv")
    assert prog["budget_usd"].tolist() == pytest.approx(
        budgets.groupby("year")["budget_usd"].sum().tolist())
    assert prog["cumulative_committed_usd"].iloc[-1] == pytest.approx(
        budgets["committed_usd"].sum())
    assert prog["cumulative_budget_usd"].is_monotonic_increasing
    gov = ramp[(ramp["funder"] == "government-idn") & (ramp["year"] == 2027)]
    assert gov["utilisation"].item() == pytest.approx(1.0)  # the binding year of the fixture


def test_ramp_of_a_100b_to_500b_programme(tiny_plan: Path) -> None:
    # "$100B by 2026 ... $500B by 2029": a cumulative budget is never added up again (H8)
    budgets = pd.DataFrame({"funder": "provider", "year": [2026, 2027, 2028, 2029],
                            "budget_usd": [100e9, 200e9, 350e9, 500e9],
                            "committed_usd": [100e9, 80e9, 170e9, 50e9],
                            "basis": "cumulative"})
    from daulat.finance import ramp

    r = ramp(budgets)
    prog = r[r["scope"] == "programme"]
    assert prog["cumulative_budget_usd"].tolist() == [100e9, 200e9, 350e9, 500e9]
    assert prog["budget_usd"].tolist() == [100e9, 100e9, 150e9, 150e9]
    assert prog["cumulative_committed_usd"].tolist() == [100e9, 180e9, 350e9, 400e9]
    assert prog["utilisation"].tolist() == pytest.approx([1.0, 0.9, 1.0, 0.8])


def test_no_token_price_means_no_revenue_and_npv_is_minus_cost(tiny_plan: Path) -> None:
    edit_summary(tiny_plan, finance={"discount_rate": 0.08, "token_price_usd_per_million": None})
    summary = write_finance(tiny_plan, life_years=0)
    a = next(f for f in summary["funders"] if f["funder"] == "a")
    assert a["revenue_usd"] == 0
    assert a["npv_usd"] == pytest.approx(-(66e6 + 6e6 / 1.08 + 6e6 / 1.08**2))
    assert a["irr"] is None and a["payback_year"] is None


def test_missing_table_or_column_names_the_file(tiny_plan: Path) -> None:
    (tiny_plan / "funding.csv").unlink()
    (tiny_plan / "funding.parquet").unlink()  # the twin would be read instead
    with pytest.raises(UserError, match=r"funding\.csv: missing"):
        load_plan(tiny_plan)


def test_missing_column_says_what_it_should_have(tiny_plan: Path) -> None:
    pd.read_csv(tiny_plan / "costs.csv").drop(columns="opex_usd").to_csv(
        tiny_plan / "costs.csv", index=False)  # CSV is read before its Parquet twin
    with pytest.raises(UserError, match=r"costs\.csv: missing column\(s\) opex_usd"):
        load_plan(tiny_plan)


def test_bad_finance_block_names_the_field(tiny_plan: Path) -> None:
    edit_summary(tiny_plan, finance={"discount_rate": 3})
    with pytest.raises(PlanDirectoryError, match=r"summary\.json: inputs\.finance\.discount_rate"):
        load_plan(tiny_plan)


def test_a_foreign_or_older_directory_is_refused_with_what_to_do(tiny_plan: Path,
                                                                 tmp_path: Path) -> None:
    path = tiny_plan / "summary.json"
    raw = json.loads(path.read_text())
    path.write_text(json.dumps({**raw, "format_version": 1}))
    with pytest.raises(PlanDirectoryError, match=r"format version 1 is older.*daulat plan"):
        load_plan(tiny_plan)
    path.write_text(json.dumps({"status": "optimal", "horizon": [2026, 2028]}))
    with pytest.raises(PlanDirectoryError, match=r"not a daulat plan summary"):
        load_plan(tiny_plan)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlanDirectoryError, match=r"summary\.json: missing .* not a plan dir"):
        load_plan(tmp_path / "empty")
