"""The plan explains itself: binding constraints, shadow prices and infeasibility, in words.

Shadow prices come from the duals of the LP (a MILP is re-solved as an LP with its
binaries fixed). The model's money unit is a million USD, so a dual of the
``site-power_limit`` constraint is MUSD of objective per MW; the texts convert back to
dollars. An infeasible scenario is re-solved *elastically*: each hard rule gets a
non-negative slack and the model minimises the slacks; the slacks left positive are the
rules that conflict, and each becomes a sentence naming the country, site or funder.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from daulat.formatting import format_money
from daulat.plan.build import _GOVERNMENT_TIEBREAK, MUSD, BuiltModel
from daulat.plan.data import PlanData
from daulat.plan.variables import EFLOP_PER_UNIT
from daulat.plandir import UnmetCause, UnmetCauseKind

__all__ = ["binding_constraints", "explain_infeasible", "explain_unmet", "precheck",
           "unmet_causes"]

_TOL = 1e-7


def _worth(data: PlanData, usd: float, spread: bool = True) -> str:
    """'save $X (NPV of the plan; ≈ $Y a year …)' in plain words for a marginal value;
    ``spread``: also as an even yearly amount over the horizon (its annuity)."""
    disc = data.discount().to_series()
    years = list(data.years)
    annuity = float(sum(disc[y] for y in years)) or 1.0
    per_year = (f", ≈ {format_money(usd / annuity)} a year over {years[0]}–{years[-1]}"
                if spread and len(years) > 1 else "")
    if data.objective == "min_cost":
        return f"save {format_money(usd)} (NPV of the plan's cost{per_year})"
    return (f"be worth {format_money(usd)} to the plan (NPV{per_year}; cost saved plus access "
            f"valued at ${data.value_of_access_usd_per_person_year:,.0f} per weighted "
            "person-year)")


def _place(data: PlanData, site: Any) -> str:
    """A site in plain words: its name and its country's name."""
    name = str(data.sites["name"].get(site, site))
    iso3 = str(data.sites["country"].get(site, ""))
    country = (str(data.sites["country_name"].get(site)) if "country_name" in data.sites
               else str(data.countries["name"].get(iso3, iso3)))
    return f"{name}, {country}"


def _duals(built: BuiltModel, name: str, dims: tuple[str, ...] | None = None
           ) -> list[tuple[Any, float]]:
    """(index, dual) of the binding rows of constraint ``name`` (index in ``dims`` order)."""
    con = built.model.constraints
    if name not in con:
        return []
    dual = con[name].dual
    if dual is None:
        return []
    if dims is not None:
        dual = dual.transpose(*dims)
    s = dual.to_series().dropna()
    found: dict[Any, float] = s[s.abs() > _TOL].to_dict()
    return list(found.items())


