"""The greedy baseline is held to the plan's budgets, co-funding rules and whole systems,
and max_access plans are compared with it in people served (tests/plan/tiny.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from daulat.plan import solve_data
from daulat.plan.baseline import greedy, rank_countries
from tests.plan.tiny import YEARS, tiny


def _budget(data, per_year: list[float], basis: str = "per_year"):  # type: ignore[no-untyped-def]
    data.budget_usd = xr.DataArray(np.array([per_year]), coords={"funder": ["provider"],
                                   "year": YEARS}, dims=("funder", "year"))
    data.funders = data.funders.assign(basis=[basis])
    return data


def _spent(base) -> dict[tuple[str, int], float]:  # type: ignore[no-untyped-def]
    return {(str(f), int(y)): float(v) for f, y, v in
            base.funding.groupby(["funder", "year"])["usd"].sum().reset_index().itertuples(
                index=False)}


@pytest.mark.parametrize("basis", ["per_year", "cumulative"])
def test_the_greedy_never_spends_beyond_a_budget(basis: str) -> None:
    # the tiny demand costs $15,015 in 2026; the provider has $8,000 (cumulative: $9,000)
    budget = [8_000.0, 1_000.0] if basis == "per_year" else [8_000.0, 9_000.0]
    base = greedy(_budget(tiny(), budget, basis))
    spent = _spent(base)
    assert base.budget_bound
    assert base.builds["capex_usd"].sum() == pytest.approx(sum(spent.values()))
    for i, y in enumerate(YEARS):
        got = spent.get(("provider", y), 0.0)
        if basis == "per_year":
            assert got <= budget[i] + 1e-6
        else:
            assert sum(v for (_, yy), v in spent.items() if yy <= y) <= budget[i] + 1e-6
    # the money is spent, not left over: 9,000 / 1,001 per accelerator (with its kW)
    assert base.builds["capex_usd"].sum() == pytest.approx(9_000.0)
    assert base.served_share < 1.0


def test_the_greedy_follows_the_co_funding_rules() -> None:
    # AAA's government must pay >= 30 % of each AAA purchase and has $2,000 a year:
    # AAA's purchases are capped at $2,000 / 0.3 = $6,667 a year; BBB (no government) is
    # paid by the provider alone
    data = tiny(min_government_share=0.3)
    data.funders = pd.DataFrame(
        {"kind": ["provider", "government"], "country": [None, "AAA"],
         "name": ["Provider", "Government of A"], "basis": ["per_year", "per_year"]},
        index=pd.Index(["provider", "gov-aaa"], name="funder"))
    data.budget_usd = xr.DataArray(np.array([[np.nan, np.nan], [2_000.0, 2_000.0]]),
                                   coords={"funder": ["provider", "gov-aaa"], "year": YEARS},
                                   dims=("funder", "year"))
    base = greedy(data)
    f = base.funding
    b = base.builds
    for y in YEARS:
        gov = float(f.loc[(f["funder"] == "gov-aaa") & (f["year"] == y), "usd"].sum())
        at_a = float(b.loc[(b["site"] == "site-a") & (b["year"] == y), "capex_usd"].sum())
        assert gov <= 2_000.0 + 1e-6
        assert gov >= 0.3 * at_a - 1e-6
    # 2026: capped at $6,667 (6.66 accelerators); 2027 buys the rest of A's 10
    first = b[(b["site"] == "site-a") & (b["year"] == YEARS[0])]
    assert float(first["capex_usd"].sum()) == pytest.approx(2_000.0 / 0.3)
    assert float(b.loc[b["site"] == "site-a", "count"].sum()) == pytest.approx(10.0)
    # the government pays nothing abroad: all of site-b's capital came from the provider
    at_b = float(b.loc[b["site"] == "site-b", "capex_usd"].sum())
    assert float(f.loc[f["funder"] == "provider", "usd"].sum()) >= at_b - 1e-6


def test_the_greedy_buys_whole_systems_when_the_plan_does() -> None:
    data = tiny(whole_systems="integer")
    data.accelerators = data.accelerators.assign(system_gpus=[8])
    base = greedy(_budget(data, [12_100.0, 0.0]))
    assert (base.builds["count"] % 8 == 0).all()
    # A needs 10 accelerators -> 16 in whole systems, but $12,100 buys 12 -> one system
    # of 8 ($8,008); the $4,092 left buys no system for B
    assert base.builds["count"].sum() == 8
    assert base.builds["capex_usd"].sum() <= 12_100.0


def test_max_access_plan_serves_at_least_the_greedy_under_the_same_budget() -> None:
    # B weighs three times A; $8,000 in 2026 and nothing more: not everyone can be served
    data = _budget(tiny(objective="max_access", portfolio_max_countries=1,
                        whole_systems="integer"), [8_000.0, 0.0])
    data.accelerators = data.accelerators.assign(system_gpus=[2])
    data.countries = data.countries.assign(weight=[1.0, 3.0])
    assert rank_countries(data) == ["BBB", "AAA"]  # 3 weighted people per $ vs 1
    result = solve_data(data, quiet=True, sovereignty=False)
    base = result.summary.baseline
    assert base["countries"] == ["BBB"]
    assert base["weighted_served"] > 0
    assert base["plan_weighted_served"] >= base["weighted_served"] - 1e-6
    assert base["access_gain"] == pytest.approx(base["plan_weighted_served"]
                                                - base["weighted_served"])
    assert base["people_served"] <= result.summary.people_served + 1e-6
    assert {"cost_usd", "saving_usd", "saving_share", "text"} <= set(base)
    assert "weighted person-years" in base["text"] and base["note"] == base["text"]
    # the greedy itself kept to the budget
    assert greedy(data).builds["capex_usd"].sum() <= 8_000.0 + 1e-6


def test_max_access_greedy_with_two_slots_serves_the_best_value_first() -> None:
    data = _budget(tiny(objective="max_access", portfolio_max_countries=2), [8_000.0, 0.0])
    data.countries = data.countries.assign(weight=[1.0, 3.0])
    base = greedy(data)
    assert base.countries == ["BBB", "AAA"]
    by_site = base.builds.groupby("site")["count"].sum()
    assert by_site["site-b"] == pytest.approx(5.0)  # B in full first ($5,005)
    assert by_site["site-a"] == pytest.approx((8_000.0 - 5_005.0) / 1_001.0)
    result = solve_data(data, quiet=True, sovereignty=False)
    b = result.summary.baseline
    assert b["plan_weighted_served"] >= b["weighted_served"] - 1e-6
