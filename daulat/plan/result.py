"""Read a solved model into the plan tables (pandas) and write the plan directory.

The tables and their columns are declared once in :data:`daulat.plandir.TABLES` (the
contract every later stage reads; rendered in docs/plan.md). :func:`extract_tables` fills
the *output* tables from a solved model, :func:`input_tables` the *input* tables (what the
planner resolved: prices, peak factors, residency, funders) from :class:`PlanData`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from daulat.plan.build import MUSD, BuiltModel
from daulat.plan.data import SECONDS_PER_YEAR, PlanData
from daulat.plandir import TABLES, PlanStatus, PlanSummary, write_plan_dir
from daulat.sizing.demand import demand_ranges_rows

__all__ = ["PlanResult", "TABLES", "extract_tables", "input_tables", "people_served",
           "read_tables"]

_EPS = 1e-6


@dataclass
class PlanResult:
    """A solved (or explained) plan: ``tables`` by name and the typed ``summary``."""

    summary: PlanSummary
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scenario_yaml: str = ""

    @property
    def status(self) -> PlanStatus:
        """``optimal``, ``feasible`` (time limit, gap above target), ``infeasible`` or
        ``no_solution``."""
        return self.summary.status

    def write(self, out: str | Path) -> Path:
        """Write the plan directory: every declared table (CSV + Parquet), summary.json and
        the scenario solved (scenario.yaml, for people; later stages read the tables)."""
        extra = {"scenario.yaml": self.scenario_yaml} if self.scenario_yaml else {}
        return write_plan_dir(out, self.summary, self.tables, extra)


def read_tables(directory: str | Path) -> dict[str, pd.DataFrame]:
    """Read a written plan's CSV tables back as they are on disk (tests, the gateway)."""
    path = Path(directory)
    return {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""])
            for p in sorted(path.glob("*.csv"))}


