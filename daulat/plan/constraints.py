"""The model's constraint families, one function each (as PyPSA's ``constraints.py``).

Every constraint is written once over whole arrays; the names say what they bind and the
diagnostics quote them:

=============================== ==============================================================
``country-demand``              served + unmet = demand, per country, workload, year
``country-min_served``          served >= rules.min_served_share × demand
``country-portfolio``           served only in selected countries (when a portfolio K is set)
``programme-portfolio``         at most K countries selected
``site-compute_capacity``       tokens/s served at a site <= accelerators in use × throughput
``training-compute``            FLOP delivered by the deadline + shortfall >= required
``site-accelerators``           accelerators in use <= accelerators installed (within life)
``site-power_built``            installed IT MW × PUE <= facility MW built
``site-power_limit``            facility MW built <= the site's ceiling
``site-open``                   a new site is built only when opened, and then at least min MW
``site-funding``                capital from all funders = capital spent, per site and year
``funder-budget``               a funder's spending <= its budget (per year or cumulative)
``site-government_share``       the home government pays at least its minimum share
``site-provider_share``         providers pay at most their maximum share
``country-origin_cap``          accelerators of an origin <= their allowed share
``site-schedule``               facility MW in service by a year <= the site's published schedule
``funder-commitment``           a funder's capital + shortfall >= its committed spend (per year or
                                cumulative); the shortfall is penalised and reported
``training-one_campus``         a training run uses one campus: the site chosen for it and the
                                sites within its stated interconnect distance
``site-whole_systems``          accelerators bought = integer systems × accelerators per system
``site-rounded_purchase``       purchases fixed to the LP's, rounded to whole systems
=============================== ==============================================================

(The last two are defined with the purchase variables, ``variables.py``.) In an elastic
model (``diagnose.explain_infeasible``) the hard rules get slacks via
:meth:`ModelFrame.elastic_var`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from daulat.plan.data import OriginCap, PlanData
from daulat.plan.variables import EFLOP_PER_UNIT, MUSD, ModelFrame, full

__all__ = [
    "COMMITMENT_PENALTY",
    "campus_sites",
    "commitment_notes",
    "define_compute",
    "define_demand",
    "define_funder_commitment",
    "define_funding",
    "define_origin_caps",
    "define_portfolio",
    "define_power",
    "define_site_schedule",
    "define_training_campus",
    "fix_training_campus",
]

#: Weight on a committed dollar left unspent (per dollar, discounted): a commitment is kept
#: wherever the plan can place it — leaving $1 of it unspent weighs as $10 of cost — and
#: what it cannot place is reported (``commitment_shortfall_musd``). A modelling weight,
#: not a price.
COMMITMENT_PENALTY = 10.0
_EARTH_RADIUS_KM = 6371.0088


def define_demand(f: ModelFrame) -> None:
    """``country-demand`` and ``country-min_served``."""
    m, data = f.m, f.data
    m.add_constraints(f.served + f.unmet == f.demand, name="country-demand", mask=f.demand_mask)
    if data.min_served_share > 0:
        need = f.demand * data.min_served_share
        lhs = f.served - need * f.select if f.select is not None else f.served - need
        s = f.elastic_var("country-min_served", [f.country, f.inf, f.years])
        m.add_constraints((lhs + s if s is not None else lhs) >= 0, name="country-min_served",
                          mask=f.demand_mask)


def define_portfolio(f: ModelFrame) -> None:
    """``country-portfolio`` (served only where selected) and ``programme-portfolio``
    (at most K countries)."""
    if f.select is None:
        return
    f.m.add_constraints(f.served - f.demand * f.select <= 0, name="country-portfolio",
                        mask=f.demand_mask)
    if isinstance(f.select, linopy.Variable):
        f.m.add_constraints(f.select.sum() <= int(f.data.portfolio_max_countries or 0),
                            name="programme-portfolio")


def define_compute(f: ModelFrame) -> None:
    """``site-compute_capacity`` (inference), ``training-compute`` (EFLOP by the deadline,
    with its shortfall variable ``unmet_training_yflop``, yottaFLOP) and ``site-accelerators``."""
    m, data = f.m, f.data
    inf, trn = f.inf, f.trn
    if len(inf):
        capacity = (f.use.sel(workload=inf) * f.rate.sel(workload=inf)).sum("accelerator")
        m.add_constraints(f.serve.sum("country") - capacity <= 0, name="site-compute_capacity")
    if len(trn):
        # in yottaFLOP (1e24 FLOP = 1e6 EFLOP): a 2e29-FLOP frontier run is 2e5, not 2e11,
        # which HiGHS's absolute feasibility tolerance (1e-7) cannot check
        f.unmet_train = m.add_variables(lower=0, coords=[trn], name="unmet_training_yflop")
        delivered = (f.use.sel(workload=trn) * (f.rate.sel(workload=trn) / EFLOP_PER_UNIT)).sum(
            ["site", "accelerator", "year"])
        required = xr.DataArray(data.workloads.loc[list(trn), "required_eflop"].to_numpy(
            dtype=float), coords={"workload": trn}, dims="workload") / EFLOP_PER_UNIT
        m.add_constraints(delivered + f.unmet_train >= required, name="training-compute")
    m.add_constraints(f.use.sum("workload") - f.installed <= 0, name="site-accelerators")


def define_power(f: ModelFrame) -> None:
    """``site-power_built`` (IT × PUE within the MW built), ``site-power_limit`` (the
    ceiling; a site in an unselected country gets none) and ``site-open``."""
    m, data = f.m, f.data
    m.add_constraints(f.it_mw * data.site_col("pue") - f.built_new - f.existing_avail <= 0,
                      name="site-power_built")
    headroom = (data.site_col("power_limit_mw") - data.site_col("existing_mw")).clip(min=0)
    total_new = f.mw.sum("year")
    s = f.elastic_var("site-power_limit", [f.site])
    lhs = total_new - s if s is not None else total_new
    if f.select is not None:
        m.add_constraints(lhs - headroom * f.site_gate <= 0, name="site-power_limit")
    else:
        m.add_constraints(lhs <= headroom, name="site-power_limit")
    if f.site_open is not None:
        m.add_constraints(total_new - headroom * f.site_open <= 0, name="site-open",
                          mask=f.new_sites)
        if data.site_min_mw > 0:
            m.add_constraints(total_new - data.site_min_mw * f.site_open >= 0,
                              name="site-open_min_mw", mask=f.new_sites)


def define_funding(f: ModelFrame) -> None:
    """``site-funding``, ``funder-budget`` (per year or cumulative),
    ``site-government_share`` and ``site-provider_share``."""
    m, data = f.m, f.data
    years, funder = f.years, f.funder
    m.add_constraints(f.fund.sum("funder") - f.capex == 0, name="site-funding")
    budget = data.budget_usd.reindex(funder=funder, year=years) / MUSD
    basis_cum = xr.DataArray((data.funders["basis"] == "cumulative").to_numpy(),
                             coords={"funder": funder}, dims="funder")
    eye = xr.DataArray(np.eye(len(years)), coords={"year": years, "vintage": years},
                       dims=("year", "vintage"))
    spend_matrix = xr.where(basis_cum, data.cumulative_matrix(), eye)  # [funder, year, vintage]
    spent = (f.fund.sum("site").rename(year="vintage") * spend_matrix).sum("vintage")
    s = f.elastic_var("funder-budget", [funder, years], mask=budget.notnull())
    lhs = spent - s if s is not None else spent
    m.add_constraints(lhs <= budget.fillna(0.0), name="funder-budget", mask=budget.notnull())

    total_capex = f.capex.sum("year")  # [site]
    has_home_gov = (f.funder_home & f.is_gov).any("funder")
    if data.min_government_share > 0:
        gov_paid = (f.fund * (f.funder_home & f.is_gov)).sum(["funder", "year"])
        s = f.elastic_var("site-government_share", [f.site], mask=has_home_gov)
        lhs = gov_paid - data.min_government_share * total_capex
        m.add_constraints((lhs + s if s is not None else lhs) >= 0,
                          name="site-government_share", mask=has_home_gov)
    if data.max_provider_share < 1:
        prov_paid = (f.fund * f.is_provider).sum(["funder", "year"])
        m.add_constraints(prov_paid - data.max_provider_share * total_capex <= 0,
                          name="site-provider_share")


def define_site_schedule(f: ModelFrame) -> None:
    """``site-schedule``: facility MW in service at a site by the end of a year (built by
    the plan + existing) <= its published schedule (``PlanData.schedule_mw``)."""
    sched = f.data.schedule_mw
    if sched is None:
        return
    cap = sched.reindex(site=f.site, year=f.years)
    mask = cap.notnull()
    if not bool(mask.any()):
        return
    s = f.elastic_var("site-schedule", [f.site, f.years], mask=mask)
    lhs = f.built_new + f.existing
    f.m.add_constraints((lhs - s if s is not None else lhs) <= cap.fillna(0.0),
                        name="site-schedule", mask=mask)


def _spent(f: ModelFrame) -> Any:
    """Each funder's capital per year on its basis: that year's (per_year) or up to that
    year (cumulative), MUSD over [funder, year]."""
    data, years = f.data, f.years
    basis_cum = xr.DataArray((data.funders["basis"] == "cumulative").to_numpy(),
                             coords={"funder": f.funder}, dims="funder")
    eye = xr.DataArray(np.eye(len(years)), coords={"year": years, "vintage": years},
                       dims=("year", "vintage"))
    spend_matrix = xr.where(basis_cum, data.cumulative_matrix(), eye)  # [funder, year, vintage]
    return (f.fund.sum("site").rename(year="vintage") * spend_matrix).sum("vintage")


def define_funder_commitment(f: ModelFrame) -> None:
    """``funder-commitment``: a funder's capital (on its basis) plus a penalised shortfall
    >= its committed spend ("$100B at once"). The shortfall variable
    ``commitment_shortfall_musd`` says what the plan could not place."""
    c = f.data.commitment_usd
    if c is None:
        return
    commit = c.reindex(funder=f.funder, year=f.years) / MUSD
    mask = commit.notnull() & (commit > 0)
    if not bool(mask.any()):
        return
    short = f.m.add_variables(lower=0, coords=[f.funder, f.years],
                              name="commitment_shortfall_musd", mask=mask).fillna(0)
    f.m.add_constraints(_spent(f) + short >= commit.fillna(0.0), name="funder-commitment",
                        mask=mask)
    term = (short * (f.data.discount() * COMMITMENT_PENALTY)).sum()
    f.penalty = term if f.penalty is None else f.penalty + term


def commitment_notes(model: linopy.Model) -> list[str]:
    """One line per funder and year whose committed spend the solved plan could not place
    (``commitment_shortfall_musd`` > 0), for the summary's notes."""
    if "commitment_shortfall_musd" not in model.variables:
        return []
    short = model.variables["commitment_shortfall_musd"].solution.fillna(0.0).to_series()
    return [f"funder {f} commitment {y}: ${v * MUSD / 1e9:,.2f}B of its committed spend could "
            "not be placed (no site, power or demand to absorb it by then)"
            for (f, y), v in short.items() if v * MUSD > 1.0]


