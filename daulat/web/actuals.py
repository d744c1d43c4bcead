"""Plan against actual: what the adopted plan said by each year, and what happened.

Actuals come from the registry (milestones, the funding ledger) and from the gateway's
metering (``daulat_usage``: requests and tokens per tenant, country and day); the plan is
the adopted baseline's plan directory (``builds``, ``funding``, ``sites`` and the
gateway's own reading of ``routing``: :func:`daulat.gateway.metering.read_allocations`).

"Behind schedule" rule (ASSUMPTION, stated on the page): what was due by today is the
plan's cumulative quantity at the end of last year plus this year's planned quantity pro
rata to the days elapsed (linear within a year); a metric is behind when the actual is
below ``BEHIND_TOLERANCE`` (90 %, range 80–95 % in programme reviews) of what was due. A
milestone is late when its due date has passed and it is not done.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pycountry
from babel import Locale
from sqlalchemy import Connection, Engine, func, inspect, select

from daulat.formatting import format_money, format_number, format_percent
from daulat.gateway.metering import read_allocations
from daulat.store import models as store_models
from daulat.web import models as m

__all__ = ["BEHIND_TOLERANCE", "METRICS", "Actuals", "Comparison", "compare", "load_actuals",
           "usage_by_day"]

#: Below this share of what was due by today, a metric is "behind schedule".
BEHIND_TOLERANCE = 0.9

#: Late milestones named one by one on a page (the oldest first); the rest are counted.
LATE_LISTED = 8

#: metric id → (English label, Indonesian label, unit kind)
METRICS: dict[str, tuple[str, str, str]] = {
    "mw_energised": ("MW energised", "MW yang dialiri listrik", "mw"),
    "accelerators": ("accelerators delivered", "akselerator yang dikirim", "count"),
    "committed_usd": ("capital committed", "modal yang dikomitmenkan", "usd"),
    "disbursed_usd": ("capital disbursed", "modal yang dicairkan", "usd"),
}

_MILESTONE_WORDS = {
    "land": ("Land", "Lahan"),
    "grid_connection": ("Grid connection", "Sambungan jaringan listrik"),
    "construction": ("Construction", "Konstruksi"),
    "mw_energised": ("MW energised", "MW dialiri listrik"),
    "accelerators_delivered": ("Accelerators delivered", "Pengiriman akselerator"),
    "assistant_launched": ("Assistant launched", "Peluncuran asisten"),
}


def milestone_label(kind: str, lang: str) -> str:
    en, idn = _MILESTONE_WORDS.get(kind, (kind, kind))
    return idn if lang == "id" else en


def country_label(iso3: str, lang: str) -> str:
    """The country's name in ``lang`` (babel's territory names), else its English name."""
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        return iso3
    if lang == "id":
        name = Locale("id").territories.get(country.alpha_2)
        if name:
            return str(name)
    return str(getattr(country, "common_name", None) or country.name)


@dataclass
class Comparison:
    """Planned and actual cumulative quantities by year, and what is behind."""

    scope: str  # an ISO3 code, or "programme"
    years: list[int]
    records: list[dict[str, Any]]  # metric, year, planned, actual (cumulative)
    behind: list[dict[str, str]] = field(default_factory=list)  # {"en": ..., "id": ...}
    on_track: list[dict[str, str]] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)  # the adopted plans
    allocation_year: int | None = None  # the plan year whose allocation usage is set against
    usage: list[dict[str, Any]] = field(default_factory=list)  # day, requests, tokens,
    # allocated_tokens (the plan's allocation that year, tokens/day)
    today: dt.date | None = None  # the day compared at; later years are not due yet
    due: dict[str, float] = field(default_factory=dict)  # metric → planned due by today

    @property
    def table(self) -> pd.DataFrame:
        """The records as a DataFrame (metric, year, planned, actual)."""
        return pd.DataFrame(self.records, columns=["metric", "year", "planned", "actual"])

    def rows(self, lang: str) -> list[dict[str, Any]]:
        """The table for a page: one row per metric and year, formatted.

        A cell is ``short`` (red) only when something was due: a past year whose actual is
        under its plan, or the current year whose actual is under what was due by today (the
        plan pro rata). A later year is ``future`` (shown muted): nothing of it is due yet."""
        out = []
        this_year = self.today.year if self.today is not None else None
        for metric, (en, idn, unit) in METRICS.items():
            cells = []
            for r in self.records:
                if r["metric"] != metric:
                    continue
                year = int(r["year"])
                future = this_year is not None and year > this_year
                target = (self.due.get(metric, r["planned"]) if year == this_year
                          else r["planned"])
                cells.append({"year": year, "planned": _fmt(r["planned"], unit, lang),
                              "actual": _fmt(r["actual"], unit, lang),
                              "future": future,
                              "short": not future and r["actual"] + 1e-9 < target})
            out.append({"metric": metric, "label": idn if lang == "id" else en, "cells": cells})
        return out


@functools.lru_cache(maxsize=4096)  # babel's formatting is slow; pages repeat their figures
def _fmt(x: float, unit: str, lang: str) -> str:
    if unit == "usd":
        return format_money(x, lang)
    if unit == "mw":
        return f"{format_number(x, lang, 2)} MW"
    return format_number(x, lang)


Series = dict[int, float]  # year → value


@dataclass(frozen=True)
class _PlanTables:
    """A baseline plan's figures by country, metric and year (not cumulative)."""

    by_year: dict[tuple[str, str], Series]  # (country, metric) → year → value
    years: frozenset[int]
    tokens_per_day: dict[tuple[str, int], float]  # (country, year) → allocation


