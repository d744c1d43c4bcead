"""Read a solved model into the plan tables (pandas) and write the result directory.

Tables (CSV and Parquet, long format) — columns are the contract other stages read:

- ``builds``: site, country, year, accelerator, count, it_mw, facility_mw, capex_usd,
  shell_mw. Accelerator rows carry the accelerators bought (their IT MW and facility MW
  = IT × PUE); rows with ``accelerator == "facility"`` carry the facility shell built
  (``shell_mw``, its capex), so ``capex_usd`` sums to the plan's capital.
- ``installed``: site, country, accelerator, year, count (in service within their life).
- ``routing``: country, site, site_country, workload, year, tokens_per_s.
- ``training``: workload, country, site, accelerator, year, accelerators, eflop.
- ``demand``: country, workload, year, tokens_per_s, users.
- ``unmet``: country, workload, year, tokens_per_s.
- ``funding``: funder, funder_kind, funder_country, site, year, usd.
- ``ownership``: funder, site, share (capital share; sums to 1 per funded site).
- ``costs``: year, capex_usd, opex_usd; ``site_costs``: site, country, year, capex_usd, opex_usd.
- ``energy``: site, country, year, energy_mwh, emissions_tco2.
- ``sites``: site, name, country, lat, lon, status, built_mw, power_limit_mw, existing_mw,
  earliest_year, it_mw.
- ``budgets``: funder, year, budget_usd, committed_usd, basis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from daulat.console import to_jsonable
from daulat.plan.build import MUSD, BuiltModel
from daulat.plan.data import SECONDS_PER_YEAR

__all__ = ["PlanResult", "TABLES", "read_tables"]

TABLES = ("builds", "installed", "routing", "training", "demand", "unmet", "funding",
          "ownership", "costs", "site_costs", "energy", "sites", "budgets")
_EPS = 1e-6


@dataclass
class PlanResult:
    """A solved (or explained) plan: ``tables`` by name, ``summary`` as in summary.json."""

    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scenario_yaml: str = ""

    @property
    def status(self) -> str:
        """``optimal``, ``feasible`` (time limit, gap above target) or ``infeasible``."""
        return str(self.summary.get("status"))

    def write(self, out: str | Path) -> Path:
        """Write every table (CSV + Parquet), summary.json and scenario.yaml under ``out``."""
        path = Path(out)
        path.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables.items():
            table.to_csv(path / f"{name}.csv", index=False)
            table.to_parquet(path / f"{name}.parquet", index=False)
        (path / "summary.json").write_text(
            json.dumps(to_jsonable(self.summary), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        if self.scenario_yaml:
            (path / "scenario.yaml").write_text(self.scenario_yaml, encoding="utf-8")
        return path


def read_tables(directory: str | Path) -> dict[str, pd.DataFrame]:
    """Read a written plan's CSV tables back (for tests, finance and the gateway)."""
    path = Path(directory)
    return {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""])
            for p in sorted(path.glob("*.csv"))}


def _series(var: Any) -> pd.Series:
    return var.solution.to_series().fillna(0.0)


def _frame(series: pd.Series, name: str) -> pd.DataFrame:
    return series.rename(name).reset_index()


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
    f["capex_usd"] = f["shell_mw"] * data.facility_usd_per_mw
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
    budgets = bud.reindex(columns=["funder", "year", "budget_usd", "committed_usd", "basis"])

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
