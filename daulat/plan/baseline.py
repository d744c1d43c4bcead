"""The greedy baseline every plan is compared with.

The rule of thumb a programme office would apply without an optimiser: serve each
country **at home**, at its cheapest site first (lowest power price, then largest
ceiling), on the accelerator with the lowest life-cycle cost per token/s that the
country's origin rules allow; a training run is built at home too (a programme run at
the sites it names), in the first year a site is ready. Accelerators stay in service for
the horizon (horizons are at most a few years longer than their life).

It is held to the same limits as the plan, so the comparison is like for like:

- **budgets**: every purchase is paid for, year by year, from the funders' remaining
  budgets (per year or cumulative, as the scenario says); a purchase the money cannot
  pay is cut to what it can, and the demand left is unmet;
- **co-funding**: a site's home government pays at least ``min_government_share`` of
  each purchase, providers at most ``max_provider_share``; governments pay only at
  home; providers pay first for the rest, then other funders, then the home government;
- **whole systems**: when the plan buys whole systems (``whole_systems`` not ``off``) the
  greedy buys multiples of ``system_gpus`` too (rounded up to cover demand, down where
  power or money runs out);
- **portfolio** (``max_access``): the greedy picks its own K countries — the ones with the
  most *weighted people per dollar* (``weight × Σ users`` over the years a home site is
  ready, divided by the life-cycle cost of serving their peak demand at their cheapest
  home site and accelerator) — and serves them in that order, so the best value gets the
  money first. For ``min_cost`` it serves the plan's own selection.

Demand left unserved is priced as in the plan (``min_cost``) or counted as people not
served (``max_access``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from daulat.plan.build import opex_usd_per_accelerator_year
from daulat.plan.data import PlanData

__all__ = ["BaselineResult", "greedy", "rank_countries"]

#: Tolerance when rounding counts to whole systems (accelerators, relative to a system).
_ROUND_TOL = 1e-6


@dataclass
class BaselineResult:
    """The greedy plan. ``cost_usd`` = NPV of capex and opex + unmet penalty (min_cost)."""

    cost_usd: float
    npv_usd: float
    unmet_penalty_usd: float
    served_share: float
    builds: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: demand and unmet tables in the plan's columns (country, workload, year, ...)
    demand: pd.DataFrame = field(default_factory=pd.DataFrame)
    unmet: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: capital committed per funder and year, USD (columns funder, year, usd)
    funding: pd.DataFrame = field(default_factory=pd.DataFrame)
    countries: list[str] = field(default_factory=list)
    #: whether some purchase was cut because the money ran out
    budget_bound: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The summary.json ``baseline`` block (without the comparison)."""
        return {"method": "greedy", "cost_usd": self.cost_usd, "npv_usd": self.npv_usd,
                "unmet_penalty_usd": self.unmet_penalty_usd, "served_share": self.served_share,
                "countries": list(self.countries), "budget_bound": self.budget_bound}


