"""The report's text and tables (shared by the HTML and the Markdown report)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from daulat.report.data import ReportData, country_name
from daulat.report.explain import Explainer, source_text, sovereignty_cost
from daulat.report.facts import (
    PlanFacts,
    facts,
    people_unserved,
    plan_table,
    scenario_dict,
    summary_value,
)
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
    chosen_heading: str = ""
    chosen: list[str] = field(default_factory=list)
    countries: Table | None = None
    countries_note: str = ""
    map_beside: bool = True
    training: list[str] = field(default_factory=list)
    training_heading: str = ""
    chart_notes: dict[str, str] = field(default_factory=dict)


def _f(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def _baseline_words(objective: str, s: Strings) -> str:
    return s.t("summary.baseline_max_access" if objective == "max_access"
               else "summary.baseline_min_cost")


def _headline(d: ReportData, s: Strings, f: Formatter, pf: PlanFacts) -> list[str]:
    """The headline figures, the ones the plan's objective is about first."""
    t = d.tables
    totals = summary_value(d, "totals", {}) or {}
    if not isinstance(totals, dict):
        totals = dict(totals)
    y0, y1 = t.horizon
    b = t.builds
    acc = b[b["count"] > 0] if "count" in b else b
    capex = _f(totals.get("capex_usd")) or float(t.costs["capex_usd"].sum())
    opex = _f(totals.get("opex_usd")) or float(t.costs["opex_usd"].sum())
    # The headline money is what the plan spends: capital and operating cost (NPV). The
    # planner's plan_cost_usd may add a price on unmet demand (min_cost objective) — a
    # modelling device, not money anyone pays — so it is never shown; unmet demand is shown
    # in people below. A zero beside a non-zero capital is a summary that did not record it.
    npv = _f(totals.get("npv_cost_usd")) or None
    shell = _f(totals.get("shell_mw_built"))
    objective = str(summary_value(d, "objective", "min_cost"))
    base = summary_value(d, "baseline", {}) or {}
    rate = f.pct(t.finance.discount_rate)

    mw = float(acc["facility_mw"].sum())
    build = s.t("summary.build", accelerators=f.number(float(acc["count"].sum())),
                facility_mw=f.mw(mw), sites=f.number(acc["site"].nunique()), start=y0, end=y1)
    if shell is not None:
        build += " " + (s.t("summary.build_new", new=f.mw(shell)) if shell >= 0.05
                        else s.t("summary.build_none_new"))
    cost = s.t("summary.cost", total=f.money(capex + opex), capex=f.money(capex),
               opex=f.money(opex))

    dem = t.demand[t.demand["year"] == y1]
    served = float(t.routing[t.routing["year"] == y1]["tokens_per_s"].sum())
    demand = float(dem["tokens_per_s"].sum())
    people = _f(summary_value(d, "people_served"))
    if people is None and demand > 0:
        people = float(dem["users"].sum()) * min(served / demand, 1.0)
    base_people = _f(base.get("people_served"))
    base_cost = _f(base.get("npv_usd")) or _f(base.get("cost_usd"))
    if npv is None and base_cost is not None and _f(base.get("saving_usd")) is not None:
        npv = base_cost - float(base["saving_usd"])  # an older summary without npv_cost_usd

    lines: list[str] = []
    people_line = None
    if people is not None:
        people_line = s.t("summary.people", year=y1, people=f.number(people),
                          share=f.pct(served / demand if demand > 0 else None))
        if base_people and abs(people - base_people) < 0.5:
            people_line += " " + s.t("summary.people_same")
        elif base_people:
            delta = people - base_people
            people_line += " " + s.t(
                "summary.people_vs_baseline", delta=_signed(f.number(delta), delta),
                share=_signed(f.pct(delta / base_people), delta),
                baseline=f.number(base_people))
    unserved = people_unserved(t.demand, t.unmet, y1)
    unserved_line = None
    if unserved >= 0.5:
        unserved_line = s.t("summary.unserved", year=y1, people=f.number(unserved),
                            share=f.pct(unserved / (unserved + people) if people else 1.0))
    cost_line = None
    if npv is not None:
        cost_line = s.t("summary.npv", rate=rate, cost=f.money(npv))
        if base_cost:
            diff = npv - base_cost
            key = "summary.cheaper" if diff < 0 else "summary.dearer"
            cost_line += " " + s.t(key, diff=f.money(abs(diff)),
                                   share=f.pct(abs(diff) / base_cost),
                                   baseline=f.money(base_cost))
    if objective == "max_access":
        if people_line:
            lines.append(people_line)
        if unserved_line:
            lines.append(unserved_line)
        if npv is not None and people:
            trains = plan_table(d, "training")
            key = "summary.per_person_training" if trains is not None and not trains.empty \
                else "summary.per_person"
            per = s.t(key, cost=f.price(npv / people), year=y1)
            if base_cost and base_people:
                per += " " + s.t("summary.per_person_baseline",
                                 cost=f.price(base_cost / base_people))
            lines.append(per)
        if cost_line:
            lines.append(cost_line)
        lines += [cost, build]
    else:
        if cost_line:
            lines.append(cost_line)
        lines += [cost, build]
        if people_line:
            lines.append(people_line)
        if unserved_line:
            lines.append(unserved_line)
    # in money anyone pays; None when the planner's figure is its price on unmet demand (the
    # explanation below then says it in people)
    sov = sovereignty_cost(d.tables.summary) if _f(
        summary_value(d, "cost_of_sovereignty_usd")) is not None else None
    if sov is not None:
        lines.append(s.t("summary.sovereignty", cost=f.money(sov)))
    if base and (base_cost or base_people):
        lines.append(_baseline_words(objective, s))
    else:
        lines.append(s.t("summary.no_baseline"))
    return lines


