"""Sizing: demand → tokens/s → accelerators → MW → USD (DESIGN.md §3)."""

from __future__ import annotations

from daulat.sizing.cost import accelerator_capex_usd, annual_opex_usd, capex_usd
from daulat.sizing.demand import (
    CountrySizing,
    Demand,
    DemandAssumptions,
    adoption,
    country_assistant,
    demand,
    demand_for,
    fleet_rate,
    size_demand,
)
from daulat.sizing.facility import FacilitySizing, default_pue, facility, it_kw_per_accelerator
from daulat.sizing.fleet import (
    FleetAssumptions,
    ServiceLoad,
    ServiceSizing,
    load_from_users,
    size_service,
)
from daulat.sizing.inference import (
    SCENARIOS,
    Efficiency,
    InferenceSizing,
    inference_throughput,
    replicas_needed,
)
from daulat.sizing.training import TrainingSizing, training
from daulat.sizing.workloads import Workload, get_workload, load_workloads

__all__ = [
    "SCENARIOS",
    "CountrySizing",
    "Demand",
    "DemandAssumptions",
    "Efficiency",
    "FacilitySizing",
    "FleetAssumptions",
    "InferenceSizing",
    "ServiceLoad",
    "ServiceSizing",
    "TrainingSizing",
    "Workload",
    "accelerator_capex_usd",
    "adoption",
    "annual_opex_usd",
    "capex_usd",
    "country_assistant",
    "default_pue",
    "demand",
    "demand_for",
    "facility",
    "fleet_rate",
    "get_workload",
    "inference_throughput",
    "it_kw_per_accelerator",
    "load_from_users",
    "load_workloads",
    "replicas_needed",
    "size_demand",
    "size_service",
    "training",
]
