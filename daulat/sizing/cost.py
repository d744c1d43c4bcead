"""Capital and operating cost of accelerators and their facility (DESIGN.md §3).

All USD, price year 2025; every rate is a sourced constant in ``constants.csv``.
"""

from __future__ import annotations

from daulat.catalog.accelerators import Accelerator, get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.sites import shell_capex

__all__ = ["accelerator_capex_usd", "capex_usd", "annual_opex_usd"]


def accelerator_capex_usd(acc: str | Accelerator, accelerator_price_factor: float = 1.0) -> float:
    """USD per accelerator: its all-in system price share plus the network and storage
    shares."""
    a = get_accelerator(acc)
    return a.price_usd * accelerator_price_factor * (
        1.0 + constant("network_capex_share") + constant("storage_capex_share"))


def capex_usd(
    acc: str | Accelerator,
    count: int,
    *,
    facility_mw: float,
    it_mw: float,
    accelerator_price_factor: float = 1.0,
) -> tuple[float, dict[str, float], float]:
    """(total capex, breakdown {systems, network, storage, facility}, annual straight-line
    depreciation) for ``count`` accelerators; facility capex is per MW of critical (IT)
    load, as the Cushman & Wakefield figure is quoted, all-in (shell, soft costs, land, grid
    connection: :func:`daulat.catalog.sites.shell_capex` of a generic site)."""
    a = get_accelerator(acc)
    systems = a.price_usd * accelerator_price_factor * count
    network = systems * constant("network_capex_share")
    storage = systems * constant("storage_capex_share")
    fac = it_mw * shell_capex(None)[0]
    breakdown = {"systems": systems, "network": network, "storage": storage, "facility": fac}
    depreciation = (
        (systems + storage) / constant("depreciation_years_systems")
        + network / constant("depreciation_years_network")
        + fac / constant("depreciation_years_facility")
    )
    del facility_mw  # facility capex is quoted per MW of IT load, not of facility draw
    return systems + network + storage + fac, breakdown, depreciation


def annual_opex_usd(
    *,
    energy_mwh: float,
    power_price_usd_per_mwh: float,
    systems_capex_usd: float,
    facility_capex_usd: float,
    facility_mw: float,
) -> tuple[float, dict[str, float]]:
    """(annual opex USD, breakdown {energy, maintenance, facility_om, staff})."""
    staff_fte = constant("staff_fixed_fte") + constant("staff_per_facility_mw") * facility_mw
    breakdown = {
        "energy": energy_mwh * power_price_usd_per_mwh,
        "maintenance": systems_capex_usd * constant("maintenance_share_per_year"),
        "facility_om": facility_capex_usd * constant("facility_om_share_per_year"),
        "staff": staff_fte * constant("staff_cost_usd_per_fte") if facility_mw > 0 else 0.0,
    }
    return sum(breakdown.values()), breakdown