def _add(target: dict[tuple[str, str], Series], key: tuple[str, str], year: int,
         value: float) -> None:
    series = target.setdefault(key, {})
    series[year] = series.get(year, 0.0) + value


@functools.lru_cache(maxsize=32)
def _plan_tables_cached(path: str, stamp: float) -> _PlanTables:
    plan_dir = Path(path)
    by_year: dict[tuple[str, str], Series] = {}
    builds = pd.read_csv(plan_dir / "builds.csv")
    for r in builds[builds["accelerator"] != "facility"].to_dict("records"):
        _add(by_year, (str(r["country"]), "mw_energised"), int(r["year"]),
             float(r["facility_mw"]))
        _add(by_year, (str(r["country"]), "accelerators"), int(r["year"]), float(r["count"]))
    site_country = pd.read_csv(plan_dir / "sites.csv").set_index("site")["country"].to_dict()
    for r in pd.read_csv(plan_dir / "funding.csv").to_dict("records"):
        country = str(site_country.get(r["site"], ""))
        # The plan's capital is due when it is spent; commitments must cover it by then.
        _add(by_year, (country, "committed_usd"), int(r["year"]), float(r["usd"]))
        _add(by_year, (country, "disbursed_usd"), int(r["year"]), float(r["usd"]))
    years = {int(y) for y in pd.read_csv(plan_dir / "costs.csv")["year"]} \
        if (plan_dir / "costs.csv").exists() else {int(y) for y in builds["year"]}
    allocations = read_allocations(plan_dir) if (plan_dir / "routing.csv").exists() else []
    return _PlanTables(by_year, frozenset(years),
                       {(a["country"], int(a["year"])): float(a["tokens_per_day"])
                        for a in allocations})


def _plan_tables(plan_dir: Path | None) -> _PlanTables | None:
    """The baseline's tables this office reads, cached until its summary.json changes."""
    if plan_dir is None or not (plan_dir / "builds.csv").exists():
        return None
    summary = plan_dir / "summary.json"
    stamp = summary.stat().st_mtime if summary.exists() else 0.0
    return _plan_tables_cached(str(plan_dir), stamp)


def _cumulative(series: list[Series], years: list[int]) -> list[float]:
    """Sum of ``series`` by year, cumulative over ``years``; values before the first year
    count in it, values after the last in the last."""
    by: dict[int, float] = {}
    for s in series:
        for y, v in s.items():
            y = min(max(y, years[0]), years[-1])
            by[y] = by.get(y, 0.0) + v
    out, total = [], 0.0
    for y in years:
        total += by.get(y, 0.0)
        out.append(total)
    return out


def _planned(plan_dirs: dict[str, Path | None], years: list[int]) -> dict[str, list[float]]:
    """Planned cumulative quantities by metric: each country against its own baseline."""
    out = {}
    for metric in METRICS:
        series = []
        for country, plan_dir in plan_dirs.items():
            tables = _plan_tables(plan_dir)
            if tables is not None and (country, metric) in tables.by_year:
                series.append(tables.by_year[(country, metric)])
        out[metric] = _cumulative(series, years)
    return out


@dataclass(frozen=True)
class Actuals:
    """What happened, aggregated in the database (a few queries for a whole programme)."""

    by_year: dict[tuple[str, str], Series]  # (country, metric) → year → value
    late: list[dict[str, Any]]  # milestones past due and not done, oldest first
    usage: list[dict[str, Any]]  # country, day, requests, tokens