def _distance_km(sites: pd.DataFrame) -> xr.DataArray:
    """Great-circle distance between sites, km, over [site, anchor]."""
    lat = np.radians(sites["lat"].to_numpy(dtype=float))
    lon = np.radians(sites["lon"].to_numpy(dtype=float))
    dp = lat[:, None] - lat[None, :]
    dl = lon[:, None] - lon[None, :]
    a = np.sin(dp / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dl / 2) ** 2
    km = 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return xr.DataArray(km, coords={"site": sites.index, "anchor": list(sites.index)},
                        dims=("site", "anchor"))


def _interconnect_km(data: PlanData) -> dict[str, float]:
    """Each training run's stated interconnect distance, km (absent: 0, one site)."""
    if "interconnect_km" not in data.workloads:
        return {}
    col = pd.to_numeric(data.workloads["interconnect_km"], errors="coerce").fillna(0.0)
    return {str(k): float(v) for k, v in col.items()}


def campus_sites(data: PlanData, run: str, anchor: str) -> list[str]:
    """The sites run ``run`` may use when placed at ``anchor``: the anchor and any of its
    allowed sites within the run's ``interconnect_km``."""
    km = _interconnect_km(data).get(run, 0.0)
    allowed = data.train_allowed.sel(workload=run).to_series()
    dist = {str(k): float(v) for k, v in
            _distance_km(data.sites).sel(anchor=anchor).to_series().items()}
    return [str(s) for s, ok in allowed.items()
            if ok and (str(s) == anchor or dist[str(s)] <= km)]


