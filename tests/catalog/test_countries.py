"""The country catalog: complete, sourced, explicit about what is missing."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import pycountry
import pytest

from daulat.catalog.countries import INCOME_GROUPS, get_country, load_countries
from daulat.errors import UserError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

#: World Bank WDI SP.POP.TOTL, Indonesia, 2023 (persons), as in ../shared/data.
WDI_IDN_POPULATION_2023 = 281_190_067


def test_every_iso3166_country_is_present() -> None:
    countries = load_countries()
    assert set(countries) == {c.alpha_3 for c in pycountry.countries}
    assert len(countries) == 249


def test_indonesia_population_matches_wdi_2023() -> None:
    idn = get_country("IDN")
    assert idn.population == pytest.approx(WDI_IDN_POPULATION_2023, rel=0.01)
    assert "WDI" in idn.sources["population"] and "2023" in idn.sources["population"]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data not laid out beside the repo")
def test_population_equals_shared_wdi_value_for_every_covered_country() -> None:
    with (SHARED / "country_energy_digital.csv").open(encoding="utf-8") as fh:
        wdi = {r["iso_code"]: r["population"] for r in csv.DictReader(fh) if r["population"]}
    countries = load_countries()
    for iso3, pop in wdi.items():
        assert countries[iso3].population == int(float(pop)), iso3


def test_indonesian_languages_include_indonesian_with_the_largest_share() -> None:
    idn = get_country("IDN")
    assert "id" in idn.language_codes
    assert idn.languages[0][0] == "id"
    assert all(0 < share <= 1 for _, share in idn.languages)


def test_indonesia_core_fields() -> None:
    idn = get_country("idn")
    assert (idn.iso2, idn.region, idn.subregion) == ("ID", "Asia", "South-eastern Asia")
    assert idn.capital == "Jakarta"
    assert idn.lat == pytest.approx(-6.2, abs=0.2) and idn.lon == pytest.approx(106.8, abs=0.2)
    assert idn.income_group == "UMC"
    assert 0 < idn.internet_share < 1
    assert idn.grid_gco2_per_kwh is not None and idn.grid_gco2_per_kwh > 500


def test_values_are_in_range_and_missing_values_are_explicit() -> None:
    for c in load_countries().values():
        assert 0 <= c.internet_share <= 1, c.iso3
        assert c.renewables_share is None or 0 <= c.renewables_share <= 1, c.iso3
        assert c.electricity_demand_twh is None or c.electricity_demand_twh >= 0, c.iso3
        assert c.income_group in (*INCOME_GROUPS, ""), c.iso3
        assert c.power_price_usd_per_mwh > 0 and c.power_price_source, c.iso3
        if c.income_group == "":
            assert c.sources["income_group"].startswith("none"), c.iso3
        if math.isnan(c.lat):
            assert c.sources["lat"].startswith("none"), c.iso3
        else:
            assert -90 <= c.lat <= 90 and -180 <= c.lon <= 180, c.iso3


def test_every_field_has_a_source() -> None:
    for c in load_countries().values():
        for field in ("population", "internet_share", "languages", "lat", "income_group",
                      "power_price_usd_per_mwh", "region"):
            assert c.sources[field], (c.iso3, field)


def test_power_price_fallback_is_labelled() -> None:
    countries = load_countries()
    assert "GlobalPetrolPrices" in countries["DEU"].power_price_source
    assert countries["KHM"].power_price_source.startswith("fallback: median")


def test_get_country_accepts_alpha2_and_rejects_unknown_codes() -> None:
    assert get_country("id").iso3 == "IDN"
    with pytest.raises(UserError, match="IDN"):
        get_country("XXX")


def test_loading_is_fast_and_cached() -> None:
    from daulat.catalog import countries as mod

    colds = []
    for _ in range(3):  # best of three, so a busy CI core does not decide the outcome
        mod._countries.cache_clear()
        mod.country_rows.cache_clear()
        start = time.perf_counter()
        load_countries()
        colds.append(time.perf_counter() - start)
    cold = min(colds)
    start = time.perf_counter()
    for _ in range(100):
        load_countries()
    warm = (time.perf_counter() - start) / 100
    assert cold < 0.05, f"cold load {cold * 1000:.1f} ms"
    assert warm < 0.001


def test_every_inhabited_country_has_coordinates() -> None:
    # The planner computes latency from country coordinates: none may be missing there.
    for c in load_countries().values():
        if c.population > 0:
            assert math.isfinite(c.lat) and math.isfinite(c.lon), c.iso3
        else:
            assert c.sources["population"].startswith("none"), c.iso3