def _signed(text: str, value: float) -> str:
    return ("+" + text) if value > 0 else text


def _chosen(d: ReportData, s: Strings, f: Formatter, pf: PlanFacts) -> list[str]:
    """Which countries the plan serves and why each was chosen; who is served abroad."""
    if not pf.chosen:
        return []
    objective = str(summary_value(d, "objective", "min_cost"))
    items = []
    for c in sorted(pf.chosen, key=lambda c: -(c.people_served or 0.0)):
        bits = [s.t("countries.people", people=f.compact(c.people_served))]
        if c.weight is not None:
            bits.append(s.t("countries.weight", weight=f.number(c.weight, 2)))
        if c.cost_per_person is not None:
            bits.append(s.t("countries.per_person", cost=f.price(c.cost_per_person)))
        items.append(f"{country_name(c.country, f.locale)} ({', '.join(bits)})")
    if pf.portfolio_limited:
        why = s.t("countries.why_max_access" if objective == "max_access"
                  else "countries.why_min_cost")
        head = s.t("countries.chosen", n=f.number(len(pf.chosen)),
                   of=f.number(len(pf.candidates)), why=why)
    else:
        head = s.t("countries.all", n=f.number(len(pf.chosen)))
    out = [head + " " + "; ".join(items) + "."]
    abroad = pf.abroad
    if abroad:
        parts = []
        for c in abroad:
            where = ", ".join(
                s.t("countries.at", share=f.pct(a.share, 0), site=_site_name(d, a.site),
                    country=country_name(a.jurisdiction, f.locale))
                for a in c.served_at if a.jurisdiction != c.country)
            parts.append(f"{country_name(c.country, f.locale)} ({where}; "
                         f"{_rule_words(c, s, f)})")
        out.append(s.t("countries.abroad", n=f.number(len(abroad))) + " " + "; ".join(parts)
                   + ".")
    else:
        out.append(s.t("countries.all_home"))
    return out


def _site_name(d: ReportData, site: str) -> str:
    sites = d.tables.sites
    row = sites[sites["site"] == site]
    return str(row["name"].iloc[0]) if not row.empty else site


