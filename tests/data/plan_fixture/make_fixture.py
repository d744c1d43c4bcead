"""Regenerate the fixture tables beside this file: a small hand-made Indonesian plan (3 sites,
2 funders, 2026-2030). Fixture values, not sourced estimates (see README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from daulat.plandir import PlanInputs, PlanSummary, write_plan_dir
from daulat.scenario.schema import Finance, Triangular, Uncertainty

out = Path(__file__).resolve().parent
years = list(range(2026, 2031))
sites = [
    # site, name, country, lat, lon, status, power_limit_mw
    ("jakarta-1", "Jakarta (Cikarang)", "IDN", -6.30, 107.15, "operational", 30.0),
    ("batam-1", "Batam (Nongsa)", "IDN", 1.18, 104.10, "under_construction", 60.0),
    ("surabaya-1", "Surabaya", "IDN", -7.25, 112.75, "candidate", 40.0),
]
# per-accelerator figures (fixture values, round numbers of the right order)
acc = {
    "H200-SXM": dict(it_kw=1.45, price=38000, tps=2400),
    "GB200": dict(it_kw=1.95, price=62000, tps=6000),
    "GB300": dict(it_kw=2.05, price=70000, tps=7500),
}
pue = 1.35
facility_usd_per_mw = 11e6
builds = [
    ("jakarta-1", 2026, "H200-SXM", 448),
    ("batam-1", 2027, "GB200", 576),
    ("jakarta-1", 2028, "GB200", 432),
    ("surabaya-1", 2029, "GB300", 720),
    ("batam-1", 2030, "GB300", 864),
]
rows = []
for s, y, a, n in builds:
    it = n * acc[a]["it_kw"] / 1000
    fac = it * pue
    capex = n * acc[a]["price"] + fac * facility_usd_per_mw
    rows.append(
        dict(
            site=s,
            country="IDN",
            year=y,
            accelerator=a,
            count=n,
            it_mw=round(it, 3),
            facility_mw=round(fac, 3),
            capex_usd=round(capex, -3),
        )
    )
b = pd.DataFrame(rows)
b.to_csv(out / "builds.csv", index=False)

# capacity tokens/s per site-year (accelerator life > horizon)
cap = {(s[0], y): 0.0 for s in sites for y in years}
for s, y0, a, n in builds:
    for y in years:
        if y >= y0:
            cap[(s, y)] += n * acc[a]["tps"]
population, internet = 277_534_122, 0.69
adoption = {2026: 0.05, 2027: 0.09, 2028: 0.14, 2029: 0.20, 2030: 0.27}
qpd, out_tok, peak = 8, 450, 3.0
dem, routing, unmet = [], [], []
for y in years:
    users = population * internet * adoption[y]
    tps = users * qpd * out_tok / 86400 * peak
    dem.append(
        dict(
            country="IDN",
            workload="assistant-medium",
            year=y,
            tokens_per_s=round(tps, 1),
            users=round(users),
        )
    )
    total_cap = sum(cap[(s[0], y)] for s in sites)
    served = min(tps, total_cap)
    for s in sites:
        if cap[(s[0], y)] > 0:
            routing.append(
                dict(
                    country="IDN",
                    site=s[0],
                    site_country="IDN",
                    workload="assistant-medium",
                    year=y,
                    tokens_per_s=round(served * cap[(s[0], y)] / total_cap, 1),
                )
            )
    unmet.append(
        dict(
            country="IDN", workload="assistant-medium", year=y, tokens_per_s=round(tps - served, 1)
        )
    )
pd.DataFrame(dem).to_csv(out / "demand.csv", index=False)
pd.DataFrame(routing).to_csv(out / "routing.csv", index=False)
pd.DataFrame(unmet).to_csv(out / "unmet.csv", index=False)

# funding: provider / government split per build (government >= 30 %)
gov_share = {
    ("jakarta-1", 2026): 0.30,
    ("batam-1", 2027): 0.50,
    ("jakarta-1", 2028): 0.35,
    ("surabaya-1", 2029): 0.40,
    ("batam-1", 2030): 0.45,
}
fund = []
for r in rows:
    g = gov_share[(r["site"], r["year"])]
    fund.append(
        dict(
            funder="provider",
            funder_kind="provider",
            funder_country="USA",
            site=r["site"],
            year=r["year"],
            usd=round(r["capex_usd"] * (1 - g), -3),
        )
    )
    fund.append(
        dict(
            funder="government-idn",
            funder_kind="government",
            funder_country="IDN",
            site=r["site"],
            year=r["year"],
            usd=round(r["capex_usd"] * g, -3),
        )
    )
f = pd.DataFrame(fund)
f.to_csv(out / "funding.csv", index=False)
own = f.groupby(["funder", "site"], as_index=False)["usd"].sum()
own["share"] = own["usd"] / own.groupby("site")["usd"].transform("sum")
own[["funder", "site", "share"]].round(6).to_csv(out / "ownership.csv", index=False)

# energy and opex
power_price, grid = 82.0, 0.676  # USD/MWh, tCO2/MWh
load = 0.75
en, costs = [], []
for y in years:
    opex_y = 0.0
    for s in sites:
        fac = b[(b.site == s[0]) & (b.year <= y)].facility_mw.sum()
        if fac == 0:
            continue
        e = fac * 8760 * load
        en.append(
            dict(
                site=s[0],
                country="IDN",
                year=y,
                energy_mwh=round(e, 1),
                emissions_tco2=round(e * grid, 1),
            )
        )
        capex_cum = b[(b.site == s[0]) & (b.year <= y)].capex_usd.sum()
        opex_y += e * power_price + 0.04 * capex_cum + 1.5e6
    costs.append(
        dict(year=y, capex_usd=float(b[b.year == y].capex_usd.sum()), opex_usd=round(opex_y, -3))
    )
pd.DataFrame(en).to_csv(out / "energy.csv", index=False)
c = pd.DataFrame(costs)
c.to_csv(out / "costs.csv", index=False)

sdf = []
for s in sites:
    sdf.append(
        dict(
            site=s[0],
            name=s[1],
            country=s[2],
            lat=s[3],
            lon=s[4],
            status=s[5],
            built_mw=round(b[b.site == s[0]].facility_mw.sum(), 3),
            power_limit_mw=s[6],
        )
    )
pd.DataFrame(sdf).to_csv(out / "sites.csv", index=False)

budget = {
    "provider": [40e6, 60e6, 60e6, 80e6, 100e6],
    "government-idn": [12e6, 26_196_000.0, 20e6, 40e6, 50e6],
}
bud = []
for fn, vals in budget.items():
    for y, v in zip(years, vals, strict=False):
        bud.append(
            dict(
                funder=fn,
                year=y,
                budget_usd=v,
                committed_usd=float(f[(f.funder == fn) & (f.year == y)].usd.sum()),
            )
        )
pd.DataFrame(bud).to_csv(out / "budgets.csv", index=False)

served_final = sum(r["tokens_per_s"] for r in routing if r["year"] == 2030)
people = dem[-1]["users"] * served_final / dem[-1]["tokens_per_s"]
tot = dict(
    capex_usd=float(c.capex_usd.sum()),
    opex_usd=float(c.opex_usd.sum()),
    facility_mw=float(b.facility_mw.sum()),
    accelerators=int(b["count"].sum()),
    energy_mwh=float(sum(e["energy_mwh"] for e in en)),
    emissions_tco2=float(sum(e["emissions_tco2"] for e in en)),
)
base = (tot["capex_usd"] + tot["opex_usd"]) * 1.18
summary = dict(
    status="optimal",
    objective="min_cost",
    objective_value=round(tot["capex_usd"] + tot["opex_usd"], -3),
    mip_gap=0.0,
    solve_seconds=0.42,
    horizon=[2026, 2030],
    totals=tot,
    people_served=round(people),
    cost_of_sovereignty_usd=12_400_000.0,
    baseline=dict(
        cost_usd=round(base, -3),
        saving_usd=round(base - tot["capex_usd"] - tot["opex_usd"], -3),
        saving_share=round(1 - 1 / 1.18, 4),
    ),
    binding=[
        dict(
            constraint="site-power_limit[jakarta-1,2028]",
            text="Jakarta (Cikarang) is at its 30 MW power limit in 2028",
            shadow_price=412000.0,
        ),
        dict(
            constraint="funder-budget[government-idn,2027]",
            text="government-idn spends its whole 2027 budget",
            shadow_price=0.06,
        ),
    ],
    currency="USD",
    price_year=2025,
)

# ---- the declared plan directory (daulat.plandir): every table with its declared
# columns (those a hand-made plan leaves out are written empty or with neutral values),
# the resolved input tables and the typed summary with the format version
tables = {n: pd.read_csv(out / f"{n}.csv") for n in (
    "builds", "routing", "demand", "unmet", "funding", "ownership", "costs", "energy",
    "sites", "budgets")}
tables["builds"]["shell_mw"] = 0.0
sites_t = tables["sites"]
sites_t["existing_mw"] = 0.0
sites_t["earliest_year"] = 2026
sites_t["it_mw"] = [round(b[b.site == s].it_mw.sum(), 3) for s in sites_t["site"]]
tables["budgets"]["basis"] = "per_year"
tables["inputs_sites"] = pd.DataFrame([
    dict(site=s[0], name=s[1], country=s[2], status=s[5], pue=pue,
         power_price_usd_per_mwh=power_price, power_price_source="fixture value",
         grid_gco2_per_kwh=grid * 1000) for s in sites])
tables["inputs_countries"] = pd.DataFrame([dict(
    country="IDN", name="Indonesia", income_group="UMC", population=population,
    internet_share=internet, lat=-6.2, lon=106.8, weight=1.0, residency="in_country",
    residency_jurisdictions="IDN", residency_basis="scenario",
    residency_source="fixture value")])
tables["inputs_accelerators"] = pd.DataFrame([dict(
    accelerator=a, vendor="NVIDIA", origin="USA", capex_usd=v["price"],
    price_source="fixture value", it_kw=v["it_kw"], system_gpus=8,
    opex_usd_per_year=0.04 * v["price"], first_year=2024) for a, v in acc.items()])
tables["inputs_funders"] = pd.DataFrame([
    dict(funder="provider", name="provider", kind="provider", country=None,
         budget_basis="per_year"),
    dict(funder="government-idn", name="government-idn", kind="government", country="IDN",
         budget_basis="per_year")])
tables["inputs_peak_factors"] = pd.DataFrame([dict(
    country="IDN", workload="assistant-medium", peak_factor=peak,
    source="fixture value (scenario workloads[].demand.peak_factor)")])
inputs = PlanInputs(
    scenario_name="indonesia-fixture",
    finance=Finance(discount_rate=0.08, token_price_usd_per_million=1.0),
    uncertainty=Uncertainty(
        accelerator_price=Triangular(low=0.85, mode=1.0, high=1.3),
        adoption=Triangular(low=0.6, mode=1.0, high=1.5),
        power_price=Triangular(low=0.8, mode=1.0, high=1.4),
        delay_years=Triangular(low=0, mode=0, high=2)),
    asset_life_years=5, asset_life_source="fixture value",
    rules={"min_government_share": 0.3})
summary["scenario"] = "indonesia-fixture"
summary["horizon"] = (2026, 2030)
write_plan_dir(out, PlanSummary(inputs=inputs, **summary), tables)
for parquet in out.glob("*.parquet"):  # the fixture keeps CSV only (readable diffs)
    parquet.unlink()
