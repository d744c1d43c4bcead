"""Programme-level validation: a plan's capital per GW, per MW of shell and per
accelerator against public figures (docs/validation.md, "Programme level").

    python benchmarks/programme_validation.py PLAN_DIR     # a plan directory
    python benchmarks/programme_validation.py              # plans examples/program-10.yaml first

Prints two tables: each measure of the plan, the public figure it is checked against (range,
source) and whether the plan is inside it — misses are printed, not hidden; then each
funder's capital, NPV and IRR with the revenue lines behind them (``daulat finance`` output)
and the licence a government pays. Capital is split into its components (accelerator
systems, network, storage; site shell, soft costs, land, grid connection) with the catalog
shares the planner priced them at.

Which figures were fitted and which only checked: the network and storage shares come from
Bernstein's GB200 NVL72 breakdown (constants.csv), so the check against Bernstein's $35B per
GW is not independent of them (its total was not fitted: no factor was set to land on it);
NVIDIA's $50-60B and Stargate's $50B per GW, and C&W's shell range, are only checked.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from daulat.catalog.constants import constant
from daulat.catalog.sites import get_site, shell_capex, site_capex_components
from daulat.errors import UserError
from daulat.plandir import read_plan_dir

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Public:
    """A public figure: range low..high in the unit of the measure, and its source."""

    low: float
    high: float
    source: str


#: USD per GW of facility power, all-in (accelerators, network, shell, power, cooling).
ALL_IN_PER_GW = Public(
    35e9, 60e9,
    "Bernstein (Oct 2025) ~$35B per GW (GB200 NVL72 rack $5.9M: $3.4M compute + $2.5M "
    "infrastructure); NVIDIA Q2 FY2026 call (Aug 2025) $50-60B per GW, ~$35B of it NVIDIA; "
    "OpenAI Stargate $500B / 10 GW (Jan 2025) = $50B")
#: USD per accelerator, all-in (its system, network share and its share of the shell).
PER_ACCELERATOR = Public(
    47e3, 82e3,
    "Bernstein (Oct 2025): GB200 NVL72 rack $3.4M compute / 72 = $47k per GPU; "
    "$5.9M all-in / 72 = $82k")
#: USD per MW of critical IT load for shell, power and cooling (hard cost only).
SHELL_PER_MW_IT = Public(
    9.3e6, 15.0e6,
    "Cushman & Wakefield Data Center Development Cost Guide 2025: US average $11.7M per MW "
    "IT, range $9.3-15.0M; Turner & Townsend 2025-26: Tokyo $15.2/W, Johor (C&W APAC) $8.8/W")


def _plan_program_10(out: Path) -> Path:
    daulat = Path(sys.executable).with_name("daulat")
    subprocess.run([str(daulat), "plan", str(ROOT / "examples" / "program-10.yaml"), "--out",
                    str(out)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(daulat), "finance", str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def _components(site: str) -> dict[str, float]:
    """A site's capex components per MW IT as shares of its all-in figure."""
    try:
        parts = site_capex_components(get_site(site))
    except UserError:  # an inline site of the scenario: the generic figures
        parts = site_capex_components(None)
    total = sum(v for v, _ in parts.values())
    return {k: v / total for k, (v, _) in parts.items()}


def capital_components(plan_dir: Path) -> dict[str, float]:
    """Capital (USD, undiscounted) by component: accelerator systems, network and storage
    (the catalog shares accelerator_capex_usd adds to the system price), and each site's
    shell, soft costs, land and grid connection (catalog.sites.site_capex_components)."""
    b = read_plan_dir(plan_dir)["builds"]
    acc = float(b.loc[b["accelerator"] != "facility", "capex_usd"].sum())
    net, sto = constant("network_capex_share"), constant("storage_capex_share")
    out = {"accelerator systems": acc / (1 + net + sto), "network": acc * net / (1 + net + sto),
           "storage": acc * sto / (1 + net + sto)}
    shell = b[b["accelerator"] == "facility"]
    per_site: dict[str, float] = {str(k): float(v) for k, v in
                                  shell.groupby("site")["capex_usd"].sum().items()}
    for site, usd in per_site.items():
        for k, share in _components(site).items():
            out[f"site {k}"] = out.get(f"site {k}", 0.0) + usd * share
    return out


