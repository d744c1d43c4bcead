"""Facility power, energy and carbon of a fleet of accelerators (DESIGN.md §3).

IT kW per accelerator = system nameplate kW ÷ its accelerators × (1 + network/storage
share); facility MW = IT MW × PUE; annual energy = facility MW × 8760 h × load factor;
emissions = energy × the site country's grid intensity when a country is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from daulat.catalog.accelerators import Accelerator, get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.countries import get_country
from daulat.errors import UserError
from daulat.sizing.cost import annual_opex_usd, capex_usd

__all__ = ["FacilitySizing", "facility", "it_kw_per_accelerator", "default_pue", "country_info"]


def it_kw_per_accelerator(acc: str | Accelerator) -> float:
    """IT kW per accelerator: nameplate system kW ÷ accelerators, plus network/storage."""
    a = get_accelerator(acc)
    return a.system_power_kw_per_accelerator * (1.0 + constant("network_storage_power_share"))


def default_pue(acc: str | Accelerator) -> float:
    """PUE for the accelerator's cooling: liquid above the air-cooling TDP limit or in
    rack-scale systems, air otherwise (both sourced in constants.csv)."""
    a = get_accelerator(acc)
    liquid = a.tdp_w > constant("air_cooling_max_tdp_w") or a.system_gpus > 8
    return constant("pue_liquid" if liquid else "pue_air")


def country_info(iso3: str | None) -> tuple[float | None, float | None, str | None]:
    """(grid gCO2/kWh, power price USD/MWh, power price source) for ``iso3``, or Nones.

    From :func:`daulat.catalog.countries.get_country`.
    """
    if iso3 is None:
        return None, None, None
    c = get_country(iso3)
    return (
        getattr(c, "grid_gco2_per_kwh", None),
        getattr(c, "power_price_usd_per_mwh", None),
        getattr(c, "power_price_source", None),
    )


@dataclass(frozen=True)
class FacilitySizing:
    """Power, energy, carbon and money of ``count`` accelerators in one facility.

    Units: MW, MWh/year, tCO2/year, USD (price year 2025). ``capex_breakdown_usd`` has
    ``systems``, ``network`` and ``facility``; ``annual_opex_breakdown_usd`` has
    ``energy``, ``maintenance``, ``facility_om`` and ``staff``.
    """

    accelerator: str
    count: int
    pue: float
    it_kw_per_accelerator: float
    it_mw: float
    facility_mw: float
    load_factor: float
    annual_energy_mwh: float
    power_price_usd_per_mwh: float
    country: str | None
    grid_gco2_per_kwh: float | None
    annual_emissions_tco2: float | None
    capex_usd: float
    capex_breakdown_usd: dict[str, float]
    annual_opex_usd: float
    annual_opex_breakdown_usd: dict[str, float]
    annual_depreciation_usd: float
    sources: dict[str, str] = field(default_factory=dict)


def facility(
    accelerator: str | Accelerator,
    count: int,
    pue: float | None = None,
    *,
    country: str | None = None,
    power_price_usd_per_mwh: float | None = None,
    load_factor: float | None = None,
    accelerator_price_factor: float = 1.0,
    power_price_factor: float = 1.0,
) -> FacilitySizing:
    """Size a facility for ``count`` accelerators.

    ``pue`` defaults by cooling (:func:`default_pue`); the power price comes from
    ``power_price_usd_per_mwh``, else the country's catalog price, else the sourced
    default. The factors scale prices for sensitivity sweeps.
    """
    acc = get_accelerator(accelerator)
    if count < 0:
        raise UserError(f"count: {count} is negative; valid values: an integer >= 0")
    if pue is not None and pue < 1.0:
        raise UserError(f"pue: {pue} is below 1; valid values: PUE >= 1.0 (typical 1.1-1.6)")
    if load_factor is not None and not 0 < load_factor <= 1:
        raise UserError(f"load_factor: {load_factor} out of range; valid values: 0 < x <= 1")
    p = default_pue(acc) if pue is None else pue
    lf = constant("load_factor") if load_factor is None else load_factor
    grid, c_price, c_source = country_info(country)
    price_source = "--power-price"
    if power_price_usd_per_mwh is None:
        if c_price is not None:
            power_price_usd_per_mwh, price_source = c_price, c_source or f"country {country}"
        else:
            power_price_usd_per_mwh = constant("power_price_usd_per_mwh_default")
            price_source = "constants.csv power_price_usd_per_mwh_default"
    price = power_price_usd_per_mwh * power_price_factor
    it_kw = it_kw_per_accelerator(acc)
    it_mw = it_kw * count / 1000.0
    facility_mw = it_mw * p
    energy = facility_mw * constant("hours_per_year") * lf
    emissions = energy * grid / 1000.0 if grid is not None else None  # MWh·g/kWh = kg → t
    capex, breakdown, depreciation = capex_usd(
        acc,
        count,
        facility_mw=facility_mw,
        it_mw=it_mw,
        accelerator_price_factor=accelerator_price_factor,
    )
    opex, opex_breakdown = annual_opex_usd(
        energy_mwh=energy,
        power_price_usd_per_mwh=price,
        systems_capex_usd=breakdown["systems"] + breakdown["network"],
        facility_capex_usd=breakdown["facility"],
        facility_mw=facility_mw,
    )
    return FacilitySizing(
        accelerator=acc.id,
        count=count,
        pue=p,
        it_kw_per_accelerator=it_kw,
        it_mw=it_mw,
        facility_mw=facility_mw,
        load_factor=lf,
        annual_energy_mwh=energy,
        power_price_usd_per_mwh=price,
        country=country.upper() if country else None,
        grid_gco2_per_kwh=grid,
        annual_emissions_tco2=emissions,
        capex_usd=capex,
        capex_breakdown_usd=breakdown,
        annual_opex_usd=opex,
        annual_opex_breakdown_usd=opex_breakdown,
        annual_depreciation_usd=depreciation,
        sources={
            "system_power": acc.power_source,
            "price": acc.price_source,
            "power_price": price_source,
        },
    )
