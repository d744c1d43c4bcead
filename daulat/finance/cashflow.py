"""Cash flows per funder, site and year from a plan result.

* **capex**: what each funder pays into each site each year (``funding.csv``).
* **opex**: the programme's operating cost each year (``costs.csv``) shared among sites
  pro rata to their energy that year (``energy.csv``; facility MW in service where the
  plan has no energy table), then among each site's owners pro rata to ownership.
* **revenue**: money someone pays (:mod:`daulat.finance.revenue`: subscriptions, a
  government licence, API and enterprise use), per country, shared among the sites serving
  it by tokens served, then among each site's owners by asset vintage
  (:mod:`daulat.finance.ownership`). Only *new* revenue counts; what the provider already
  earns from the same people is reported beside it. ``routing.csv`` holds *peak* tokens/s
  (the planner sizes for the peak), so the average rate is peak ÷ the workload's peak
  factor (see :func:`peak_factors`).
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
from daulat.finance.revenue import (
    SECONDS_PER_YEAR,
    TOKENS_PER_MILLION,
    VAT_LINE,
    site_revenue_lines,
)
from daulat.finance.tables import PlanTables

__all__ = [
    "SECONDS_PER_YEAR",
    "TOKENS_PER_MILLION",
    "CashFlowBasis",
    "cash_flows",
    "cash_flows_with_lines",
    "peak_factors",
    "default_life_years",
    "alive_share",
    "revenue_lines",
    "site_opex",
    "site_revenue",
]

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
    """New revenue per site and year (columns site, year, tokens, revenue_usd): the revenue
    lines of :mod:`daulat.finance.revenue` (each with its payer) at the sites that serve
    them; ``tokens`` is the tokens served there in the year (average rate)."""
    r = tables.routing.copy()
    if r.empty:
        return pd.DataFrame(columns=["site", "year", "tokens", "revenue_usd"])
    key = r["country"].astype(str) + "|" + r["workload"].astype(str)
    r["tokens"] = r["tokens_per_s"].astype(float) * SECONDS_PER_YEAR / key.map(factors).fillna(
        1.0)
    out = r.groupby(["site", "year"])["tokens"].sum().reset_index()
    lines = site_revenue_lines(tables, factors)
    lines = lines[lines["line"] != VAT_LINE]  # the government's, not the site's
    rev = lines.groupby(["site", "year"], as_index=False)["new_revenue_usd"].sum()
    out = out.merge(rev, on=["site", "year"], how="left").fillna({"new_revenue_usd": 0.0})
    return out.rename(columns={"new_revenue_usd": "revenue_usd"})


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


def _tail_ratio(builds: pd.DataFrame, life: int, last_year: int,
                tail_years: list[int]) -> pd.DataFrame:
    """Each site's capital alive in each tail year relative to the plan's last year
    (columns site, year, ratio)."""
    end = alive_share(builds, life, [last_year]).set_index("site")["share"]
    alive = alive_share(builds, life, tail_years)
    alive["ratio"] = (alive["share"] / alive["site"].map(end).where(lambda v: v > 0)).fillna(0.0)
    return alive[["site", "year", "ratio"]]


def _with_tail(frame: pd.DataFrame, values: list[str], ratio: pd.DataFrame, last_year: int,
               tail_years: list[int]) -> pd.DataFrame:
    """``frame`` (with site, year) plus its last plan year's rows carried into each tail
    year, ``values`` scaled by the site's capital still alive; column phase added."""
    plan = frame.assign(phase="plan")
    if not tail_years or ratio.empty:
        return plan
    last = frame[frame["year"] == last_year].drop(columns="year")
    tail = last.merge(ratio, on="site", how="inner")
    for col in values:
        tail[col] = tail[col] * tail["ratio"]
    tail = tail.drop(columns="ratio").assign(phase="tail")
    return pd.concat([plan, tail], ignore_index=True)


