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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pycountry
from babel import Locale
from sqlalchemy import Engine, func, inspect, select

from daulat.formatting import format_money, format_number, format_percent
from daulat.gateway.metering import read_allocations
from daulat.store import models as store_models
from daulat.web.registry import ledger_rows, milestone_rows

__all__ = ["BEHIND_TOLERANCE", "METRICS", "Comparison", "compare", "usage_by_day"]

#: Below this share of what was due by today, a metric is "behind schedule".
BEHIND_TOLERANCE = 0.9

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
    table: pd.DataFrame  # metric, year, planned, actual (cumulative)
    behind: list[dict[str, str]] = field(default_factory=list)  # {"en": ..., "id": ...}
    on_track: list[dict[str, str]] = field(default_factory=list)
    baselines: list[dict[str, Any]] = field(default_factory=list)  # the adopted plans
    usage: pd.DataFrame | None = None  # day, requests, tokens, allocated_tokens

    def rows(self, lang: str) -> list[dict[str, Any]]:
        """The table for a page: one row per metric and year, formatted."""
        out = []
        for metric, (en, idn, unit) in METRICS.items():
            sub = self.table[self.table["metric"] == metric].sort_values("year")
            cells = []
            for r in sub.to_dict("records"):
                planned, actual = float(r["planned"]), float(r["actual"])
                cells.append({"year": int(r["year"]), "planned": _fmt(planned, unit, lang),
                              "actual": _fmt(actual, unit, lang),
                              "short": actual + 1e-9 < planned})
            out.append({"metric": metric, "label": idn if lang == "id" else en, "cells": cells})
        return out


def _fmt(x: float, unit: str, lang: str) -> str:
    if unit == "usd":
        return format_money(x, lang)
    if unit == "mw":
        return f"{format_number(x, lang, 2)} MW"
    return format_number(x, lang)


def _planned_one(plan_dir: Path | None, country: str, years: list[int]
                 ) -> dict[str, pd.Series]:
    out = {k: pd.Series(0.0, index=years) for k in METRICS}
    if plan_dir is None or not (plan_dir / "builds.csv").exists():
        return out
    builds = pd.read_csv(plan_dir / "builds.csv")
    acc = builds[(builds["accelerator"] != "facility") & (builds["country"] == country)]
    by_year = acc.groupby("year")[["facility_mw", "count"]].sum()
    out["mw_energised"] = by_year["facility_mw"].reindex(years, fill_value=0.0).cumsum()
    out["accelerators"] = by_year["count"].reindex(years, fill_value=0.0).cumsum()
    funding = pd.read_csv(plan_dir / "funding.csv")
    site_country = pd.read_csv(plan_dir / "sites.csv").set_index("site")["country"]
    funding["country"] = funding["site"].map(site_country)
    paid = funding[funding["country"] == country].groupby("year")["usd"].sum()
    cum = paid.reindex(years, fill_value=0.0).cumsum()
    # The plan's capital is due when it is spent; commitments must cover it by then.
    out["committed_usd"] = cum
    out["disbursed_usd"] = cum.copy()
    return out


def _planned(plan_dirs: dict[str, Path | None], years: list[int]) -> pd.DataFrame:
    """Planned cumulative MW energised, accelerators and capital by year: each country
    against its own baseline plan, summed."""
    total = {k: pd.Series(0.0, index=years) for k in METRICS}
    for country, plan_dir in plan_dirs.items():
        for k, series in _planned_one(plan_dir, country, years).items():
            total[k] = total[k] + series.reindex(years, fill_value=0.0)
    return pd.concat([pd.DataFrame({"year": years, "metric": k, "planned": v.to_numpy()})
                      for k, v in total.items()], ignore_index=True)


def _horizon(plan_dir: Path | None) -> set[int]:
    if plan_dir is None or not (plan_dir / "costs.csv").exists():
        return set()
    return {int(y) for y in pd.read_csv(plan_dir / "costs.csv")["year"]}


def _actual(engine: Engine, countries: list[str], years: list[int]) -> pd.DataFrame:
    ms = [r for c in countries for r in milestone_rows(engine, c)]
    led = [r for c in countries for r in ledger_rows(engine, c)]
    last = years[-1]

    def cum(values: dict[int, float]) -> list[float]:
        total, out = sum(v for y, v in values.items() if y < years[0]), []
        for y in years:
            total += values.get(y, 0.0)
            out.append(total)
        return out

    def by_year(rows: list[dict[str, Any]], key: str, value: str) -> dict[int, float]:
        acc: dict[int, float] = {}
        for r in rows:
            y = r[key].year if isinstance(r[key], dt.date) else int(r[key])
            acc[min(y, last)] = acc.get(min(y, last), 0.0) + float(r[value] or 0.0)
        return acc

    done = [r for r in ms if r["done"] is not None]
    series = {
        "mw_energised": cum(by_year([r for r in done if r["kind"] == "mw_energised"],
                                    "done", "quantity")),
        "accelerators": cum(by_year([r for r in done if r["kind"] == "accelerators_delivered"],
                                    "done", "quantity")),
        "committed_usd": cum(by_year([r for r in led if r["kind"] == "commitment"],
                                     "year", "usd")),
        "disbursed_usd": cum(by_year([r for r in led if r["kind"] == "disbursement"],
                                     "year", "usd")),
    }
    return pd.concat([pd.DataFrame({"year": years, "metric": k, "actual": v})
                      for k, v in series.items()], ignore_index=True)


