"""What the report says about the plan's decisions, read from the plan directory.

The planner decided which countries to serve, where each country's traffic goes and under
which residency rule; this module reads those decisions (``summary.json``,
``routing.csv``, ``inputs_countries.csv``, ``inputs_funders.csv``) into small records the
report's words, tables and map share. It decides nothing: a figure it cannot find in the
plan directory is ``None`` and the report says so.

Tables are read from the loaded plan (``ReportData.tables``) when it carries them, else
from the CSV file of the same name in the plan directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from daulat.report.data import ReportData

__all__ = [
    "CountryFacts",
    "CountryServed",
    "PlanFacts",
    "SiteUse",
    "facts",
    "funder_names",
    "people_unserved",
    "plan_table",
    "scenario_dict",
    "summary_value",
]


#: Up to this many chosen countries the map and its table stand side by side.
MAP_BESIDE_MAX_COUNTRIES = 3


def summary_value(d: ReportData, key: str, default: Any = None) -> Any:
    """A field of the typed ``summary.json`` (``default`` when it is empty)."""
    value = getattr(d.tables.summary, key, default)
    return default if value is None else value


def plan_table(d: ReportData, name: str) -> pd.DataFrame | None:
    """Table ``name`` of the plan directory (``None`` when the plan has none)."""
    value = getattr(d.tables, name, None)
    if isinstance(value, pd.DataFrame):
        return value
    path = d.tables.path / f"{name}.csv"
    if path.exists():
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    return None


def scenario_dict(d: ReportData) -> dict[str, Any]:
    """The plan's ``scenario.yaml`` as written by the planner (empty when there is none)."""
    raw = getattr(d.tables, "scenario", None)
    if isinstance(raw, dict) and raw:
        return raw
    path = d.tables.path / "scenario.yaml"
    if path.exists():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        return loaded if isinstance(loaded, dict) else {}
    return {}


_scenario = scenario_dict


def funder_names(d: ReportData) -> dict[str, str]:
    """Funder id → its name (``gov-idn`` → ``Government of Indonesia``); the id if unnamed."""
    table = plan_table(d, "inputs_funders")
    out: dict[str, str] = {}
    if table is not None and "name" in table:
        for fid, name in zip(table["funder"], table["name"], strict=True):
            if isinstance(name, str) and name.strip():
                out[str(fid)] = name
    for fu in _scenario(d).get("funders", []) or []:
        if isinstance(fu, dict) and fu.get("id") and fu.get("name"):
            out.setdefault(str(fu["id"]), str(fu["name"]))
    for fid in d.returns["funder"] if "funder" in d.returns else []:
        out.setdefault(str(fid), str(fid))
    return out


@dataclass(frozen=True)
class SiteUse:
    """A site the plan uses: facility MW in use at the end, and whether it serves inference."""

    site: str
    name: str
    country: str
    lat: float
    lon: float
    facility_mw: float
    built_mw: float


@dataclass(frozen=True)
class CountryServed:
    """Where one country's traffic is served in the plan's last year."""

    site: str
    jurisdiction: str
    share: float  # of the country's served tokens/s


@dataclass(frozen=True)
class CountryFacts:
    """One chosen country: who it serves, where, under which rule, and why it was chosen."""

    country: str
    people_served: float | None
    share_met: float | None
    weight: float | None
    served_at: list[CountryServed]
    abroad: bool
    residency: str | None  # in_country | jurisdictions | any
    jurisdictions: list[str]
    basis: str | None  # law | programme_policy | scenario | config | no_pack
    source: str | None
    cost_usd: float | None  # the cost of the sites serving it, shared by tokens served
    lat: float | None = None
    lon: float | None = None

    @property
    def cost_per_person(self) -> float | None:
        """``cost_usd`` ÷ people served in the last year (``None`` when either is unknown)."""
        if not self.cost_usd or not self.people_served:
            return None
        return self.cost_usd / self.people_served


