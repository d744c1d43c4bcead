"""Cash flows per funder, site and year from a plan result.

* **capex**: what each funder pays into each site each year (``funding.csv``).
* **opex**: the programme's operating cost each year (``costs.csv``) shared among sites
  pro rata to their energy that year (``energy.csv``; facility MW in service where the
  plan has no energy table), then among each site's owners pro rata to ownership.
* **revenue**: tokens served at each site (``routing.csv``) × the scenario's
  ``finance.token_price_usd_per_million``, shared among owners pro rata to ownership.
  ``routing.csv`` holds *peak* tokens/s (the planner sizes for the peak), so the average
  rate is peak ÷ the workload's peak factor (see :func:`peak_factors`).
* **tail**: assets keep operating after the plan's last year until the end of their life
  (the depreciation life of accelerator systems the planner used, counted from each
  build year),
  so a plan that builds up to its last year is not judged on its build years alone. In a
  tail year each site's last-plan-year opex and revenue are scaled by the share of its
  capital still within its life; no new capital is spent.

Amounts are in the plan's currency at its price year; outflows are positive numbers in
``capex_usd`` / ``opex_usd`` and ``net_usd = revenue_usd - capex_usd - opex_usd``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from daulat.finance.ownership import ownership, ownership_by_year
from daulat.finance.tables import PlanTables

__all__ = [
    "SECONDS_PER_YEAR",
    "TOKENS_PER_MILLION",
    "CashFlowBasis",
    "cash_flows",
    "peak_factors",
    "default_life_years",
    "alive_share",
    "site_opex",
    "site_revenue",
]

#: Seconds in a (365-day) year: converts tokens/s to tokens per year.
SECONDS_PER_YEAR = 365 * 24 * 3600
#: Prices are quoted per million tokens.
TOKENS_PER_MILLION = 1_000_000
@dataclass(frozen=True)
class CashFlowBasis:
    """How the cash flows were derived (reported beside them)."""

    token_price_usd_per_million: float | None
    peak_factor: dict[str, float]
    peak_factor_source: str
    asset_life_years: int
    asset_life_source: str
    tail_years: int
    opex_allocation: str


def default_life_years(tables: PlanTables) -> tuple[int, str]:
    """The asset life in years and where that figure comes from: the depreciation life of
    accelerator systems the planner used (``summary.json`` ``inputs.asset_life_years``);
    0 (no operating tail) when the plan has none."""
    inputs = tables.summary.inputs
    if inputs.asset_life_years > 0:
        return inputs.asset_life_years, inputs.asset_life_source or "plan inputs"
    return 0, "the plan gives no asset life: no operating tail"


def peak_factors(tables: PlanTables) -> tuple[dict[str, float], str]:
    """Peak ÷ average tokens/s per ``country|workload`` pair, and where the figures come
    from: the plan's ``inputs_peak_factors`` (the scenario's overrides, else the sizing
    default, as the planner resolved them); 1.0 for a pair it does not list (revenue from
    the peak rate: an upper bound, said so in the basis)."""
    p = tables.inputs_peak_factors
    out = {f"{c}|{w}": float(v) for c, w, v in zip(p["country"], p["workload"],
                                                    p["peak_factor"], strict=True)}
    sources = sorted(set(p["source"].astype(str)))
    source = "plan inputs_peak_factors: " + "; ".join(sources) if sources else ""
    pairs = pd.concat([tables.routing[["country", "workload"]],
                       tables.demand[["country", "workload"]]])
    missing = [f"{c}|{w}" for c, w in pairs.drop_duplicates().itertuples(index=False)
               if f"{c}|{w}" not in out]
    for key in missing:
        out[key] = 1.0
    if missing or not source:
        source = (source + "; " if source else "") + (
            "no peak factor for some pairs: revenue at the peak rate (upper bound)")
    return out, source


def site_revenue(tables: PlanTables, factors: dict[str, float]) -> pd.DataFrame:
    """Revenue per site and year (columns site, year, tokens, revenue_usd).

    ``tokens`` is tokens served in the year (average rate × seconds per year); revenue is 0
    when the scenario gives no token price.
    """
    r = tables.routing.copy()
    if r.empty:
        return pd.DataFrame(columns=["site", "year", "tokens", "revenue_usd"])
    key = r["country"].astype(str) + "|" + r["workload"].astype(str)
    r["tokens"] = r["tokens_per_s"] * SECONDS_PER_YEAR / key.map(factors).fillna(1.0)
    out = r.groupby(["site", "year"])["tokens"].sum().reset_index()
    price = tables.finance.token_price_usd_per_million
    out["revenue_usd"] = out["tokens"] / TOKENS_PER_MILLION * (price or 0.0)
    return out


def site_opex(tables: PlanTables) -> tuple[pd.DataFrame, str]:
    """The programme's yearly opex shared among sites (columns site, year, opex_usd).

    Weights: each site's energy that year; facility MW in service where there is no energy.
    """
    years = tables.years
    e = tables.energy
    if not e.empty and e["energy_mwh"].sum() > 0:
        w = e.groupby(["site", "year"])["energy_mwh"].sum().reset_index()
        w = w.rename(columns={"energy_mwh": "weight"})
        basis = "pro rata to site energy (energy.csv)"
    else:
        b = tables.builds.groupby(["site", "year"])["facility_mw"].sum().reset_index()
        grid = b[["site"]].drop_duplicates().merge(pd.DataFrame({"year": years}), how="cross")
        grid = grid.merge(b, on=["site", "year"], how="left").fillna({"facility_mw": 0.0})
        grid = grid.sort_values(["site", "year"])
        grid["weight"] = grid.groupby("site")["facility_mw"].cumsum()
        w = grid[["site", "year", "weight"]]
        basis = "pro rata to facility MW in service (builds.csv)"
    w = w[w["weight"] > 0].copy()
    w["weight"] = w["weight"] / w.groupby("year")["weight"].transform("sum")
    out = w.merge(tables.costs[["year", "opex_usd"]], on="year", how="inner")
    out["opex_usd"] = out["opex_usd"] * out["weight"]
    return out[["site", "year", "opex_usd"]], basis


def alive_share(builds: pd.DataFrame, life_years: int, years: list[int]) -> pd.DataFrame:
    """Share of each site's capital (built up to the plan's end) still within its life in
    each of ``years`` (columns site, year, share): a build in year y lives y .. y+life-1."""
    rows = []
    capex = builds.groupby(["site", "year"])["capex_usd"].sum().reset_index()
    for site, group in capex.groupby("site"):
        total = float(group["capex_usd"].sum())
        for year in years:
            alive = group[(group["year"] <= year) & (group["year"] + life_years > year)]
            share = float(alive["capex_usd"].sum()) / total if total > 0 else 0.0
            rows.append({"site": site, "year": year, "share": share})
    return pd.DataFrame(rows, columns=["site", "year", "share"])


def cash_flows(tables: PlanTables, life_years: int | None = None) -> tuple[pd.DataFrame,
                                                                            CashFlowBasis]:
    """Cash flows per funder, site and year.

    ``life_years`` is the asset life in years (None: the plan's); the tail runs from the
    plan's last year + 1 to the last year any build is still alive.

    Returns a DataFrame with columns funder, funder_kind, site, year, phase ('plan' for the
    plan's years, 'tail' after them), capex_usd, opex_usd, revenue_usd, net_usd (USD of the
    plan's price year) and the :class:`CashFlowBasis` that says how it was derived.
    """
    years = tables.years
    if life_years is None:
        life_years, life_source = default_life_years(tables)
    else:
        life_source = "given"
    factors, factor_source = peak_factors(tables)
    opex, opex_basis = site_opex(tables)
    revenue = site_revenue(tables, factors)

    site_flows = opex.merge(revenue[["site", "year", "revenue_usd"]], on=["site", "year"],
                            how="outer").fillna({"opex_usd": 0.0, "revenue_usd": 0.0})
    own_y = ownership_by_year(tables.funding, years)
    shared = site_flows.merge(own_y[["funder", "site", "year", "share"]], on=["site", "year"],
                              how="inner")
    # Site-years with flows but no capital yet (should not happen in a consistent plan):
    # shared by final ownership so no money disappears.
    orphan = site_flows.merge(own_y[["site", "year"]].drop_duplicates(), on=["site", "year"],
                              how="left", indicator=True)
    orphan = orphan[orphan["_merge"] == "left_only"].drop(columns="_merge")
    if not orphan.empty:
        final = ownership(tables.funding)[["funder", "site", "share"]]
        shared = pd.concat([shared, orphan.merge(final, on="site", how="inner")])
    shared["opex_usd"] *= shared["share"]
    shared["revenue_usd"] *= shared["share"]
    shared = shared.drop(columns="share")

    capex = tables.funding.groupby(["funder", "site", "year"])["usd"].sum().reset_index()
    capex = capex.rename(columns={"usd": "capex_usd"})
    flows = capex.merge(shared, on=["funder", "site", "year"], how="outer")
    flows = flows.fillna({"capex_usd": 0.0, "opex_usd": 0.0, "revenue_usd": 0.0})
    flows = flows[flows["year"].isin(years)]
    flows["phase"] = "plan"

    life = int(life_years)
    last_build = int(tables.builds["year"].max()) if not tables.builds.empty else years[-1]
    tail_range = list(range(years[-1] + 1, last_build + life))
    if life > 0 and tail_range and not flows.empty:
        last = flows[flows["year"] == years[-1]][["funder", "site", "opex_usd", "revenue_usd"]]
        end = alive_share(tables.builds, life, [years[-1]]).set_index("site")["share"]
        tail = last.merge(pd.DataFrame({"year": tail_range}), how="cross")
        alive = alive_share(tables.builds, life, tail_range)
        tail = tail.merge(alive, on=["site", "year"], how="left").fillna({"share": 0.0})
        # Scale the last plan year's flows by the capital still alive, relative to then.
        ratio = tail["share"] / tail["site"].map(end).where(lambda v: v > 0)
        ratio = ratio.fillna(0.0)
        tail["opex_usd"] *= ratio
        tail["revenue_usd"] *= ratio
        tail = tail.drop(columns="share")
        tail["capex_usd"] = 0.0
        tail["phase"] = "tail"
        flows = pd.concat([flows, tail], ignore_index=True)

    kinds = tables.funding.drop_duplicates("funder").set_index("funder")["funder_kind"]
    flows["funder_kind"] = flows["funder"].map(kinds)
    flows["net_usd"] = flows["revenue_usd"] - flows["capex_usd"] - flows["opex_usd"]
    flows = flows[["funder", "funder_kind", "site", "year", "phase", "capex_usd", "opex_usd",
                   "revenue_usd", "net_usd"]]
    flows = flows.sort_values(["funder", "site", "year"]).reset_index(drop=True)
    flows["year"] = flows["year"].astype(int)
    basis = CashFlowBasis(
        token_price_usd_per_million=tables.finance.token_price_usd_per_million,
        peak_factor=factors,
        peak_factor_source=factor_source,
        asset_life_years=life,
        asset_life_source=life_source,
        tail_years=len(tail_range) if life > 0 else 0,
        opex_allocation=opex_basis,
    )
    return flows, basis
