"""Announced and candidate sites: sourced, in valid countries, usable by the planner."""

from __future__ import annotations

import csv

import pytest

from daulat.catalog.countries import load_countries
from daulat.catalog.sites import (
    SITE_STATUSES,
    SITES_CSV,
    candidate_sites,
    get_site,
    load_sites,
    site_defaults,
)
from daulat.errors import UserError


def test_every_site_row_has_a_source_and_a_valid_country() -> None:
    countries = load_countries()
    sites = load_sites()
    assert len(sites) >= 10
    for s in sites:
        assert s.source.strip(), s.id
        assert "http" in s.source or "publication" in s.source.lower(), s.id
        assert s.country in countries, (s.id, s.country)
        assert s.status in SITE_STATUSES and s.status != "candidate", s.id
        assert -90 <= s.lat <= 90 and -180 <= s.lon <= 180, s.id
        assert s.power_mw is None or s.power_mw > 0, s.id
        assert 2020 <= s.earliest_year <= 2035, s.id
        assert 0 < s.programme_share <= 1, s.id


def test_every_site_row_documents_its_location_power_and_year() -> None:
    with SITES_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for col in ("location_basis", "power_basis", "earliest_year_basis",
                        "programme_share_basis"):
                assert row[col].strip(), (row["id"], col)


def test_ids_are_unique_slugs() -> None:
    ids = [s.id for s in load_sites()]
    assert len(ids) == len(set(ids))
    assert all(i == i.lower() and " " not in i for i in ids)


def test_programme_sites_of_the_brief_are_present() -> None:
    by_country = {s.country for s in load_sites()}
    for iso3 in ("USA", "ARE", "NOR", "GBR", "JPN", "KOR", "ARG", "AUS", "IDN", "MYS"):
        assert iso3 in by_country, iso3
    abilene = get_site("stargate-abilene")
    assert abilene.country == "USA" and abilene.status == "operational"
    assert abilene.lat == pytest.approx(32.45, abs=0.2)


def test_candidate_sites_are_the_largest_cities() -> None:
    sites = candidate_sites("IDN", 3)
    assert [s.id for s in sites][0] == "idn-jakarta"
    assert len(sites) == 3 and all(s.status == "candidate" for s in sites)
    defaults = site_defaults()
    assert all(s.power_mw == defaults["candidate_power_mw"][0] for s in sites)
    assert all(s.earliest_year == int(defaults["candidate_earliest_year"][0]) for s in sites)
    assert all("GeoNames" in s.source for s in sites)
    assert get_site("idn-surabaya").country == "IDN"


def test_candidate_sites_edge_cases() -> None:
    assert candidate_sites("ATA", 3) == []  # no city at all
    assert candidate_sites("IDN", 0) == []
    assert len(candidate_sites("idn", 50)) == 10  # capped by the shipped city pool
    with pytest.raises(UserError, match="country"):
        candidate_sites("XXX")
    with pytest.raises(UserError, match="stargate-abilene"):
        get_site("no-such-site")


def test_every_country_with_cities_has_candidates_with_unique_ids() -> None:
    for iso3 in load_countries():
        ids = [s.id for s in candidate_sites(iso3, 10)]
        assert len(ids) == len(set(ids)), iso3
