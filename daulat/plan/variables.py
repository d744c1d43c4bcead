"""The model's index sets, masks and variables (as PyPSA's ``optimization/variables.py``).

:func:`define_frame` computes the labelled index sets and the masks that keep forbidden
combinations out of the model (a country–site pair its residency forbids, an accelerator
before its first year, a build before a site's earliest year); the ``define_*_variables``
functions add the variables over them, and :func:`define_expressions` the linear
expressions the constraints and the objective share. Everything lives on one
:class:`ModelFrame` so each constraint family (``constraints.py``) is one small function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from daulat.plan.data import SECONDS_PER_YEAR, PlanData

__all__ = [
    "EFLOP_PER_UNIT",
    "MUSD",
    "ModelFrame",
    "define_decision_variables",
    "define_expressions",
    "define_frame",
    "define_operation_variables",
    "define_purchase_variables",
    "opex_usd_per_accelerator_year",
    "whole_systems_mode",
]

#: Money unit inside the model: one million USD.
MUSD = 1e6
#: Training compute unit inside the model (``training-compute``): one yottaFLOP (1e24
#: FLOP) in EFLOP, so frontier runs (~2e29 FLOP) stay well scaled for HiGHS.
EFLOP_PER_UNIT = 1e6
_HOURS_PER_YEAR = SECONDS_PER_YEAR / 3600


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


def full(mask: xr.DataArray, coords: list[pd.Index]) -> xr.DataArray:
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


@dataclass
class ModelFrame:
    """The model being built: index sets, masks, variables and shared expressions."""

    m: linopy.Model
    data: PlanData
    elastic: bool
    years: pd.Index
    site: pd.Index
    acc: pd.Index
    country: pd.Index
    inf: pd.Index
    trn: pd.Index
    work: pd.Index
    funder: pd.Index
    yr: xr.DataArray
    in_country: xr.DataArray  # [country, site]
    site_ready: xr.DataArray  # [site, year]
    buy_mask: xr.DataArray
    mw_mask: xr.DataArray
    demand: xr.DataArray  # [country, workload, year], inference
    serve_mask: xr.DataArray
    rate: xr.DataArray
    use_mask: xr.DataArray
    funder_home: xr.DataArray
    is_gov: xr.DataArray
    is_provider: xr.DataArray
    fund_mask: xr.DataArray
    new_sites: xr.DataArray
    # variables (define_*_variables)
    buy: Any = None
    mw: Any = None
    use: Any = None
    serve: Any = None
    unmet: Any = None
    fund: Any = None
    unmet_train: Any = None
    select: linopy.Variable | xr.DataArray | None = None
    site_open: Any = None
    systems: str = "off"
    integer: bool = False
    # expressions (define_expressions, define_power)
    installed: Any = None
    built_new: Any = None
    existing: Any = None
    capex: Any = None
    opex: Any = None
    served: Any = None
    it_mw: Any = None
    site_gate: Any = None
    existing_avail: Any = None
    built_total: Any = None
    slack: dict[str, linopy.Variable] = field(default_factory=dict)
    #: penalty terms (MUSD, discounted) the objective adds: commitments not spent
    penalty: Any = None
    #: training_campus[workload, site]: the campus binaries (define_training_campus)
    campus: Any = None

    @property
    def demand_mask(self) -> xr.DataArray:
        """Where there is inference demand, over [country, workload, year]."""
        return full(self.demand > 0, [self.country, self.inf, self.years])

    def elastic_var(self, name: str, coords: list[pd.Index], mask: xr.DataArray | None = None
                    ) -> Any:
        """A non-negative slack on rule ``name`` in an elastic model (else None)."""
        if not self.elastic:
            return None
        var = self.m.add_variables(lower=0, coords=coords, name=f"slack-{name}", mask=mask)
        self.slack[name] = var
        return var.fillna(0)


def define_frame(data: PlanData, elastic: bool = False) -> ModelFrame:
    """Index sets and masks of the model for ``data``."""
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
    in_country = data.site_in_country()

    site_ready = yr >= data.site_col("earliest_year")
    acc_ready = yr >= data.acc_col("first_year")
    excluded = xr.zeros_like(in_country.isel(country=0, drop=True) * data.acc_col("it_kw"),
                             dtype=bool)  # [site, accelerator]
    origin = data.accelerators["origin"]
    for rule in data.origin_caps:
        if rule.max_share > 0:
            continue
        in_c = xr.DataArray((site_country == rule.country).to_numpy() | (rule.country == "*"),
                            coords={"site": site}, dims="site")
        of_o = xr.DataArray((origin == rule.origin).to_numpy(), coords={"accelerator": acc},
                            dims="accelerator")
        excluded = excluded | (in_c & of_o)
    buy_mask = full(site_ready & acc_ready & ~excluded, [site, acc, years])
    mw_mask = full(site_ready & (data.site_col("power_limit_mw") > data.site_col("existing_mw")),
                   [site, years])
    demand = data.demand_tps.reindex(country=country, workload=inf, year=years).fillna(0.0)
    serve_mask = full(data.allowed.reindex(country=country, site=site, workload=inf,
                                           fill_value=False) & (demand > 0),
                      [country, site, inf, years])
    rate = data.rate.reindex(accelerator=acc, workload=work).fillna(0.0)
    use_ok = (rate > 0) & buy_mask.any("year") if len(site) else rate > 0
    # an inference workload may use any accelerator at a site; a training run only those at
    # sites its country's residency allows, up to its deadline
    work_ok = full(xr.DataArray(True), [site, work, years])
    if len(trn):
        deadline = xr.DataArray(data.workloads.loc[list(trn), "deadline_year"].to_numpy(),
                                coords={"workload": trn}, dims="workload")
        start = xr.DataArray(
            data.workloads.loc[list(trn), "start_year"].fillna(0).to_numpy()
            if "start_year" in data.workloads else np.zeros(len(trn)),
            coords={"workload": trn}, dims="workload")
        train_ok = data.train_allowed.reindex(site=site, workload=trn, fill_value=False) & (
            yr <= deadline) & (yr >= start)
        work_ok.loc[{"workload": list(trn)}] = full(train_ok, [site, trn, years]).values
    use_mask = full(use_ok & work_ok, [site, acc, work, years])
    kinds = data.funders["kind"]
    funder_home = xr.DataArray(
        (data.funders["country"].to_numpy()[:, None] == site_country.to_numpy()[None, :]),
        coords={"funder": funder, "site": site}, dims=("funder", "site"))
    is_gov = xr.DataArray((kinds == "government").to_numpy(), coords={"funder": funder},
                          dims="funder")
    is_provider = xr.DataArray((kinds == "provider").to_numpy(), coords={"funder": funder},
                               dims="funder")
    fund_mask = full((~is_gov | funder_home) & site_ready, [funder, site, years])
    return ModelFrame(
        m=linopy.Model(force_dim_names=True), data=data, elastic=elastic, years=years,
        site=site, acc=acc, country=country, inf=inf, trn=trn, work=work, funder=funder,
        yr=yr, in_country=in_country, site_ready=site_ready, buy_mask=buy_mask,
        mw_mask=mw_mask, demand=demand, serve_mask=serve_mask, rate=rate, use_mask=use_mask,
        funder_home=funder_home, is_gov=is_gov, is_provider=is_provider, fund_mask=fund_mask,
        new_sites=data.site_col("new").astype(bool))


def define_purchase_variables(f: ModelFrame, integer: bool | None,
                              fixed_buy: xr.DataArray | None) -> None:
    """``accelerators_added[site, accelerator, year]`` (masked slots contribute nothing:
    fillna(0), as linopy asks) and how they come in whole systems: ``systems_added``
    integers (``site-whole_systems``) or purchases fixed to given counts
    (``site-rounded_purchase``, the rounding re-solve)."""
    m = f.m
    f.buy = m.add_variables(lower=0, coords=[f.site, f.acc, f.years],
                            name="accelerators_added", mask=f.buy_mask).fillna(0)
    f.systems = whole_systems_mode(f.data, int(f.buy_mask.sum()))
    if integer is None:
        integer = f.systems == "integer" and not f.elastic
    f.integer = bool(integer)
    if f.integer:
        n_sys = m.add_variables(lower=0, coords=[f.site, f.acc, f.years], name="systems_added",
                                integer=True, mask=f.buy_mask)
        m.add_constraints(f.buy - n_sys.fillna(0) * f.data.system_size() == 0,
                          name="site-whole_systems", mask=f.buy_mask)
    if fixed_buy is not None:
        fixed = fixed_buy.reindex(site=f.site, accelerator=f.acc, year=f.years).fillna(0.0)
        m.add_constraints(f.buy == fixed, name="site-rounded_purchase", mask=f.buy_mask)


def define_operation_variables(f: ModelFrame) -> None:
    """Facility MW added, accelerators used per workload, tokens/s served and unmet, and
    each funder's capital (MUSD)."""
    m = f.m
    f.mw = m.add_variables(lower=0, coords=[f.site, f.years], name="mw_added",
                           mask=f.mw_mask).fillna(0)
    f.use = m.add_variables(lower=0, coords=[f.site, f.acc, f.work, f.years],
                            name="accelerators_used", mask=f.use_mask).fillna(0)
    f.serve = m.add_variables(lower=0, coords=[f.country, f.site, f.inf, f.years],
                              name="served_tps", mask=f.serve_mask).fillna(0)
    f.unmet = m.add_variables(lower=0, coords=[f.country, f.inf, f.years], name="unmet_tps",
                              mask=f.demand_mask).fillna(0)
    f.fund = m.add_variables(lower=0, coords=[f.funder, f.site, f.years], name="funding_musd",
                             mask=f.fund_mask).fillna(0)


