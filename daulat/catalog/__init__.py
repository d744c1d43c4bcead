"""daulat.catalog: shipped, sourced reference data and its loaders.

Countries and sites live here (:mod:`daulat.catalog.countries`,
:mod:`daulat.catalog.sites`); accelerators, model classes and constants in their own
modules. Every loader is cached and returns typed, frozen records.
"""

from __future__ import annotations

from daulat.catalog.countries import Country, get_country, load_countries
from daulat.catalog.sites import Site, candidate_sites, get_site, load_sites

__all__ = [
    "Country",
    "Site",
    "candidate_sites",
    "get_country",
    "get_site",
    "load_countries",
    "load_sites",
]