def usage_by_day(engine: Engine, countries: list[str], days: int, today: dt.date
                 ) -> pd.DataFrame:
    """Requests and tokens per day from the gateway's metering (its table, read only)."""
    cols = ["day", "requests", "tokens"]
    if not inspect(engine).has_table(store_models.usage.name):
        return pd.DataFrame(columns=cols)
    u = store_models.usage.c
    first = (today - dt.timedelta(days=days - 1)).isoformat()
    stmt = (select(u.day, func.sum(u.requests).label("requests"),
                   func.sum(u.prompt_tokens + u.completion_tokens).label("tokens"))
            .where(u.country.in_(countries), u.day >= first, u.day <= today.isoformat())
            .group_by(u.day).order_by(u.day))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame([dict(r._mapping) for r in rows], columns=cols)


def _due(planned: pd.Series, years: list[int], today: dt.date) -> float:
    """Planned cumulative quantity due by ``today`` (linear within the current year)."""
    plan = dict(zip(years, planned, strict=True))
    prev = plan.get(today.year - 1, 0.0 if today.year <= years[0] else plan[years[-1]])
    if today.year < years[0]:
        return 0.0
    if today.year > years[-1]:
        return float(plan[years[-1]])
    start = dt.date(today.year, 1, 1)
    share = ((today - start).days + 1) / ((dt.date(today.year + 1, 1, 1) - start).days)
    return float(prev + (plan[today.year] - prev) * share)


def compare(engine: Engine, scope: str, plan_dirs: dict[str, Path | None],
            baselines: list[dict[str, Any]], today: dt.date, usage_days: int = 30
            ) -> Comparison:
    """Plan against actual for the countries of ``plan_dirs`` (country → its baseline plan
    directory, None without one): one country, or every one for the programme."""
    countries = sorted(plan_dirs)
    horizon = set().union(*(_horizon(d) for d in plan_dirs.values())) if plan_dirs else set()
    first = min([today.year, *horizon])
    last = max([today.year, *horizon])
    years = list(range(first, last + 1))
    table = _planned(plan_dirs, years).merge(_actual(engine, countries, years),
                                             on=["metric", "year"])
    cmp = Comparison(scope, years, table, baselines=baselines)
    where_en = "the programme" if scope == "programme" else country_label(scope, "en")
    where_id = "program" if scope == "programme" else country_label(scope, "id")
    for metric, (en, idn, unit) in METRICS.items():
        sub = table[table["metric"] == metric].sort_values("year")
        due = _due(sub["planned"], years, today)
        actual_now = float(sub.loc[sub["year"] == min(today.year, years[-1]), "actual"].iloc[0])
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
    ms = [r for c in countries for r in milestone_rows(engine, c)]
    for r in ms:
        if r["done"] is None and r["due"] is not None and r["due"] < today:
            late = (today - r["due"]).days
            site = f" at {r['site']}" if r["site"] else ""
            site_id = f" di {r['site']}" if r["site"] else ""
            cmp.behind.append({
                "en": f"{milestone_label(r['kind'], 'en')}{site} "
                      f"({country_label(r['country'], 'en')}) was due on "
                      f"{r['due'].isoformat()} and is not done: {late} days late.",
                "id": f"{milestone_label(r['kind'], 'id')}{site_id} "
                      f"({country_label(r['country'], 'id')}) jatuh tempo pada "
                      f"{r['due'].isoformat()} dan belum selesai: terlambat {late} hari.",
            })
    usage = usage_by_day(engine, countries, usage_days, today)
    allocated = 0.0
    year = min(max(today.year, years[0]), years[-1])
    for country, plan_dir in plan_dirs.items():
        if plan_dir is not None and (plan_dir / "routing.csv").exists():
            allocated += float(sum(a["tokens_per_day"] for a in read_allocations(plan_dir)
                                   if a["country"] == country and a["year"] == year))
    usage["allocated_tokens"] = allocated
    cmp.usage = usage
    return cmp