def _rule_words(c: Any, s: Strings, f: Formatter) -> str:
    """The residency rule of a country, its basis and source, in words."""
    if not c.residency:
        return s.t("countries.rule_unknown")
    juris = [j for j in c.jurisdictions if j != "*"]
    if c.residency == "in_country":
        rule = s.t("countries.rule_in_country")
    elif c.residency == "any" or "*" in c.jurisdictions:
        rule = s.t("countries.rule_any")
    else:
        rule = s.t("countries.rule_jurisdictions",
                   places=", ".join(country_name(j, f.locale) for j in juris))
    basis = s.t(f"countries.basis.{c.basis}") if c.basis in (
        "law", "programme_policy", "scenario", "config", "no_pack") else (c.basis or "")
    # the pack file's name is ours, not the reader's: the citation alone
    source = "" if c.basis == "no_pack" else _PACK.sub("", _clean_source(c.source or ""))
    if c.basis == "scenario":  # "scenario rules.residency.IDN": the basis says scenario already
        source = source.removeprefix("scenario ")
    return f"{rule} ({basis}{': ' + source if source else ''})" if basis else rule


def _short(name: str, limit: int = 30) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _at(d: ReportData, s: Strings, f: Formatter, home: str, a: Any, short: bool = False
        ) -> str:
    """``60% at Jakarta`` at home, ``75% at Alexandria, Egypt`` abroad."""
    name = _site_name(d, a.site)
    name = _short(name) if short else name
    if a.jurisdiction == home:
        return s.t("countries.at_home", share=f.pct(a.share, 0), site=name)
    return s.t("countries.at", share=f.pct(a.share, 0), site=name,
               country=country_name(a.jurisdiction, f.locale))


def _countries_table(d: ReportData, s: Strings, f: Formatter, pf: PlanFacts) -> Table | None:
    """Beside the map: each chosen country, where its data is served, under which rule."""
    if not pf.chosen:
        return None
    rows = []
    for c in sorted(pf.chosen, key=lambda c: -(c.people_served or 0.0)):
        where = "; ".join(_at(d, s, f, c.country, a, short=True) for a in c.served_at[:4])
        rows.append([
            country_name(c.country, f.locale),
            where or s.t("table.none"),
            s.t("countries.abroad_cell") if c.abroad else s.t("countries.home_cell"),
            _rule_words(c, s, f),
        ])
    header = [s.t("table.country"), s.t("table.served_at"), s.t("table.home_abroad"),
              s.t("table.rule")]
    return Table(header, rows)


def _training(d: ReportData, s: Strings, f: Formatter) -> list[str]:
    """Each training run the plan delivers: compute, where and when."""
    tr = plan_table(d, "training")
    if tr is None or tr.empty:
        return []
    out = []
    for run, g in tr.groupby("workload", sort=True):
        eflop = float(g["eflop"].sum())
        by_site = g.groupby("site")["eflop"].sum().sort_values(ascending=False)
        places = ", ".join(_site_name(d, str(x)) for x in by_site.index[:3])
        if len(by_site) > 3:
            places += " " + s.t("training.more", n=f.number(len(by_site) - 3))
        years = sorted(int(y) for y in g["year"])
        span = f"{years[0]}–{years[-1]}" if years[0] != years[-1] else str(years[0])
        country = next((str(x) for x in g["country"] if isinstance(x, str) and x), "")
        out.append(s.t("training.line", run=run, eflop=f.number(eflop),
                       flop=f"{eflop * 1e18:.1e}".replace("e+", "e"), places=places, span=span,
                       peak=f.number(float(g.groupby("year")["accelerators"].sum().max())))
                   + (" " + s.t("training.national", country=country_name(country, f.locale))
                      if country else ""))
    return out


# an internal file path: "via ../shared/x.csv", "(../shared/x.md)", "../x", "/work/x"
_PATH = re.compile(r"\s+via\s+(?:\.\./|/)\S+|\s*\((?:\.\./|/|[A-Za-z0-9_.-]+/)[^()]*\)"
                   r"|(?:\.\./)+\S+|/work/\S+")


_PACK = re.compile(r"^[A-Z]{3}\.yaml:\s*")


