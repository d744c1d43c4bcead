"""``daulat plan SCENARIO --out DIR``: solve a scenario and write the plan directory.

With ``--finance`` (default) and ``--risk N`` it runs the later stages too, through
:func:`daulat.pipeline.run_pipeline` — a stage's command module belongs to the CLI layer,
above the pipeline (see the import-linter contracts in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from daulat.console import console, emit
from daulat.errors import UserError
from daulat.formatting import format_money, format_number
from daulat.pipeline import run_pipeline
from daulat.plandir import PlanSummary, Totals

__all__ = ["register", "render_summary"]


def render_summary(summary: PlanSummary, out: Path | None = None,
                   finance: dict[str, Any] | None = None,
                   risk: dict[str, Any] | None = None) -> None:
    """Print a plan summary (with its finance and risk results, when run) for people."""
    if summary.status.value in ("infeasible", "no_solution"):
        if summary.status.value == "infeasible":
            console.print("[bold red]The scenario is infeasible[/]: its rules cannot all hold.")
        for line in summary.infeasibility:
            console.print(f" • {line}", highlight=False)
        return
    t = summary.totals or Totals()
    min_cost = summary.objective == "min_cost"
    table = Table(title=f"Plan: {summary.scenario} "
                        f"({summary.horizon[0]}–{summary.horizon[1]}, "
                        f"{summary.objective}, {summary.status.value})")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    # what the plan costs (capex + opex, NPV) first; the price put on unmet demand is an
    # objective weight, not money anyone spends, and is shown on its own line
    table.add_row("cost (NPV of capex + opex)", format_money(t.npv_cost_usd))
    if t.site_opening_usd:
        table.add_row("site opening costs", format_money(t.site_opening_usd))
    if min_cost:
        table.add_row("unmet-demand penalty (NPV, not spent)", format_money(t.unmet_penalty_usd))
        table.add_row("objective (cost + penalty)", format_money(t.plan_cost_usd))
    table.add_row("capex (undiscounted)", format_money(t.capex_usd))
    table.add_row("opex (undiscounted)", format_money(t.opex_usd))
    table.add_row("facility MW drawn (IT × PUE, last year)", format_number(t.facility_mw, digits=1))
    table.add_row("new facility MW built", format_number(t.shell_mw_built, digits=1))
    table.add_row("accelerators bought", format_number(t.accelerators))
    table.add_row("share of demand served", f"{summary.served_share or 0:.1%}")
    table.add_row("people served (last year)", format_number(summary.people_served or 0))
    table.add_row("emissions (tCO2, horizon)", format_number(t.emissions_tco2))
    sov = summary.sovereignty or {}
    relaxed_npv, relaxed_people = sov.get("relaxed_npv_cost_usd"), sov.get("relaxed_people_served")
    people = summary.people_served
    if (min_cost and relaxed_npv is not None and people is not None
            and relaxed_people is not None and abs(people - relaxed_people) >= 0.5):
        # the relaxed plan serves other people: the objectives' difference is mostly the
        # price on unmet demand — show the money and the people apart
        table.add_row("cost of sovereignty (capex + opex, NPV)",
                      format_money(t.npv_cost_usd - relaxed_npv))
        table.add_row("people served with residency relaxed (last year)",
                      format_number(relaxed_people))
    else:
        table.add_row("cost of sovereignty", format_money(summary.cost_of_sovereignty_usd))
    base = summary.baseline
    if base:
        table.add_row("greedy baseline cost" + (" (incl. penalty)" if min_cost else ""),
                      format_money(base["cost_usd"]))
        if summary.objective == "max_access" and base.get("access_gain_share") is not None:
            table.add_row("people served by the greedy (last year)",
                          format_number(base.get("people_served", 0)))
            table.add_row("access gain vs greedy (weighted)", f"{base['access_gain_share']:+.1%}")
        else:
            table.add_row("saving vs greedy", f"{format_money(base['saving_usd'])} "
                                              f"({base['saving_share']:.1%})")
    if summary.selected_countries:
        table.add_row("countries selected", ", ".join(summary.selected_countries))
    gap = summary.mip_gap
    table.add_row("solve time", f"{summary.solve_seconds:.1f} s, gap "
                                f"{'–' if gap is None else f'{gap:.2%}'}")
    console.print(table)
    base_text = (base or {}).get("text")
    if base_text and summary.objective == "max_access":
        console.print(base_text, highlight=False)
    if sov.get("text"):
        console.print(sov["text"], highlight=False)
    for b in summary.binding[:8]:
        console.print(f" • {b['text']}", highlight=False)
    for line in summary.unmet_explained[:5]:
        console.print(f" • {line}", highlight=False)
    for row in (finance or {}).get("funders", []):
        console.print(f" • {row['funder']}: capital {format_money(row.get('capital_usd'))}, "
                      f"NPV {format_money(row.get('npv_usd'))} (finance.json, returns.csv)",
                      highlight=False)
    for q in (risk or {}).get("quantiles", []):
        if q["metric"] == "cost_usd":
            console.print(f" • cost P10/P50/P90: {format_money(q['p10'])} / "
                          f"{format_money(q['p50'])} / {format_money(q['p90'])} "
                          "(risk.json, tornado.csv)", highlight=False)
    if out is not None:
        console.print(f"Tables (CSV and Parquet), summary.json and scenario.yaml in [bold]{out}[/]")


def plan(
    scenario: Path = typer.Argument(..., help="Scenario YAML (see docs/scenario.md)."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the plan tables."),
    as_json: bool = typer.Option(False, "--json", help="Print summary.json on stdout."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=0.1, help="Solver time limit per solve, seconds."),
    mip_gap: float | None = typer.Option(
        None, "--mip-gap", min=0.0, max=1.0,
        help=("MIP gap to stop at (e.g. 0.01), relative to the objective without the price "
              "of training no plan can deliver (docs/plan.md).")),
    baseline: str = typer.Option(
        "greedy", "--baseline", help="Baseline to compare with: greedy or none."),
    sovereignty: bool = typer.Option(
        True, "--sovereignty/--no-sovereignty",
        help="Re-solve with residency relaxed to price sovereignty."),
    finance: bool = typer.Option(
        True, "--finance/--no-finance",
        help="Also write cash flows, ownership and returns per funder (daulat finance)."),
    risk: int = typer.Option(
        0, "--risk", min=0,
        help="Also run a Monte Carlo of N samples over the scenario's uncertainty (daulat risk)."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed of the --risk samples."),
) -> None:
    """Plan where, when and on what to build; write tables and summary.json to --out."""
    if baseline not in ("greedy", "none"):
        raise UserError(f"--baseline: {baseline!r} — valid: greedy, none")
    result = run_pipeline(scenario, out, finance=finance, risk_samples=risk, risk_seed=seed,
                          time_limit=time_limit, mip_gap=mip_gap, sovereignty=sovereignty,
                          baseline=baseline == "greedy", quiet=False)
    printed = result.plan.to_json()
    if result.finance is not None:
        printed["finance"] = result.finance
    if result.risk is not None:
        printed["risk"] = result.risk
    emit(printed, as_json,
         lambda _: render_summary(result.plan, out, result.finance, result.risk))
    if not result.solved:
        what = "infeasible" if result.plan.status == "infeasible" else "no plan found"
        raise UserError(f"{scenario}: {what} — " + " ".join(result.plan.infeasibility))


def register(app: typer.Typer) -> None:
    """Add ``daulat plan`` to ``app``."""
    app.command("plan")(plan)