def binding_constraints(built: BuiltModel, limit: int = 12) -> list[dict[str, Any]]:
    """The binding constraints with the largest shadow prices, each with a sentence.

    ``shadow_price`` is in USD of objective per unit of the constraint's right-hand side
    (per MW for site limits, per USD for budgets and shares).
    """
    data = built.data
    funder_name: dict[Any, str] = data.funders["name"].to_dict()
    funder_basis: dict[Any, str] = data.funders["basis"].to_dict()
    out: list[dict[str, Any]] = []
    for site, dual in _duals(built, "site-power_limit"):
        usd = -float(dual) * MUSD
        out.append({
            "constraint": "site-power_limit", "site": site, "shadow_price": usd,
            "text": f"One more MW of power at {_place(data, site)} would "
                    f"{_worth(data, usd)}.",
        })
    earliest: dict[Any, int] = data.sites["earliest_year"].to_dict()
    can_build = (data.sites["power_limit_mw"] > data.sites["existing_mw"]).to_dict()
    for (site, year), dual in _duals(built, "site-power_built", ("site", "year")):
        usd = -float(dual) * MUSD
        # where new MW could be built that year its dual is just the price of a shell;
        # it is news only where nothing more can be built (existing capacity, early years)
        if usd <= 0 or (can_build[site] and year >= earliest[site]):
            continue
        out.append({
            "constraint": "site-power_built", "site": site, "year": int(year),
            "shadow_price": usd,
            "text": f"One more MW ready at {_place(data, site)} in {year} would "
                    f"{_worth(data, usd, spread=False)}: the site's power binds that year.",
        })
    for (funder, year), dual in _duals(built, "funder-budget", ("funder", "year")):
        per_usd = -float(dual)
        basis = funder_basis[funder]
        when = f"up to {year}" if basis == "cumulative" else f"in {year}"
        out.append({
            "constraint": "funder-budget", "funder": funder, "year": int(year),
            "shadow_price": per_usd,
            "text": f"{funder_name[funder]}'s budget {when} binds: each extra "
                    f"$1M would {_worth(data, per_usd * 1e6)}.",
        })
    for site, dual in _duals(built, "site-government_share"):
        per_usd = float(dual)
        if abs(per_usd) <= 2 * _GOVERNMENT_TIEBREAK:
            continue  # only the who-pays tie-break, no cost to the plan
        out.append({
            "constraint": "site-government_share", "site": site, "shadow_price": per_usd,
            "text": f"The minimum government share ({data.min_government_share:.0%}) binds at "
                    f"{_place(data, site)}: each extra $1M the government must put in "
                    f"costs the plan {format_money(abs(per_usd) * 1e6)}.",
        })
    for site, dual in _duals(built, "site-provider_share"):
        per_usd = -float(dual)
        if abs(per_usd) <= 2 * _GOVERNMENT_TIEBREAK:
            continue
        out.append({
            "constraint": "site-provider_share", "site": site, "shadow_price": per_usd,
            "text": f"The provider share cap ({data.max_provider_share:.0%}) binds at "
                    f"{_place(data, site)}.",
        })
    origin_dims = ("country", "origin", "year")
    for (country, origin, year), dual in _duals(built, "country-origin_cap", origin_dims):
        per_acc = -float(dual) * MUSD
        out.append({
            "constraint": "country-origin_cap", "country": country, "origin": origin,
            "year": int(year), "shadow_price": per_acc,
            "text": f"The cap on {origin}-origin accelerators in {country} binds in {year}: "
                    f"one more allowed would {_worth(data, per_acc)}.",
        })
    for workload, dual in _duals(built, "training-compute"):
        per_eflop = float(dual) * MUSD / EFLOP_PER_UNIT  # the row is in yottaFLOP
        out.append({
            "constraint": "training-compute", "workload": workload, "shadow_price": per_eflop,
            "text": f"Training run {workload} costs {format_money(per_eflop)} per extra EFLOP "
                    "at the margin.",
        })
    if data.portfolio_max_countries is not None and built.select is not None:
        sel = built.select.solution if hasattr(built.select, "solution") else built.select
        chosen = int(round(float(np.asarray(sel).sum())))
        if chosen >= data.portfolio_max_countries:
            out.append({
                "constraint": "programme-portfolio", "shadow_price": None,
                "text": f"The portfolio limit binds: all {data.portfolio_max_countries} country "
                        "slots are used.",
            })
    out.sort(key=lambda r: -abs(r["shadow_price"] or 0.0) if r["constraint"] != (
        "programme-portfolio") else -np.inf)
    # one family must not crowd out the others: keep the strongest of each first
    firsts: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in out:
        (rest if r["constraint"] in seen else firsts).append(r)
        seen.add(r["constraint"])
    return (firsts + rest)[:limit]


def precheck(data: PlanData) -> list[str]:
    """Problems visible without solving (a country with demand and nowhere to serve it)."""
    problems: list[str] = []
    if data.min_served_share <= 0:
        return problems
    country_name: dict[Any, str] = data.countries["name"].to_dict()
    demand = data.demand_tps.sum("year")
    reachable = data.allowed.any("site")
    for c in data.countries.index:
        for w in data.inference:
            if float(demand.sel(country=c, workload=w)) > 0 and not bool(
                    reachable.sel(country=c, workload=w)):
                rule = data.residency.get(c, "?")
                problems.append(
                    f"{country_name[c]} ({c}) must have "
                    f"{data.min_served_share:.0%} of its {w} demand served (rules.min_served_"
                    f"share) but no site is allowed: residency '{rule}' and the "
                    f"{data.latency_target_ms.get(w, 0):.0f} ms latency target leave no site "
                    "— add a site in an allowed jurisdiction (sites.inline or "
                    "sites.candidates_per_country) or relax the rule.")
    return problems