def reachable_mw(f: ModelFrame) -> xr.DataArray:
    """The most facility MW a site can have in service in a year, over [site, year]: its
    ceiling (or its existing MW, if more) from its earliest year, within its published
    schedule — a bound every feasible plan meets (site-power_limit, site-schedule)."""
    data = f.data
    limit = data.site_col("power_limit_mw").astype(float)
    existing = data.site_col("existing_mw").astype(float)
    ceiling = xr.where(existing > limit, existing, limit)
    cap = (ceiling * f.site_ready).transpose("site", "year")
    avail = f.existing.reindex(site=f.site, year=f.years)
    cap = xr.where(avail > cap, avail, cap)
    if data.schedule_mw is not None:
        sched = data.schedule_mw.reindex(site=f.site, year=f.years)
        cap = xr.where(sched.notnull() & (sched < cap), sched, cap)
    return cap.astype(float)


def define_training_campus(f: ModelFrame) -> None:
    """``training-one_campus``: each training run with more than one allowed site is placed
    at one campus — a binary ``training_campus[workload, site]`` picks at most one anchor,
    and the run uses only sites within its ``interconnect_km`` of it (0: the anchor alone).
    A run whose campus an earlier solve chose (``PlanData.training_campus``) is already
    limited to it (:func:`fix_training_campus`)."""
    data = f.data
    if not len(f.trn):
        return
    allowed = data.train_allowed.reindex(site=f.site, workload=f.trn, fill_value=False)
    allowed = allowed.astype(bool)
    runs = [str(w) for w in f.trn if int(allowed.sel(workload=w).sum()) > 1
            and str(w) not in data.training_campus]
    if not runs:
        return
    run_idx = pd.Index(runs, name="workload")
    ok = allowed.sel(workload=runs).transpose("workload", "site")
    pick = f.m.add_variables(coords=[run_idx, f.site], name="training_campus", binary=True,
                             mask=ok)
    f.campus = pick
    f.m.add_constraints(pick.fillna(0).sum("site") <= 1, name="training-one_campus_pick")
    stated = _interconnect_km(data)
    km = xr.DataArray([stated.get(w, 0.0) for w in runs], coords={"workload": run_idx},
                      dims="workload")
    dist = _distance_km(data.sites).reindex(site=f.site, anchor=list(f.site))
    near = ((dist <= km) | (dist.site == dist.anchor)) & ok.rename(site="anchor")
    reach = (pick.fillna(0).rename(site="anchor") * near.astype(float)).sum("anchor")
    if f.elastic:
        # an elastic model may break a site's power limit: keep a bound that ignores it
        per_kw = float(data.acc_col("it_kw").min())
        big_m = (data.site_col("power_limit_mw").astype(float) * 1000.0
                 / max(per_kw, 1e-6) * len(f.years)).clip(min=1.0)
        used = f.use.sel(workload=runs).sum(["accelerator", "year"])  # [site, workload]
        f.m.add_constraints(used - reach * big_m <= 0, name="training-one_campus",
                            mask=ok.transpose("site", "workload"))
        return
    # per site and year, the facility MW the run's accelerators draw (IT × PUE) is at most
    # what the site can hold that year, and nothing unless the site is in the run's campus:
    # implied by site-power_built / -power_limit / -schedule once the campus is chosen, and
    # the tightest such bound, so the LP relaxation cannot spread the run over many sites
    # (the relaxation's training capacity is then at most the largest campus's)
    mw_per_acc = data.acc_col("it_kw") / 1000.0 * data.site_col("pue")  # [accelerator, site]
    drawn = (f.use.sel(workload=runs) * mw_per_acc).sum("accelerator")  # [site, workload, year]
    cap = reachable_mw(f)  # [site, year]
    f.m.add_constraints(drawn - reach * cap <= 0, name="training-one_campus",
                        mask=full(ok.transpose("site", "workload") & (cap > 0),
                                  [f.site, run_idx, f.years]))