def define_decision_variables(f: ModelFrame, fixed_select: xr.DataArray | None,
                              fixed_open: xr.DataArray | None) -> None:
    """Binaries: ``select[country]`` (portfolio of K countries) and ``site_open[site]``
    (fixed opening cost, minimum size); a fixed value replaces each (the LP re-solve)."""
    data = f.data
    if data.portfolio_max_countries is not None:
        f.select = fixed_select.reindex(country=f.country).fillna(0.0) \
            if fixed_select is not None else \
            f.m.add_variables(coords=[f.country], name="select", binary=True)
    if data.site_fixed_cost_usd > 0 or data.site_min_mw > 0:
        f.site_open = fixed_open.reindex(site=f.site).fillna(0.0) if fixed_open is not None \
            else f.m.add_variables(coords=[f.site], name="site_open", binary=True,
                                   mask=f.new_sites).fillna(0)


def define_expressions(f: ModelFrame) -> None:
    """Installed accelerators (within life), facility MW built, capex and opex (MUSD),
    served tokens/s and IT MW — shared by constraints and objective."""
    data = f.data
    f.installed = (f.buy.rename(year="vintage") * data.installed_matrix()).sum("vintage")
    f.built_new = (f.mw.rename(year="vintage") * data.cumulative_matrix()).sum("vintage")
    f.existing = data.existing_mw()
    # each site's own shell, power and cooling cost per facility MW (announced sites: their
    # market's figure, catalog sites.csv; candidates: the catalog default)
    f.capex = (f.buy * (data.acc_col("capex_usd") / MUSD)).sum("accelerator") + f.mw * (
        data.shell_usd_per_mw() / MUSD)
    f.opex = (f.installed * (opex_usd_per_accelerator_year(data) / MUSD)).sum("accelerator")
    f.served = f.serve.sum("site")  # [country, workload, year]
    f.it_mw = (f.installed * (data.acc_col("it_kw") / 1000)).sum("accelerator")
    f.existing_avail = f.existing
    if f.select is not None:
        # a site outside the programme's countries (e.g. a Stargate site abroad) needs no
        # selection; a site inside one is usable only if its country is selected
        outside = 1.0 - f.in_country.sum("country")
        f.site_gate = (f.select * f.in_country).sum("country") + outside
        f.existing_avail = f.existing * f.site_gate
    f.built_total = f.built_new + f.existing_avail
    if data.facility_opex_usd_per_mw_year > 0:
        # O&M of the shells the programme builds, and of the MW it uses at existing sites
        at_existing = (data.site_col("existing_mw") > 0).astype(float)
        f.opex = f.opex + (f.built_new + f.it_mw * data.site_col("pue") * at_existing) * (
            data.facility_opex_usd_per_mw_year / MUSD)