@dataclass
class PlanFacts:
    """The decisions the report explains, read once."""

    last_year: int
    candidates: list[str]
    chosen: list[CountryFacts]
    sites: list[SiteUse]
    portfolio_limited: bool
    funders: dict[str, str] = field(default_factory=dict)

    @property
    def abroad(self) -> list[CountryFacts]:
        """Chosen countries served (at least partly) outside their own territory."""
        return [c for c in self.chosen if c.abroad]

    @property
    def map_beside(self) -> bool:
        """Whether the map has its table beside it (a few countries) or above it (many:
        the map then takes the full width so a world-wide view stays readable)."""
        return len(self.chosen) <= MAP_BESIDE_MAX_COUNTRIES

    @property
    def used_sites(self) -> set[str]:
        """Ids of the sites the plan uses (MW in use or traffic served)."""
        return {s.site for s in self.sites}


#: A site serving less than this share of a country's traffic is not listed (it rounds to 0%).
_MINOR_SHARE = 0.005


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def _people_by_country(d: ReportData, year: int) -> dict[str, float]:
    """People served per country in ``year``: users × served share, averaged over the
    country's inference workloads (the planner's definition, ``plan.result.people_served``)."""
    dem = d.tables.demand
    dem = dem[(dem["year"] == year) & (dem["tokens_per_s"] > 0)]
    if dem.empty:
        return {}
    unmet = d.tables.unmet
    u = unmet[unmet["year"] == year].set_index(["country", "workload"])["tokens_per_s"]
    share = [1.0 - float(u.get((c, w), 0.0)) / float(t) for c, w, t in
             zip(dem["country"], dem["workload"], dem["tokens_per_s"], strict=True)]
    people = pd.Series([s * float(n) for s, n in zip(share, dem["users"], strict=True)],
                       index=dem["country"].astype(str).to_numpy())
    return {str(k): float(v) for k, v in people.groupby(level=0).mean().items()}


def people_unserved(demand: pd.DataFrame, unmet: pd.DataFrame, year: int) -> float:
    """People with demand the plan leaves unserved in ``year``: users × unserved share,
    averaged over each country's inference workloads and summed (the complement of the
    planner's people served, ``plan.result.people_served``). The unmet demand in people —
    what a minister weighs — rather than the planner's price on it."""
    dem = demand[(demand["year"] == year) & (demand["tokens_per_s"] > 0)]
    if dem.empty:
        return 0.0
    u = unmet[unmet["year"] == year].set_index(["country", "workload"])["tokens_per_s"]
    left = [min(max(float(u.get((c, w), 0.0)) / float(t), 0.0), 1.0) * float(n)
            for c, w, t, n in zip(dem["country"], dem["workload"], dem["tokens_per_s"],
                                  dem["users"], strict=True)]
    per_country = pd.Series(left, index=dem["country"].astype(str).to_numpy())
    return float(per_country.groupby(level=0).mean().sum())


def _site_costs(d: ReportData) -> pd.Series:
    """Capital plus operating cost of each site over the plan (site id → USD)."""
    sc = plan_table(d, "site_costs")
    if sc is not None and {"site", "capex_usd", "opex_usd"} <= set(sc.columns):
        return (sc["capex_usd"].fillna(0) + sc["opex_usd"].fillna(0)).groupby(sc["site"]).sum()
    b = d.tables.builds
    return b.groupby("site")["capex_usd"].sum() if not b.empty else pd.Series(dtype=float)


def _residency(d: ReportData) -> dict[str, dict[str, Any]]:
    table = plan_table(d, "inputs_countries")
    if table is None or "residency" not in table:
        return {}
    out = {}
    for row in table.to_dict(orient="records"):
        juris = str(row.get("residency_jurisdictions") or "")
        out[str(row["country"])] = {
            "mode": str(row.get("residency") or "") or None,
            "jurisdictions": [j for j in juris.replace(",", ";").split(";") if j.strip()],
            "basis": str(row.get("residency_basis") or "") or None,
            "source": str(row.get("residency_source") or "") or None,
            "weight": _f(row.get("weight")),
            "lat": _f(row.get("lat")),
            "lon": _f(row.get("lon")),
        }
    return out


