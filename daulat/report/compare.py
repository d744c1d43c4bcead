"""``daulat compare DIR DIR…``: plans side by side, for a minister choosing between options.

Each column is one plan directory, read through :func:`daulat.finance.load_plan` (the
declared contract) and its ``finance.json`` when finance ran: cost, people served, the cost
of sovereignty, MW, accelerators by origin, each funder's capital, NPV, IRR and share of
capital, the chosen countries — and the scenario inputs (``summary.inputs``) that differ.
Written as one offline HTML page and its Markdown twin, in English or Bahasa Indonesia.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from daulat.errors import PlanDirectoryError, UserError
from daulat.finance import PlanTables, load_plan
from daulat.formatting import babel_locale, format_mw, format_number, format_percent
from daulat.report.data import country_name
from daulat.report.explain import sovereignty_cost
from daulat.report.facts import people_unserved
from daulat.report.pdf import print_pdf
from daulat.report.text import Formatter, Strings, load_strings

__all__ = ["Comparison", "compare_plans", "write_comparison"]


@dataclass(frozen=True)
class Comparison:
    """The comparison: plan names (columns), rows of (label, cells) and differing inputs."""

    names: list[str]
    rows: list[tuple[str, list[str]]]
    differences: list[tuple[str, list[str]]]
    title: str
    intro: str
    strings: Strings


def _finance(tables: PlanTables) -> dict[str, Any]:
    path = tables.path / "finance.json"
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise PlanDirectoryError(f"{path}: not valid JSON ({exc}); rewrite it with"
                                 f" `daulat finance {tables.path}`") from exc


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested inputs as ``a.b.c`` → text, so two plans' inputs compare key by key."""
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, sub in value.items():
            out |= _flatten(sub, f"{prefix}.{key}" if prefix else str(key))
        return out
    return {prefix: json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)}


def _inputs(tables: PlanTables) -> dict[str, str]:
    summary = tables.summary
    flat = _flatten(summary.inputs.model_dump(mode="json"))
    flat.pop("scenario_name", None)
    countries = tables.inputs_countries
    if not countries.empty:
        flat["countries"] = ", ".join(sorted(countries["country"].astype(str)))
    funders = tables.inputs_funders
    if not funders.empty:
        flat["funders"] = ", ".join(sorted(funders["funder"].astype(str)))
    return flat


def compare_plans(plan_dirs: list[Path], lang: str = "en") -> Comparison:
    """Read each plan directory and build the side-by-side rows in ``lang``."""
    if len(plan_dirs) < 2:
        raise UserError(f"compare: give at least two plan directories (got {len(plan_dirs)});"
                        " write each with `daulat plan SCENARIO --out DIR`")
    strings = load_strings(lang)
    loc = babel_locale(lang)
    plans = [load_plan(d) for d in plan_dirs]
    currency = plans[0].currency
    fmt = Formatter(loc, currency)
    names = [p.name for p in plans]
    t = strings.t
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, cells: list[str]) -> None:
        rows.append((label, cells))

    sums = [p.summary for p in plans]
    totals = [s.totals.model_dump() if s.totals is not None else {} for s in sums]
    row(t("compare.rows.scenario"), names)
    row(t("compare.rows.objective"), [str(s.objective) for s in sums])
    row(t("compare.rows.status"), [str(s.status) for s in sums])
    row(t("compare.rows.horizon"), [f"{p.horizon[0]}–{p.horizon[1]}" for p in plans])
    row(t("compare.rows.capex"), [fmt.money(tt.get("capex_usd")) for tt in totals])
    # capital and operating cost only: never the planner's price on unmet demand, which is
    # shown in people (the next rows)
    row(t("compare.rows.cost"), [fmt.money(tt.get("npv_cost_usd")) for tt in totals])
    people = [float(s.people_served or 0.0) for s in sums]
    row(t("compare.rows.people"), [format_number(x, loc) for x in people])
    row(t("compare.rows.unserved"),
        [format_number(people_unserved(p.demand, p.unmet, p.horizon[1]), loc) for p in plans])
    row(t("compare.rows.cost_per_person"),
        [fmt.money(tt.get("capex_usd", 0.0) / x) if x > 0 else "—"
         for tt, x in zip(totals, people, strict=True)])
    # in money only where it is money: a min_cost plan's figure may be its unmet-demand price
    row(t("compare.rows.sovereignty"), [fmt.money(sovereignty_cost(s)) for s in sums])
    row(t("compare.rows.facility_mw"), [format_mw(tt.get("facility_mw"), loc) for tt in totals])
    row(t("compare.rows.accelerators"), [format_number(tt.get("accelerators"), loc)
                                         for tt in totals])
    by_origin = [_by_origin(p) for p in plans]
    for origin in sorted(set().union(*[set(b) for b in by_origin])):
        row(t("compare.origin", origin=country_name(origin, loc)),
            [format_number(b.get(origin, 0.0), loc) for b in by_origin])
    row(t("compare.rows.countries"),
        [", ".join(country_name(c, loc) for c in (s.selected_countries or
                                                   sorted(p.demand["country"].unique())))
         for s, p in zip(sums, plans, strict=True)])
    _funder_rows(plans, fmt, loc, strings, row)

    flats = [_inputs(p) for p in plans]
    keys = sorted(set().union(*[set(f) for f in flats]))
    differences = [(k, [f.get(k, "—") for f in flats]) for k in keys
                   if len({f.get(k, "—") for f in flats}) > 1]
    return Comparison(names=names, rows=rows, differences=differences,
                      title=t("compare.title", names=" · ".join(names)),
                      intro=t("compare.intro", n=len(plans), currency=currency,
                              price_year=plans[0].price_year),
                      strings=strings)


