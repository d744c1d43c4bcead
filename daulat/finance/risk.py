"""Risk: Monte Carlo over a plan's uncertain inputs, a tornado table, re-solved sweeps.

**Fast path** (:func:`monte_carlo`): the plan stays as it is (what is built where and
when, who pays) and the world around it varies. Each sample draws four inputs from the
scenario's ``uncertainty`` block (triangular distributions):

* ``accelerator_price`` — multiplies the accelerator part of each build's capex (the
  plan's accelerator rows in ``builds``: system and network share, the scenario's
  ``accelerator_price_factor`` already applied by the planner);
* ``adoption`` — multiplies demand; served tokens are ``min(adoption × demand, capacity)``
  where capacity is what the plan serves (a min-cost plan builds what it serves);
* ``power_price`` — multiplies the power part of opex (site energy × the site's power
  price from ``inputs_sites``, capped at the site's opex);
* ``delay_years`` — construction delay: capacity, opex and revenue arrive ``delay`` years
  later (fractional delays interpolate between years); capital is spent as planned;
* every **revenue figure** with a range in the plan's ``inputs_revenue`` (paying share,
  subscription price, app-store and payment fees, API price and token share, the model's
  development and sales and support as shares of revenue): drawn as one quantile per figure
  shared by every country, each country's value with its median at its base; each line's
  revenue (``revenue_lines``) scales with the figures behind it (subscriptions: paying share
  × price × (1 − fee) × (1 − development − sales); VAT: paying share × price; government
  licence: (1 − development − sales); API: price × token share × (1 − development − sales)),
  each over its base;
* every **demand and fleet figure** with a range in the plan's ``inputs_demand_ranges``
  (usage-profile figures — prompts per user-day, mode shares, tokens per prompt, the
  enterprise/API/government segments — and fleet factors — peak/average, headroom,
  failover, research share, fleet utilisation; issue 10: an unsourced figure's range is
  sampled here). Each is drawn with its median at the base (a triangle rising from low to
  base for half the draws, falling from base to high for the other half: the catalog's
  value is its best estimate, not the mode of a skewed range); the planner recorded the
  accelerators the same users need at its low and high over its base (the sizing engine,
  one figure moved at a time), interpolated linearly in between; the figures' multipliers
  multiply into the capacity each (country, workload) needs: ``need = adoption × M ×
  demand``. Above the plan's capacity the plan falls short (fewer people served, as a share
  of the country's users; revenue as planned); below it capacity stands idle (revenue
  falls with the capacity used; the idle share of the serving capital is
  ``idle_capital_usd``).

All samples are evaluated at once on numpy arrays (samples × funders × years, samples ×
countries × years), in chunks that bound memory; 10 000 samples of a national plan take
a few hundredths of a second. Outputs: P10/P50/P90 of total cost (capex + opex over the
plan's years, USD), people served (in the plan's last year), the capacity the users need
in the plan's last year over the base case's (``capacity_need_ratio``), capital left idle
(the plan's serving capital × the share of its serving capacity unused in its last year) and each
funder's NPV (as in ``returns.csv``); per-year fans of cost and people served; a tornado
table (each input at its low and high, the others at their mode; demand figures named
``demand:<factor>``).

Re-solved sweeps (K scenarios re-planned with the ``sensitivity`` knobs drawn from the
same ranges) re-run the planner, so they live above it: :func:`daulat.pipeline.resolve_sweep`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from daulat.console import to_jsonable
from daulat.errors import UserError
from daulat.finance.cashflow import alive_share, cash_flows_with_lines, site_opex
from daulat.finance.engines import parallel_map
from daulat.finance.tables import PlanTables, load_plan

__all__ = [
    "INPUTS",
    "REVENUE_FIGURES",
    "DemandFactor",
    "capacity_multiplier",
    "demand_factors",
    "RiskModel",
    "RiskResult",
    "build_risk_model",
    "draw_inputs",
    "evaluate",
    "mode_draws",
    "monte_carlo",
    "power_price_usd_per_mwh",
    "run_risk",
    "tornado",
]

#: The uncertain inputs, in the order they are drawn (fixed: a seed means one answer).
INPUTS: tuple[str, ...] = ("accelerator_price", "adoption", "power_price", "delay_years")
#: Revenue figures with a range in the plan's ``inputs_revenue`` that each sample draws
#: (in this order, after the demand figures): a quantile u in [0, 1] per figure, shared by
#: every country (a high draw is high everywhere), mapped to each country's own low / base /
#: high with its median at the base. The VAT rate and the government's seat price are not
#: drawn (a law and a price the government sets; the seat is also the government's cost).
REVENUE_FIGURES: tuple[str, ...] = (
    "paying_share", "subscription_price_usd_per_month", "store_payment_fee_share",
    "api_usd_per_million_output_tokens", "api_token_share", "model_development_share",
    "sales_support_share",
)
#: Revenue lines (``revenue_lines``) and what scales each: the provider's costs (model
#: development, sales and support) come off every line the owners keep, not off VAT.
_LINES = ("subscriptions", "vat", "government_licence", "api_enterprise")
#: Largest array (elements) one evaluation chunk may build; bounds memory, not results.
_CHUNK_ELEMENTS = 4_000_000
#: Quantiles reported (P10, P50, P90).
QUANTILES: tuple[int, ...] = (10, 50, 90)


@dataclass
class RiskModel:
    """A plan reduced to the arrays the Monte Carlo needs (all USD of the plan's price year).

    Axes: f = funder, c = country, p = (country, workload) pair, t = year (plan years, then
    operating tail years).
    """

    years: np.ndarray  # (t,)
    plan_mask: np.ndarray  # (t,) bool: year within the plan
    funders: list[str]
    countries: list[str]
    discount: np.ndarray  # (t,) discount factor to the first year
    capex_acc_f: np.ndarray  # (f, t) accelerator part of each funder's capex
    capex_other_f: np.ndarray  # (f, t)
    opex_power_f: np.ndarray  # (f, t) power part of each funder's opex share
    opex_other_f: np.ndarray  # (f, t)
    licence_f: np.ndarray  # (f, t) a government's licence fees (an outflow in its NPV only)
    revenue_fc: np.ndarray  # (f, c, t) revenue from serving each country (all lines)
    pair_country: np.ndarray  # (p,) the country (index into countries) of each pair
    demand_p: np.ndarray  # (p, t) demand tokens/s per (country, workload) (tail: last year's)
    served_p: np.ndarray  # (p, t) served tokens/s (tail: scaled by capital still alive)
    users_per_tps_p: np.ndarray  # (p, t) people per served token/s (country's users / its
    #                               workloads with demand / the pair's demand)
    serving_capital_usd: float = 0.0  # capex over the plan's years x serving share
    factors: list[str] = field(default_factory=list)  # k demand factor ids
    factor_pts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # (k, 3)
    factor_mult: np.ndarray = field(default_factory=lambda: np.ones((0, 0, 2)))  # (p, k, 2)
    factor_group: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=int))
    #                               (p, k): index into group_share's columns, -1: whole fleet
    group_share: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (p, groups)
    revenue_lfc: dict[str, np.ndarray] = field(default_factory=dict)  # line -> (f, c, t)
    revenue_held: list[str] = field(default_factory=list)  # r revenue figures in the plan
    revenue_figures: list[str] = field(default_factory=list)  # those with a range: drawn
    revenue_pts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3)))  # (r, c, 3)
    #                               low, base, high per held figure and country (nan: none)
    basis: dict[str, str] = field(default_factory=dict)


def power_price_usd_per_mwh(tables: PlanTables, iso3: str) -> tuple[float, str]:
    """Power price of ``iso3``'s sites in USD/MWh (their mean) and its source, as the
    planner used it (``inputs_sites``: the scenario's override, else the country catalog,
    else the catalog default, the scenario's power_price_factor applied)."""
    s = tables.inputs_sites[tables.inputs_sites["country"] == iso3]
    if s.empty:
        raise UserError(f"{tables.path / 'inputs_sites.csv'}: no site in {iso3}; valid: "
                        f"{', '.join(sorted(set(tables.inputs_sites['country'])))}")
    return (float(s["power_price_usd_per_mwh"].mean()),
            "; ".join(sorted(set(s["power_price_source"].astype(str)))))


def _site_power_price(tables: PlanTables) -> tuple[dict[str, float], str]:
    s = tables.inputs_sites
    prices = dict(zip(s["site"].astype(str), s["power_price_usd_per_mwh"].astype(float),
                      strict=True))
    sources = sorted(set(s["power_price_source"].astype(str)))
    return prices, "; ".join(sources[:3]) + (" …" if len(sources) > 3 else "")


def build_risk_model(tables: PlanTables, life_years: int | None = None) -> RiskModel:
    """Reduce a read plan to a :class:`RiskModel`."""
    if tables.builds.empty or tables.funding.empty:
        status = tables.summary.status.value
        raise UserError(
            f"{tables.path}: the plan builds nothing and no funder pays (builds.csv or"
            f" funding.csv is empty; plan status {status!r}), so there is no risk to"
            " analyse; fix the scenario and plan again")
    flows, lines, basis = cash_flows_with_lines(tables, life_years=life_years)
    plan_years = tables.years
    years = sorted(set(plan_years) | set(flows["year"].tolist()))
    t_index = {y: i for i, y in enumerate(years)}
    funders = sorted(flows["funder"].unique().tolist()) or sorted(
        tables.funding["funder"].unique().tolist())
    f_index = {f: i for i, f in enumerate(funders)}
    countries = sorted(set(tables.demand["country"]) | set(tables.routing["country"]))
    c_index = {c: i for i, c in enumerate(countries)}
    n_f, n_c, n_t = len(funders), len(countries), len(years)

    # Capex: the accelerator share of each site-year build (the plan's accelerator rows,
    # priced by the planner: system and network share, the scenario's price factor).
    b = tables.builds.copy()
    b["acc_usd"] = b["capex_usd"].where(b["accelerator"] != "facility", 0.0)
    site_year = b.groupby(["site", "year"])[["acc_usd", "capex_usd"]].sum()
    acc_share = (site_year["acc_usd"] / site_year["capex_usd"].where(site_year["capex_usd"] > 0)
                 ).clip(upper=1.0).fillna(0.0)
    site_total = b.groupby("site")[["acc_usd", "capex_usd"]].sum()
    site_share = (site_total["acc_usd"] / site_total["capex_usd"].where(
        site_total["capex_usd"] > 0)).clip(upper=1.0).fillna(0.0)
    capex_acc_f = np.zeros((n_f, n_t))
    capex_other_f = np.zeros((n_f, n_t))
    fund = tables.funding
    for funder, site, year, usd in zip(fund["funder"].tolist(), fund["site"].tolist(),
                                       fund["year"].tolist(), fund["usd"].tolist(), strict=True):
        share = float(acc_share.get((site, year), site_share.get(site, 0.0)) or 0.0)
        if funder in f_index and year in t_index:
            capex_acc_f[f_index[funder], t_index[year]] += usd * share
            capex_other_f[f_index[funder], t_index[year]] += usd * (1 - share)

    # Opex: the power part of each site-year's opex (energy × price), then to funders.
    opex, _ = site_opex(tables)
    e = tables.energy
    price_source = ""
    if not e.empty:
        price_map, price_source = _site_power_price(tables)
        power = e.assign(power_usd=e["energy_mwh"] * e["site"].astype(str).map(price_map)
                         .fillna(0.0))
        power = power.groupby(["site", "year"])["power_usd"].sum().reset_index()
        opex = opex.merge(power, on=["site", "year"], how="left").fillna({"power_usd": 0.0})
        opex["power_share"] = (opex["power_usd"] / opex["opex_usd"].where(opex["opex_usd"] > 0)
                               ).clip(upper=1.0).fillna(0.0)
    else:
        opex["power_share"] = 0.0
    power_share = opex.set_index(["site", "year"])["power_share"]
    last_power = opex[opex["year"] == plan_years[-1]].set_index("site")["power_share"]
    opex_power_f = np.zeros((n_f, n_t))
    opex_other_f = np.zeros((n_f, n_t))
    licence_f = np.zeros((n_f, n_t))
    for row in flows.itertuples(index=False):
        ps = power_share.get((row.site, row.year), last_power.get(row.site, 0.0))
        fi, ti = f_index[row.funder], t_index[row.year]
        opex_power_f[fi, ti] += row.opex_usd * ps
        opex_other_f[fi, ti] += row.opex_usd * (1 - ps)
        # a government's licence fees for its public servants (cashflow.py): in its NPV,
        # not in the programme's cost (the provider receives them)
        licence_f[fi, ti] += float(getattr(row, "licence_usd", 0.0))

    # Revenue per funder, country and line: each funder's ownership share of each country's
    # revenue lines at each site and year (the same computation as the cash flows).
    revenue_lfc = {line: np.zeros((n_f, n_c, n_t)) for line in _LINES}
    for funder, country, line, year, usd in zip(
            lines["funder"].tolist(), lines["country"].tolist(), lines["line"].tolist(),
            lines["year"].tolist(), lines["revenue_usd"].tolist(), strict=True):
        if funder in f_index and country in c_index and year in t_index:
            arr = revenue_lfc.setdefault(str(line), np.zeros((n_f, n_c, n_t)))
            arr[f_index[funder], c_index[country], t_index[year]] += usd
    revenue_fc = sum(revenue_lfc.values(), np.zeros((n_f, n_c, n_t)))
    rev_held, rev_figures, rev_pts = _revenue_points(tables, countries)

    # Demand, served and users per (country, workload) pair and year; the tail holds the
    # last plan year's demand and the served capacity still alive. A country's people are
    # counted once: users x the mean over its workloads of the share served (as the plan's
    # people_served), so each pair carries users / (workloads with demand) / its demand.
    pairs = sorted(set(zip(tables.demand["country"], tables.demand["workload"], strict=True))
                   | set(zip(tables.routing["country"], tables.routing["workload"],
                             strict=True)))
    p_index = {pw: i for i, pw in enumerate(pairs)}
    n_p = len(pairs)
    demand_p = np.zeros((n_p, n_t))
    served_p = np.zeros((n_p, n_t))
    users_p = np.zeros((n_p, n_t))
    dem = tables.demand
    for c, w, y, tps, users in zip(dem["country"].tolist(), dem["workload"].tolist(),
                                   dem["year"].tolist(), dem["tokens_per_s"].tolist(),
                                   dem["users"].tolist(), strict=True):
        if y in t_index:
            demand_p[p_index[(c, w)], t_index[y]] = tps
            users_p[p_index[(c, w)], t_index[y]] = users
    s = tables.routing.groupby(["country", "workload", "year"], as_index=False)[
        ["tokens_per_s"]].sum()
    for c, w, y, tps in zip(s["country"].tolist(), s["workload"].tolist(), s["year"].tolist(),
                            s["tokens_per_s"].tolist(), strict=True):
        if y in t_index:
            served_p[p_index[(c, w)], t_index[y]] = tps
    pair_country = np.array([c_index[c] for c, _ in pairs], dtype=int)
    last_t = t_index[plan_years[-1]]
    tail_t = [t_index[y] for y in years if y > plan_years[-1]]
    if tail_t:
        life = basis.asset_life_years
        # Programme-wide: each site's alive share weighted by its capital.
        alive = alive_share(tables.builds, life, years)
        weight = tables.builds.groupby("site")["capex_usd"].sum()
        alive["weighted"] = alive["share"] * alive["site"].map(weight).fillna(0.0)
        total_alive = alive.groupby("year")["weighted"].sum() / max(float(weight.sum()), 1e-9)
        end = float(total_alive.get(plan_years[-1], 0.0))
        for ti in tail_t:
            ratio = float(total_alive.get(years[ti], 0.0)) / end if end > 0 else 0.0
            demand_p[:, ti] = demand_p[:, last_t]
            served_p[:, ti] = served_p[:, last_t] * ratio
            users_p[:, ti] = users_p[:, last_t]
    # workloads with demand per country-year, on each of its pairs
    n_workloads = np.zeros((n_c, n_t))
    np.add.at(n_workloads, pair_country, (demand_p > 0).astype(float))
    per_pair = np.maximum(n_workloads[pair_country], 1.0)
    users_per_tps = np.divide(users_p / per_pair, demand_p, out=np.zeros_like(users_p),
                              where=demand_p > 0)

    dfactors = demand_factors(tables)
    factor_pts = np.array([[f.low, f.base, f.high] for f in dfactors]).reshape(-1, 3)
    factor_mult = np.ones((n_p, len(dfactors), 2))
    k_index = {f.id: k for k, f in enumerate(dfactors)}
    ranges = tables.inputs_demand_ranges
    groups = sorted({str(g) for g in ranges["group"].tolist() if g})
    g_index = {g: j for j, g in enumerate(groups)}
    factor_group = np.full((n_p, len(dfactors)), -1, dtype=int)
    group_share = np.zeros((n_p, len(groups)))
    for w, fid, lo, hi, grp, gshare in zip(
            ranges["workload"].tolist(), ranges["factor"].tolist(),
            ranges["capacity_low"].tolist(), ranges["capacity_high"].tolist(),
            ranges["group"].tolist(), ranges["group_share"].tolist(), strict=True):
        for (_c, pw), i in p_index.items():
            if pw == w:
                factor_mult[i, k_index[fid]] = (lo, hi)
                if grp and gshare is not None and np.isfinite(gshare) and gshare > 0:
                    factor_group[i, k_index[fid]] = g_index[str(grp)]
                    group_share[i, g_index[str(grp)]] = min(float(gshare), 1.0)

    # The serving capital: the plan's capex x the share of its accelerators (last year)
    # that serve (not training runs).
    last_year = plan_years[-1]
    inst = float(tables.installed.loc[tables.installed["year"] == last_year, "count"].sum())
    trn = float(tables.training.loc[tables.training["year"] == last_year,
                                    "accelerators"].sum())
    serving_share = max(0.0, 1.0 - trn / inst) if inst > 0 else 1.0
    plan_capex = float(tables.builds.loc[tables.builds["year"].isin(plan_years),
                                         "capex_usd"].sum())

    t = np.arange(n_t)
    return RiskModel(
        years=np.asarray(years),
        plan_mask=np.isin(np.asarray(years), plan_years),
        funders=funders,
        countries=countries,
        discount=(1.0 + tables.finance.discount_rate) ** -t,
        capex_acc_f=capex_acc_f,
        capex_other_f=capex_other_f,
        opex_power_f=opex_power_f,
        opex_other_f=opex_other_f,
        licence_f=licence_f,
        revenue_fc=revenue_fc,
        revenue_lfc=revenue_lfc,
        revenue_held=rev_held,
        revenue_figures=rev_figures,
        revenue_pts=rev_pts,
        pair_country=pair_country,
        demand_p=demand_p,
        served_p=served_p,
        users_per_tps_p=users_per_tps,
        serving_capital_usd=plan_capex * serving_share,
        factors=[f.id for f in dfactors],
        factor_pts=factor_pts,
        factor_mult=factor_mult,
        factor_group=factor_group,
        group_share=group_share,
        basis={
            "accelerator_price": "the plan's accelerator capex per build (builds.csv: system "
                                 "and network share, scenario price factor)",
            "power_price": "site energy x the plan's site power price" + (
                f" ({price_source})" if price_source else " (no energy table)"),
            "asset_life": basis.asset_life_source,
            "demand": (f"{len(dfactors)} demand and fleet figures with ranges "
                       "(inputs_demand_ranges: usage_profiles.csv, fleet_factors.csv; the "
                       "capacity each end needs from the sizing engine at plan time)"
                       if dfactors else "the plan has no inputs_demand_ranges: demand varies "
                       "with adoption only"),
            "revenue": (f"{len(rev_figures)} revenue figures with ranges (inputs_revenue: "
                        "revenue.csv), drawn as a quantile shared by every country"
                        if rev_figures else "no revenue figure has a range: revenue varies "
                        "with the capacity used only"),
            "idle_capital": (f"serving capital {plan_capex * serving_share:,.0f} USD = plan "
                             f"capex x {serving_share:.0%} of accelerators serving (not "
                             f"training) in {last_year}"),
        },
    )


def _revenue_points(tables: PlanTables, countries: list[str]
                    ) -> tuple[list[str], list[str], np.ndarray]:
    """The :data:`REVENUE_FIGURES` the plan's ``inputs_revenue`` holds, those of them with a
    range for some country (the ones drawn), and each country's (low, base, high) of each
    figure held, (figures, countries, 3) (nan where the plan has no figure for a country)."""
    r = tables.inputs_revenue
    if r is None or r.empty or not {"low", "high"} <= set(r.columns):
        return [], [], np.zeros((0, len(countries), 3))
    c_index = {c: i for i, c in enumerate(countries)}
    held: list[str] = []
    ranged: list[str] = []
    pts: list[np.ndarray] = []
    for fig in REVENUE_FIGURES:
        rows = r[r["line"] == fig]
        arr = np.full((len(countries), 3), np.nan)
        for c, lo, base, hi in zip(rows["country"].tolist(), rows["low"].tolist(),
                                   rows["value"].tolist(), rows["high"].tolist(), strict=True):
            if str(c) in c_index and pd.notna(lo) and pd.notna(hi):
                if not float(lo) <= float(base) <= float(hi):
                    raise UserError(
                        f"{tables.path / 'inputs_revenue.csv'}: {fig} for {c}: value {base:g} "
                        f"outside [{lo:g}, {hi:g}]; valid: low <= value <= high")
                arr[c_index[str(c)]] = (float(lo), float(base), float(hi))
        if np.isnan(arr[:, 1]).all():
            continue
        held.append(fig)
        pts.append(arr)
        if np.any(arr[:, 2] > arr[:, 0]):
            ranged.append(fig)
    return held, ranged, (np.stack(pts) if pts else np.zeros((0, len(countries), 3)))


def _median_tri_at(u: np.ndarray, low: np.ndarray, base: np.ndarray, high: np.ndarray
                   ) -> np.ndarray:
    """The values at quantile ``u`` (n, 1) of :func:`_median_tri` distributions with ends
    ``low``/``high`` and median ``base`` (each (c,)): (n, c)."""
    below = low + (base - low) * np.sqrt(np.clip(2.0 * u, 0.0, 1.0))
    above = high - (high - base) * np.sqrt(np.clip(2.0 - 2.0 * u, 0.0, 1.0))
    return np.where(u < 0.5, below, above)


def revenue_multipliers(model: RiskModel, draws: dict[str, np.ndarray]
                        ) -> dict[str, np.ndarray]:
    """Each revenue line's multiplier over its base per sample and country, (n, c), from
    the revenue figures' draws (a figure not drawn, or without a range: its base)."""
    n = len(next(iter(draws.values())))
    n_c = len(model.countries)
    base: dict[str, np.ndarray] = {}
    value: dict[str, np.ndarray] = {}
    for k, fig in enumerate(model.revenue_held):
        lo, b, hi = (np.nan_to_num(model.revenue_pts[k, :, j]) for j in range(3))
        base[fig] = b
        u = draws.get(f"revenue:{fig}")
        value[fig] = (np.broadcast_to(b, (n, n_c)) if u is None
                      else _median_tri_at(u[:, None], lo[None], b[None], hi[None]))

    def over_base(fig: str) -> np.ndarray:
        if fig not in base:
            return np.ones((n, n_c))
        return np.divide(value[fig], base[fig][None], out=np.ones((n, n_c)),
                         where=np.broadcast_to(base[fig] > 0, (n, n_c)))

    def left_after(*shares: str) -> np.ndarray:
        """(1 − drawn shares) / (1 − base shares): what a line keeps over its base."""
        zero = np.zeros(n_c)
        drawn = 1.0 - sum((value.get(f, np.zeros((n, n_c))) for f in shares), np.zeros((n, n_c)))
        at_base = 1.0 - sum((base.get(f, zero) for f in shares), zero)
        return np.divide(drawn, at_base[None], out=np.ones((n, n_c)),
                         where=np.broadcast_to(at_base > 0, (n, n_c)))

    provider = left_after("model_development_share", "sales_support_share")
    people_price = over_base("paying_share") * over_base("subscription_price_usd_per_month")
    return {
        "subscriptions": people_price * left_after("store_payment_fee_share") * provider,
        "vat": people_price,
        "government_licence": provider,
        "api_enterprise": over_base("api_usd_per_million_output_tokens")
        * over_base("api_token_share") * provider,
    }


@dataclass(frozen=True)
class DemandFactor:
    """One demand or fleet figure risk samples (``inputs_demand_ranges``)."""

    id: str
    label: str
    low: float
    base: float
    high: float
    unit: str

    @property
    def input(self) -> str:
        """Its name among the risk inputs (draws, tornado, samples): ``demand:<id>``."""
        return f"demand:{self.id}"


def demand_factors(tables: PlanTables) -> list[DemandFactor]:
    """The figures of the plan's ``inputs_demand_ranges`` (one per factor id, in order;
    several workloads on one profile share a figure and so one draw)."""
    r = tables.inputs_demand_ranges
    out: dict[str, DemandFactor] = {}
    for fid, label, lo, base, hi, unit in zip(
            r["factor"].tolist(), r["label"].tolist(), r["low"].tolist(), r["base"].tolist(),
            r["high"].tolist(), r["unit"].tolist(), strict=True):
        if not lo <= base <= hi:
            raise UserError(f"{tables.path / 'inputs_demand_ranges.csv'}: factor {fid}: base "
                            f"{base:g} outside [{lo:g}, {hi:g}]; valid: low <= base <= high")
        out.setdefault(str(fid), DemandFactor(str(fid), str(label), float(lo), float(base),
                                              float(hi), str(unit)))
    return list(out.values())


def capacity_multiplier(model: RiskModel, draws: dict[str, np.ndarray]) -> np.ndarray:
    """(samples, pairs): the capacity each (country, workload) needs over the plan's.

    Each factor's multiplier at the drawn value is linear between low → capacity_low,
    base → 1, high → capacity_high. Figures that move the whole fleet (prompts, mode shares,
    segments, fleet factors) multiply; a figure of one mode (its tokens, steps) scales that
    mode's part of the fleet (``group_share``): within a mode the parts' factors multiply,
    the modes' parts add — so two modes' extremes are not compounded as if they
    multiplied."""
    n = len(next(iter(draws.values())))
    n_p = len(model.pair_country)
    whole = np.ones((n, n_p))
    n_g = model.group_share.shape[1] if model.group_share.ndim == 2 else 0
    part = np.ones((n, n_p, n_g))  # each mode's part of the fleet over its base
    for k, fid in enumerate(model.factors):
        x = draws.get(f"demand:{fid}")
        if x is None:
            continue
        lo, base, hi = model.factor_pts[k]
        w_lo = np.clip((base - x) / (base - lo), 0.0, 1.0) if base > lo else np.zeros(n)
        w_hi = np.clip((x - base) / (hi - base), 0.0, 1.0) if hi > base else np.zeros(n)
        m_lo, m_hi = model.factor_mult[:, k, 0], model.factor_mult[:, k, 1]
        mult = 1.0 + w_lo[:, None] * (m_lo - 1.0)[None] + w_hi[:, None] * (m_hi - 1.0)[None]
        grp = model.factor_group[:, k] if model.factor_group.size else np.full(n_p, -1)
        for i in range(n_p):
            g = int(grp[i])
            if g < 0:
                whole[:, i] *= mult[:, i]
            else:  # the fleet moves by (part - 1) x share: the part moves by that / share
                part[:, i, g] *= np.maximum(
                    1.0 + (mult[:, i] - 1.0) / model.group_share[i, g], 0.0)
    if n_g:
        shares = model.group_share[None]  # (1, p, g)
        whole *= 1.0 + (shares * (part - 1.0)).sum(axis=2)
    return whole


def _shift(x: np.ndarray, delay: np.ndarray) -> np.ndarray:
    """``x[..., t - delay_i]`` for each sample i, linear between whole years, 0 before the
    start. ``x`` has the year as its last axis; returns (samples, *x.shape)."""
    n_t = x.shape[-1]
    k = np.floor(delay).astype(int)
    frac = (delay - k).reshape((-1,) + (1,) * x.ndim)
    pad = int(k.max()) + 2 if k.size else 2
    padded = np.concatenate([np.zeros(x.shape[:-1] + (pad,)), x], axis=-1)
    idx = pad + np.arange(n_t)[None, :] - k[:, None]  # (n, t)
    now = np.take(padded, idx, axis=-1)  # (*lead, n, t)
    before = np.take(padded, idx - 1, axis=-1)
    now = np.moveaxis(now, -2, 0)
    before = np.moveaxis(before, -2, 0)
    return (1.0 - frac) * now + frac * before


def _shifted_revenue(revenue_fc: np.ndarray, delay: np.ndarray, ratio: np.ndarray
                     ) -> np.ndarray:
    """Σ_c revenue[f, c, t - delay_i] × ratio[i, c, t] for each sample i: (samples, f, t).

    Samples are grouped by whole years of delay, so the (samples × funders × countries ×
    years) array is never built: per group it is a product over countries (einsum).
    """
    n_f, _, n_t = revenue_fc.shape
    out = np.zeros((len(delay), n_f, n_t))
    k = np.floor(delay).astype(int)
    frac = delay - k
    pad = int(k.max()) + 2 if k.size else 2
    padded = np.concatenate([np.zeros(revenue_fc.shape[:-1] + (pad,)), revenue_fc], axis=-1)
    for whole in np.unique(k):
        rows = k == whole
        start = pad - int(whole)
        now = padded[..., start:start + n_t]
        before = padded[..., start - 1:start - 1 + n_t]
        r = ratio[rows]
        fr = frac[rows][:, None, None]
        out[rows] = ((1.0 - fr) * np.einsum("fct,mct->mft", now, r)
                     + fr * np.einsum("fct,mct->mft", before, r))
    return out


def evaluate(model: RiskModel, draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Evaluate samples (``draws``: one array per name in :data:`INPUTS`) on ``model``.

    Returns arrays over samples: ``cost_usd`` (n,), ``people_served`` (n,),
    ``capacity_need_ratio`` (n,: the capacity the users need in the plan's last year over
    what the base case needs), ``idle_capital_usd`` (n,), ``npv_usd`` (n, funders), and
    per-year ``cost_by_year_usd`` / ``people_by_year`` (n, plan years). Demand factors
    absent from ``draws`` stay at base.
    """
    p = draws["accelerator_price"][:, None, None]
    a = draws["adoption"][:, None, None]
    e = draws["power_price"][:, None, None]
    delay = np.clip(draws["delay_years"], 0.0, None)

    served_p = _shift(model.served_p, delay)  # (n, p, t)
    mult = capacity_multiplier(model, draws)[:, :, None]  # (n, p, 1)
    # capacity the users need against what the plan serves (both in the plan's peak
    # tokens/s at the base figures); people are served in the share their need is met
    delivered_p = np.minimum(a * mult * model.demand_p[None], served_p)
    people = (model.users_per_tps_p[None] * delivered_p / mult).sum(axis=1)  # (n, t)
    # each country's revenue scales with the share of its served tokens still delivered
    to_country = np.zeros((len(model.countries), len(model.pair_country)))
    to_country[model.pair_country, np.arange(len(model.pair_country))] = 1.0
    served = np.einsum("cp,npt->nct", to_country, served_p)
    delivered = np.einsum("cp,npt->nct", to_country, delivered_p)
    ratio = np.divide(delivered, served, out=np.zeros_like(served), where=served > 0)

    capex_f = p * model.capex_acc_f[None] + model.capex_other_f[None]  # (n, f, t)
    opex_f = _shift(model.opex_power_f, delay) * e + _shift(model.opex_other_f, delay)
    if model.revenue_lfc:
        mults = revenue_multipliers(model, draws)
        revenue_f = sum(
            (_shifted_revenue(rev, delay,
                              ratio * mults[line][:, :, None] if line in mults else ratio)
             for line, rev in model.revenue_lfc.items()),
            np.zeros((len(delay), len(model.funders), len(model.years))))
    else:
        revenue_f = _shifted_revenue(model.revenue_fc, delay, ratio)
    net_f = revenue_f - capex_f - opex_f - _shift(model.licence_f, delay)
    npv = (net_f * model.discount[None, None, :]).sum(axis=2)

    plan = model.plan_mask
    cost_by_year = (capex_f + opex_f)[:, :, plan].sum(axis=1)  # (n, plan years)
    last = np.flatnonzero(plan)[-1]
    served_last = served.sum(axis=1)[:, last]
    used_last = delivered.sum(axis=1)[:, last]
    idle = np.divide(served_last - used_last, served_last, out=np.zeros_like(served_last),
                     where=served_last > 0)
    base_need = float(model.demand_p[:, last].sum())
    need = (a * mult * model.demand_p[None])[:, :, last].sum(axis=1)
    return {
        "capacity_need_ratio": need / base_need if base_need > 0 else np.ones(len(need)),
        "cost_usd": cost_by_year.sum(axis=1),
        "people_served": people[:, plan][:, -1],
        "idle_capital_usd": idle * model.serving_capital_usd,
        "npv_usd": npv,
        "cost_by_year_usd": cost_by_year,
        "people_by_year": people[:, plan],
    }


def _tri(rng: np.random.Generator, low: float, mode: float, high: float, n: int) -> np.ndarray:
    if high <= low:
        return np.full(n, float(mode))
    return rng.triangular(low, mode, high, n)


def _median_tri(rng: np.random.Generator, low: float, base: float, high: float,
                n: int) -> np.ndarray:
    """``n`` draws whose median is ``base``, on [low, high], peaked at ``base``.

    A catalog figure's value is its best estimate and its range the plausible ends, often
    far apart on one side (agentic steps per task 20 in 10-50). Drawn triangular(low, base,
    high) such a figure's median and mean lie above the value the catalog calls its best
    estimate (24.5 and 26.7 for 10/20/50), and thirty of them multiplied put the base case
    below the 10th percentile of the need. Here half the draws fall below ``base`` (density
    rising linearly from ``low``) and half above (falling linearly to ``high``): the same
    support and peak, with the base at the median of every figure.
    """
    if high <= low:
        return np.full(n, float(base))
    u = rng.random(n)
    below = low + (base - low) * np.sqrt(np.clip(2.0 * u, 0.0, 1.0))
    above = high - (high - base) * np.sqrt(np.clip(2.0 - 2.0 * u, 0.0, 1.0))
    return np.where(u < 0.5, below, above)


def draw_inputs(tables: PlanTables, samples: int, seed: int | None) -> dict[str, np.ndarray]:
    """Draw ``samples`` values of each input from the scenario's triangular ranges."""
    if samples < 1:
        raise UserError(f"--samples: {samples} should be 1 or more")
    rng = np.random.default_rng(seed)
    out = {}
    for name in INPUTS:
        spec = getattr(tables.uncertainty, name)
        if name == "delay_years" and spec.low < 0:
            raise UserError(
                f"{tables.path / 'scenario.yaml'}: uncertainty.delay_years.low = {spec.low};"
                " a construction delay should be >= 0 years")
        out[name] = _tri(rng, spec.low, spec.mode, spec.high, samples)
    # then the demand figures (after the four above, so a seed keeps their draws)
    for f in demand_factors(tables):
        out[f.input] = _median_tri(rng, f.low, f.base, f.high, samples)
    # then the revenue figures: one quantile each, shared by every country
    for fig in _revenue_figures(tables):
        out[f"revenue:{fig}"] = rng.random(samples)
    return out


def _revenue_figures(tables: PlanTables) -> list[str]:
    countries = sorted(set(tables.demand["country"]) | set(tables.routing["country"]))
    return _revenue_points(tables, countries)[1]


def _chunks(draws: dict[str, np.ndarray], size: int) -> list[dict[str, np.ndarray]]:
    n = len(next(iter(draws.values())))
    return [{k: v[i:i + size] for k, v in draws.items()} for i in range(0, n, size)]


def _merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclass
class RiskResult:
    """What :func:`monte_carlo` found: quantiles, fans, tornado, and the samples."""

    quantiles: pd.DataFrame  # metric, funder, p10, p50, p90, mean, base
    fan: pd.DataFrame  # metric, year, p10, p50, p90, base
    tornado: pd.DataFrame  # metric, funder, input, low, high, value_low, value_high, base, swing
    samples: pd.DataFrame  # one row per sample: inputs and metrics
    info: dict[str, Any]


def _metrics(model: RiskModel, out: dict[str, np.ndarray]) -> list[tuple[str, str, np.ndarray]]:
    rows = [("cost_usd", "", out["cost_usd"]), ("people_served", "", out["people_served"]),
            ("capacity_need_ratio", "", out["capacity_need_ratio"]),
            ("idle_capital_usd", "", out["idle_capital_usd"])]
    rows += [("npv_usd", f, out["npv_usd"][:, i]) for i, f in enumerate(model.funders)]
    return rows


def mode_draws(tables: PlanTables) -> dict[str, np.ndarray]:
    """One sample with every input at its mode (demand figures at their base, revenue
    figures at quantile 0.5): evaluates to the plan as planned."""
    out = {n: np.array([float(getattr(tables.uncertainty, n).mode)]) for n in INPUTS}
    out.update({f.input: np.array([f.base]) for f in demand_factors(tables)})
    out.update({f"revenue:{fig}": np.array([0.5]) for fig in _revenue_figures(tables)})
    return out


#: Tornado labels of the scenario's uncertainty inputs (demand figures carry their own).
_LABELS = {"accelerator_price": "Accelerator price (x plan)", "adoption": "Adoption (x plan)",
           "power_price": "Power price (x plan)", "delay_years": "Construction delay (years)"}


def _revenue_label(model: RiskModel, fig: str) -> str:
    """A revenue figure's tornado label: its name and its range (one country's, or each
    distinct one), drawn as a quantile (low end 0, high end 1)."""
    pts = model.revenue_pts[model.revenue_held.index(fig)]
    ranges = sorted({(lo, hi) for lo, _, hi in pts.tolist() if lo == lo})
    text = ", ".join(f"{lo:g}-{hi:g}" for lo, hi in ranges)
    return f"{fig.replace('_', ' ')} {text} (revenue.csv; quantile 0 = low, 1 = high)"


def tornado(tables: PlanTables, model: RiskModel) -> pd.DataFrame:
    """Each input at its low and at its high with the others at their mode, per metric.

    Columns: metric, funder ('' for programme metrics), input (a scenario uncertainty input
    or ``demand:<factor>``), label, low, high, value_low, value_high, base (all at mode),
    swing (|value_high - value_low|); sorted by metric and swing, largest first.
    """
    base_draws = mode_draws(tables)
    inputs = [(name, _LABELS.get(name, name), float(getattr(tables.uncertainty, name).low),
               float(getattr(tables.uncertainty, name).high)) for name in INPUTS]
    inputs += [(f.input, f.label, f.low, f.high) for f in demand_factors(tables)]
    inputs += [(f"revenue:{fig}", _revenue_label(model, fig), 0.0, 1.0)
               for fig in model.revenue_figures]
    runs = []
    for name, _, lo_level, hi_level in inputs:
        for level in (lo_level, hi_level):
            runs.append({n: (np.array([level]) if n == name else v)
                         for n, v in base_draws.items()})
    batch = _merge([base_draws, *runs])
    res = evaluate(model, batch)
    rows = []
    for metric, funder, values in _metrics(model, res):
        for i, (name, label, lo_level, hi_level) in enumerate(inputs):
            lo, hi = float(values[1 + 2 * i]), float(values[2 + 2 * i])
            rows.append({"metric": metric, "funder": funder, "input": name, "label": label,
                         "low": lo_level, "high": hi_level, "value_low": lo,
                         "value_high": hi, "base": float(values[0]), "swing": abs(hi - lo)})
    df = pd.DataFrame(rows)
    return df.sort_values(["metric", "funder", "swing"], ascending=[True, True, False]
                          ).reset_index(drop=True)


def monte_carlo(tables: PlanTables, samples: int, *, seed: int | None = None,
                engine: str = "local", workers: int = 1, ray_address: str | None = None,
                model: RiskModel | None = None) -> RiskResult:
    """Monte Carlo of a read plan (see the module docstring): quantiles, fans, tornado.

    The draws are made here from ``seed``, then evaluated in chunks by ``engine`` with
    ``workers`` workers; the answer depends on ``seed`` only, not on engine or workers.
    """
    started = time.perf_counter()
    model = model or build_risk_model(tables)
    draws = draw_inputs(tables, samples, seed)
    per_sample = max(1, (len(model.funders) + max(len(model.countries), 1)
                         + len(model.pair_country)) * len(model.years))
    size = max(1, _CHUNK_ELEMENTS // per_sample)
    if workers > 1 or engine == "ray":
        size = min(size, -(-samples // workers))
    parts = parallel_map(evaluate, [(model, c) for c in _chunks(draws, size)],
                         engine=engine, workers=workers, ray_address=ray_address)
    out = _merge(parts)
    base = evaluate(model, mode_draws(tables))

    q_rows = []
    for (metric, funder, values), (_, _, base_v) in zip(_metrics(model, out),
                                                        _metrics(model, base), strict=True):
        pct = np.percentile(values, QUANTILES)
        q_rows.append({"metric": metric, "funder": funder,
                       **{f"p{q}": float(v) for q, v in zip(QUANTILES, pct, strict=True)},
                       "mean": float(values.mean()), "base": float(base_v[0])})
    plan_years = model.years[model.plan_mask]
    fan_rows = []
    for metric, key, cumulative in (("cost_usd", "cost_by_year_usd", True),
                                    ("people_served", "people_by_year", False)):
        values = np.cumsum(out[key], axis=1) if cumulative else out[key]
        base_v = np.cumsum(base[key], axis=1) if cumulative else base[key]
        pct = np.percentile(values, QUANTILES, axis=0)
        for j, year in enumerate(plan_years):
            fan_rows.append({"metric": metric, "year": int(year),
                             **{f"p{q}": float(pct[i, j]) for i, q in enumerate(QUANTILES)},
                             "base": float(base_v[0, j])})
    sample_df = pd.DataFrame({**{k: v for k, v in draws.items()},
                              "cost_usd": out["cost_usd"],
                              "people_served": out["people_served"],
                              "idle_capital_usd": out["idle_capital_usd"],
                              **{f"npv_usd:{f}": out["npv_usd"][:, i]
                                 for i, f in enumerate(model.funders)}})
    seconds = time.perf_counter() - started
    info = {
        "samples": samples, "seed": seed, "engine": engine, "workers": workers,
        "seconds": seconds,
        "inputs": {n: getattr(tables.uncertainty, n).model_dump() for n in INPUTS},
        "demand_factors": [{"input": f.input, "label": f.label, "low": f.low, "base": f.base,
                            "high": f.high, "unit": f.unit} for f in demand_factors(tables)],
        "revenue_figures": [
            {"input": f"revenue:{fig}", "label": _revenue_label(model, fig),
             "drawn_as": "quantile shared by every country (0 low, 0.5 base, 1 high)"}
            for fig in model.revenue_figures],
        "idle_capital": ("serving capital x the share of the plan's serving capacity unused "
                         f"in {int(plan_years[-1])}, USD"),
        "basis": model.basis,
        "cost": "capex + opex over the plan's years, USD",
        "people_served": f"people served in {int(plan_years[-1])}",
        "npv": f"per funder at {tables.finance.discount_rate:.1%}, to {int(model.years[0])}",
    }
    return RiskResult(pd.DataFrame(q_rows), pd.DataFrame(fan_rows), tornado(tables, model),
                      sample_df, info)


def run_risk(plan_dir: str | Path, samples: int, *, seed: int | None = None,
             engine: str = "local", workers: int | None = None,
             ray_address: str | None = None) -> dict[str, Any]:
    """Run the Monte Carlo on a plan directory and write ``risk.csv``, ``risk_fan.csv``,
    ``tornado.csv``, ``risk_samples.parquet`` and ``risk.json`` there. Returns the
    ``risk.json`` dict. (Re-solved sweeps re-plan: :func:`daulat.pipeline.resolve_sweep`.)

    ``workers`` None: the Monte Carlo runs in this process (it is vectorised; more processes
    only add start-up time).
    """
    tables = load_plan(plan_dir)
    mc_workers = workers if workers is not None else 1
    result = monte_carlo(tables, samples, seed=seed, engine=engine, workers=mc_workers,
                         ray_address=ray_address)
    path = tables.path
    result.quantiles.to_csv(path / "risk.csv", index=False)
    result.fan.to_csv(path / "risk_fan.csv", index=False)
    result.tornado.to_csv(path / "tornado.csv", index=False)
    result.samples.to_parquet(path / "risk_samples.parquet", index=False)
    summary: dict[str, Any] = {
        **result.info,
        "quantiles": result.quantiles.to_dict(orient="records"),
        "files": ["risk.csv", "risk_fan.csv", "tornado.csv", "risk_samples.parquet",
                  "risk.json"],
    }
    (path / "risk.json").write_text(json.dumps(to_jsonable(summary), indent=2,
                                               ensure_ascii=False) + "\n", encoding="utf-8")
    return to_jsonable(summary)