def _weights(d: ReportData) -> dict[str, float]:
    out = {}
    for c in _scenario(d).get("countries", []) or []:
        if isinstance(c, dict) and c.get("iso3") and _f(c.get("weight")) is not None:
            out[str(c["iso3"])] = float(c["weight"])
    return out


def facts(d: ReportData) -> PlanFacts:
    """The plan's decisions: chosen countries with where and why, the sites it uses."""
    t = d.tables
    last = t.horizon[1]
    candidates = sorted(set(t.demand["country"].astype(str)))
    selected = summary_value(d, "selected_countries")
    portfolio_limited = isinstance(selected, list)
    chosen_ids = [str(c) for c in selected] if portfolio_limited else candidates

    routing = t.routing
    sites = t.sites.set_index("site") if not t.sites.empty else t.sites
    builds_mw: dict[str, float] = {
        str(k): float(v) for k, v in t.builds.groupby("site")["facility_mw"].sum().items()
    } if not t.builds.empty else {}
    routed = set(routing["site"].astype(str)) if not routing.empty else set()
    train = plan_table(d, "training")
    trained = set(train["site"].astype(str)) if train is not None and not train.empty else set()
    used: list[SiteUse] = []
    for site in sorted(set(builds_mw) | routed | trained):
        if site not in sites.index:
            continue
        mw = builds_mw.get(site, 0.0)
        if mw <= 0 and site not in routed and site not in trained:
            continue
        row = sites.loc[site]
        used.append(SiteUse(site, str(row["name"]), str(row["country"]),
                            _f(row["lat"]) or 0.0, _f(row["lon"]) or 0.0, mw,
                            _f(row.get("built_mw")) or 0.0))

    people = _people_by_country(d, last)
    res = _residency(d)
    weights = _weights(d)
    costs = _site_costs(d)
    site_tokens: dict[str, float] = {
        str(k): float(v) for k, v in routing.groupby("site")["tokens_per_s"].sum().items()}
    dem_last = t.demand[t.demand["year"] == last].groupby("country")["tokens_per_s"].sum()
    chosen = []
    for c in chosen_ids:
        mine = routing[routing["country"] == c]
        last_rows = mine[mine["year"] == mine["year"].max()] if not mine.empty else mine
        by_site = pd.DataFrame(last_rows.groupby(["site", "site_country"], as_index=False)[
            "tokens_per_s"].sum()).sort_values(by="tokens_per_s", ascending=False)
        total = float(by_site["tokens_per_s"].sum())
        served_at = [CountryServed(str(s), str(j), float(v) / total)
                     for s, j, v in zip(by_site["site"], by_site["site_country"],
                                        by_site["tokens_per_s"], strict=True)
                     if total > 0 and v > _MINOR_SHARE * total]
        cost = None
        if not mine.empty:
            per_site = mine.groupby("site")["tokens_per_s"].sum()
            cost = sum(float(costs.get(str(s), 0.0)) * float(v) / site_tokens[str(s)]
                       for s, v in per_site.items() if site_tokens.get(str(s), 0.0) > 0)
        served_last = float(t.routing[(t.routing["country"] == c)
                                      & (t.routing["year"] == last)]["tokens_per_s"].sum())
        demand_last = float(dem_last.get(c, 0.0))
        r = res.get(c, {})
        chosen.append(CountryFacts(
            country=c, people_served=people.get(c),
            share_met=served_last / demand_last if demand_last > 0 else None,
            weight=r.get("weight", weights.get(c)), served_at=served_at,
            abroad=any(s.jurisdiction != c for s in served_at),
            residency=r.get("mode"), jurisdictions=r.get("jurisdictions", []),
            basis=r.get("basis"), source=r.get("source"), cost_usd=cost,
            lat=r.get("lat"), lon=r.get("lon")))
    return PlanFacts(last_year=last, candidates=candidates, chosen=chosen, sites=used,
                     portfolio_limited=portfolio_limited, funders=funder_names(d))