def _by_origin(plan: PlanTables) -> dict[str, float]:
    builds = plan.builds[plan.builds["accelerator"] != "facility"]
    acc = plan.inputs_accelerators
    if builds.empty or acc.empty:
        return {}
    origin = builds["accelerator"].map(acc.set_index("accelerator")["origin"]).fillna("?")
    return {str(k): float(v) for k, v in builds.groupby(origin)["count"].sum().items()}


def _funder_rows(plans: list[PlanTables], fmt: Formatter, loc: str, strings: Strings,
                 row: Any) -> None:
    names: dict[str, str] = {}
    for p in plans:
        if not p.inputs_funders.empty:
            names |= dict(zip(p.inputs_funders["funder"].astype(str),
                              p.inputs_funders["name"].astype(str), strict=True))
    finances = [_finance(p) for p in plans]
    records = [{str(f["funder"]): f for f in fin.get("funders", [])} for fin in finances]
    capital = [p.funding.groupby("funder")["usd"].sum() if not p.funding.empty
               else pd.Series(dtype=float) for p in plans]
    # a funder the plans asked for nothing (no capital, no flows) would only add empty rows
    funders = sorted(f for f in set().union(*[set(c.index) for c in capital],
                                            *[set(r) for r in records])
                     if any(float(c.get(f, 0.0)) > 0 for c in capital)
                     or any(r.get(f, {}).get("npv_usd") for r in records))
    t = strings.t
    for f in funders:
        label = names.get(f, f)
        total = [float(c.sum()) for c in capital]
        row(t("compare.funder_capital", funder=label),
            [fmt.money(float(c.get(f, 0.0))) for c in capital])
        row(t("compare.funder_share", funder=label),
            [format_percent(float(c.get(f, 0.0)) / tot, loc) if tot > 0 else "—"
             for c, tot in zip(capital, total, strict=True)])
        if any(records):
            row(t("compare.funder_npv", funder=label),
                [fmt.money(r[f]["npv_usd"]) if f in r else "—" for r in records])
            row(t("compare.funder_irr", funder=label),
                [format_percent(r[f]["irr"], loc) if f in r and r[f].get("irr") is not None
                 else (str(r[f].get("irr_note") or "—") if f in r else "—") for r in records])


def _html(c: Comparison) -> str:
    e = html.escape
    head = "".join(f"<th>{e(n)}</th>" for n in c.names)
    body = "".join(f"<tr><th scope='row'>{e(label)}</th>"
                   + "".join(f"<td>{e(v)}</td>" for v in cells) + "</tr>"
                   for label, cells in c.rows)
    t = c.strings.t
    if c.differences:
        diff = (f"<table><thead><tr><th>{e(t('compare.input'))}</th>{head}</tr></thead><tbody>"
                + "".join(f"<tr><th scope='row'>{e(k)}</th>"
                          + "".join(f"<td>{e(v)}</td>" for v in cells) + "</tr>"
                          for k, cells in c.differences) + "</tbody></table>")
    else:
        diff = f"<p>{e(t('compare.no_differences'))}</p>"
    style = ("body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:"
             "collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:"
             "left;vertical-align:top}td{font-variant-numeric:tabular-nums}"
             "@page{size:A4 landscape;margin:12mm}")
    return (f"<!doctype html><html lang='{e(c.strings.lang)}'><head><meta charset='utf-8'>"
            f"<title>{e(c.title)}</title><style>{style}</style></head><body>"
            f"<h1>{e(c.title)}</h1><p>{e(c.intro)}</p><table><thead><tr>"
            f"<th>{e(t('compare.measure'))}</th>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<h2>{e(t('compare.differences'))}</h2>{diff}</body></html>\n")


def _markdown(c: Comparison) -> str:
    def table(first: str, rows: list[tuple[str, list[str]]]) -> str:
        lines = [f"| {first} | " + " | ".join(c.names) + " |",
                 "|---|" + "---|" * len(c.names)]
        lines += [f"| {label} | " + " | ".join(v.replace("|", "/") for v in cells) + " |"
                  for label, cells in rows]
        return "\n".join(lines)

    t = c.strings.t
    diff = table(t("compare.input"), c.differences) if c.differences \
        else t("compare.no_differences")
    return (f"# {c.title}\n\n{c.intro}\n\n{table(t('compare.measure'), c.rows)}\n\n"
            f"## {t('compare.differences')}\n\n{diff}\n")


def write_comparison(plan_dirs: list[Path], out: Path, lang: str = "en",
                     pdf: bool = False) -> dict[str, str]:
    """Write ``out`` (.html) and its .md twin (and .pdf with ``pdf``); return the paths."""
    comparison = compare_plans(plan_dirs, lang)
    out = out if out.suffix == ".html" else out.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_html(comparison), encoding="utf-8")
    md = out.with_suffix(".md")
    md.write_text(_markdown(comparison), encoding="utf-8")
    files = {"html": str(out), "markdown": str(md)}
    if pdf:
        files["pdf"] = str(print_pdf(out, out.with_suffix(".pdf")))
    return files