@dataclass(frozen=True)
class Funder:
    """One paying funder's money in a plan (USD, undiscounted but NPV)."""

    funder: str
    capital: float
    opex: float
    npv: float
    irr: float | None
    irr_note: str
    licence: float
    lines: dict[str, float]


def funders(plan_dir: Path) -> list[Funder]:
    """Each funder that pays: capital, NPV, IRR (or why none), licence paid, and its new
    revenue by line (``daulat finance`` tables)."""
    returns = pd.read_csv(plan_dir / "returns.csv")
    flows = pd.read_csv(plan_dir / "cashflows.csv")
    lines = pd.read_csv(plan_dir / "revenue_lines.csv")
    by_line: dict[str, dict[str, float]] = {}
    for f, line, usd in lines.groupby(["funder", "line"], as_index=False)[
            "revenue_usd"].sum().itertuples(index=False):
        by_line.setdefault(str(f), {})[str(line)] = float(usd)
    licence = {str(k): float(v) for k, v in flows.groupby("funder")["licence_usd"].sum().items()}
    opex = {str(k): float(v) for k, v in flows.groupby("funder")["opex_usd"].sum().items()}
    out = []
    for r in returns.to_dict(orient="records"):
        name = str(r["funder"])
        if float(r["capital_usd"]) <= 0:
            continue
        irr: Any = r["irr"]
        note: Any = r["irr_note"]
        out.append(Funder(
            funder=name, capital=float(r["capital_usd"]), opex=opex.get(name, 0.0),
            npv=float(r["npv_usd"]), irr=None if pd.isna(irr) else float(irr),
            irr_note="" if pd.isna(note) else str(note).split(":")[0],
            licence=licence.get(name, 0.0), lines=by_line.get(name, {})))
    return out


def measures(plan_dir: Path) -> list[tuple[str, float | None, Public | None, str]]:
    """(measure, value, public figure or None, how it is computed) for a plan directory."""
    d = read_plan_dir(plan_dir)
    b = d["builds"]
    acc = b[b["accelerator"] != "facility"]
    shell = b[b["accelerator"] == "facility"]
    last = d.summary.horizon[1]
    sites = d["inputs_sites"].set_index("site")
    installed = d["installed"]
    it_kw = d["inputs_accelerators"].set_index("accelerator")["it_kw"]
    inst = installed[installed["year"] == last].copy()
    inst["it_mw"] = inst["count"] * inst["accelerator"].map(it_kw).fillna(0.0) / 1000
    inst["facility_mw"] = inst["it_mw"] * inst["site"].map(sites["pue"]).fillna(1.0)
    facility_gw = float(inst["facility_mw"].sum()) / 1000
    it_gw = float(inst["it_mw"].sum()) / 1000
    capital = float(b["capex_usd"].sum())
    acc_capital = float(acc["capex_usd"].sum())
    shell_capital = float(shell["capex_usd"].sum())
    hard_shell = sum(float(u) * _components(str(site))["shell"]
                     for site, u in shell.groupby("site")["capex_usd"].sum().items())
    shell_mw = float(shell["shell_mw"].sum())
    count = float(acc["count"].sum())
    drawn = inst.groupby("site")["facility_mw"].sum()
    existing_mw = d["sites"].set_index("site")["existing_mw"]
    free = float(sum(min(float(mw), float(existing_mw.get(s, 0.0))) for s, mw in drawn.items()))
    shell_it_mw = shell_mw / max(float(sites["pue"].mean()), 1e-9)
    # What the shells the plan did not pay for cost at their catalog price (per MW IT)
    unpaid = 0.0
    for s, mw in drawn.items():
        free_mw = min(float(mw), float(existing_mw.get(s, 0.0)))
        try:
            usd_per_it_mw = shell_capex(get_site(str(s)))[0]
        except UserError:  # an inline site of the scenario: not in the catalog
            continue
        unpaid += free_mw / float(sites.at[s, "pue"]) * usd_per_it_mw
    rows: list[tuple[str, float | None, Public | None, str]] = [
        ("capital per GW in service, all-in (USD/GW facility)",
         capital / facility_gw if facility_gw else None, ALL_IN_PER_GW,
         f"capex ${capital / 1e9:,.1f}B / {facility_gw:,.2f} GW facility in service {last}"),
        ("all-in per GW with unpaid shells at catalog cost (USD/GW facility)",
         (capital + unpaid) / facility_gw if facility_gw else None, ALL_IN_PER_GW,
         f"+ ${unpaid / 1e9:,.1f}B for the sites of existing/announced sites the plan "
         "used free (catalog all-in site capex per MW IT)"),
        ("capital per accelerator (USD)", capital / count if count else None, PER_ACCELERATOR,
         f"all capex / {count:,.0f} accelerators bought"),
        ("accelerator capital per accelerator (USD)", acc_capital / count if count else None,
         PER_ACCELERATOR, "system + network and storage shares only"),
        ("shell, power and cooling (hard cost) per MW IT built (USD/MW)",
         hard_shell / shell_it_mw if shell_it_mw else None, SHELL_PER_MW_IT,
         f"hard shell ${hard_shell / 1e9:,.2f}B / {shell_it_mw:,.0f} MW IT of shell"),
        ("site capital per MW IT built, all-in (USD/MW)",
         shell_capital / shell_it_mw if shell_it_mw else None, None,
         f"site capex ${shell_capital / 1e9:,.2f}B (shell + soft costs + land + grid "
         "connection)"),
        ("capital per MW IT in service, all-in (USD/MW)",
         capital / (it_gw * 1000) if it_gw else None, None,
         f"capex ${capital / 1e9:,.1f}B / {it_gw * 1000:,.0f} MW IT in service {last}"),
        ("share of facility MW in service whose site the plan did not pay for",
         free / (facility_gw * 1000) if facility_gw else None, None,
         f"{free:,.0f} MW drawn within sites' existing_mw (sites.csv: in service before the "
         f"plan, or paid outside it) of {facility_gw * 1000:,.0f} MW"),
        ("IT GW in service", it_gw, None, f"installed accelerators x IT kW, {last}"),
    ]
    return rows


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    if v < 0:
        return "-" + _fmt(-v)
    if abs(v) >= 1e9:
        return f"${v / 1e9:,.1f}B"
    if abs(v) >= 1e6:
        return f"${v / 1e6:,.2f}M"
    if abs(v) >= 1e3:
        return f"${v / 1e3:,.1f}k"
    return f"${v:,.0f}"


