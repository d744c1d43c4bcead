"""Countries: every ISO 3166-1 country with the indicators the sizing and planning need.

Data: ``data/countries.csv`` (built by ``scripts/build_catalog.py``; sources per column
in ``data/SOURCE.md`` and per row in the ``*_source`` columns). Missing values are
explicit: ``None`` for optional indicators, ``math.nan`` coordinates for the four
uninhabited territories (ATA, BVT, HMD, UMI), ``''`` for an unclassified income group.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from daulat.errors import UserError

__all__ = ["Country", "INCOME_GROUPS", "load_countries", "get_country", "country_rows"]

DATA = Path(__file__).resolve().parent / "data"
COUNTRIES_CSV = DATA / "countries.csv"

#: World Bank income groups, lowest first.
INCOME_GROUPS = ("LIC", "LMC", "UMC", "HIC")


@dataclass(frozen=True)
class Country:
    """One ISO 3166-1 country or territory.

    Units: ``population`` persons; ``internet_share`` and ``renewables_share`` 0..1 of
    population / of electricity generation; ``electricity_demand_twh`` TWh per year;
    ``grid_gco2_per_kwh`` gCO2 per kWh generated; ``languages`` (CLDR code, share of the
    population 0..1), largest first; ``lat``/``lon`` degrees (WGS84) of the capital;
    ``power_price_usd_per_mwh`` USD per MWh for a large business/industrial consumer.
    """

    iso3: str
    iso2: str
    name: str
    region: str
    subregion: str
    population: int
    internet_share: float
    electricity_demand_twh: float | None
    grid_gco2_per_kwh: float | None
    renewables_share: float | None
    languages: tuple[tuple[str, float], ...]
    capital: str
    lat: float
    lon: float
    income_group: str
    power_price_usd_per_mwh: float
    power_price_source: str
    intermediate_region: str = ""
    #: Source (or fallback rule) of each field, by field name.
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def language_codes(self) -> tuple[str, ...]:
        """Language codes, largest share first."""
        return tuple(code for code, _ in self.languages)


def _opt_float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _languages(text: str) -> tuple[tuple[str, float], ...]:
    out: list[tuple[str, float]] = []
    for part in filter(None, text.split(";")):
        code, _, share = part.partition(":")
        out.append((code, float(share)))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def country_rows() -> tuple[Mapping[str, str], ...]:
    """The raw rows of ``countries.csv`` (every column, including years and sources)."""
    with COUNTRIES_CSV.open(newline="", encoding="utf-8") as fh:
        return tuple(MappingProxyType(dict(r)) for r in csv.DictReader(fh))


def _country(r: Mapping[str, str]) -> Country:
    def with_year(col: str, src: str) -> str:
        year = r.get(f"{col}_year", "")
        return f"{r[src]} ({year})" if year and r[src] else r[src]

    sources = {
        "population": with_year("population", "population_source"),
        "internet_share": with_year("internet_share", "internet_share_source"),
        "electricity_demand_twh": with_year("electricity_demand_twh", "energy_source"),
        "grid_gco2_per_kwh": with_year("grid_gco2_per_kwh", "energy_source"),
        "renewables_share": with_year("renewables_share", "energy_source"),
        "languages": r["languages_source"],
        "capital": r["coord_source"],
        "lat": r["coord_source"],
        "lon": r["coord_source"],
        "income_group": r["income_source"],
        "power_price_usd_per_mwh": r["power_price_source"],
        "region": "UN M49 (UNSD), see data/SOURCE.md",
        "subregion": "UN M49 (UNSD), see data/SOURCE.md",
        "intermediate_region": "UN M49 (UNSD), see data/SOURCE.md",
        "name": "ISO 3166-1 via pycountry",
        "iso2": "ISO 3166-1 via pycountry",
        "iso3": "ISO 3166-1 via pycountry",
    }
    return Country(
        iso3=r["iso3"],
        iso2=r["iso2"],
        name=r["name"],
        region=r["region"],
        subregion=r["subregion"],
        population=int(r["population"]),
        internet_share=float(r["internet_share"]),
        electricity_demand_twh=_opt_float(r["electricity_demand_twh"]),
        grid_gco2_per_kwh=_opt_float(r["grid_gco2_per_kwh"]),
        renewables_share=_opt_float(r["renewables_share"]),
        languages=_languages(r["languages"]),
        capital=r["capital"],
        lat=float(r["lat"]) if r["lat"] else math.nan,
        lon=float(r["lon"]) if r["lon"] else math.nan,
        income_group=r["income_group"],
        power_price_usd_per_mwh=float(r["power_price_usd_per_mwh"]),
        power_price_source=r["power_price_source"],
        intermediate_region=r["intermediate_region"],
        sources=sources,
    )


@functools.lru_cache(maxsize=1)
def _countries() -> Mapping[str, Country]:
    return MappingProxyType({r["iso3"]: _country(r) for r in country_rows()})


def load_countries() -> dict[str, Country]:
    """Every ISO 3166-1 country (249), keyed by alpha-3 code. Cached; returns a new dict."""
    return dict(_countries())


@functools.lru_cache(maxsize=1)
def _aliases() -> Mapping[str, str]:
    table: dict[str, str] = {}
    for c in _countries().values():
        for key in (c.iso3, c.iso2, c.name):
            table[key.casefold()] = c.iso3
    return MappingProxyType(table)


def get_country(code: str) -> Country:
    """The country with ISO 3166-1 alpha-3 or alpha-2 ``code`` (or exact English name).

    Raises :class:`UserError` naming the bad value and what is valid.
    """
    iso3 = _aliases().get(str(code).strip().casefold())
    if iso3 is None:
        raise UserError(
            f"country: unknown country {code!r}; valid: an ISO 3166-1 alpha-3 code such as "
            "IDN, USA, NOR (or alpha-2 such as ID); `daulat catalog list countries` lists all"
        )
    return _countries()[iso3]
