"""``daulat finance DIR`` and ``daulat risk DIR``: money and risk of a plan result.

``risk --resolve K`` re-plans, so it calls :func:`daulat.pipeline.write_resolve`: a stage's
command module belongs to the CLI layer, above the pipeline (pyproject.toml contracts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from daulat.console import console, emit
from daulat.finance import run_risk, write_finance
from daulat.formatting import format_money, format_number
from daulat.pipeline import write_resolve

__all__ = ["register"]



def _ratio(x: float) -> str:
    """A multiple of the base case: 1.53×, not money."""
    return f"{x:.2f}×"


#: How each risk metric prints (money unless named here).
_RISK_FORMAT: dict[str, Callable[[float], str]] = {
    "people_served": format_number, "capacity_need_ratio": _ratio}

def finance(
    plan_dir: Path = typer.Argument(..., help="Plan result directory (daulat plan --out DIR)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write cash flows, returns (NPV, IRR, payback) and the funding ramp into PLAN_DIR."""
    summary = write_finance(plan_dir)

    def render(s: dict[str, Any]) -> None:
        table = Table(title=f"Returns per funder ({s['currency']} {s['price_year']}, "
                            f"discount rate {s['discount_rate']:.1%})")
        for col in ("funder", "capital", "licence paid", "new revenue", "NPV", "IRR", "payback"):
            table.add_column(col, justify="left" if col == "funder" else "right")
        for f in s["funders"]:
            irr = "—" if f["irr"] is None else f"{f['irr']:.1%}"
            pay = "—" if f["payback_year"] is None else str(f["payback_year"])
            table.add_row(f["funder"], format_money(f["capital_usd"]),
                          format_money(f.get("licence_usd", 0.0)),
                          format_money(f["revenue_usd"]), format_money(f["npv_usd"]), irr, pay)
        lines = s.get("revenue_by_line") or {}
        if lines:
            console.print("new revenue by line (revenue_lines.csv, each with its payer): "
                          + "; ".join(f"{k} {format_money(v)}" for k, v in lines.items()))
        console.print(table)
        console.print(f"wrote {', '.join(s['files'])} in {plan_dir}")

    emit(summary, as_json, render)


def risk(
    plan_dir: Path = typer.Argument(..., help="Plan result directory (daulat plan --out DIR)."),
    samples: int = typer.Option(10_000, "--samples", help="Monte Carlo samples."),
    engine: str = typer.Option(
        "local", "--engine",
        help="Where the work runs: local (this machine, a process pool with --workers > 1)"
             " or ray (a Ray cluster; needs the daulat[ray] extra)."),
    workers: int | None = typer.Option(
        None, "--workers",
        help="Parallel workers (processes, or CPUs of a local Ray instance). Default: the"
             " Monte Carlo in this process, re-solves one process per CPU."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed; the same seed gives the"
                                                         " same answer on any engine."),
    resolve: int = typer.Option(
        0, "--resolve",
        help="Also re-solve the plan K times with the scenario's sensitivity knobs drawn from"
             " its uncertainty ranges (slower: one solve each)."),
    ray_address: str | None = typer.Option(
        None, "--ray-address",
        help="Ray cluster to join with --engine ray (default: $RAY_ADDRESS, else a local Ray"
             " instance)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Monte Carlo risk of a plan: P10/P50/P90 of cost, people served and each funder's NPV,
    and a tornado table; written into PLAN_DIR (risk.csv, risk_fan.csv, tornado.csv,
    risk.json)."""
    result = run_risk(plan_dir, samples, seed=seed, engine=engine, workers=workers,
                      ray_address=ray_address)
    if resolve > 0:
        result["resolve"] = write_resolve(plan_dir, resolve, seed=seed, engine=engine,
                                          workers=workers, ray_address=ray_address)
        result["files"].append("risk_resolve.csv")

    def render(r: dict[str, Any]) -> None:
        table = Table(title=f"Risk: {r['samples']:,} samples in {r['seconds']:.2f} s "
                            f"({r['engine']}, {r['workers']} worker(s))")
        for col in ("metric", "P10", "P50", "P90", "plan"):
            table.add_column(col, justify="left" if col == "metric" else "right")
        for q in r["quantiles"]:
            name = q["metric"] + (f" ({q['funder']})" if q["funder"] else "")
            fmt = _RISK_FORMAT.get(q["metric"], format_money)
            table.add_row(name, fmt(q["p10"]), fmt(q["p50"]), fmt(q["p90"]), fmt(q["base"]))
        console.print(table)
        if "resolve" in r:
            rs = r["resolve"]
            console.print(f"re-solved {rs['solved']}/{rs['plans']} plans in {rs['seconds']:.1f} s"
                          f" ({r['engine']}, {rs['workers']} worker(s))")
        console.print(f"wrote {', '.join(r['files'])} in {plan_dir}")

    emit(result, as_json, render)


def register(app: typer.Typer) -> None:
    """Add ``finance`` and ``risk`` to ``app``."""
    app.command("finance")(finance)
    app.command("risk")(risk)