def explain_infeasible(built: BuiltModel) -> list[str]:
    """Sentences naming the rules that conflict, from a solved *elastic* model."""
    m, data = built.model, built.data
    names: dict[Any, str] = data.sites["name"].to_dict()
    site_country: dict[Any, str] = data.sites["country"].to_dict()
    site_limit: dict[Any, float] = data.sites["power_limit_mw"].to_dict()
    funder_name: dict[Any, str] = data.funders["name"].to_dict()
    funder_basis: dict[Any, str] = data.funders["basis"].to_dict()
    country_name: dict[Any, str] = data.countries["name"].to_dict()
    out: list[str] = []

    def positive(name: str, dims: tuple[str, ...] | None = None) -> list[tuple[Any, float]]:
        key = f"slack-{name}"
        if key not in m.variables:
            return []
        sol = m.variables[key].solution
        s = (sol.transpose(*dims) if dims else sol).to_series().dropna()
        found: dict[Any, float] = s[s > 1e-6].to_dict()
        return list(found.items())

    short = positive("country-min_served", ("country", "workload", "year"))
    for (c, w, y), tps in short:
        need = float(data.demand_tps.sel(country=c, workload=w, year=y)) * data.min_served_share
        reach = [s for s in data.sites.index if bool(data.allowed.sel(country=c, site=s,
                                                                      workload=w))]
        earliest: dict[Any, int] = data.sites["earliest_year"].to_dict()
        where = ", ".join(
            str(names[s]) + (f" (not before {earliest[s]})" if earliest[s] > y else "")
            for s in reach[:5]) or "no site"
        out.append(
            f"{country_name[c]} ({c}), {w}, {y}: the rules ask for "
            f"{need:,.0f} tokens/s ({data.min_served_share:.0%} of demand, rules.min_served_share)"
            f" but only {need - tps:,.0f} can be served from the sites it may use ({where}; "
            f"residency '{data.residency.get(c, '?')}', latency ≤ "
            f"{data.latency_target_ms.get(w, 0):.0f} ms).")
    for site, mw in positive("site-power_limit"):
        out.append(
            f"{names[site]} ({site_country[site]}): would need {mw:,.1f} MW beyond "
            f"its ceiling of {site_limit[site]:,.0f} MW "
            "(site-power_limit; sites.power_mw overrides it).")
    for (f, y), musd in positive("funder-budget", ("funder", "year")):
        basis = funder_basis[f]
        out.append(
            f"{funder_name[f]} would need {format_money(musd * MUSD)} more than its "
            f"{'cumulative ' if basis == 'cumulative' else ''}budget "
            f"{'up to' if basis == 'cumulative' else 'in'} {y} (funder-budget).")
    for site, musd in positive("site-government_share"):
        out.append(
            f"{names[site]}: the government of {site_country[site]} cannot pay its "
            f"minimum share ({data.min_government_share:.0%}, rules.min_government_share): "
            f"{format_money(musd * MUSD)} short — its budget or its allowed sites are too small.")
    for (c, o, y), n in positive("country-origin_cap", ("country", "origin", "year")):
        out.append(f"{c}, {y}: {n:,.0f} more {o}-origin accelerators than the origin rule "
                   "allows would be needed (rules.origin).")
    if not out:
        out.append("the solver reports the rules as infeasible but no single rule could be "
                   "named; check budgets (funders[].budget_usd) against rules.min_served_share.")
    return out


def explain_unmet(data: PlanData, tables: dict[str, pd.DataFrame], limit: int = 8) -> list[str]:
    """Sentences for the largest unmet demand: which country, when, and why it is unserved."""
    unmet = tables["unmet"]
    demand = tables["demand"].set_index(["country", "workload", "year"])["tokens_per_s"]
    rows = unmet[unmet["tokens_per_s"] > 1e-6]
    if rows.empty:
        return []
    names: dict[Any, str] = data.sites["name"].to_dict()
    earliest: dict[Any, int] = data.sites["earliest_year"].to_dict()
    country_name: dict[Any, str] = data.countries["name"].to_dict()
    # one sentence per country and workload: the years and the share left unserved
    out: list[tuple[float, str]] = []
    key: Any
    for key, grp in rows.groupby(["country", "workload"]):
        c, w = str(key[0]), str(key[1])
        total = float(grp["tokens_per_s"].sum())
        years = sorted(int(y) for y in grp["year"])
        share = total / max(float(sum(demand.get((c, w, y), 0.0) for y in years)), 1e-9)
        ok: dict[Any, bool] = data.allowed.sel(country=c, workload=w).to_series().to_dict()
        rtt: dict[Any, float] = data.rtt_ms.sel(country=c).to_series().to_dict()
        reach = sorted((s for s, v in ok.items() if v), key=lambda s: rtt[s])  # nearest first
        first = min((earliest[s] for s in reach), default=None)
        if not reach:
            why = (f"no site is allowed (residency '{data.residency.get(c, '?')}', latency ≤ "
                   f"{data.latency_target_ms.get(w, 0):.0f} ms)")
        elif first is not None and first > years[0]:
            why = (f"its allowed sites are not ready before {first} ("
                   + ", ".join(names[s] for s in reach[:3]) + ")")
        else:
            why = ("serving it would cost more than the unmet-demand price, or budgets, "
                   "power ceilings or the portfolio limit leave no room")
        span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
        out.append((total, f"{country_name.get(c, c)} ({c}): {share:.0%} of {w} demand "
                           f"unserved in {span} — {why}."))
    out.sort(key=lambda t: -t[0])
    return [text for _, text in out[:limit]]