def _share(frame: pd.DataFrame, own: pd.DataFrame, final: pd.DataFrame,
           values: list[str]) -> pd.DataFrame:
    """Share site-year ``values`` among the site's owners that year (``own``: funder, site,
    year, share); a site-year no vintage covers is shared by ``final`` ownership so no money
    disappears."""
    shared = frame.merge(own[["funder", "site", "year", "share"]], on=["site", "year"],
                         how="inner")
    covered = own[["site", "year"]].drop_duplicates()
    orphan = frame.merge(covered, on=["site", "year"], how="left", indicator=True)
    orphan = orphan[orphan["_merge"] == "left_only"].drop(columns="_merge")
    if not orphan.empty:
        shared = pd.concat([shared, orphan.merge(final[["funder", "site", "share"]],
                                                 on="site", how="inner")])
    for col in values:
        shared[col] = shared[col] * shared["share"]
    return shared.drop(columns="share")


def cash_flows(tables: PlanTables, life_years: int | None = None) -> tuple[pd.DataFrame,
                                                                            CashFlowBasis]:
    """Cash flows per funder, site and year.

    ``life_years`` is the asset life in years (None: the plan's); the tail runs from the
    plan's last year + 1 to the last year any build is still alive.

    Returns a DataFrame with columns funder, funder_kind, site, year, phase ('plan' for the
    plan's years, 'tail' after them), capex_usd, opex_usd, licence_usd (a government's
    licence fees for its public servants, paid to the sites serving them), revenue_usd
    (NEW revenue: its ownership share of the revenue lines), existing_revenue_usd (its share
    of revenue the provider already earns from the same people: reported, not counted),
    net_usd = revenue - capex - opex - licence (USD of the plan's price year), and the
    :class:`CashFlowBasis` that says how it was derived. :func:`revenue_lines` gives the
    revenue behind each funder's figure.
    """
    flows, _, basis = _flows_and_lines(tables, life_years)
    return flows, basis


def cash_flows_with_lines(tables: PlanTables, life_years: int | None = None
                          ) -> tuple[pd.DataFrame, pd.DataFrame, CashFlowBasis]:
    """:func:`cash_flows` and :func:`revenue_lines` from one computation: (flows, lines,
    basis), for callers that need both."""
    return _flows_and_lines(tables, life_years)


def revenue_lines(tables: PlanTables, life_years: int | None = None) -> pd.DataFrame:
    """The revenue behind each funder's cash flows: columns funder, site, country, line,
    payer, year, phase, revenue_usd (new), existing_revenue_usd — its ownership share of
    each revenue line (subscriptions, government licence, API and enterprise) at each site
    and year. Summed over lines, ``revenue_usd`` equals the funder's revenue in
    :func:`cash_flows`."""
    return _flows_and_lines(tables, life_years)[1]


