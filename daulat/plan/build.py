"""The planning model (DESIGN.md §4): one linopy model, built as a list of ``define_*``
steps — as PyPSA's ``optimize.create_model``.

:func:`build_model` reads: index sets and masks (``variables.define_frame``), the
purchase, operation and decision variables, the shared expressions, then one function per
constraint family (``constraints.py``, where every constraint name is listed) and the
objective (:func:`define_objective`).

Units inside the model: accelerators (count), facility MW, tokens/s, EFLOP, and money
in **millions** of USD (``MUSD``) to keep HiGHS well scaled; the result converts back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import linopy
import xarray as xr

from daulat.plan.constraints import (
    define_compute,
    define_demand,
    define_funder_commitment,
    define_funding,
    define_origin_caps,
    define_portfolio,
    define_power,
    define_site_schedule,
    define_training_campus,
)
from daulat.plan.data import PlanData
from daulat.plan.variables import (
    EFLOP_PER_UNIT,
    MUSD,
    ModelFrame,
    define_decision_variables,
    define_expressions,
    define_frame,
    define_operation_variables,
    define_purchase_variables,
    opex_usd_per_accelerator_year,
    whole_systems_mode,
)

__all__ = ["MUSD", "BuiltModel", "build_model", "define_objective",
           "opex_usd_per_accelerator_year", "whole_systems_mode"]

#: Objective weight (MUSD per MUSD) that breaks ties in who pays: the provider first.
_GOVERNMENT_TIEBREAK = 1e-6
#: Weights of the slacks an elastic model minimises (per unit of each rule's right side).
_SLACK_SCALE = {"site-power_limit": 1e-3, "funder-budget": 1e-3,
                "site-government_share": 1e-3, "country-origin_cap": 1e-3,
                "site-schedule": 1e-3}


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
    campus: linopy.Variable | None = None  # training_campus binaries, if any


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
    f = define_frame(data, elastic)
    define_purchase_variables(f, integer, fixed_buy)
    define_operation_variables(f)
    define_decision_variables(f, fixed_select, fixed_open)
    define_expressions(f)
    define_demand(f)
    define_portfolio(f)
    define_compute(f)
    define_power(f)
    define_site_schedule(f)
    define_funding(f)
    define_funder_commitment(f)
    define_origin_caps(f)
    define_training_campus(f)
    define_objective(f)
    return BuiltModel(model=f.m, data=data, capex_musd=f.capex, opex_musd=f.opex,
                      installed=f.installed, built_mw=f.built_total, select=f.select,
                      elastic=elastic, systems=f.systems, integer=f.integer,
                      campus=f.campus)


def define_objective(f: ModelFrame) -> None:
    """The objective: ``min_cost`` (NPV of capex + opex + priced unmet demand),
    ``max_access`` (cost − value of weighted people served), or, in an elastic model, the
    weighted slacks (with a whisper of cost so the relaxed plan is a sensible one)."""
    data = f.data
    cost = ((f.capex + f.opex) * data.discount()).sum()
    if len(f.funder) and bool(f.is_gov.any()):
        # tie-break: where the rules leave the split open, the provider pays as much as
        # they allow and governments their minimum (a partnership's usual terms); worth
        # $1 per $1M, it never changes what is built
        cost = cost + (f.fund * f.is_gov).sum() * _GOVERNMENT_TIEBREAK
    if f.site_open is not None and not isinstance(f.site_open, xr.DataArray):
        cost = cost + (f.site_open * (data.site_fixed_cost_usd / MUSD)).sum()
    if f.penalty is not None:  # committed spend left unspent (define_funder_commitment)
        cost = cost + f.penalty
    if f.elastic:
        terms = []
        for name, var in f.slack.items():
            scale: Any = (1.0 / f.demand.where(f.demand > 0, 1.0)
                          if name == "country-min_served" else _SLACK_SCALE[name])
            terms.append((var * scale).sum())
        objective = terms[0]
        for term in terms[1:]:
            objective = objective + term
        f.m.add_objective(_no_const(objective + cost * 1e-9))
        return
    if data.objective == "min_cost":
        penalty = f.unmet * (data.discount() * data.unmet_usd_per_tps_year / MUSD)
        objective = cost + penalty.sum()
    else:
        n_inf = max(len(f.inf), 1)
        users = data.users.reindex(country=f.country, year=f.years).fillna(0.0)
        weight = xr.DataArray(data.countries["weight"].to_numpy(dtype=float),
                              coords={"country": f.country}, dims="country")
        per_tps = (weight * users / n_inf / f.demand.where(f.demand > 0)).fillna(0.0)
        value = data.value_of_access_usd_per_person_year / MUSD
        objective = cost - (f.served * (per_tps * value)).sum()
    if f.unmet_train is not None:
        objective = objective + (f.unmet_train * (
            data.unmet_training_usd_per_eflop * EFLOP_PER_UNIT / MUSD)).sum()
    f.m.add_objective(_no_const(objective))


def _no_const(expr: Any) -> Any:
    """linopy objectives take no constant (fixed facility opex of existing sites)."""
    return expr - expr.const
