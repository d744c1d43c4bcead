"""``daulat demo``: the main job on the built-in defaults, end to end.

Sizes the Indonesian assistant, plans the Indonesian partnership
(``examples/indonesia.yaml``), computes its finance and writes the report. Each step is
the same library call the stage's own command makes; the demo only strings them together.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from daulat.console import console
from daulat.errors import UserError

__all__ = ["register", "run_demo"]

DEFAULT_SCENARIO = Path("examples/indonesia.yaml")
DEFAULT_OUT = Path("out/indonesia")
#: Monte Carlo draws of the demo's risk step (vectorised: well under a second) and its seed,
#: fixed so that two demo runs print the same figures.
RISK_SAMPLES = 10_000
RISK_SEED = 1


def _sizing_table(iso3: str, year: int) -> Table:
    from daulat.sizing import country_assistant

    sizing = country_assistant(iso3, year)
    table = Table(title=f"Localised assistant for {iso3}, {year} (documented defaults)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("users", f"{sizing.users:,.0f}")
    table.add_row("peak output tokens/s", f"{sizing.peak_tokens_per_s:,.0f}")
    table.add_row("accelerators", f"{sizing.accelerators:,.0f}")
    table.add_row("facility MW", f"{sizing.facility_mw:,.1f}")
    table.add_row("capex (USD)", f"{sizing.capex_usd:,.0f}")
    table.add_row("annual opex (USD)", f"{sizing.annual_opex_usd:,.0f}")
    return table


def _money(value: float | None) -> str:
    if value is None:
        return "–"
    for scale, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= scale:
            return f"${value / scale:,.2f}{suffix}"
    return f"${value:,.0f}"


def _funders_table(funders: list[dict[str, Any]]) -> Table:
    table = Table(title="Who pays, what it returns (NPV at the scenario's discount rate)")
    for col in ("funder", "capital", "opex", "revenue", "NPV", "IRR", "payback year"):
        table.add_column(col, justify="left" if col == "funder" else "right")
    for row in funders:
        irr = row.get("irr")
        table.add_row(
            str(row["funder"]),
            _money(row.get("capital_usd")),
            _money(row.get("opex_usd")),
            _money(row.get("revenue_usd")),
            _money(row.get("npv_usd")),
            "–" if irr is None else f"{irr:.1%}",
            str(row.get("payback_year") or "–"),
        )
    return table


def _risk_table(risk: dict[str, Any]) -> Table:
    table = Table(title=f"Risk: {risk['samples']:,} samples (seed {risk['seed']})")
    for col in ("metric", "P10", "P50", "P90"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for row in risk["quantiles"]:
        name = row["metric"] + (f" ({row['funder']})" if row.get("funder") else "")
        fmt = _money if row["metric"] != "people_served" else (lambda v: f"{v:,.0f}")
        table.add_row(name, fmt(row["p10"]), fmt(row["p50"]), fmt(row["p90"]))
    return table


def run_demo(scenario: Path, out: Path, lang: str, year: int) -> Path:
    """Run size → plan → finance → risk → report; return the report's path."""
    if not scenario.exists():
        raise UserError(
            f"{scenario}: scenario file not found — run `make demo` from the repository root, "
            "or pass --scenario PATH to a scenario YAML (see docs/scenario.md)"
        )
    from daulat.finance import run_risk, write_finance
    from daulat.plan import solve
    from daulat.report import write_report
    from daulat.scenario import load_scenario

    console.rule("[bold]1. Size[/]: the Indonesian assistant")
    console.print(_sizing_table("IDN", year))

    console.rule(f"[bold]2. Plan[/]: {scenario}")
    started = time.perf_counter()
    result = solve(load_scenario(scenario))
    result.write(out)
    summary = result.summary
    console.print(
        f"status [bold]{summary['status']}[/], objective {summary['objective']} = "
        f"{summary['objective_value']:,.0f}, solved in {time.perf_counter() - started:.1f} s"
    )
    totals = summary.get("totals", {})
    console.print(
        f"capex ${totals.get('capex_usd', 0):,.0f} · opex ${totals.get('opex_usd', 0):,.0f} · "
        f"{totals.get('facility_mw', 0):,.1f} facility MW · "
        f"{totals.get('accelerators', 0):,.0f} accelerators · "
        f"people served {summary.get('people_served', 0):,.0f}"
    )
    console.print(f"tables in [bold]{out}[/]")

    console.rule("[bold]3. Finance[/]")
    fin = write_finance(out)
    console.print(_funders_table(fin["funders"]))

    console.rule("[bold]4. Risk[/]: Monte Carlo over the scenario's uncertain inputs")
    risk = run_risk(out, RISK_SAMPLES, seed=RISK_SEED)
    console.print(_risk_table(risk))

    console.rule("[bold]5. Report[/]")
    report = write_report(out, lang=lang)
    console.print(f"report: [bold]{report.html}[/] (plain text: {report.markdown})")
    return report.html


def register(app: typer.Typer) -> None:
    """Add ``daulat demo``."""

    @app.command("demo")
    def demo(
        scenario: Path = typer.Option(DEFAULT_SCENARIO, help="Scenario YAML to plan."),
        out: Path = typer.Option(DEFAULT_OUT, help="Directory for the plan tables and report."),
        lang: str = typer.Option("en", help="Report language: en or id."),
        year: int = typer.Option(2027, help="Year of the sizing step."),
    ) -> None:
        """Size, plan, finance and report the Indonesian partnership (built-in defaults)."""
        run_demo(scenario, out, lang, year)
