"""The planning model (DESIGN.md §4) as one linopy model over labelled dimensions.

Every constraint is written once over whole arrays; masks keep forbidden combinations
(a country–site pair its residency rule forbids, an accelerator before its first year,
a build before a site's earliest year) out of the model entirely.

Units inside the model: accelerators (count), facility MW, tokens/s, EFLOP, and money
in **millions** of USD (``MUSD``) to keep HiGHS well scaled; the result converts back.

Constraint names (quoted by the diagnostics):

=============================== ==============================================================
``country-demand``              served + unmet = demand, per country, workload, year
``country-min_served``          served >= rules.min_served_share × demand
``country-portfolio``           served only in selected countries (when a portfolio K is set)
``site-compute_capacity``       tokens/s served at a site <= accelerators in use × throughput
``training-compute``            EFLOP delivered by the deadline + shortfall >= required
``site-accelerators``           accelerators in use <= accelerators installed (within life)
``site-power_built``            installed IT MW × PUE <= facility MW built
``site-power_limit``            facility MW built <= the site's ceiling
``site-funding``                capital from all funders = capital spent, per site and year
``funder-budget``               a funder's spending <= its budget (per year or cumulative)
``site-government_share``       the home government pays at least its minimum share
``site-provider_share``         providers pay at most their maximum share
``country-origin_cap``          accelerators of an origin <= their allowed share
``programme-portfolio``         at most K countries selected
``site-open``                   a new site is built only when opened, and then at least min MW
``site-whole_systems``          accelerators bought = integer systems × accelerators per system
``site-rounded_purchase``       purchases fixed to the LP's, rounded to whole systems
=============================== ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from daulat.plan.data import SECONDS_PER_YEAR, PlanData

__all__ = ["MUSD", "BuiltModel", "build_model", "whole_systems_mode"]

#: Money unit inside the model: one million USD.
MUSD = 1e6
_HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600
#: Objective weight (MUSD per MUSD) that breaks ties in who pays: the provider first.
_GOVERNMENT_TIEBREAK = 1e-6


@dataclass
class BuiltModel:
    """The linopy model and the expressions the result reader needs."""

    model: linopy.Model
    data: PlanData
    capex_musd: linopy.LinearExpression  # [site, year]
    opex_musd: linopy.LinearExpression  # [site, year]
    installed: linopy.LinearExpression  # [site, accelerator, year]
    built_mw: linopy.LinearExpression  # [site, year]
    select: linopy.Variable | xr.DataArray | None
    elastic: bool
    systems: str = "off"  # 'integer' | 'round' | 'off' (how whole systems are bought)
    integer: bool = False  # integer systems in this model


def whole_systems_mode(data: PlanData, purchase_variables: int) -> str:
    """'integer', 'round' or 'off': how ``data`` buys whole systems (``rules.whole_systems``).

    'auto' is 'integer' while the model has at most ``whole_systems_integer_max`` purchase
    variables (small models stay fast as a MILP), else 'round' (LP, rounded up after).
    """
    if data.whole_systems == "auto":
        return "integer" if purchase_variables <= data.whole_systems_integer_max else "round"
    return data.whole_systems


def _idx(values: Any, name: str) -> pd.Index:
    return pd.Index(list(values), name=name)


def _full(mask: xr.DataArray, coords: list[pd.Index]) -> xr.DataArray:
    """Broadcast a boolean mask to exactly ``coords`` (dim order included)."""
    template = xr.DataArray(
        np.ones([len(c) for c in coords], dtype=bool),
        coords={c.name: c for c in coords},
        dims=[c.name for c in coords],
    )
    out = (template & mask.astype(bool)).transpose(*[c.name for c in coords])
    return out.fillna(False).astype(bool)


def opex_usd_per_accelerator_year(data: PlanData) -> xr.DataArray:
    """Opex of one installed accelerator for a year at a site, USD over [site, accelerator].

    Energy (IT kW × PUE × load factor × hours × site power price) plus the accelerator's
    non-energy opex (maintenance, staff share) from the catalog.
    """
    it_kw = data.acc_col("it_kw")
    energy_mwh = it_kw / 1000 * data.site_col("pue") * data.load_factor * _HOURS_PER_YEAR
    return energy_mwh * data.site_col("power_price_usd_per_mwh") + data.acc_col("opex_usd_per_year")


def build_model(
    data: PlanData,
    *,
    fixed_select: xr.DataArray | None = None,
    fixed_open: xr.DataArray | None = None,
    elastic: bool = False,
    integer: bool | None = None,
    fixed_buy: xr.DataArray | None = None,
) -> BuiltModel:
    """Build the model for ``data``.

    ``fixed_select`` / ``fixed_open`` replace the portfolio / site-opening binaries by
    constants (a re-solve as an LP for shadow prices). ``elastic`` adds non-negative
    slacks to the hard rules and minimises them instead of cost: the slacks that stay
    positive name the rules that conflict (see ``diagnose.py``). ``integer`` forces
    integer systems on or off (default: :func:`whole_systems_mode`); ``fixed_buy`` fixes
    the accelerators bought [site, accelerator, year] (the rounding re-solve).
    """
    m = linopy.Model(force_dim_names=True)
    years = data.year_index()
    site = _idx(data.sites.index, "site")
    acc = _idx(data.accelerators.index, "accelerator")
    country = _idx(data.countries.index, "country")
    inf = _idx(data.inference, "workload")
    trn = _idx(data.training, "workload")
    work = _idx(list(inf) + list(trn), "workload")
    funder = _idx(data.funders.index, "funder")
    yr = xr.DataArray(years.to_numpy(), coords={"year": years}, dims="year")
    site_country = data.sites["country"]
    in_country = data.site_in_country()  # [country, site]

    # ---------------------------------------------------------------- masks
    site_ready = yr >= data.site_col("earliest_year")  # [site, year]
    acc_ready = yr >= data.acc_col("first_year")  # [accelerator, year]
    excluded = xr.zeros_like(in_country.isel(country=0, drop=True) * data.acc_col("it_kw"),
                             dtype=bool)  # [site, accelerator]
    origin = data.accelerators["origin"]
    for rule in data.origin_caps:
        if rule.max_share > 0:
            continue
        in_c = xr.DataArray(
            (site_country == rule.country).to_numpy() | (rule.country == "*"),
            coords={"site": site}, dims="site",
        )
        of_o = xr.DataArray((origin == rule.origin).to_numpy(), coords={"accelerator": acc},
                            dims="accelerator")
        excluded = excluded | (in_c & of_o)
    buy_mask = _full(site_ready & acc_ready & ~excluded, [site, acc, years])
    mw_mask = _full(site_ready & (data.site_col("power_limit_mw") > data.site_col("existing_mw")),
                    [site, years])
    demand = data.demand_tps.reindex(country=country, workload=inf, year=years).fillna(0.0)
    serve_mask = _full(data.allowed.reindex(country=country, site=site, workload=inf,
                                            fill_value=False) & (demand > 0),
                       [country, site, inf, years])
    rate = data.rate.reindex(accelerator=acc, workload=work).fillna(0.0)
    use_ok = (rate > 0) & buy_mask.any("year") if len(site) else rate > 0
    # an inference workload may use any accelerator at a site; a training run only those at
    # sites its country's residency allows, up to its deadline
    work_ok = _full(xr.DataArray(True), [site, work, years])
    if len(trn):
        deadline = xr.DataArray(data.workloads.loc[list(trn), "deadline_year"].to_numpy(),
                                coords={"workload": trn}, dims="workload")
        start = xr.DataArray(
            data.workloads.loc[list(trn), "start_year"].fillna(0).to_numpy()
            if "start_year" in data.workloads else np.zeros(len(trn)),
            coords={"workload": trn}, dims="workload")
        train_ok = data.train_allowed.reindex(site=site, workload=trn, fill_value=False) & (
            yr <= deadline) & (yr >= start)
        work_ok.loc[{"workload": list(trn)}] = _full(train_ok, [site, trn, years]).values
    use_mask = _full(use_ok & work_ok, [site, acc, work, years])
    kinds = data.funders["kind"]
    funder_home = xr.DataArray(
        (data.funders["country"].to_numpy()[:, None] == site_country.to_numpy()[None, :]),
        coords={"funder": funder, "site": site}, dims=("funder", "site"),
    )
    is_gov = xr.DataArray((kinds == "government").to_numpy(), coords={"funder": funder},
                          dims="funder")
    is_provider = xr.DataArray((kinds == "provider").to_numpy(), coords={"funder": funder},
                               dims="funder")
    fund_mask = _full((~is_gov | funder_home) & site_ready, [funder, site, years])

    # ---------------------------------------------------------------- variables
    # masked slots contribute nothing to the sums below (fillna(0): explicit, as linopy asks)
    buy_var = m.add_variables(lower=0, coords=[site, acc, years], name="accelerators_added",
                              mask=buy_mask)
    buy = buy_var.fillna(0)
    systems = whole_systems_mode(data, int(buy_mask.sum()))
    if integer is None:
        integer = systems == "integer" and not elastic
    if integer:
        n_sys = m.add_variables(lower=0, coords=[site, acc, years], name="systems_added",
                                integer=True, mask=buy_mask)
        m.add_constraints(buy - n_sys.fillna(0) * data.system_size() == 0,
                          name="site-whole_systems", mask=buy_mask)
    if fixed_buy is not None:
        fixed = fixed_buy.reindex(site=site, accelerator=acc, year=years).fillna(0.0)
        m.add_constraints(buy == fixed, name="site-rounded_purchase", mask=buy_mask)
    mw = m.add_variables(lower=0, coords=[site, years], name="mw_added",
                         mask=mw_mask).fillna(0)
    use = m.add_variables(lower=0, coords=[site, acc, work, years], name="accelerators_used",
                          mask=use_mask).fillna(0)
    serve = m.add_variables(lower=0, coords=[country, site, inf, years], name="served_tps",
                            mask=serve_mask).fillna(0)
    unmet = m.add_variables(lower=0, coords=[country, inf, years], name="unmet_tps",
                            mask=_full(demand > 0, [country, inf, years])).fillna(0)
    fund = m.add_variables(lower=0, coords=[funder, site, years], name="funding_musd",
                           mask=fund_mask).fillna(0)

    select: linopy.Variable | xr.DataArray | None = None
    if data.portfolio_max_countries is not None:
        if fixed_select is not None:
            select = fixed_select.reindex(country=country).fillna(0.0)
        else:
            select = m.add_variables(coords=[country], name="select", binary=True)
    site_open: Any = None
    new_sites = data.site_col("new").astype(bool)
    if data.site_fixed_cost_usd > 0 or data.site_min_mw > 0:
        if fixed_open is not None:
            site_open = fixed_open.reindex(site=site).fillna(0.0)
        else:
            site_open = m.add_variables(coords=[site], name="site_open", binary=True,
                                        mask=new_sites).fillna(0)

    slack: dict[str, linopy.Variable] = {}

    def elastic_var(name: str, coords: list[pd.Index], mask: xr.DataArray | None = None
                    ) -> Any:
        if not elastic:
            return None
        var = m.add_variables(lower=0, coords=coords, name=f"slack-{name}", mask=mask)
        slack[name] = var
        return var.fillna(0)

    # ---------------------------------------------------------------- expressions
    installed = (buy.rename(year="vintage") * data.installed_matrix()).sum("vintage")
    cumulative = data.cumulative_matrix()
    built_new = (mw.rename(year="vintage") * cumulative).sum("vintage")
    existing = data.existing_mw()
    capex = (buy * (data.acc_col("capex_usd") / MUSD)).sum("accelerator") + mw * (
        data.facility_usd_per_mw / MUSD
    )
    opex_rate = opex_usd_per_accelerator_year(data) / MUSD
    opex = (installed * opex_rate).sum("accelerator")
    served = serve.sum("site")  # [country, workload, year]

    # ---------------------------------------------------------------- constraints
    m.add_constraints(served + unmet == demand, name="country-demand",
                      mask=_full(demand > 0, [country, inf, years]))
    if data.min_served_share > 0:
        need = demand * data.min_served_share
        if select is not None:
            lhs = served - need * select
        else:
            lhs = served - need
        s = elastic_var("country-min_served", [country, inf, years])
        m.add_constraints((lhs + s if s is not None else lhs) >= 0, name="country-min_served",
                          mask=_full(demand > 0, [country, inf, years]))
    if select is not None:
        m.add_constraints(served - demand * select <= 0, name="country-portfolio",
                          mask=_full(demand > 0, [country, inf, years]))
        if isinstance(select, linopy.Variable):
            m.add_constraints(select.sum() <= int(data.portfolio_max_countries or 0),
                              name="programme-portfolio")

    # compute capacity at each site for each inference workload
    if len(inf):
        capacity = (use.sel(workload=inf) * rate.sel(workload=inf)).sum("accelerator")
        m.add_constraints(serve.sum("country") - capacity <= 0, name="site-compute_capacity")
    # training runs: EFLOP delivered by the deadline
    unmet_train = None
    if len(trn):
        unmet_train = m.add_variables(lower=0, coords=[trn], name="unmet_training_eflop")
        delivered = (use.sel(workload=trn) * rate.sel(workload=trn)).sum(
            ["site", "accelerator", "year"])
        required = xr.DataArray(data.workloads.loc[list(trn), "required_eflop"].to_numpy(
            dtype=float), coords={"workload": trn}, dims="workload")
        m.add_constraints(delivered + unmet_train >= required, name="training-compute")

    m.add_constraints(use.sum("workload") - installed <= 0, name="site-accelerators")
    it_mw = (installed * (data.acc_col("it_kw") / 1000)).sum("accelerator")
    existing_avail: Any = existing
    if select is not None:
        # a site outside the programme's countries (e.g. a Stargate site abroad) needs no
        # selection; a site inside one is usable only if its country is selected
        outside = 1.0 - in_country.sum("country")
        site_gate = (select * in_country).sum("country") + outside
        existing_avail = existing * site_gate
    m.add_constraints(it_mw * data.site_col("pue") - built_new - existing_avail <= 0,
                      name="site-power_built")

    built_total = built_new + existing_avail
    if data.facility_opex_usd_per_mw_year > 0:
        # O&M of the shells the programme builds, and of the MW it uses at existing sites
        at_existing = (data.site_col("existing_mw") > 0).astype(float)
        opex = opex + (built_new + it_mw * data.site_col("pue") * at_existing) * (
            data.facility_opex_usd_per_mw_year / MUSD)

    headroom = (data.site_col("power_limit_mw") - data.site_col("existing_mw")).clip(min=0)
    total_new = mw.sum("year")
    s = elastic_var("site-power_limit", [site])
    lhs = total_new - s if s is not None else total_new
    if select is not None:
        m.add_constraints(lhs - headroom * site_gate <= 0,
                          name="site-power_limit")
    else:
        m.add_constraints(lhs <= headroom, name="site-power_limit")
    if site_open is not None:
        m.add_constraints(total_new - headroom * site_open <= 0, name="site-open",
                          mask=new_sites)
        if data.site_min_mw > 0:
            m.add_constraints(total_new - data.site_min_mw * site_open >= 0,
                              name="site-open_min_mw", mask=new_sites)

    # funding: capital = funders' money, per site and year
    m.add_constraints(fund.sum("funder") - capex == 0, name="site-funding")
    budget = data.budget_usd.reindex(funder=funder, year=years) / MUSD
    basis_cum = xr.DataArray((data.funders["basis"] == "cumulative").to_numpy(),
                             coords={"funder": funder}, dims="funder")
    eye = xr.DataArray(np.eye(len(years)), coords={"year": years, "vintage": years},
                       dims=("year", "vintage"))
    spend_matrix = xr.where(basis_cum, cumulative, eye)  # [funder, year, vintage]
    spent = (fund.sum("site").rename(year="vintage") * spend_matrix).sum("vintage")
    s = elastic_var("funder-budget", [funder, years], mask=budget.notnull())
    lhs = spent - s if s is not None else spent
    m.add_constraints(lhs <= budget.fillna(0.0), name="funder-budget", mask=budget.notnull())

    total_capex = capex.sum("year")  # [site]
    has_home_gov = (funder_home & is_gov).any("funder")
    if data.min_government_share > 0:
        gov_paid = (fund * (funder_home & is_gov)).sum(["funder", "year"])
        s = elastic_var("site-government_share", [site], mask=has_home_gov)
        lhs = gov_paid - data.min_government_share * total_capex
        m.add_constraints((lhs + s if s is not None else lhs) >= 0,
                          name="site-government_share", mask=has_home_gov)
    if data.max_provider_share < 1:
        prov_paid = (fund * is_provider).sum(["funder", "year"])
        m.add_constraints(prov_paid - data.max_provider_share * total_capex <= 0,
                          name="site-provider_share")

    caps = [r for r in data.origin_caps if r.max_share > 0]
    if caps:
        _origin_caps(m, data, caps, installed, site, acc, country, in_country, elastic_var)

    # ---------------------------------------------------------------- objective
    discount = data.discount()
    cost = ((capex + opex) * discount).sum()
    if len(funder) and bool(is_gov.any()):
        # tie-break: where the rules leave the split open, the provider pays as much as
        # they allow and governments their minimum (a partnership's usual terms); worth
        # $1 per $1M, it never changes what is built
        cost = cost + (fund * is_gov).sum() * _GOVERNMENT_TIEBREAK
    if site_open is not None and not isinstance(site_open, xr.DataArray):
        cost = cost + (site_open * (data.site_fixed_cost_usd / MUSD)).sum()
    if elastic:
        terms = []
        for name, var in slack.items():
            scale: Any = {"country-min_served": 1.0 / demand.where(demand > 0, 1.0),
                     "site-power_limit": 1e-3, "funder-budget": 1e-3,
                     "site-government_share": 1e-3, "country-origin_cap": 1e-3}[name]
            terms.append((var * scale).sum())
        objective = terms[0]
        for t in terms[1:]:
            objective = objective + t
        # a whisper of cost so the relaxed plan is a sensible one
        m.add_objective(_no_const(objective + cost * 1e-9))
    elif data.objective == "min_cost":
        penalty = unmet * (discount * data.unmet_usd_per_tps_year / MUSD)
        objective = cost + penalty.sum()
        if unmet_train is not None:
            objective = objective + (unmet_train * (data.unmet_training_usd_per_eflop / MUSD)).sum()
        m.add_objective(_no_const(objective))
    else:
        n_inf = max(len(inf), 1)
        users = data.users.reindex(country=country, year=years).fillna(0.0)
        weight = xr.DataArray(data.countries["weight"].to_numpy(dtype=float),
                              coords={"country": country}, dims="country")
        per_tps = (weight * users / n_inf / demand.where(demand > 0)).fillna(0.0)
        value = data.value_of_access_usd_per_person_year / MUSD
        access = (served * (per_tps * value)).sum()
        objective = cost - access
        if unmet_train is not None:
            objective = objective + (unmet_train * (data.unmet_training_usd_per_eflop / MUSD)).sum()
        m.add_objective(_no_const(objective))

    return BuiltModel(model=m, data=data, capex_musd=capex, opex_musd=opex, installed=installed,
                      built_mw=built_total, select=select, elastic=elastic, systems=systems,
                      integer=bool(integer))


def _no_const(expr: Any) -> Any:
    """linopy objectives take no constant (fixed facility opex of existing sites)."""
    return expr - expr.const


def _origin_caps(m: linopy.Model, data: PlanData, caps: list[Any], installed: Any,
                 site: pd.Index, acc: pd.Index, country: pd.Index, in_country: xr.DataArray,
                 elastic_var: Any) -> None:
    """``country-origin_cap``: Σ installed of an origin <= share × Σ installed, per country."""
    origins = sorted({r.origin for r in caps})
    share = xr.DataArray(np.ones((len(country), len(origins))),
                         coords={"country": country, "origin": origins}, dims=("country", "origin"))
    for r in caps:
        rows = slice(None) if r.country == "*" else [r.country]
        if r.country != "*" and r.country not in country:
            continue
        current = share.loc[{"country": rows, "origin": r.origin}]
        share.loc[{"country": rows, "origin": r.origin}] = np.minimum(current, r.max_share)
    of_origin = xr.DataArray(
        (data.accelerators["origin"].to_numpy()[:, None] == np.asarray(origins)[None, :]).astype(
            float), coords={"accelerator": acc, "origin": origins}, dims=("accelerator", "origin"))
    ruled = share < 1
    countries_ruled = [c for c in country if bool(ruled.sel(country=c).any())]
    if not countries_ruled:
        return
    ruled_sites = [str(x) for x in site if data.sites.loc[x, "country"] in countries_ruled]
    if not ruled_sites:
        return
    group = xr.DataArray(data.sites.loc[ruled_sites, "country"].to_numpy(),
                         coords={"site": ruled_sites}, dims="site", name="country")
    # group by country (a sum per country, not a dense country x site product)
    per_country = installed.sel(site=ruled_sites).groupby(group).sum()
    countries_ruled = [c for c in countries_ruled if c in set(group.values)]
    per_country = per_country.sel(country=countries_ruled)
    coeff = of_origin - share.sel(country=countries_ruled)  # [accelerator, origin, country]
    lhs = (per_country * coeff).sum("accelerator")
    s = elastic_var("country-origin_cap", [pd.Index(countries_ruled, name="country"),
                                          pd.Index(origins, name="origin"), data.year_index()])
    m.add_constraints((lhs - s if s is not None else lhs) <= 0, name="country-origin_cap",
                      mask=ruled.sel(country=countries_ruled))
