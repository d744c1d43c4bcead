"""The planner's MILP speed-ups change how fast a plan is found, never which plan is best:
a tight campus formulation (its LP relaxation already places a training run at one site)
and a MIP start (the rounded LP relaxation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from daulat.plan.build import MUSD, build_model
from daulat.plan.optimize import run_highs
from daulat.plan.warmstart import relaxation_objective
from tests.plan.tiny import tiny


def _one_run_two_sites():  # type: ignore[no-untyped-def]
    """A 100-EFLOP programme run that may use either site (0.03 MW and 0.04 MW: 30 and
    40 accelerators of 1 EFLOP per accelerator-year, two years) and no inference: one
    campus delivers at most 80 EFLOP (site-b), so 20 EFLOP are unmet at $1M each."""
    data = tiny()
    data.demand_tps = data.demand_tps * 0.0
    data.sites.loc[["site-a", "site-b"], "power_limit_mw"] = [0.03, 0.04]
    data.workloads = pd.DataFrame(
        {"kind": ["inference", "training"], "country": [None, None],
         "required_eflop": [0.0, 100.0], "deadline_year": [0, 2027], "model": ["m", "t"]},
        index=pd.Index(["assistant", "frontier"], name="workload"))
    data.rate = xr.DataArray([[100.0, 1.0]], coords={"accelerator": ["X"],
                                                     "workload": ["assistant", "frontier"]},
                             dims=("accelerator", "workload"))
    data.train_allowed = xr.DataArray([[True], [True]],
                                      coords={"site": ["site-a", "site-b"],
                                              "workload": ["frontier"]},
                                      dims=("site", "workload"))
    data.unmet_training_usd_per_eflop = 1e6
    return data


def test_the_lp_relaxation_already_places_a_training_run_in_one_campus() -> None:
    data = _one_run_two_sites()
    milp = build_model(data)
    run = run_highs(milp, None, 1e-9)
    assert run.ok
    # the plan: 40 accelerators at site-b for two years (80 EFLOP), 20 EFLOP unmet
    cost = 40 * 1000.0 + 0.04 * 1000.0 + 20 * 1e6
    assert float(milp.model.objective.value) * MUSD == pytest.approx(cost)
    # the relaxation cannot spread the run over both sites (30 + 40 accelerators would
    # deliver it all): its bound is the plan's cost, no gap left to branch on
    bound = relaxation_objective(build_model(data).model)
    assert bound is not None
    assert bound * MUSD == pytest.approx(cost, rel=1e-6)


def test_the_mip_start_changes_how_fast_not_which_plan() -> None:
    # opening costs and minimum sizes (site binaries) and 8-accelerator systems (integers)
    data = tiny(site_fixed_cost_usd=100.0, site_min_mw=1.0, whole_systems="integer")
    data.accelerators = data.accelerators.assign(system_gpus=[8])
    data.sites.loc["site-b", "power_limit_mw"] = 0.006  # no room for a whole system at B
    data.allowed.loc[{"country": "BBB", "site": "site-a"}] = True
    warm, cold = build_model(data), build_model(data)
    w = run_highs(warm, None, 1e-9)
    c = run_highs(cold, None, 1e-9, warm_start=False)
    assert w.ok and c.ok
    assert w.start is not None and w.start["given"] is True
    assert c.start is None
    assert float(warm.model.objective.value) == pytest.approx(float(cold.model.objective.value))
    # the start is a plan that keeps every rule: never below the optimum
    assert w.start["objective"] >= float(warm.model.objective.value) - 1e-9
    # site B cannot hold a system: everything at A (16 accelerators serve all 1500 tokens/s)
    bought = warm.model.variables["accelerators_added"].solution.fillna(0.0)
    assert float(bought.sel(site="site-b").sum()) == pytest.approx(0.0, abs=1e-6)
    assert float(bought.sum()) == pytest.approx(16.0)
    assert np.isfinite(float(warm.model.objective.value))


def test_a_portfolio_and_a_campus_round_to_a_plan_that_keeps_both_rules() -> None:
    # one country of two may be chosen; the run may use either country's site, and a
    # site in a country left out is unusable: the start must place the run with the
    # portfolio it rounds to, and the plan is the cold solve's
    data = _one_run_two_sites()
    data.demand_tps = tiny().demand_tps
    data.portfolio_max_countries = 1
    data.objective = "max_access"
    warm, cold = build_model(data), build_model(data)
    w = run_highs(warm, None, 1e-9)
    c = run_highs(cold, None, 1e-9, warm_start=False)
    assert w.ok and c.ok and w.start is not None and w.start["given"] is True
    assert float(warm.model.objective.value) == pytest.approx(float(cold.model.objective.value))
    chosen = warm.model.variables["select"].solution.to_series()
    campus = warm.model.variables["training_campus"].solution.fillna(0.0).to_series()
    site = campus.idxmax()[1]
    assert chosen[data.sites.loc[site, "country"]] > 0.5  # the run's campus is usable