def input_tables(data: PlanData) -> dict[str, pd.DataFrame]:
    """The resolved inputs later stages need, as the declared ``inputs_*`` tables."""
    s = data.sites.reset_index()
    s["power_price_source"] = (s["power_price_source"] if "power_price_source" in s
                               else "given (hand-built plan inputs)")
    s["shell_usd_per_mw"] = data.shell_usd_per_mw().to_numpy()
    if "shell_capex_source" not in s:
        s["shell_capex_source"] = "given (hand-built plan inputs): facility_usd_per_mw"
    c = data.countries.reset_index()
    for col, default in (("population", np.nan), ("residency_source", "given")):
        if col not in c:
            c[col] = default
    if "residency" not in c:
        rule = c["country"].map(data.residency).fillna("in_country")
        c["residency"] = rule.where(rule.isin(["in_country", "any"]), "jurisdictions")
        c["residency_jurisdictions"] = [
            "*" if r == "any" else str(cc) if r == "in_country" else str(r).replace(",", ";")
            for cc, r in zip(c["country"], c["country"].map(data.residency).fillna(
                "in_country"), strict=True)]
        c["residency_basis"] = "scenario"
    a = data.accelerators.reset_index()
    for col, default in (("vendor", ""), ("price_source", "given (hand-built plan inputs)"),
                         ("system_gpus", 1)):
        if col not in a:
            a[col] = default
    f = data.funders.reset_index().rename(columns={"basis": "budget_basis"})
    if data.peak_factors is not None:
        peaks = data.peak_factors
    else:
        peaks = pd.DataFrame([{"country": cc, "workload": w, "peak_factor": 1.0,
                               "source": "given (hand-built plan inputs): 1.0"}
                              for cc in data.countries.index for w in data.inference])
    out = {"inputs_sites": s, "inputs_countries": c, "inputs_accelerators": a,
           "inputs_funders": f, "inputs_peak_factors": peaks}
    if data.demand_detail is not None:  # what demand rests on (sizing, resolved)
        out["inputs_demand"] = data.demand_detail
        # the uncertain figures under it, with the fleet each end needs (daulat risk samples)
        w = data.demand_detail.drop_duplicates("workload")
        ranges = demand_ranges_rows(zip(w["workload"], w["usage_profile"], w["model"],
                                        strict=True), data.years[len(data.years) // 2])
        if ranges:
            out["inputs_demand_ranges"] = pd.DataFrame(ranges)
    if data.revenue is not None:  # who pays, at what price (catalog revenue.csv, resolved)
        out["inputs_revenue"] = data.revenue
    return out


def _series(var: Any) -> pd.Series:
    return var.solution.to_series().fillna(0.0)


def extract_tables(built: BuiltModel) -> dict[str, pd.DataFrame]:
    """All result tables from a solved model (units: USD, MW, tokens/s, MWh, tCO2)."""
    m, data = built.model, built.data
    sites = data.sites
    acc = data.accelerators
    site_country = sites["country"]

    buy = _series(m.variables["accelerators_added"])
    buy = buy[buy > _EPS]
    b = buy.rename("count").astype(float).reset_index()
    b["country"] = b["site"].map(site_country)
    b["it_mw"] = b["count"] * b["accelerator"].map(acc["it_kw"]).astype(float) / 1000
    b["facility_mw"] = b["it_mw"] * b["site"].map(sites["pue"]).astype(float)
    b["capex_usd"] = b["count"] * b["accelerator"].map(acc["capex_usd"]).astype(float)
    b["shell_mw"] = 0.0
    mw = _series(m.variables["mw_added"])
    mw = mw[mw > _EPS]
    f = mw.rename("shell_mw").astype(float).reset_index()
    f["country"] = f["site"].map(site_country)
    f["accelerator"] = "facility"
    f["count"] = 0.0
    f["it_mw"] = 0.0
    f["facility_mw"] = 0.0
    f["capex_usd"] = f["shell_mw"] * f["site"].map(data.shell_usd_per_mw().to_series()).astype(
        float)
    cols = ["site", "country", "year", "accelerator", "count", "it_mw", "facility_mw",
            "capex_usd", "shell_mw"]
    builds = pd.concat([b.reindex(columns=cols), f.reindex(columns=cols)], ignore_index=True)
    builds = builds.sort_values(["year", "site", "accelerator"]).reset_index(drop=True)

    inst_s = built.installed.solution.to_series().fillna(0.0)
    inst = inst_s[inst_s > _EPS].rename("count").astype(float).reset_index()
    inst["country"] = inst["site"].map(site_country)
    installed = inst.reindex(columns=["site", "country", "accelerator", "year", "count"])

    serve_s = _series(m.variables["served_tps"])
    serve = serve_s[serve_s > _EPS].rename("tokens_per_s").astype(float).reset_index()
    serve["site_country"] = serve["site"].map(site_country)
    routing = serve.reindex(columns=["country", "site", "site_country", "workload", "year",
                                     "tokens_per_s"])

    use = _series(m.variables["accelerators_used"])
    trn = data.training
    if trn:
        use = use[use.index.get_level_values("workload").isin(trn) & (use > _EPS)]
        t = use.rename("accelerators").astype(float).reset_index()
        t["country"] = t["workload"].map(data.workloads["country"])
        rate = data.rate.to_series()
        t["eflop"] = t["accelerators"] * [rate.get((a, w), 0.0) for a, w in
                                          zip(t["accelerator"], t["workload"], strict=True)]
        training = t.reindex(columns=["workload", "country", "site", "accelerator", "year",
                                      "accelerators", "eflop"])
    else:
        training = pd.DataFrame(columns=["workload", "country", "site", "accelerator", "year",
                                         "accelerators", "eflop"])

    d = data.demand_tps.to_series().rename("tokens_per_s").reset_index()
    users = data.users.to_series()
    d["users"] = [users.get((c, y), 0.0) for c, y in zip(d["country"], d["year"], strict=True)]
    demand = d
    unmet = _series(m.variables["unmet_tps"]).rename("tokens_per_s").reset_index()
    unmet = demand[["country", "workload", "year"]].merge(
        unmet, on=["country", "workload", "year"], how="left").fillna({"tokens_per_s": 0.0})
    # (rows with zero demand have no variable: unmet is 0 there)

    fund_s = _series(m.variables["funding_musd"]) * MUSD
    fund = fund_s[fund_s > 1.0].rename("usd").astype(float).reset_index()
    fund["funder_kind"] = fund["funder"].map(data.funders["kind"])
    fund["funder_country"] = fund["funder"].map(data.funders["country"])
    funding = fund.reindex(columns=["funder", "funder_kind", "funder_country", "site", "year",
                                    "usd"])
    by = funding.groupby(["funder", "site"])["usd"].sum()
    tot = by.groupby(level="site").transform("sum")
    ownership = (by / tot).rename("share").reset_index()

    capex = (built.capex_musd.solution.to_series().fillna(0.0) * MUSD).rename("capex_usd")
    opex = (built.opex_musd.solution.to_series().fillna(0.0) * MUSD).rename("opex_usd")
    sc = pd.concat([capex, opex], axis=1).reset_index()
    sc["country"] = sc["site"].map(site_country)
    site_costs = sc.reindex(columns=["site", "country", "year", "capex_usd", "opex_usd"])
    costs = site_costs.groupby("year")[["capex_usd", "opex_usd"]].sum().reindex(
        data.years, fill_value=0.0).rename_axis("year").reset_index()

    it = (built.installed.solution.fillna(0.0) * data.acc_col("it_kw") / 1000).sum(
        "accelerator").to_series().rename("it_mw")
    e = it.reset_index()
    e["country"] = e["site"].map(site_country)
    pue = e["site"].map(sites["pue"]).astype(float)
    grid = e["site"].map(sites["grid_gco2_per_kwh"]).astype(float).fillna(0.0)
    e["energy_mwh"] = e["it_mw"] * pue * data.load_factor * (SECONDS_PER_YEAR / 3600)
    e["emissions_tco2"] = e["energy_mwh"] * grid / 1000  # MWh x g/kWh = kg ... / 1000 = t
    energy = e[e["energy_mwh"] > _EPS].reindex(
        columns=["site", "country", "year", "energy_mwh", "emissions_tco2"])

    last = data.years[-1]
    built_mw = built.built_mw.solution.to_series().fillna(0.0)
    s = sites.reset_index()
    s["built_mw"] = [float(built_mw.get((sid, last), 0.0)) for sid in s["site"]]
    s["it_mw"] = [float(it.get((sid, last), 0.0)) for sid in s["site"]]
    site_table = s.reindex(columns=["site", "name", "country", "lat", "lon", "status",
                                    "built_mw", "power_limit_mw", "existing_mw",
                                    "earliest_year", "it_mw"])

    spent = funding.groupby(["funder", "year"])["usd"].sum()
    bud = data.budget_usd.to_series().rename("budget_usd").reset_index()
    bud["committed_usd"] = [float(spent.get((f_, y), 0.0)) for f_, y in
                            zip(bud["funder"], bud["year"], strict=True)]
    bud["basis"] = bud["funder"].map(data.funders["basis"])
    bud["commitment_usd"] = np.nan
    if data.commitment_usd is not None:
        floor = data.commitment_usd.to_series()
        bud["commitment_usd"] = [floor.get((f_, y), np.nan) for f_, y in
                                 zip(bud["funder"], bud["year"], strict=True)]
    budgets = bud.reindex(columns=["funder", "year", "budget_usd", "committed_usd", "basis",
                                   "commitment_usd"])

    tables = {
        "builds": builds, "installed": installed, "routing": routing, "training": training,
        "demand": demand, "unmet": unmet, "funding": funding, "ownership": ownership,
        "costs": costs, "site_costs": site_costs, "energy": energy, "sites": site_table,
        "budgets": budgets,
    }
    return {name: _clean(t) for name, t in tables.items()}


def _clean(table: pd.DataFrame) -> pd.DataFrame:
    """Solver noise (|x| < 1e-9, e.g. -1e-16 MW) written as exact zeros."""
    out = table.copy()
    for col in out.select_dtypes(include="float").columns:
        values = out[col].to_numpy(copy=True)
        values[np.abs(values) < 1e-9] = 0.0
        out[col] = values
    return out


def people_served(tables: dict[str, pd.DataFrame], year: int) -> float:
    """People served in ``year``: users × served share, averaged over inference workloads."""
    d = tables["demand"]
    d = d[(d["year"] == year) & (d["tokens_per_s"] > 0)]
    if d.empty:
        return 0.0
    u = tables["unmet"].set_index(["country", "workload", "year"])["tokens_per_s"]
    share = 1 - np.array([u.get((c, w, y), 0.0) for c, w, y in
                          zip(d["country"], d["workload"], d["year"], strict=True)]) / d[
        "tokens_per_s"].to_numpy()
    per_country = pd.Series(share * d["users"].to_numpy(), index=d["country"].to_numpy())
    return float(per_country.groupby(level=0).mean().sum())