class _Purse:
    """The funders' remaining money, and the co-funding split of each purchase."""

    def __init__(self, data: PlanData) -> None:
        self.years = list(data.years)
        self.funders = data.funders
        self.cumulative = {str(f): b == "cumulative" for f, b in data.funders["basis"].items()}
        series: Any = data.budget_usd.transpose("funder", "year").to_series()
        self.budget: dict[tuple[str, int], float] = {
            (str(k[0]), int(k[1])): float(v) for k, v in series.items()}
        self.spent: dict[tuple[str, int], float] = {}
        self.g = data.min_government_share
        self.p = data.max_provider_share
        self.bound = False

    def _avail(self, f: str, year: int) -> float:
        later = [y for y in self.years if y >= year] if self.cumulative[f] else [year]
        free = math.inf
        for y in later:
            cap = self.budget.get((f, y), math.nan)
            if math.isnan(cap):
                continue
            upto = [v for v in self.years if v <= y] if self.cumulative[f] else [y]
            free = min(free, cap - sum(self.spent.get((f, v), 0.0) for v in upto))
        return max(free, 0.0)

    def _pools(self, country: str, year: int) -> tuple[list[tuple[str, float]], ...]:
        gov, prov, other = [], [], []
        for f, row in self.funders.iterrows():
            entry = (str(f), self._avail(str(f), year))
            if row["kind"] == "government":
                if row["country"] == country:
                    gov.append(entry)
            elif row["kind"] == "provider":
                prov.append(entry)
            else:
                other.append(entry)
        return gov, prov, other

    def affordable(self, country: str, year: int) -> float:
        """Most capital (USD) a purchase at a site in ``country`` can raise in ``year``."""
        gov, prov, other = self._pools(country, year)
        a_gov = sum(v for _, v in gov)
        a_prov = sum(v for _, v in prov)
        a_oth = sum(v for _, v in other)
        limits = [a_gov + a_prov + a_oth]
        if gov and self.g > 0:
            limits.append(a_gov / self.g)
        if self.p < 1:
            limits.append((a_gov + a_oth) / (1 - self.p))
        return max(min(limits), 0.0)

    def pay(self, country: str, year: int, usd: float) -> None:
        """Commit ``usd`` (≤ :meth:`affordable`): government minimum, providers, others,
        then the government for the rest."""
        gov, prov, other = self._pools(country, year)
        left = usd
        g_min = self.g * usd if gov else 0.0
        left -= self._take(gov, g_min, year)
        left -= self._take(prov, min(self.p * usd, left), year)
        left -= self._take(other, left, year)
        self._take(gov, left, year)

    def _take(self, pool: list[tuple[str, float]], usd: float, year: int) -> float:
        taken = 0.0
        for i, (f, free) in enumerate(pool):
            x = min(free, usd - taken)
            if x <= 0:
                continue
            self.spent[(f, year)] = self.spent.get((f, year), 0.0) + x
            pool[i] = (f, free - x)
            taken += x
        return taken

    def table(self) -> pd.DataFrame:
        rows = [{"funder": f, "year": y, "usd": v} for (f, y), v in self.spent.items()]
        return pd.DataFrame(rows, columns=["funder", "year", "usd"])


def _home_sites(data: PlanData) -> dict[Any, pd.DataFrame]:
    return {c: rows.sort_values(["power_price_usd_per_mwh", "power_limit_mw"],
                                ascending=[True, False])
            for c, rows in data.sites.groupby("country")}


def rank_countries(data: PlanData) -> list[str]:
    """Countries by weighted people per dollar, best first (those with no home site last,
    score 0). The score: ``weight × Σ_years users`` (years a home site is ready) over the
    life-cycle cost (accelerators, their opex over their life, facility MW) of serving
    each inference workload's peak demand at the cheapest home site and accelerator."""
    acc = data.accelerators
    life = data.accelerator_life_years
    opex: dict[Any, float] = opex_usd_per_accelerator_year(data).transpose(
        "site", "accelerator").to_series().to_dict()
    rates = data.rate.to_series().to_dict()
    demand = data.demand_tps.transpose("country", "workload", "year")
    users = data.users.to_series().to_dict()
    excluded = {(r.country, r.origin) for r in data.origin_caps if r.max_share == 0}
    homes = _home_sites(data)
    shell_usd = data.shell_usd_per_mw().to_series().to_dict()
    scores: dict[str, float] = {}
    for c in data.countries.index:
        home = homes.get(c)
        if home is None or home.empty:
            scores[str(c)] = 0.0
            continue
        first = int(home["earliest_year"].min())
        people = sum(users.get((c, y), 0.0) for y in data.years if y >= first)
        cost = 0.0
        for w in data.inference:
            peak = float(demand.sel(country=c, workload=w).max())
            if peak <= 0:
                continue
            best = math.inf
            for sid, s in home.iterrows():
                pue = float(s["pue"])
                for a in acc.itertuples():
                    r = rates.get((a.Index, w), 0.0)
                    if r <= 0 or (c, a.origin) in excluded or ("*", a.origin) in excluded:
                        continue
                    it_kw: Any = a.it_kw
                    capex: Any = a.capex_usd
                    per = (float(capex) + life * float(opex[(sid, a.Index)]) + float(it_kw)
                           / 1000 * pue * shell_usd[sid]) / r
                    best = min(best, per)
            cost += peak * best
        weight = float(data.countries["weight"].to_dict()[c])
        scores[str(c)] = weight * people / cost if 0 < cost < math.inf else (
            math.inf if cost == 0 and people > 0 else 0.0)
    return sorted(scores, key=lambda c: -scores[c])