def load_actuals(engine: Engine, countries: list[str], today: dt.date,
                 usage_days: int = 30) -> Actuals:
    """Aggregate milestones, the ledger and the gateway's metering for ``countries``.

    The registry's aggregates are kept between requests while the registry is unchanged:
    the ledger is append-only (its last entry number says whether anything was added) and a
    milestone records when it was last changed; one cheap query reads that stamp."""
    ms, led = m.milestones.c, m.ledger.c
    with engine.connect() as conn:
        stamp = tuple(conn.execute(select(
            select(func.max(led.seq)).scalar_subquery(),
            select(func.count(ms.id)).scalar_subquery(),
            select(func.max(ms.recorded_at)).scalar_subquery())).one())
        key = (engine.url.render_as_string(), tuple(sorted(countries)), today, stamp)
        registry = _REGISTRY_CACHE.get(key)
        if registry is None:
            registry = _registry_aggregates(conn, countries, today)
            if len(_REGISTRY_CACHE) >= 64:
                _REGISTRY_CACHE.clear()
            _REGISTRY_CACHE[key] = registry
        usage = usage_by_day(conn, countries, usage_days, today)
    by_year, late = registry
    return Actuals(by_year, late, usage)


_REGISTRY_CACHE: dict[tuple[Any, ...], tuple[dict[tuple[str, str], Series],
                                             list[dict[str, Any]]]] = {}


def _registry_aggregates(conn: Connection, countries: list[str], today: dt.date
                         ) -> tuple[dict[tuple[str, str], Series], list[dict[str, Any]]]:
    ms, led = m.milestones.c, m.ledger.c
    done_year = func.extract("year", ms.done)
    kinds = {"mw_energised": "mw_energised", "accelerators_delivered": "accelerators",
             "commitment": "committed_usd", "disbursement": "disbursed_usd"}
    by_year: dict[tuple[str, str], Series] = {}
    for r in conn.execute(
            select(ms.country, ms.kind, done_year.label("year"),
                   func.sum(ms.quantity).label("value"))
            .where(ms.country.in_(countries), ms.done.is_not(None),
                   ms.kind.in_(["mw_energised", "accelerators_delivered"]))
            .group_by(ms.country, ms.kind, done_year)):
        _add(by_year, (r.country, kinds[r.kind]), int(r.year), float(r.value or 0.0))
    for r in conn.execute(
            select(led.country, led.kind, led.year, func.sum(led.usd).label("value"))
            .where(led.country.in_(countries)).group_by(led.country, led.kind, led.year)):
        _add(by_year, (r.country, kinds[r.kind]), int(r.year), float(r.value))
    late = [dict(r._mapping) for r in conn.execute(
        select(ms.country, ms.site, ms.kind, ms.due)
        .where(ms.country.in_(countries), ms.done.is_(None), ms.due < today)
        .order_by(ms.due))]
    return by_year, late


def _actual(actuals: Actuals, countries: list[str], years: list[int]) -> dict[str, list[float]]:
    return {metric: _cumulative([actuals.by_year[(c, metric)] for c in countries
                                 if (c, metric) in actuals.by_year], years)
            for metric in METRICS}


def usage_by_day(conn: Connection, countries: list[str], days: int, today: dt.date
                 ) -> list[dict[str, Any]]:
    """Requests and tokens per country and day from the gateway's metering (read only)."""
    if not _has_usage_table(conn):
        return []
    u = store_models.usage.c
    first = (today - dt.timedelta(days=days - 1)).isoformat()
    stmt = (select(u.country, u.day, func.sum(u.requests).label("requests"),
                   func.sum(u.prompt_tokens + u.completion_tokens).label("tokens"))
            .where(u.country.in_(countries), u.day >= first, u.day <= today.isoformat())
            .group_by(u.country, u.day).order_by(u.day))
    # PostgreSQL sums BIGINT to NUMERIC (Decimal): counts are whole numbers
    return [{"country": r.country, "day": r.day, "requests": int(r.requests),
             "tokens": int(r.tokens)} for r in conn.execute(stmt)]


_USAGE_SEEN: set[str] = set()


def _has_usage_table(conn: Connection) -> bool:
    """Whether the gateway's usage table exists (remembered once it does)."""
    key = conn.engine.url.render_as_string()
    if key not in _USAGE_SEEN and inspect(conn).has_table(store_models.usage.name):
        _USAGE_SEEN.add(key)
    return key in _USAGE_SEEN


def _due(planned: list[float], years: list[int], today: dt.date) -> float:
    """Planned cumulative quantity due by ``today`` (linear within the current year)."""
    if today.year < years[0]:
        return 0.0
    if today.year > years[-1]:
        return planned[-1]
    i = years.index(today.year)
    prev = planned[i - 1] if i > 0 else 0.0
    start = dt.date(today.year, 1, 1)
    share = ((today - start).days + 1) / ((dt.date(today.year + 1, 1, 1) - start).days)
    return prev + (planned[i] - prev) * share


