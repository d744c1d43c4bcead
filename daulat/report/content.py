"""The report's text and tables (shared by the HTML and the Markdown report)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from daulat.finance.risk import power_price_usd_per_mwh
from daulat.report.data import ReportData, country_name
from daulat.report.explain import Explainer, source_text
from daulat.report.text import Formatter, Strings

__all__ = ["Content", "Table", "build_content"]


@dataclass
class Table:
    """A small table: header cells and rows of already formatted cells."""

    header: list[str]
    rows: list[list[str]]


@dataclass
class Content:
    """Everything written in words in the report, in one language."""

    lang: str
    title: str
    subtitle: str
    headline: list[str]
    where_heading: str
    where: list[str]
    pays_heading: str
    returns_note: str
    funders: Table
    unfunded: str
    ownership: Table
    risk_text: str
    risk_table: Table | None
    binding: Table | None
    assumptions_intro: str
    assumptions: Table
    footer: str
    notes: list[str] = field(default_factory=list)
    unmet_heading: str = ""
    unmet: list[str] = field(default_factory=list)
    rounding: str = ""
    sections: dict[str, str] = field(default_factory=dict)


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def _headline(d: ReportData, s: Strings, f: Formatter) -> list[str]:
    t = d.tables
    summary = t.summary
    totals = summary.get("totals", {})
    y0, y1 = t.horizon
    b = t.builds
    capex = _f(totals.get("capex_usd")) or float(t.costs["capex_usd"].sum())
    opex = _f(totals.get("opex_usd")) or float(t.costs["opex_usd"].sum())
    out = [
        s.t("summary.build", accelerators=f.number(float(b["count"].sum())),
            facility_mw=f.mw(float(b["facility_mw"].sum())), sites=f.number(b["site"].nunique()),
            start=y0, end=y1),
        s.t("summary.cost", total=f.money(capex + opex), capex=f.money(capex), opex=f.money(opex)),
    ]
    dem = t.demand[t.demand["year"] == y1]
    served = float(t.routing[t.routing["year"] == y1]["tokens_per_s"].sum())
    demand = float(dem["tokens_per_s"].sum())
    people = _f(summary.get("people_served"))
    if people is None and demand > 0:
        people = float(dem["users"].sum()) * min(served / demand, 1.0)
    if people is not None:
        out.append(s.t("summary.people", year=y1, people=f.number(people),
                       share=f.pct(served / demand if demand > 0 else None)))
    sov = _f(summary.get("cost_of_sovereignty_usd"))
    if sov is not None:
        out.append(s.t("summary.sovereignty", cost=f.money(sov)))
    base = summary.get("baseline") or {}
    if _f(base.get("saving_usd")) is not None:
        out.append(s.t("summary.saving", saving=f.money(_f(base.get("saving_usd"))),
                       share=f.pct(_f(base.get("saving_share")))))
    else:
        out.append(s.t("summary.no_baseline"))
    if summary.get("status"):
        out.append(s.t("summary.status", status=summary["status"]))
    return out


def _where(d: ReportData, s: Strings, f: Formatter) -> list[str]:
    b = d.tables.builds.sort_values(["year", "site"])
    sites = d.tables.sites.set_index("site")
    lines = []
    for site in dict.fromkeys(b["site"]):
        all_rows = b[b["site"] == site]
        # rows without accelerators (a facility shell built ahead) count in MW, not in items
        rows = all_rows[all_rows["count"] >= 0.5]
        items = ", ".join(
            s.t("summary.where_item", count=f.number(float(r_count)), accelerator=acc, year=year)
            for r_count, acc, year in zip(rows["count"], rows["accelerator"], rows["year"],
                                          strict=True))
        name = str(sites.loc[site, "name"]) if site in sites.index else str(site)
        iso3 = str(sites.loc[site, "country"]) if site in sites.index else str(
            all_rows["country"].iloc[0])
        lines.append(s.t("summary.site_line", site=name, country=country_name(iso3, f.locale),
                         items=items or s.t("table.none"),
                         mw=f.mw(float(all_rows["facility_mw"].sum()))))
    return lines


def _funders(d: ReportData, s: Strings, f: Formatter) -> Table:
    r = d.returns
    total = float(r["capital_usd"].sum()) or 1.0
    none = s.t("table.none")
    rows = []
    for row in r.to_dict(orient="records"):
        if not row["capital_usd"]:
            continue  # listed once, below the table (see _unfunded)
        kind = str(row["funder_kind"])
        payback = row["payback_year"]
        rows.append([
            str(row["funder"]),
            s.t(f"kinds.{kind}") if kind in ("provider", "government", "other") else kind,
            f.money(row["capital_usd"]),
            f.pct(row["capital_usd"] / total),
            f.money(row["npv_usd"]),
            f.pct(row["irr"]) if _f(row["irr"]) is not None else none,
            str(int(payback)) if _f(payback) is not None else none,
        ])
    header = [s.t(f"table.{k}") for k in ("funder", "kind", "capital", "capital_share", "npv",
                                          "irr", "payback")]
    return Table(header, rows)


def _unfunded(d: ReportData, s: Strings) -> str:
    names = [str(x) for x in d.returns[d.returns["capital_usd"] == 0]["funder"]]
    return s.t("summary.unfunded", funders=", ".join(names)) if names else ""


def _ownership(d: ReportData, s: Strings, f: Formatter) -> Table:
    own = pd.DataFrame(d.finance["ownership"])
    names = dict(zip(d.tables.sites["site"], d.tables.sites["name"], strict=False))
    rows = []
    if not own.empty:
        for site, g in own.groupby("site", sort=True):
            shares = " · ".join(f"{fu} {f.pct(sh)}" for fu, sh in zip(g["funder"], g["share"],
                                                                    strict=True))
            rows.append([names.get(str(site), str(site)), shares])
    return Table([s.t("table.site"), s.t("table.owner_shares")], rows)


def _risk(d: ReportData, s: Strings, f: Formatter) -> tuple[str, Table | None]:
    q = d.risk_quantiles
    if q is None or d.risk is None:
        return s.t("summary.no_risk"), None
    cost = q[q["metric"] == "cost_usd"].iloc[0]
    people = q[q["metric"] == "people_served"].iloc[0]
    text = s.t("summary.risk", samples=f.number(float(d.risk.get("samples", 0))),
               p10=f.money(cost["p10"]), p50=f.money(cost["p50"]), p90=f.money(cost["p90"]),
               q10=f.number(people["p10"]), q90=f.number(people["p90"]))
    resolved = d.risk.get("resolve") or {}
    rq = resolved.get("quantiles") or {}
    if "cost_usd" in rq and "people_served" in rq:
        text += " " + s.t("summary.resolved", plans=f.number(float(resolved.get("solved", 0))),
                          p10=f.money(rq["cost_usd"]["p10"]), p90=f.money(rq["cost_usd"]["p90"]),
                          q10=f.number(rq["people_served"]["p10"]),
                          q90=f.number(rq["people_served"]["p90"]))
    rows = []
    for row in q.to_dict(orient="records"):
        metric = str(row["metric"])
        name = s.t(f"metrics.{metric}") + (f" ({row['funder']})" if row["funder"] else "")
        fmt = f.number if metric == "people_served" else f.money
        rows.append([name, fmt(row["p10"]), fmt(row["p50"]), fmt(row["p90"]), fmt(row["base"])])
    header = [s.t(f"table.{k}") for k in ("metric", "p10", "p50", "p90", "plan")]
    return text, Table(header, rows)


def _binding(d: ReportData, s: Strings, f: Formatter, ex: Explainer) -> Table | None:
    rows = []
    for b in d.tables.summary.get("binding") or []:
        price = _f(b.get("shadow_price"))
        rows.append([ex.kind_label(str(b.get("constraint", ""))), ex.binding(b),
                     f.number(price, 2) if price is not None else s.t("table.none")])
    if not rows:
        return None
    return Table([s.t("table.constraint"), s.t("table.explanation"),
                  s.t("table.shadow_price")], rows)


def _assumptions(d: ReportData, s: Strings, f: Formatter) -> Table:
    fin = d.tables.finance
    basis = d.finance["basis"]
    scen = s.t("assumptions.scenario")
    rows = [
        [s.t("assumptions.discount_rate"), f.pct(fin.discount_rate), scen],
        [s.t("assumptions.token_price"),
         f.price(fin.token_price_usd_per_million) if fin.token_price_usd_per_million is not None
         else s.t("assumptions.not_given"), scen],
    ]
    factors = basis.get("peak_factor") or {}
    if factors:
        values = sorted(set(factors.values()))
        rows.append([s.t("assumptions.peak_factor"),
                     " / ".join(f.number(v, 2) for v in values),
                     source_text(str(basis.get("peak_factor_source", "")), s, f)])
    rows.append([s.t("assumptions.asset_life"),
                 s.t("assumptions.years", n=f.number(basis.get("asset_life_years"), 0)),
                 source_text(str(basis.get("asset_life_source", "")), s, f)])
    rows.append([s.t("assumptions.opex_allocation"),
                 source_text(str(basis.get("opex_allocation", "")), s, f), "daulat finance"])
    try:
        from daulat.catalog.accelerators import get_accelerator

        for acc_id in sorted(set(d.tables.builds["accelerator"])):
            try:
                acc = get_accelerator(str(acc_id))
            except Exception:  # an accelerator the catalog does not know: no row
                continue
            rows.append([s.t("assumptions.accelerator_price", accelerator=acc.id),
                         f.money_full(acc.price_usd),
                         f"{s.t('assumptions.catalog')}: {getattr(acc, 'price_source', '')}"])
    except ImportError:
        pass
    countries = sorted(set(d.tables.energy["country"].dropna().astype(str))
                       | set(d.tables.builds["country"].dropna().astype(str)))
    try:
        from daulat.catalog.countries import get_country

        for iso3 in countries:
            try:
                c = get_country(iso3)
            except Exception:  # a code the catalog does not know: no row
                continue
            name = country_name(iso3, f.locale)
            price, source = power_price_usd_per_mwh(d.tables, iso3)
            rows.append([s.t("assumptions.power_price", country=name),
                         f"{f.number(price, 1)} {f.currency}/MWh", source_text(source, s, f)])
            if c.grid_gco2_per_kwh is not None:
                rows.append([s.t("assumptions.grid", country=name),
                             f"{f.number(c.grid_gco2_per_kwh, 0)} gCO2/kWh",
                             f"{s.t('assumptions.catalog')}:"
                             f" {c.sources.get('grid_gco2_per_kwh', '')}"])
    except ImportError:
        pass
    unc = d.tables.uncertainty
    for name in ("accelerator_price", "adoption", "power_price", "delay_years"):
        tri = getattr(unc, name)
        digits = 0 if name == "delay_years" else 2
        rows.append([s.t("assumptions.uncertainty", input=s.t(f"inputs.{name}")),
                     " / ".join(f.number(v, digits) for v in (tri.low, tri.mode, tri.high)),
                     scen])
    return Table([s.t("table.name"), s.t("table.value"), s.t("table.source")], rows)


def build_content(d: ReportData, s: Strings, f: Formatter, today: dt.date | None = None
                  ) -> Content:
    """All words and tables of the report in ``s``'s language."""
    y0, y1 = d.tables.horizon
    fin = d.tables.finance
    note_key = "summary.returns_note" if fin.token_price_usd_per_million else "summary.no_revenue"
    risk_text, risk_table = _risk(d, s, f)
    ex = Explainer(d, s, f)
    return Content(
        lang=s.lang,
        title=s.t("title", name=d.name),
        subtitle=s.t("subtitle", start=y0, end=y1, date=f.date(today or dt.date.today()),
                     currency=d.tables.currency, price_year=d.tables.price_year),
        headline=_headline(d, s, f),
        where_heading=s.t("summary.where_heading"),
        where=_where(d, s, f),
        pays_heading=s.t("summary.pays_heading"),
        returns_note=s.t(note_key, rate=f.pct(fin.discount_rate),
                         year=d.finance.get("discounted_to_year") or y0,
                         price=f.price(fin.token_price_usd_per_million)),
        funders=_funders(d, s, f),
        unfunded=_unfunded(d, s),
        ownership=_ownership(d, s, f),
        risk_text=risk_text,
        risk_table=risk_table,
        binding=_binding(d, s, f, ex),
        assumptions_intro=s.t("assumptions.intro"),
        assumptions=_assumptions(d, s, f),
        footer=s.t("footer", path=str(d.tables.path)),
        sections={k: s.t(f"sections.{k}") for k in s.data["sections"]},
        notes=[n for n in (ex.sovereignty(), ex.baseline_note()) if n],
        unmet_heading=s.t("explain.unmet_heading"),
        unmet=ex.unmet(),
        rounding=ex.rounding(),
    )