def greedy(data: PlanData, countries: list[str] | None = None) -> BaselineResult:
    """Run the greedy baseline on ``data``.

    ``countries``: the countries to serve, in order (min_cost: the plan's portfolio
    selection). ``None``: every country, or for ``max_access`` with a portfolio the K
    best by :func:`rank_countries`.
    """
    sites = data.sites
    acc = data.accelerators
    years = data.years
    discount = data.discount().to_series()
    rate_da = opex_usd_per_accelerator_year(data).transpose("site", "accelerator")
    opex_rate: dict[Any, float] = dict(rate_da.to_series().to_dict())
    life = data.accelerator_life_years
    headroom = (sites["power_limit_mw"] - sites["existing_mw"]).clip(lower=0).to_dict()
    existing_free = sites["existing_mw"].to_dict()
    # each site's own shell price and published schedule, as the plan has them
    shell_usd = data.shell_usd_per_mw().to_series().to_dict()
    schedule: dict[Any, float] = {} if data.schedule_mw is None else {
        k: float(v) for k, v in data.schedule_mw.to_series().dropna().to_dict().items()}
    used_mw: dict[Any, float] = dict.fromkeys(sites.index, 0.0)
    site_country = sites["country"].to_dict()
    whole = data.whole_systems != "off" and "system_gpus" in acc
    size = acc["system_gpus"].astype(float).to_dict() if whole else {a: 1.0 for a in acc.index}
    purse = _Purse(data)
    rows: list[dict[str, Any]] = []
    capacity: dict[tuple[str, str], float] = {}  # (country, workload) -> tokens/s installed
    installed: list[tuple[str, str, int, float]] = []  # (site, accelerator, year, count)
    excluded = {(r.country, r.origin) for r in data.origin_caps if r.max_share == 0}
    unmet_usd = 0.0
    served_total = demand_total = 0.0

    if countries is None:
        if data.objective == "max_access":
            ranked = rank_countries(data)
            k = data.portfolio_max_countries
            countries = ranked[:k] if k is not None else ranked
        else:
            countries = [str(c) for c in data.countries.index]

    rates: dict[Any, float] = data.rate.to_series().to_dict()  # (accelerator, workload)
    demand: dict[Any, float] = data.demand_tps.transpose("country", "workload", "year") \
        .to_series().to_dict()
    accs: list[Any] = list(acc.itertuples())
    by_country = _home_sites(data)

    programme_runs = {w for w in data.training
                      if not isinstance(data.workloads.loc[w, "country"], str)}

    def options(country: str, year: int, workload: str) -> list[tuple[str, str, float, float]]:
        """(site, accelerator, kW per accelerator at the meter, rate), best first."""
        home = by_country.get(country)
        if workload in programme_runs:  # a programme run: the sites it may use, cheapest first
            ok = data.train_allowed.sel(workload=workload).to_series()
            home = sites.loc[[x for x in ok[ok].index if x in sites.index]].sort_values(
                ["power_price_usd_per_mwh", "power_limit_mw"], ascending=[True, False])
        if home is None:
            return []
        out = []
        for sid, s in home[home["earliest_year"] <= year].iterrows():
            best: tuple[float, str, float, float] | None = None
            for a in accs:
                r = rates.get((a.Index, workload), 0.0)
                if r <= 0 or a.first_year > year or (country, a.origin) in excluded or (
                        "*", a.origin) in excluded:
                    continue
                per = (a.capex_usd + life * opex_rate[(sid, a.Index)]) / r
                if best is None or per < best[0]:
                    best = (per, str(a.Index), float(a.it_kw), r)
            if best is not None:
                out.append((str(sid), best[1], best[2] * float(s["pue"]), best[3]))
        return out

    def place(country: str, year: int, workload: str, amount: float) -> float:
        """Install accelerators for ``amount`` units of rate within power and money;
        return the rate installed (whole systems may give a little more than asked)."""
        added = 0.0
        for sid, aid, kw, r in options(country, year, workload):
            if amount - added <= 1e-9:
                break
            unit = size[aid]
            capex = float(acc["capex_usd"].to_dict()[aid])
            ex = existing_free[sid]
            n_need = (amount - added) / r
            room_mw = ex + headroom[sid]
            if (sid, year) in schedule:
                room_mw = min(room_mw, max(schedule[(sid, year)] - used_mw[sid], 0.0))
            n_room = room_mw * 1000 / kw
            money = purse.affordable(site_country[sid], year)
            fac = shell_usd[sid]
            if math.isinf(money):
                n_money = math.inf
            elif capex > 0 and money / capex * kw / 1000 <= ex:
                n_money = money / capex
            else:
                denom = capex + kw / 1000 * fac
                n_money = (money + ex * fac) / denom if denom > 0 else math.inf
            if whole:
                n_need = math.ceil(n_need / unit - _ROUND_TOL) * unit
                n_room = math.floor(n_room / unit + _ROUND_TOL) * unit
                if not math.isinf(n_money):
                    n_money = math.floor(n_money / unit + _ROUND_TOL) * unit
            n = min(n_need, n_room, n_money)
            if n_money < min(n_need, n_room) - 1e-9:
                purse.bound = True
            if n <= 1e-12:
                continue
            mw = n * kw / 1000
            from_existing = min(mw, ex)
            existing_free[sid] -= from_existing
            new_mw = max(mw - from_existing, 0.0)
            headroom[sid] = max(headroom[sid] - new_mw, 0.0)
            used_mw[sid] += mw
            cost = n * capex + new_mw * fac
            purse.pay(site_country[sid], year, cost)
            rows.append({"site": sid, "accelerator": aid, "year": year, "count": n,
                         "shell_mw": new_mw, "existing_mw_used": from_existing,
                         "capex_usd": cost})
            installed.append((sid, aid, year, n))
            added += n * r
        return added

    served_rows: list[dict[str, Any]] = []
    chosen = set(countries)
    for year in years:
        for country in countries:
            for w in data.inference:
                need = float(demand.get((country, w, year), 0.0))
                have = capacity.get((country, w), 0.0)
                if need > have:
                    have += place(country, year, w, need - have)
                    capacity[(country, w)] = have
                served_rows.append({"country": country, "workload": w, "year": year,
                                    "served": min(have, need)})
        for w in data.training if year == years[0] else []:
            wl: Any = data.workloads.loc[w]
            start = int(wl["start_year"]) if "start_year" in wl and wl["start_year"] == \
                wl["start_year"] else 0
            ready = [y for y in years if start <= y <= wl["deadline_year"]]
            remaining = float(wl["required_eflop"])
            for i, y in enumerate(ready):
                run_years = len(ready) - i  # accelerators placed in y run to the deadline
                per_year = remaining / run_years
                got = place(str(wl["country"]), y, w, per_year)
                remaining -= got * run_years
                if remaining <= 1e-9:
                    break
            unmet_usd += max(remaining, 0.0) * data.unmet_training_usd_per_eflop

    served_at = {(r["country"], r["workload"], r["year"]): r["served"] for r in served_rows}
    users = data.users.to_series().to_dict()
    d_rows, u_rows = [], []
    for (c, w, y), need in demand.items():
        if w not in data.inference:
            continue
        got = served_at.get((c, w, y), 0.0) if c in chosen else 0.0
        short = max(float(need) - got, 0.0)
        demand_total += float(need)
        served_total += min(got, float(need))
        d_rows.append({"country": c, "workload": w, "year": y, "tokens_per_s": float(need),
                       "users": float(users.get((c, y), 0.0))})
        u_rows.append({"country": c, "workload": w, "year": y, "tokens_per_s": short})
        if c in chosen or data.objective == "min_cost":
            unmet_usd += short * data.unmet_usd_per_tps_year * float(discount[y])

    builds = pd.DataFrame(rows, columns=["site", "accelerator", "year", "count", "shell_mw",
                                         "existing_mw_used", "capex_usd"])
    npv = 0.0
    for year in years:
        capex = float(builds.loc[builds["year"] == year, "capex_usd"].sum())
        opex = float(sum(n * opex_rate[(s, a)] for s, a, y0, n in installed if y0 <= year))
        upto = builds["year"] <= year
        built_mw = float(builds.loc[upto, "shell_mw"].sum() + builds.loc[upto,
                                                                          "existing_mw_used"].sum())
        opex += built_mw * data.facility_opex_usd_per_mw_year
        npv += (capex + opex) * float(discount[year])
    if data.objective != "min_cost":
        unmet_usd = 0.0
    served = served_total / demand_total if demand_total > 0 else 1.0
    return BaselineResult(cost_usd=npv + unmet_usd, npv_usd=npv, unmet_penalty_usd=unmet_usd,
                          served_share=float(np.clip(served, 0.0, 1.0)), builds=builds,
                          demand=pd.DataFrame(d_rows, columns=["country", "workload", "year",
                                                               "tokens_per_s", "users"]),
                          unmet=pd.DataFrame(u_rows, columns=["country", "workload", "year",
                                                              "tokens_per_s"]),
                          funding=purse.table(), countries=list(countries),
                          budget_bound=purse.bound)