def _clean_source(text: str) -> str:
    """A source for a reader: internal file paths (``../shared/…``) taken out."""
    return re.sub(r"\s{2,}", " ", _PATH.sub("", text)).strip(" ;,")


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


#: Revenue lines in the order the funders' table shows them (daulat.finance.revenue.LINES).
_REVENUE_LINES = ("subscriptions", "government_licence", "api_enterprise", "vat")


def _revenue_by_funder(d: ReportData) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Each funder's new revenue by line (finance ``revenue_lines``) and the licence it pays
    (cash flows' ``licence_usd``), over plan and tail; empty when there are no lines."""
    lines = d.revenue_lines
    by_line: dict[str, dict[str, float]] = {}
    if lines is not None and {"funder", "line", "revenue_usd"} <= set(lines.columns):
        sums = lines.groupby(["funder", "line"], as_index=False)["revenue_usd"].sum()
        for fu, line, usd in zip(sums["funder"], sums["line"], sums["revenue_usd"], strict=True):
            by_line.setdefault(str(fu), {})[str(line)] = float(usd)
    flows = d.cashflows
    licence: dict[str, float] = {}
    if "licence_usd" in flows:
        licence = {str(k): float(v) for k, v in
                   flows.groupby("funder")["licence_usd"].sum().items()}
    return by_line, licence


def _funders(d: ReportData, s: Strings, f: Formatter, names: dict[str, str]) -> Table:
    r = d.returns
    total = float(r["capital_usd"].sum()) or 1.0
    none = s.t("table.none")
    by_line, licence = _revenue_by_funder(d)
    rows = []
    for row in r.to_dict(orient="records"):
        if not row["capital_usd"]:
            continue  # listed once, below the table (see _unfunded)
        kind = str(row["funder_kind"])
        payback = row["payback_year"]
        rows.append([
            names.get(str(row["funder"]), str(row["funder"])),
            s.t(f"kinds.{kind}") if kind in ("provider", "government", "other") else kind,
            f.money(row["capital_usd"]),
            f.pct(row["capital_usd"] / total),
            f.money(row["npv_usd"]),
            f.pct(row["irr"]) if _f(row["irr"]) is not None else (
                str(row["irr_note"]) if isinstance(row.get("irr_note"), str)
                and row["irr_note"] else none),
            str(int(payback)) if _f(payback) is not None else none,
        ])
        if by_line:  # the revenue behind the NPV, line by line, and the licence it pays
            mine = by_line.get(str(row["funder"]), {})
            rows[-1][4:4] = [" / ".join(f.money(mine.get(k, 0.0)) for k in _REVENUE_LINES),
                             f.money(licence.get(str(row["funder"]), 0.0))]
    keys = ["funder", "kind", "capital", "capital_share", "npv", "irr", "payback"]
    if by_line:
        keys[4:4] = ["revenue_lines", "licence_paid"]
    return Table([s.t(f"table.{k}") for k in keys], rows)


def _unfunded(d: ReportData, s: Strings, names: dict[str, str]) -> str:
    ids = [str(x) for x in d.returns[d.returns["capital_usd"] == 0]["funder"]]
    return s.t("summary.unfunded", funders=", ".join(names.get(i, i) for i in ids)) if ids \
        else ""


def _ownership(d: ReportData, s: Strings, f: Formatter, funders: dict[str, str]) -> Table:
    """Who owns each site, sites with the same owners and shares on one row."""
    own = pd.DataFrame(d.finance["ownership"])
    names = dict(zip(d.tables.sites["site"], d.tables.sites["name"], strict=False))
    groups: dict[str, list[str]] = {}
    if not own.empty:
        for site, g in own.groupby("site", sort=True):
            shares = " · ".join(f"{funders.get(str(fu), str(fu))} {f.pct(sh)}"
                                for fu, sh in zip(g["funder"], g["share"], strict=True)
                                if sh > 0)
            groups.setdefault(shares, []).append(names.get(str(site), str(site)))
    rows = [[", ".join(sorted(sites)), shares] for shares, sites in groups.items()]
    return Table([s.t("table.site"), s.t("table.owner_shares")], rows)


def _risk(d: ReportData, s: Strings, f: Formatter, funders: dict[str, str]
          ) -> tuple[str, Table | None]:
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
        who = funders.get(str(row["funder"]), str(row["funder"]))
        name = s.t(f"metrics.{metric}") + (f" ({who})" if row["funder"] else "")
        if metric == "capacity_need_ratio":
            cells = [f.number(row[k], 2) + "×" for k in ("p10", "p50", "p90", "base")]
        else:
            fmt = f.number if metric == "people_served" else f.money
            cells = [fmt(row[k]) for k in ("p10", "p50", "p90", "base")]
        rows.append([name, *cells])
    header = [s.t(f"table.{k}") for k in ("metric", "p10", "p50", "p90", "plan")]
    return text, Table(header, rows)


#: binding constraints tied to one site: shown only where the plan uses that site.
_SITE_KINDS = ("site-power_limit", "site-power_built", "site-government_share",
               "site-provider_share")


def binds_here(b: dict[str, Any], pf: PlanFacts) -> bool:
    """Whether a binding constraint is worth telling: a site's limit only at a site the plan
    uses (never "one more MW at a site with 0 MW")."""
    kind = str(b.get("constraint", "")).split("[", 1)[0]
    if kind in _SITE_KINDS:
        site = b.get("site")
        if site is None:
            m = re.search(r"\[([^,\]]+)", str(b.get("constraint", "")))
            site = m.group(1) if m else None
        used = {u.site: u.facility_mw for u in pf.sites}
        return site is not None and used.get(str(site), 0.0) > 0
    return True


def _binding(d: ReportData, s: Strings, f: Formatter, ex: Explainer, pf: PlanFacts
             ) -> Table | None:
    rows = []
    for b in summary_value(d, "binding", []) or []:
        if not binds_here(b, pf):
            continue
        rows.append([ex.kind_label(str(b.get("constraint", ""))), ex.binding(b),
                     ex.unit_value(b)])
    if not rows:
        return None
    return Table([s.t("table.constraint"), s.t("table.explanation"),
                  s.t("table.shadow_price")], rows)


_TOKENS = re.compile(r"^(?P<workload>[^:]+): throughput sized for (?P<inp>[\d,]+) input / "
                     r"(?P<out>[\d,]+) output tokens per query")


def _demand_input_rows(d: ReportData, s: Strings, f: Formatter, workload: str,
                       last: pd.DataFrame, pf: PlanFacts) -> list[list[str]]:
    """Queries and tokens per user per day from the planner's ``inputs_demand`` (the sizing
    model's demand per country, workload and year), for the chosen countries' last year."""
    table = plan_table(d, "inputs_demand")
    if table is None or "queries_per_day" not in table:
        return []
    rows_in = table[(table["workload"] == workload) & (table["year"] == pf.last_year)
                    & table["country"].isin(set(last["country"]))]
    users = float(rows_in["users"].sum()) if "users" in rows_in else 0.0
    if rows_in.empty or users <= 0:
        return []
    profile = next((str(x) for x in rows_in.get("usage_profile", []) if isinstance(x, str)
                    and x), s.t("assumptions.default_profile"))
    source = s.t("assumptions.users_source", profile=profile)
    out = [[s.t("assumptions.queries", workload=workload, year=pf.last_year),
            f.number(float(rows_in["queries_per_day"].sum()) / users, 1), source]]
    for col, key in (("input_tokens_per_day", "assumptions.input_tokens"),
                     ("output_tokens_per_day", "assumptions.output_tokens")):
        if col in rows_in:
            out.append([s.t(key, workload=workload, year=pf.last_year),
                        f.number(float(rows_in[col].sum()) / users), source])
    return out


def _demand_rows(d: ReportData, s: Strings, f: Formatter, pf: PlanFacts) -> list[list[str]]:
    """The demand drivers a reader would challenge: users, adoption, tokens, model."""
    rows: list[list[str]] = []
    scen = s.t("assumptions.scenario")
    chosen = {c.country for c in pf.chosen}
    dem = d.tables.demand
    last = dem[(dem["year"] == pf.last_year) & dem["country"].isin(chosen)]
    workloads = {str(w.get("id")): w for w in scenario_dict(d).get("workloads", []) or []
                 if isinstance(w, dict)}
    tokens = {}
    for note in summary_value(d, "notes", []) or []:
        if (m := _TOKENS.match(str(note))) is not None:
            tokens[m.group("workload")] = (m.group("inp"), m.group("out"))
    for wl, g in last.groupby("workload", sort=False):
        w = workloads.get(str(wl), {})
        raw_demand = w.get("demand")
        demand: dict[str, Any] = raw_demand if isinstance(raw_demand, dict) else {}
        profile = str(demand.get("usage_profile") or demand.get("profile")
                      or s.t("assumptions.default_profile"))
        rows.append([s.t("assumptions.users", workload=wl, year=pf.last_year),
                     f.number(float(g["users"].sum())),
                     s.t("assumptions.users_source", profile=profile)])
        adoption = []
        if demand.get("adoption_cap") is not None:
            adoption.append(s.t("assumptions.adoption_cap", share=f.pct(demand["adoption_cap"], 0)))
        if demand.get("adoption_midpoint_year") is not None:
            adoption.append(s.t("assumptions.adoption_mid",
                                year=f.year(demand["adoption_midpoint_year"])))
        if demand.get("institutional_share") is not None:
            adoption.append(s.t("assumptions.institutional",
                                share=f.pct(demand["institutional_share"], 0)))
        if adoption:
            rows.append([s.t("assumptions.adoption", workload=wl), "; ".join(adoption), scen])
        rows += _demand_input_rows(d, s, f, str(wl), g, pf)
        if str(wl) in tokens:
            inp, out = tokens[str(wl)]
            rows.append([s.t("assumptions.tokens", workload=wl),
                         s.t("assumptions.tokens_value",
                             inp=f.number(float(inp.replace(",", ""))),
                             out=f.number(float(out.replace(",", "")))),
                         s.t("assumptions.users_source", profile=profile)])
        if w.get("model"):
            rows.append([s.t("assumptions.model", workload=wl), str(w["model"]), scen])
    return rows


def _accelerator_rows(d: ReportData, s: Strings, f: Formatter) -> list[list[str]]:
    """The price of each accelerator the plan buys, as the planner priced it
    (``inputs_accelerators``; the report never prices from the catalog)."""
    bought = sorted({str(a) for a in d.tables.builds["accelerator"]} - {"facility"})
    table = plan_table(d, "inputs_accelerators")
    rows = []
    if table is not None and "capex_usd" in table:
        prices = table.set_index("accelerator")
        for acc in bought:
            if acc in prices.index:
                row = prices.loc[acc]
                rows.append([s.t("assumptions.accelerator_price", accelerator=acc),
                             f.money_full(_f(row["capex_usd"])),
                             str(row.get("price_source", ""))])
    return rows


def _power_rows(d: ReportData, s: Strings, f: Formatter) -> list[list[str]]:
    """Power price and grid intensity of each country the plan builds in, as the planner
    priced them (``inputs_sites``)."""
    countries = sorted(set(d.tables.energy["country"].dropna().astype(str))
                       | set(d.tables.builds["country"].dropna().astype(str)))
    table = plan_table(d, "inputs_sites")
    rows: list[list[str]] = []
    if table is not None and "power_price_usd_per_mwh" in table:
        for iso3 in countries:
            own = table[table["country"] == iso3]
            if own.empty:
                continue
            name = country_name(iso3, f.locale)
            prices = sorted(set(float(x) for x in own["power_price_usd_per_mwh"]))
            value = " – ".join(f.number(p, 1) for p in (prices[0], prices[-1])) \
                if len(prices) > 1 else f.number(prices[0], 1)
            rows.append([s.t("assumptions.power_price", country=name),
                         f"{value} {f.currency}/MWh",
                         source_text(str(own["power_price_source"].iloc[0]), s, f)])
            grid = _f(own["grid_gco2_per_kwh"].iloc[0]) if "grid_gco2_per_kwh" in own else None
            if grid is not None:
                source = str(own["grid_source"].iloc[0]) if "grid_source" in own else \
                    s.t("assumptions.grid_source")
                rows.append([s.t("assumptions.grid", country=name),
                             f"{f.number(grid, 0)} gCO2/kWh", source])
    return rows


def _assumptions(d: ReportData, s: Strings, f: Formatter, pf: PlanFacts) -> Table:
    fin = d.tables.finance
    basis = d.finance["basis"]
    scen = s.t("assumptions.scenario")
    rows = _demand_rows(d, s, f, pf) + [
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
    rows += _accelerator_rows(d, s, f)
    rows += _power_rows(d, s, f)
    unc = d.tables.uncertainty
    for name in ("accelerator_price", "adoption", "power_price", "delay_years"):
        tri = getattr(unc, name)
        digits = 0 if name == "delay_years" else 2
        rows.append([s.t("assumptions.uncertainty", input=s.t(f"inputs.{name}")),
                     " / ".join(f.number(v, digits) for v in (tri.low, tri.mode, tri.high)),
                     scen])
    rows = [[name, value, _clean_source(source) or scen] for name, value, source in rows]
    return Table([s.t("table.name"), s.t("table.value"), s.t("table.source")], rows)


def build_content(d: ReportData, s: Strings, f: Formatter, today: dt.date | None = None
                  ) -> Content:
    """All words and tables of the report in ``s``'s language."""
    y0, y1 = d.tables.horizon
    fin = d.tables.finance
    pf = facts(d)
    names = pf.funders
    note_key = "summary.returns_note" if fin.token_price_usd_per_million else "summary.no_revenue"
    if _revenue_by_funder(d)[0]:  # revenue with a payer (inputs_revenue): say what it rests on
        note_key = "summary.returns_lines"
    risk_text, risk_table = _risk(d, s, f, names)
    ex = Explainer(d, s, f)
    return Content(
        lang=s.lang,
        title=s.t("title", name=d.name),
        subtitle=s.t("subtitle", start=y0, end=y1, date=f.date(today or dt.date.today()),
                     currency=d.tables.currency, price_year=d.tables.price_year),
        headline=_headline(d, s, f, pf),
        where_heading=s.t("summary.where_heading"),
        where=_where(d, s, f),
        pays_heading=s.t("summary.pays_heading"),
        returns_note=s.t(note_key, rate=f.pct(fin.discount_rate),
                         year=d.finance.get("discounted_to_year") or y0,
                         price=f.price(fin.token_price_usd_per_million),
                         existing=f.money(_f(d.finance.get("existing_revenue_usd")) or 0.0))
        + ((" " + s.t("summary.returns_api_price", price=f.price(
            fin.token_price_usd_per_million))) if note_key == "summary.returns_lines"
           and fin.token_price_usd_per_million else ""),
        funders=_funders(d, s, f, names),
        unfunded=_unfunded(d, s, names),
        ownership=_ownership(d, s, f, names),
        risk_text=risk_text,
        risk_table=risk_table,
        binding=_binding(d, s, f, ex, pf),
        assumptions_intro=s.t("assumptions.intro"),
        assumptions=_assumptions(d, s, f, pf),
        footer=s.t("footer", path=d.tables.path.resolve().name),
        sections={k: s.t(f"sections.{k}") for k in s.data["sections"]},
        notes=[n for n in (ex.sovereignty(), ex.baseline_note()) if n],
        unmet_heading=s.t("explain.unmet_heading"),
        unmet=ex.unmet(pf),
        rounding=ex.rounding(),
        chosen_heading=s.t("countries.heading"),
        chosen=_chosen(d, s, f, pf),
        countries=_countries_table(d, s, f, pf),
        countries_note=s.t("countries.note"),
        map_beside=pf.map_beside,
        training=_training(d, s, f),
        training_heading=s.t("training.heading"),
    )
