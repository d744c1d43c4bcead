"""The model's constraint families, one function each (as PyPSA's ``constraints.py``).

Every constraint is written once over whole arrays; the names say what they bind and the
diagnostics quote them:

=============================== ==============================================================
``country-demand``              served + unmet = demand, per country, workload, year
``country-min_served``          served >= rules.min_served_share × demand
``country-portfolio``           served only in selected countries (when a portfolio K is set)
``programme-portfolio``         at most K countries selected
``site-compute_capacity``       tokens/s served at a site <= accelerators in use × throughput
``training-compute``            EFLOP delivered by the deadline + shortfall >= required
``site-accelerators``           accelerators in use <= accelerators installed (within life)
``site-power_built``            installed IT MW × PUE <= facility MW built
``site-power_limit``            facility MW built <= the site's ceiling
``site-open``                   a new site is built only when opened, and then at least min MW
``site-funding``                capital from all funders = capital spent, per site and year
``funder-budget``               a funder's spending <= its budget (per year or cumulative)
``site-government_share``       the home government pays at least its minimum share
``site-provider_share``         providers pay at most their maximum share
``country-origin_cap``          accelerators of an origin <= their allowed share
``site-whole_systems``          accelerators bought = integer systems × accelerators per system
``site-rounded_purchase``       purchases fixed to the LP's, rounded to whole systems
=============================== ==============================================================

(The last two are defined with the purchase variables, ``variables.py``.) In an elastic
model (``diagnose.explain_infeasible``) the hard rules get slacks via
:meth:`ModelFrame.elastic_var`.
"""

from __future__ import annotations

from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from daulat.plan.data import OriginCap
from daulat.plan.variables import MUSD, ModelFrame

__all__ = [
    "define_compute",
    "define_demand",
    "define_funding",
    "define_origin_caps",
    "define_portfolio",
    "define_power",
]


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
    with its shortfall variable ``unmet_training_eflop``) and ``site-accelerators``."""
    m, data = f.m, f.data
    inf, trn = f.inf, f.trn
    if len(inf):
        capacity = (f.use.sel(workload=inf) * f.rate.sel(workload=inf)).sum("accelerator")
        m.add_constraints(f.serve.sum("country") - capacity <= 0, name="site-compute_capacity")
    if len(trn):
        f.unmet_train = m.add_variables(lower=0, coords=[trn], name="unmet_training_eflop")
        delivered = (f.use.sel(workload=trn) * f.rate.sel(workload=trn)).sum(
            ["site", "accelerator", "year"])
        required = xr.DataArray(data.workloads.loc[list(trn), "required_eflop"].to_numpy(
            dtype=float), coords={"workload": trn}, dims="workload")
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
