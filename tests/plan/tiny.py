"""Hand-built planning instances small enough to solve by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from daulat.plan.data import OriginCap, PlanData

YEARS = [2026, 2027]


def tiny(**overrides: Any) -> PlanData:
    """Two countries (AAA, BBB), one site each, one accelerator, one workload, two years.

    Accelerator X: $1000 each, 1 kW IT, 100 tokens/s, no opex; PUE 1; facility $1000/MW;
    power free; discount rate 0. AAA needs 1000 tokens/s (10 accelerators, 10 kW,
    0.01 MW) in both years; BBB needs 500 tokens/s. Each country may use only its own
    site (in_country). Optimum: 15 accelerators ($15,000) + 0.015 MW ($15) = $15,015.
    """
    years = overrides.pop("years", YEARS)
    countries = pd.DataFrame(
        {"name": ["A", "B"], "income_group": ["LIC", "HIC"], "internet_share": [0.5, 0.9],
         "lat": [0.0, 0.0], "lon": [0.0, 10.0], "weight": [1.0, 1.0]},
        index=pd.Index(["AAA", "BBB"], name="country"),
    )
    sites = pd.DataFrame(
        {"name": ["Site A", "Site B"], "country": ["AAA", "BBB"], "lat": [0.0, 0.0],
         "lon": [0.0, 10.0], "status": ["candidate", "candidate"],
         "power_limit_mw": [100.0, 100.0], "existing_mw": [0.0, 0.0],
         "earliest_year": [2026, 2026], "pue": [1.0, 1.0],
         "power_price_usd_per_mwh": [0.0, 0.0], "grid_gco2_per_kwh": [500.0, 100.0],
         "new": [True, True]},
        index=pd.Index(["site-a", "site-b"], name="site"),
    )
    accelerators = pd.DataFrame(
        {"origin": ["USA"], "capex_usd": [1000.0], "it_kw": [1.0], "first_year": [2020],
         "opex_usd_per_year": [0.0]},
        index=pd.Index(["X"], name="accelerator"),
    )
    workloads = pd.DataFrame(
        {"kind": ["inference"], "country": [None], "required_eflop": [0.0],
         "deadline_year": [0], "model": ["m"]},
        index=pd.Index(["assistant"], name="workload"),
    )
    funders = pd.DataFrame(
        {"kind": ["provider"], "country": [None], "name": ["Provider"], "basis": ["per_year"]},
        index=pd.Index(["provider"], name="funder"),
    )
    cw = {"country": ["AAA", "BBB"], "workload": ["assistant"], "year": years}
    demand = xr.DataArray(np.array([[[1000.0] * len(years)], [[500.0] * len(years)]]),
                          coords=cw, dims=("country", "workload", "year"))
    users = xr.DataArray(np.array([[1000.0] * len(years), [500.0] * len(years)]),
                         coords={"country": ["AAA", "BBB"], "year": years},
                         dims=("country", "year"))
    rate = xr.DataArray([[100.0]], coords={"accelerator": ["X"], "workload": ["assistant"]},
                        dims=("accelerator", "workload"))
    allowed = xr.DataArray(np.array([[[True], [False]], [[False], [True]]]),
                           coords={"country": ["AAA", "BBB"], "site": ["site-a", "site-b"],
                                   "workload": ["assistant"]},
                           dims=("country", "site", "workload"))
    train_allowed = xr.DataArray(np.zeros((2, 0), dtype=bool),
                                 coords={"site": ["site-a", "site-b"], "workload": []},
                                 dims=("site", "workload"))
    rtt = xr.DataArray([[1.0, 50.0], [50.0, 1.0]],
                       coords={"country": ["AAA", "BBB"], "site": ["site-a", "site-b"]},
                       dims=("country", "site"))
    budget = xr.DataArray(np.full((1, len(years)), np.nan),
                          coords={"funder": ["provider"], "year": years}, dims=("funder", "year"))
    data = PlanData(
        years=years, countries=countries, sites=sites, accelerators=accelerators,
        workloads=workloads, funders=funders, demand_tps=demand, users=users, rate=rate,
        allowed=allowed, train_allowed=train_allowed, rtt_ms=rtt, budget_usd=budget,
        facility_usd_per_mw=1000.0, accelerator_life_years=5, load_factor=1.0,
        discount_rate=0.0, unmet_usd_per_tps_year=1e6, latency_target_ms={"assistant": 100.0},
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


__all__ = ["OriginCap", "tiny"]
