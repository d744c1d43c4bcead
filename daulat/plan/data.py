"""The planner's inputs as labelled arrays (:class:`PlanData`).

``daulat.plan.inputs.prepare`` fills a :class:`PlanData` from a scenario, the catalog,
the sizing model and the policy packs; the model builder (``variables.py``,
``constraints.py``), the greedy baseline and the tests read only this object, so a tiny
instance can be written by hand (see ``tests/plan``).

Dimensions: ``country``, ``site``, ``accelerator``, ``workload`` (inference workloads
and national training runs), ``funder``, ``year``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["OriginCap", "PlanData", "SECONDS_PER_YEAR"]

#: Seconds in a (365-day) year: converts tokens/s to tokens per year.
SECONDS_PER_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class OriginCap:
    """At most ``max_share`` of accelerators installed in ``country``'s sites from ``origin``."""

    country: str
    origin: str
    max_share: float


@dataclass
class PlanData:
    """Everything the model needs, in model units (USD, MW, tokens/s, EFLOP).

    Tables (pandas, indexed by id):

    - ``countries``: name, income_group, internet_share, lat, lon, weight (max_access).
    - ``sites``: name, country, lat, lon, status, power_limit_mw (facility MW ceiling),
      existing_mw (facility MW already built and available to the programme),
      earliest_year, pue, power_price_usd_per_mwh, grid_gco2_per_kwh, new (bool).
    - ``accelerators``: origin, capex_usd (per accelerator, system and network share
      included), it_kw (IT kW per accelerator), first_year, opex_usd_per_year
      (non-energy opex per accelerator-year), system_gpus (accelerators per system, the
      unit a plan buys in when ``whole_systems`` is on; 1 when the column is absent).
    - ``workloads``: kind ('inference' | 'training'), country (a national training run's
      country; None for inference and for programme-level runs, whose sites are in
      ``train_allowed``), required_eflop, deadline_year and start_year (training only;
      start_year 0 or absent: no start), model.
    - ``funders``: kind ('provider' | 'government' | 'other'), country, name, basis.

    Arrays (xarray):

    - ``demand_tps[country, workload, year]``: peak output tokens/s to serve (inference).
    - ``users[country, year]``: people using the assistant.
    - ``rate[accelerator, workload]``: tokens/s per accelerator (inference workloads) or
      EFLOP per accelerator-year delivered (training workloads).
    - ``allowed[country, site, workload]`` (inference workloads only): may country's
      demand of workload be served
      at site (residency and latency) — forbidden pairs get no variable at all.
    - ``train_allowed[site, workload]``: may the training workload run at site.
    - ``rtt_ms[country, site]``: modelled round-trip latency.
    - ``budget_usd[funder, year]``: capital budget (NaN: no limit that year).
    - ``commitment_usd[funder, year]`` (optional): committed spend, a floor on capital
      on the funder's basis (NaN: none that year).
    - ``schedule_mw[site, year]`` (optional): facility MW a site may have in service by
      the end of each year (its published schedule; NaN: no schedule beyond
      ``earliest_year``). Existing MW follow it too.

    Optional columns: ``sites.shell_usd_per_mw`` (shell, power and cooling capex per
    facility MW; absent: ``facility_usd_per_mw``), ``workloads.interconnect_km``
    (training runs: sites within this distance of the run's campus count as one campus;
    absent: 0, one site). ``training_campus`` (run -> site) is the campus a solve chose:
    later re-solves keep it.
    """

    years: list[int]
    countries: pd.DataFrame
    sites: pd.DataFrame
    accelerators: pd.DataFrame
    workloads: pd.DataFrame
    funders: pd.DataFrame
    demand_tps: xr.DataArray
    users: xr.DataArray
    rate: xr.DataArray
    allowed: xr.DataArray
    train_allowed: xr.DataArray
    rtt_ms: xr.DataArray
    budget_usd: xr.DataArray
    facility_usd_per_mw: float
    accelerator_life_years: int
    load_factor: float
    accelerator_life_source: str = "given"
    facility_opex_usd_per_mw_year: float = 0.0
    discount_rate: float = 0.08
    objective: Literal["min_cost", "max_access"] = "min_cost"
    unmet_usd_per_tps_year: float = 0.0
    unmet_training_usd_per_eflop: float = 0.0
    value_of_access_usd_per_person_year: float = 1000.0
    min_government_share: float = 0.0
    max_provider_share: float = 1.0
    min_served_share: float = 0.0
    portfolio_max_countries: int | None = None
    site_fixed_cost_usd: float = 0.0
    site_min_mw: float = 0.0
    whole_systems: Literal["auto", "integer", "round", "off"] = "off"
    whole_systems_integer_max: int = 6000
    origin_caps: list[OriginCap] = field(default_factory=list)
    latency_target_ms: dict[str, float] = field(default_factory=dict)
    currency: str = "USD"
    price_year: int = 2025
    notes: list[str] = field(default_factory=list)
    residency: dict[str, str] = field(default_factory=dict)
    #: peak ÷ average tokens/s per (country, workload): columns country, workload,
    #: peak_factor, source (None: 1.0, not given — a hand-built instance)
    peak_factors: pd.DataFrame | None = None
    #: what demand rests on per (country, workload, year): the inputs_demand columns
    #: (None: a hand-built instance)
    demand_detail: pd.DataFrame | None = None
    commitment_usd: xr.DataArray | None = None
    schedule_mw: xr.DataArray | None = None
    training_campus: dict[str, str] = field(default_factory=dict)
    #: who pays for the assistant in each country, at what price (columns of the plan
    #: directory's inputs_revenue; None: not resolved — a hand-built instance)
    revenue: pd.DataFrame | None = None

    # ---- derived views -------------------------------------------------------------
    @property
    def inference(self) -> list[str]:
        """Ids of the inference workloads."""
        return [str(w) for w, k in self.workloads["kind"].items() if k == "inference"]

    @property
    def training(self) -> list[str]:
        """Ids of the training workloads."""
        return [str(w) for w, k in self.workloads["kind"].items() if k == "training"]

    def year_index(self) -> pd.Index:
        """The ``year`` coordinate."""
        return pd.Index(self.years, name="year")

    def system_size(self) -> xr.DataArray:
        """Accelerators per purchasable system, over ``accelerator`` (1 if not given)."""
        if "system_gpus" not in self.accelerators:
            return xr.ones_like(self.acc_col("capex_usd"))
        return self.acc_col("system_gpus").astype(float)

    def discount(self) -> xr.DataArray:
        """Discount factor per year, 1 in the first year: (1 + r)^-(t - t0)."""
        t = np.asarray(self.years, dtype=float)
        return xr.DataArray(
            (1.0 + self.discount_rate) ** -(t - t[0]), coords={"year": self.years}, dims="year"
        )

    def site_col(self, column: str) -> xr.DataArray:
        """A ``sites`` column as an array over ``site``."""
        return xr.DataArray(
            self.sites[column].to_numpy(), coords={"site": self.sites.index}, dims="site"
        )

    def acc_col(self, column: str) -> xr.DataArray:
        """An ``accelerators`` column as an array over ``accelerator``."""
        return xr.DataArray(
            self.accelerators[column].to_numpy(),
            coords={"accelerator": self.accelerators.index},
            dims="accelerator",
        )

    def site_in_country(self) -> xr.DataArray:
        """1 where site lies in country, over [country, site]."""
        c = self.countries.index.to_numpy()
        s = self.sites["country"].to_numpy()
        return xr.DataArray(
            (c[:, None] == s[None, :]).astype(float),
            coords={"country": self.countries.index, "site": self.sites.index},
            dims=("country", "site"),
        )

    def installed_matrix(self) -> xr.DataArray:
        """1 where accelerators bought in ``vintage`` are still in service in ``year``."""
        t = np.asarray(self.years)
        age = t[:, None] - t[None, :]
        return xr.DataArray(
            ((age >= 0) & (age < self.accelerator_life_years)).astype(float),
            coords={"year": self.years, "vintage": self.years},
            dims=("year", "vintage"),
        )

    def cumulative_matrix(self) -> xr.DataArray:
        """1 where ``vintage`` <= ``year`` (sums of everything up to a year)."""
        t = np.asarray(self.years)
        return xr.DataArray(
            (t[:, None] >= t[None, :]).astype(float),
            coords={"year": self.years, "vintage": self.years},
            dims=("year", "vintage"),
        )

    def existing_mw(self) -> xr.DataArray:
        """Facility MW already built and available to the programme, over [site, year]."""
        ready = self.year_index().to_numpy()[None, :] >= self.sites["earliest_year"].to_numpy()[
            :, None
        ]
        mw = self.sites["existing_mw"].to_numpy()[:, None] * ready
        out = xr.DataArray(
            mw, coords={"site": self.sites.index, "year": self.years}, dims=("site", "year")
        )
        if self.schedule_mw is not None:  # existing MW come on their published schedule too
            cap = self.schedule_mw.reindex(site=self.sites.index, year=self.years)
            out = xr.where(cap.notnull(), np.minimum(out, cap), out)
        return out

    def shell_usd_per_mw(self) -> xr.DataArray:
        """Shell, power and cooling capex per facility MW, over ``site``."""
        if "shell_usd_per_mw" not in self.sites:
            return xr.full_like(self.site_col("pue"), self.facility_usd_per_mw, dtype=float)
        col = self.site_col("shell_usd_per_mw").astype(float)
        return col.fillna(self.facility_usd_per_mw)

    def with_residency_relaxed(self) -> PlanData:
        """The same instance with residency lifted (only latency limits the pairs)."""
        target = xr.DataArray(
            [self.latency_target_ms.get(w, np.inf) for w in self.inference],
            coords={"workload": self.inference},
            dims="workload",
        )
        allowed = (self.rtt_ms <= target).transpose("country", "site", "workload")
        allowed = allowed.reindex_like(self.allowed, fill_value=False)
        # national runs lose their residency limit; a programme run keeps its named sites
        national = xr.DataArray(
            np.array([isinstance(self.workloads["country"].get(w), str)
                      for w in self.train_allowed["workload"].values], dtype=bool),
            coords={"workload": self.train_allowed["workload"]}, dims="workload")
        train_allowed = self.train_allowed.astype(bool) | national
        return replace(self, allowed=allowed, train_allowed=train_allowed)