def main(argv: list[str]) -> int:
    if argv:
        plan_dir = Path(argv[0])
    else:
        plan_dir = _plan_program_10(Path(tempfile.mkdtemp(prefix="p10-")))
    print(f"plan: {plan_dir}")
    print("| measure | plan | public | verdict | how |")
    print("|---|---|---|---|---|")
    for name, value, public, how in measures(plan_dir):
        if public is None or value is None:
            verdict, ref = "—", "—"
        else:
            ref = f"{_fmt(public.low)}–{_fmt(public.high)}"
            if value < public.low:
                verdict = f"MISS: {1 - value / public.low:.0%} below"
            elif value > public.high:
                verdict = f"MISS: {value / public.high - 1:.0%} above"
            else:
                verdict = "within"
        shown = _fmt(value) if public is not None or "(USD" in name else (
            "—" if value is None else f"{value:,.3f}")
        print(f"| {name} | {shown} | {ref} | {verdict} | {how} |")
    print()
    for public in (ALL_IN_PER_GW, PER_ACCELERATOR, SHELL_PER_MW_IT):
        print(f"- {public.source}")
    parts = capital_components(plan_dir)
    total = sum(parts.values())
    print()
    print("| capital component | USD | share |")
    print("|---|---|---|")
    for k, v in parts.items():
        print(f"| {k} | {_fmt(v)} | {v / total:.1%} |")
    print(f"| total | {_fmt(total)} | 100% |")
    if (plan_dir / "returns.csv").exists():
        print()
        print("| funder | capital | opex | licence paid | new revenue: subscriptions / "
              "government licence / API & enterprise / VAT | NPV | IRR |")
        print("|---|---|---|---|---|---|---|")
        for f in funders(plan_dir):
            rev = " / ".join(_fmt(f.lines.get(k, 0.0)) for k in
                             ("subscriptions", "government_licence", "api_enterprise", "vat"))
            irr_text = f"{f.irr:.1%}" if f.irr is not None else f.irr_note
            print(f"| {f.funder} | {_fmt(f.capital)} | {_fmt(f.opex)} | {_fmt(f.licence)} | "
                  f"{rev} | {_fmt(f.npv)} | {irr_text} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
