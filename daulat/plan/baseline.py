"""The greedy baseline every plan is compared with.

The rule of thumb a programme office would apply without an optimiser: serve each
country **at home**, at its cheapest site first (lowest power price, then largest
ceiling), on the accelerator with the lowest life-cycle cost per token/s that the
country's origin rules allow; a training run is built at home too, in the first year a
site is ready. Budgets are ignored (the baseline shows what the demand costs); demand
that finds no room at home is left unmet and priced as in the plan. Accelerators stay in
service for the horizon (horizons are at most a few years longer than their life).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from daulat.plan.build import opex_usd_per_accelerator_year
from daulat.plan.data import PlanData

__all__ = ["BaselineResult", "greedy"]


@dataclass
class BaselineResult:
    """Cost of the greedy plan. ``cost_usd`` = NPV of capex and opex + unmet penalty."""

    cost_usd: float
    npv_usd: float
    unmet_penalty_usd: float
    served_share: float
    builds: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_dict(self) -> dict[str, Any]:
        """The summary.json ``baseline`` block (without the saving)."""
        return {"method": "greedy", "cost_usd": self.cost_usd, "npv_usd": self.npv_usd,
                "unmet_penalty_usd": self.unmet_penalty_usd, "served_share": self.served_share}


def greedy(data: PlanData, countries: list[str] | None = None) -> BaselineResult:
    """Run the greedy baseline on ``data`` (only ``countries`` when given: a portfolio's
    selection, so both plans serve the same countries)."""
    sites = data.sites
    acc = data.accelerators
    years = data.years
    discount = data.discount().to_series()
    rate_da = opex_usd_per_accelerator_year(data).transpose("site", "accelerator")
    opex_rate: dict[Any, float] = dict(rate_da.to_series().to_dict())
    life = data.accelerator_life_years
    headroom = (sites["power_limit_mw"] - sites["existing_mw"]).clip(lower=0).to_dict()
    existing_free = sites["existing_mw"].to_dict()
    rows: list[dict[str, Any]] = []
    capacity: dict[tuple[str, str], float] = {}  # (country, workload) -> tokens/s installed
    installed: list[tuple[str, str, int, float]] = []  # (site, accelerator, year, count)
    excluded = {(r.country, r.origin) for r in data.origin_caps if r.max_share == 0}
    unmet_usd = 0.0
    served_total = demand_total = 0.0

    rates: dict[Any, float] = data.rate.to_series().to_dict()  # (accelerator, workload)
    demand: dict[Any, float] = data.demand_tps.transpose("country", "workload", "year") \
        .to_series().to_dict()
    accs: list[Any] = list(acc.itertuples())
    by_country = {c: rows_.sort_values(["power_price_usd_per_mwh", "power_limit_mw"],
                                       ascending=[True, False])
                  for c, rows_ in sites.groupby("country")}

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

    def place(country: str, year: int, workload: str, amount: float, per_year: float) -> float:
        """Install accelerators for ``amount`` units of rate; return the amount left over."""
        for sid, aid, kw, r in options(country, year, workload):
            if amount <= 1e-9:
                break
            room_mw = existing_free[sid] + headroom[sid]
            n = min(amount / r, room_mw * 1000 / kw)
            if n <= 0:
                continue
            mw = n * kw / 1000
            from_existing = min(mw, existing_free[sid])
            existing_free[sid] -= from_existing
            new_mw = mw - from_existing
            headroom[sid] -= new_mw
            rows.append({"site": sid, "accelerator": aid, "year": year, "count": n,
                         "shell_mw": new_mw, "existing_mw_used": from_existing,
                         "capex_usd": n * acc.loc[aid, "capex_usd"]
                         + new_mw * data.facility_usd_per_mw})
            installed.append((sid, aid, year, n))
            amount -= n * r
        return max(amount, 0.0)

    for year in years:
        for country in data.countries.index if countries is None else countries:
            for w in data.inference:
                need = float(demand.get((country, w, year), 0.0))
                demand_total += need
                have = capacity.get((country, w), 0.0)
                if need > have:
                    left = place(country, year, w, need - have, 1.0)
                    capacity[(country, w)] = need - left
                    have = need - left
                served_total += min(have, need)
                short = max(need - have, 0.0)
                unmet_usd += short * data.unmet_usd_per_tps_year * float(discount[year])
        for w in data.training if year == years[0] else []:
            wl: Any = data.workloads.loc[w]
            start = int(wl["start_year"]) if "start_year" in wl and wl["start_year"] == \
                wl["start_year"] else 0
            ready = [y for y in years if start <= y <= wl["deadline_year"]]
            remaining = float(wl["required_eflop"])
            for i, y in enumerate(ready):
                run_years = len(ready) - i  # accelerators placed in y run to the deadline
                per_year = remaining / run_years
                left = place(str(wl["country"]), y, w, per_year, 1.0)
                remaining -= (per_year - left) * run_years
                if remaining <= 1e-9:
                    break
            unmet_usd += max(remaining, 0.0) * data.unmet_training_usd_per_eflop

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
                          served_share=float(np.clip(served, 0.0, 1.0)), builds=builds)