def fix_training_campus(data: PlanData, campus: Any) -> PlanData:
    """``data`` with each training run limited to the campus a solve chose for it
    (``campus``: the solved ``training_campus`` variable or None), so later re-solves
    (rounding, shadow prices, sovereignty) keep it without binaries."""
    if campus is None:
        return data
    sol = campus.solution.fillna(0.0)
    allowed = data.train_allowed.copy()
    chosen = dict(data.training_campus)
    for run in sol["workload"].values:
        row = sol.sel(workload=run)
        anchor = str(row.idxmax("site").item()) if float(row.max()) > 0.5 else ""
        keep = set(campus_sites(data, str(run), anchor)) if anchor else set()
        allowed.loc[{"workload": run}] = [bool(v) and str(s) in keep for s, v in zip(
            allowed["site"].values, allowed.sel(workload=run).values, strict=True)]
        chosen[str(run)] = anchor
    return replace(data, train_allowed=allowed, training_campus=chosen)


def define_origin_caps(f: ModelFrame) -> None:
    """``country-origin_cap``: Σ installed of an origin <= share × Σ installed, per country
    (a zero share is a mask on the purchases instead, ``variables.define_frame``)."""
    caps: list[OriginCap] = [r for r in f.data.origin_caps if r.max_share > 0]
    if not caps:
        return
    data, country = f.data, f.country
    origins = sorted({r.origin for r in caps})
    share = xr.DataArray(np.ones((len(country), len(origins))),
                         coords={"country": country, "origin": origins}, dims=("country", "origin"))
    for r in caps:
        rows: Any = slice(None) if r.country == "*" else [r.country]
        if r.country != "*" and r.country not in country:
            continue
        current = share.loc[{"country": rows, "origin": r.origin}]
        share.loc[{"country": rows, "origin": r.origin}] = np.minimum(current, r.max_share)
    of_origin = xr.DataArray(
        (data.accelerators["origin"].to_numpy()[:, None] == np.asarray(origins)[None, :]).astype(
            float), coords={"accelerator": f.acc, "origin": origins},
        dims=("accelerator", "origin"))
    ruled = share < 1
    countries_ruled = [c for c in country if bool(ruled.sel(country=c).any())]
    if not countries_ruled:
        return
    ruled_sites = [str(x) for x in f.site if data.sites.loc[x, "country"] in countries_ruled]
    if not ruled_sites:
        return
    group = xr.DataArray(data.sites.loc[ruled_sites, "country"].to_numpy(),
                         coords={"site": ruled_sites}, dims="site", name="country")
    # group by country (a sum per country, not a dense country x site product)
    per_country = f.installed.sel(site=ruled_sites).groupby(group).sum()
    countries_ruled = [c for c in countries_ruled if c in set(group.values)]
    per_country = per_country.sel(country=countries_ruled)
    coeff = of_origin - share.sel(country=countries_ruled)  # [accelerator, origin, country]
    lhs = (per_country * coeff).sum("accelerator")
    s = f.elastic_var("country-origin_cap", [pd.Index(countries_ruled, name="country"),
                                            pd.Index(origins, name="origin"), f.years])
    f.m.add_constraints((lhs - s if s is not None else lhs) <= 0, name="country-origin_cap",
                        mask=ruled.sel(country=countries_ruled))