def _flows_and_lines(tables: PlanTables, life_years: int | None
                     ) -> tuple[pd.DataFrame, pd.DataFrame, CashFlowBasis]:
    years = tables.years
    if life_years is None:
        life_years, life_source = default_life_years(tables)
    else:
        life_source = "given"
    life = int(life_years)
    factors, factor_source = peak_factors(tables)
    opex, opex_basis = site_opex(tables)
    lines = site_revenue_lines(tables, factors)
    last_build = int(tables.builds["year"].max()) if not tables.builds.empty else years[-1]
    tail_range = list(range(years[-1] + 1, last_build + life)) if life > 0 else []
    ratio = _tail_ratio(tables.builds, life, years[-1], tail_range) if tail_range else (
        pd.DataFrame(columns=["site", "year", "ratio"]))

    money = ["gross_usd", "revenue_usd", "new_revenue_usd", "existing_revenue_usd"]
    lines = _with_tail(lines[lines["year"].isin(years)], money, ratio, years[-1], tail_range)
    opex = _with_tail(opex[opex["year"].isin(years)], ["opex_usd"], ratio, years[-1],
                      tail_range)
    own = ownership_by_year(tables.funding, years + tail_range, life_years=life or None)
    final = ownership(tables.funding)

    gov = tables.inputs_funders[tables.inputs_funders["kind"] == "government"]
    gov_of = {str(c): str(f) for f, c in zip(gov["funder"], gov["country"], strict=True)
              if c is not None}
    # VAT in the subscribers' price is their government's, whoever owns the sites; where
    # that government is no funder of the programme it is no funder's cash flow.
    is_vat = lines["line"] == VAT_LINE
    vat = lines[is_vat].assign(funder=lines.loc[is_vat, "country"].map(gov_of))
    vat = vat.dropna(subset=["funder"])
    owned_lines = _share(lines[~is_vat], own, final, money)
    if not vat.empty:
        owned_lines = pd.concat([owned_lines, vat], ignore_index=True)
    owned_opex = _share(opex, own, final, ["opex_usd"])
    site_rev = owned_lines.groupby(["funder", "site", "year", "phase"], as_index=False)[
        ["new_revenue_usd", "existing_revenue_usd"]].sum().rename(
        columns={"new_revenue_usd": "revenue_usd"})

    # A government funder pays its country's licence line (to whoever owns the sites).
    licence = lines[lines["line"] == "government_licence"].copy()
    licence["funder"] = licence["country"].map(gov_of)
    licence = licence.dropna(subset=["funder"])
    licence = licence.groupby(["funder", "site", "year", "phase"], as_index=False)[
        ["gross_usd"]].sum().rename(columns={"gross_usd": "licence_usd"})

    capex = tables.funding.groupby(["funder", "site", "year"])["usd"].sum().reset_index()
    capex = capex.rename(columns={"usd": "capex_usd"}).assign(phase="plan")
    capex = capex[capex["year"].isin(years)]
    keys = ["funder", "site", "year", "phase"]

    def keyed(df: pd.DataFrame) -> pd.DataFrame:  # one dtype per key, even when empty
        return df.astype({"funder": object, "site": object, "year": "int64",
                          "phase": object})

    flows = keyed(capex).merge(keyed(owned_opex[keys + ["opex_usd"]]), on=keys, how="outer")
    flows = flows.merge(keyed(site_rev), on=keys, how="outer").merge(keyed(licence), on=keys,
                                                                      how="outer")
    flows = flows.fillna({"capex_usd": 0.0, "opex_usd": 0.0, "revenue_usd": 0.0,
                          "existing_revenue_usd": 0.0, "licence_usd": 0.0})
    kinds = dict(zip(tables.inputs_funders["funder"], tables.inputs_funders["kind"],
                     strict=True))
    kinds.update(tables.funding.drop_duplicates("funder").set_index("funder")["funder_kind"])
    flows["funder_kind"] = flows["funder"].map(kinds)
    flows["net_usd"] = (flows["revenue_usd"] - flows["capex_usd"] - flows["opex_usd"]
                        - flows["licence_usd"])
    flows = flows[["funder", "funder_kind", "site", "year", "phase", "capex_usd", "opex_usd",
                   "licence_usd", "revenue_usd", "existing_revenue_usd", "net_usd"]]
    flows = flows.sort_values(["funder", "site", "year"]).reset_index(drop=True)
    flows["year"] = flows["year"].astype(int)

    out_lines = owned_lines.rename(columns={"revenue_usd": "all_revenue_usd"}).rename(
        columns={"new_revenue_usd": "revenue_usd"})
    out_lines = out_lines[["funder", "site", "country", "line", "payer", "year", "phase",
                           "revenue_usd", "existing_revenue_usd"]]
    out_lines = out_lines.sort_values(["funder", "country", "line", "year", "site"])
    basis = CashFlowBasis(
        token_price_usd_per_million=tables.finance.token_price_usd_per_million,
        peak_factor=factors,
        peak_factor_source=factor_source,
        asset_life_years=life,
        asset_life_source=life_source,
        tail_years=len(tail_range),
        opex_allocation=opex_basis,
    )
    return flows, out_lines.reset_index(drop=True), basis