def _residency_allows(rule: str, home: str, where: str) -> bool:
    """The planner's one-word rule (in_country, any, 'A,B') applied to a jurisdiction."""
    if rule == "any" or where == home:
        return True
    if rule == "in_country":
        return False
    return where in rule.split(",")


def unmet_causes(data: PlanData, tables: dict[str, pd.DataFrame],
                 selected: list[str] | None = None) -> list[UnmetCause]:
    """Why each country's demand of each workload is unserved, over runs of years with the
    same cause (largest first): ``not_selected`` (a portfolio left the country out),
    ``residency`` (its rule leaves no site), ``latency`` (the rule allows sites, the latency
    target rules them out), ``not_ready_until`` (its allowed sites open later),
    ``power`` (every allowed site is at its power ceiling that year), ``budget`` (a
    funder spends its whole budget that year) or ``none`` (cheaper to leave unserved)."""
    unmet = tables["unmet"]
    rows = unmet[unmet["tokens_per_s"] > 1e-6]
    if rows.empty:
        return []
    demand = tables["demand"].set_index(["country", "workload", "year"])["tokens_per_s"]
    earliest: dict[Any, int] = data.sites["earliest_year"].to_dict()
    site_country: dict[Any, str] = data.sites["country"].to_dict()
    limit: dict[Any, float] = data.sites["power_limit_mw"].to_dict()
    built = tables["sites"].set_index("site")["built_mw"].to_dict() if len(tables["sites"]) \
        else {}
    budgets = tables["budgets"]
    tight = budgets[budgets["budget_usd"].notna()
                    & (budgets["committed_usd"] >= budgets["budget_usd"] * (1 - 1e-6))]
    budget_years = {int(y) for y in tight["year"]}
    out: list[UnmetCause] = []
    key: Any
    for key, grp in rows.groupby(["country", "workload"]):
        c, w = str(key[0]), str(key[1])
        ok: dict[Any, bool] = data.allowed.sel(country=c, workload=w).to_series().to_dict()
        rtt: dict[Any, float] = data.rtt_ms.sel(country=c).to_series().to_dict()
        reach = sorted((s for s, v in ok.items() if v), key=lambda s: rtt[s])
        rule = data.residency.get(c, "in_country")
        resident = [s for s in data.sites.index
                    if _residency_allows(rule, c, str(site_country[s]))]

        def cause_of(year: int, c: str = c, reach: list[Any] = reach,
                     resident: list[Any] = resident) -> tuple[UnmetCauseKind, int | None]:
            if selected is not None and c not in selected:
                return UnmetCauseKind.NOT_SELECTED, None
            if not resident:
                return UnmetCauseKind.RESIDENCY, None
            if not reach:
                return UnmetCauseKind.LATENCY, None
            ready = [s for s in reach if earliest[s] <= year]
            if not ready:
                return UnmetCauseKind.NOT_READY_UNTIL, min(earliest[s] for s in reach)
            if all(built.get(s, 0.0) >= limit[s] * (1 - 1e-6) for s in ready):
                return UnmetCauseKind.POWER, None
            if year in budget_years:
                return UnmetCauseKind.BUDGET, None
            return UnmetCauseKind.NONE, None

        span: list[tuple[int, float]] = []
        current: tuple[UnmetCauseKind, int | None] | None = None
        for year, tps in sorted(zip(grp["year"].astype(int), grp["tokens_per_s"],
                                    strict=True)):
            why = cause_of(year)
            if current is not None and why != current:
                out.append(_cause(c, w, span, current, demand, reach))
                span = []
            current = why
            span.append((year, float(tps)))
        if current is not None and span:
            out.append(_cause(c, w, span, current, demand, reach))
    out.sort(key=lambda u: -u.unmet_tokens_per_s)
    return out


def _cause(c: str, w: str, span: list[tuple[int, float]],
           why: tuple[UnmetCauseKind, int | None], demand: pd.Series, reach: list[Any]
           ) -> UnmetCause:
    total = sum(t for _, t in span)
    wanted = sum(float(demand.get((c, w, y), 0.0)) for y, _ in span)
    return UnmetCause(country=c, workload=w, year_from=span[0][0], year_to=span[-1][0],
                      unmet_tokens_per_s=total, share=total / wanted if wanted > 0 else 1.0,
                      cause=why[0], ready_year=why[1], sites=[str(s) for s in reach[:3]])