def compare(engine: Engine, scope: str, plan_dirs: dict[str, Path | None],
            baselines: list[dict[str, Any]], today: dt.date, usage_days: int = 30,
            actuals: Actuals | None = None) -> Comparison:
    """Plan against actual for the countries of ``plan_dirs`` (country → its baseline plan
    directory, None without one): one country, or every one for the programme.
    ``actuals`` (from :func:`load_actuals`) saves the queries when comparing many scopes."""
    countries = sorted(plan_dirs)
    if actuals is None:
        actuals = load_actuals(engine, countries, today, usage_days)
    horizon: set[int] = set()
    for d in plan_dirs.values():
        tables = _plan_tables(d)
        horizon |= set(tables.years) if tables is not None else set()
    first = min([today.year, *horizon])
    last = max([today.year, *horizon])
    years = list(range(first, last + 1))
    planned, actual = _planned(plan_dirs, years), _actual(actuals, countries, years)
    records = [{"metric": k, "year": y, "planned": planned[k][i], "actual": actual[k][i]}
               for k in METRICS for i, y in enumerate(years)]
    cmp = Comparison(scope, years, records, baselines=baselines, today=today)
    where_en = "The programme" if scope == "programme" else country_label(scope, "en")
    where_id = "Program" if scope == "programme" else country_label(scope, "id")
    now = years.index(min(today.year, years[-1]))
    for metric, (en, idn, unit) in METRICS.items():
        due = _due(planned[metric], years, today)
        cmp.due[metric] = due
        actual_now = actual[metric][now]
        if due <= 0:
            continue
        share = actual_now / due
        words = {"en": _fmt(actual_now, unit, "en"), "id": _fmt(actual_now, unit, "id"),
                 "due_en": _fmt(due, unit, "en"), "due_id": _fmt(due, unit, "id"),
                 "pct_en": format_percent(share, "en", 0), "pct_id": format_percent(share, "id", 0)}
        if share < BEHIND_TOLERANCE:
            cmp.behind.append({
                "en": f"{where_en} is behind schedule on {en}: {words['en']} against "
                      f"{words['due_en']} due by {today.isoformat()} ({words['pct_en']}).",
                "id": f"{where_id} tertinggal dari jadwal untuk {idn}: {words['id']} dari "
                      f"{words['due_id']} yang seharusnya tercapai per {today.isoformat()} "
                      f"({words['pct_id']}).",
            })
        else:
            cmp.on_track.append({
                "en": f"{where_en} is on schedule for {en}: {words['en']} against "
                      f"{words['due_en']} due ({words['pct_en']}).",
                "id": f"{where_id} sesuai jadwal untuk {idn}: {words['id']} dari "
                      f"{words['due_id']} ({words['pct_id']}).",
            })
    late = [r for r in actuals.late if r["country"] in plan_dirs]
    for r in late[:LATE_LISTED]:
        days = (today - r["due"]).days
        site = f" at {r['site']}" if r["site"] else ""
        site_id = f" di {r['site']}" if r["site"] else ""
        cmp.behind.append({
            "en": f"{milestone_label(r['kind'], 'en')}{site} "
                  f"({country_label(r['country'], 'en')}) was due on "
                  f"{r['due'].isoformat()} and is not done: {days} days late.",
            "id": f"{milestone_label(r['kind'], 'id')}{site_id} "
                  f"({country_label(r['country'], 'id')}) jatuh tempo pada "
                  f"{r['due'].isoformat()} dan belum selesai: terlambat {days} hari.",
        })
    if len(late) > LATE_LISTED:
        more = len(late) - LATE_LISTED
        cmp.behind.append({"en": f"… and {more} more late milestones (the country pages "
                                 "list them).",
                           "id": f"… dan {more} tonggak lain yang terlambat (lihat halaman "
                                 "negara)."})
    per_day: dict[str, list[int]] = {}
    for r in actuals.usage:
        if r["country"] in plan_dirs:
            day = per_day.setdefault(r["day"], [0, 0])
            day[0] += r["requests"]
            day[1] += r["tokens"]
    allocated = 0.0
    # this year's allocation, or the plan's first year's while the plan has not begun
    year = min(max(today.year, min(horizon) if horizon else today.year), years[-1])
    cmp.allocation_year = year
    for country, plan_dir in plan_dirs.items():
        tables = _plan_tables(plan_dir)
        if tables is not None:
            allocated += tables.tokens_per_day.get((country, year), 0.0)
    cmp.usage = [{"day": d, "requests": v[0], "tokens": v[1], "allocated_tokens": allocated}
                 for d, v in sorted(per_day.items())]
    return cmp
