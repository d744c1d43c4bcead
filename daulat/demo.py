"""``daulat demo``: the main job on the built-in defaults, end to end.

Sizes the Indonesian assistant, then runs :func:`daulat.pipeline.run_pipeline` on the
Indonesian partnership (``examples/indonesia.yaml``): plan, finance, risk and report —
the same chain as ``daulat plan --finance --risk N`` and the programme office's jobs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from daulat.console import console
from daulat.errors import UserError
from daulat.formatting import format_money, format_number
from daulat.pipeline import run_pipeline
from daulat.plandir import PlanSummary, read_summary
from daulat.sizing import country_assistant

__all__ = ["register", "run_demo"]

DEFAULT_SCENARIO = Path("examples/indonesia.yaml")
DEFAULT_OUT = Path("out/indonesia")
#: Monte Carlo draws of the demo's risk step (vectorised: well under a second) and its seed,
#: fixed so that two demo runs print the same figures.
RISK_SAMPLES = 10_000
RISK_SEED = 1


def _sizing_table(iso3: str, year: int) -> Table:
    sizing = country_assistant(iso3, year)
    table = Table(title=f"Localised assistant for {iso3}, {year} (documented defaults)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("weekly users", f"{sizing.users:,.0f}")
    table.add_row("output tokens per day", f"{sizing.output_tokens_per_day:,.0f}")
    table.add_row("peak output tokens/s", f"{sizing.peak_tokens_per_s:,.0f}")
    table.add_row("model mix (output share)", ", ".join(
        f"{m.model} {m.share:.0%}" for m in sizing.models))
    table.add_row(f"{sizing.assumptions.accelerator}: mean load / peak / build",
                  f"{sizing.accelerators_average:,.0f} / {sizing.accelerators_peak:,.0f} / "
                  f"{sizing.accelerators:,.0f}")
    table.add_row("facility MW", f"{sizing.facility_mw:,.1f}")
    table.add_row("facility W per weekly user", f"{sizing.watts_per_weekly_user:.2f}")
    table.add_row("capex (USD)", f"{sizing.capex_usd:,.0f}")
    table.add_row("annual opex (USD)", f"{sizing.annual_opex_usd:,.0f}")
    table.caption_justify = "left"
    table.caption = ("rests on: usage profile 'assistant' (ChatGPT's disclosed prompts per "
                     "user), fleet factors and model mix — `daulat catalog show profiles "
                     "assistant`, `catalog list fleet`, `catalog list mixes`; checks in "
                     "docs/validation.md")
    return table


def _funders_table(funders: list[dict[str, Any]]) -> Table:
    table = Table(title="Who pays, what it returns (NPV at the scenario's discount rate)")
    for col in ("funder", "capital", "opex", "revenue", "NPV", "IRR", "payback year"):
        table.add_column(col, justify="left" if col == "funder" else "right")
    for row in funders:
        irr = row.get("irr")
        table.add_row(
            str(row["funder"]),
            format_money(row.get("capital_usd")),
            format_money(row.get("opex_usd")),
            format_money(row.get("revenue_usd")),
            format_money(row.get("npv_usd")),
            "–" if irr is None else f"{irr:.1%}",
            str(row.get("payback_year") or "–"),
        )
    # an IRR left out, or one not to trust, says why in words (finance's irr_note)
    notes = [f"{row['funder']}: {row['irr_note']}" for row in funders if row.get("irr_note")]
    if notes:
        table.caption_justify = "left"
        table.caption = "IRR — " + "; ".join(notes)
    return table


def _risk_table(risk: dict[str, Any]) -> Table:
    table = Table(title=f"Risk: {risk['samples']:,} samples (seed {risk['seed']})")
    for col in ("metric", "plan", "P10", "P50", "P90"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for row in risk["quantiles"]:
        name = row["metric"] + (f" ({row['funder']})" if row.get("funder") else "")
        fmt = _RISK_FORMAT.get(row["metric"], format_money)
        table.add_row(name, fmt(row.get("base")), fmt(row["p10"]), fmt(row["p50"]),
                      fmt(row["p90"]))
    people = next((r for r in risk["quantiles"] if r["metric"] == "people_served"), None)
    need = next((r for r in risk["quantiles"] if r["metric"] == "capacity_need_ratio"), None)
    if people and need and people.get("base") and people["p50"] < 0.8 * people["base"]:
        # the plan is sized on the base case; say plainly when most draws need more
        table.caption_justify = "left"
        table.caption = (
            f"People served P50 {format_number(people['p50'])} against the plan's "
            f"{format_number(people['base'])}: each of the {len(risk['demand_factors'])} demand "
            "and fleet figures is drawn with its median at the base, but their ranges reach "
            "further up than down, so the capacity the users need is "
            f"{_ratio(need['p50'])} the base case's at P50 ({_ratio(need['p10'])} at P10, "
            f"{_ratio(need['p90'])} at P90). tornado.csv names the largest ranges.")
    revenue = risk.get("revenue_figures") or []
    if revenue:
        table.caption_justify = "left"
        table.caption = (f"{table.caption} " if table.caption else "") + (
            f"The {len(revenue)} revenue figures (paying share, prices, fees, the model's "
            "development and sales as shares of revenue) are drawn too: they spread the NPVs.")
    return table


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}×"


_RISK_FORMAT = {"people_served": format_number, "capacity_need_ratio": _ratio}


def _read_json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _print_plan(summary: PlanSummary, out: Path, done: str) -> None:
    console.print(f"status [bold]{summary.status.value}[/], objective {summary.objective} = "
                  f"{summary.objective_value or 0:,.0f}; {done}")
    totals = summary.totals
    if totals is not None:
        console.print(
            f"capex ${totals.capex_usd:,.0f} · opex ${totals.opex_usd:,.0f} · "
            f"{totals.facility_mw:,.1f} facility MW · {totals.accelerators:,.0f} accelerators"
            f" · people served {summary.people_served or 0:,.0f}")
    console.print(f"tables in [bold]{out}[/]")


def run_demo(scenario: Path, out: Path, lang: str, year: int) -> Path:
    """Run size → plan → finance → risk → report; return the report's path."""
    if not scenario.exists():
        raise UserError(
            f"{scenario}: scenario file not found — run `make demo` from the repository root, "
            "or pass --scenario PATH to a scenario YAML (see docs/scenario.md)"
        )
    console.rule("[bold]1. Size[/]: the Indonesian assistant")
    console.print(_sizing_table("IDN", year))

    titles = {"plan": f"[bold]2. Plan[/]: {scenario}", "finance": "[bold]3. Finance[/]",
              "risk": "[bold]4. Risk[/]: Monte Carlo over the scenario's uncertain inputs",
              "report": "[bold]5. Report[/]"}

    def progress(stage: str, message: str) -> None:
        if not message.startswith(f"{stage} done"):
            console.rule(titles.get(stage, stage))
        elif stage == "plan":
            _print_plan(read_summary(out / "summary.json"), out, message)
        elif stage == "finance":
            console.print(_funders_table(_read_json(out / "finance.json")["funders"]))
        elif stage == "risk":
            console.print(_risk_table(_read_json(out / "risk.json")))

    result = run_pipeline(scenario, out, finance=True, risk_samples=RISK_SAMPLES,
                          risk_seed=RISK_SEED, report_lang=lang, progress=progress)
    if not result.solved:
        raise UserError(f"{scenario}: {result.plan.status.value} — " + " ".join(
            result.plan.infeasibility))
    assert result.report is not None  # report_lang was given
    console.print(f"report: [bold]{result.report.html}[/] (plain text: {result.report.markdown})")
    return result.report.html


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
