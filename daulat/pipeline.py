"""The stages chained: plan → finance → risk → report, and re-solved sweeps.

Each stage reads the previous stage's output and nothing above it; this module is the one
place that runs several of them (``daulat plan --finance --risk N``, ``daulat demo``, the
programme office's background jobs). Re-solved risk sweeps — K scenarios re-planned with
the ``sensitivity`` knobs drawn from the scenario's uncertainty ranges — re-run the
planner, so they live here too (finance never imports the planner).

``run_pipeline(scenario_path, out_dir, ...) -> PipelineResult`` is the public entry; a
``progress`` callback (stage name, message) sees each stage start and end.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from daulat.console import to_jsonable
from daulat.errors import UserError
from daulat.finance import run_risk, write_finance
from daulat.finance.engines import parallel_map
from daulat.finance.risk import QUANTILES, draw_inputs
from daulat.finance.tables import PlanTables, load_plan
from daulat.plan import PlanResult, solve
from daulat.plandir import PlanSummary
from daulat.report import ReportFiles, write_report
from daulat.scenario.load import load_scenario

__all__ = ["PipelineResult", "Progress", "resolve_sweep", "run_pipeline", "write_resolve"]

#: ``progress(stage, message)``: told when each stage starts ("plan", "finance", "risk",
#: "resolve", "report") and when it ends ("<stage> done in 1.2 s"; its files are written
#: by then).
Progress = Callable[[str, str], None]


@dataclass
class PipelineResult:
    """What :func:`run_pipeline` wrote into ``out_dir``: each stage's summary (None when
    the stage did not run) and the seconds each stage took."""

    out_dir: Path
    plan: PlanSummary
    finance: dict[str, Any] | None = None
    risk: dict[str, Any] | None = None
    report: ReportFiles | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        """Whether the planner found a plan (finance, risk and report ran only then)."""
        return self.plan.solved


def _quiet(stage: str, message: str) -> None:
    """The default progress callback: says nothing."""


def run_pipeline(
    scenario_path: str | Path,
    out_dir: str | Path,
    *,
    finance: bool = True,
    risk_samples: int = 0,
    risk_seed: int | None = None,
    resolve: int = 0,
    report_lang: str | None = None,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    sovereignty: bool = True,
    baseline: bool = True,
    quiet: bool = True,
    progress: Progress | None = None,
) -> PipelineResult:
    """Plan ``scenario_path`` into ``out_dir``, then (when the plan is solved) write its
    finance, ``risk_samples`` Monte Carlo draws (0: none), ``resolve`` re-solved plans
    (0: none) and the report in ``report_lang`` (None: none).

    ``quiet`` False shows the planner's live progress on stderr. Raises
    :class:`~daulat.errors.UserError` for a bad scenario; an infeasible scenario is not an
    error here — the result says so (``result.solved``) and the plan directory explains it.
    """
    tell = progress or _quiet
    out = Path(out_dir)
    seconds: dict[str, float] = {}

    def timed(stage: str, what: str, fn: Callable[[], Any]) -> Any:
        tell(stage, what)
        started = time.perf_counter()
        value = fn()
        seconds[stage] = time.perf_counter() - started
        tell(stage, f"{stage} done in {seconds[stage]:.1f} s")
        return value

    scenario = load_scenario(scenario_path)

    def plan_and_write() -> PlanResult:
        solved = solve(scenario, time_limit=time_limit, mip_gap=mip_gap,
                       sovereignty=sovereignty, baseline=baseline, quiet=quiet)
        solved.write(out)
        return solved

    plan = timed("plan", f"planning {scenario_path}", plan_and_write)
    result = PipelineResult(out_dir=out, plan=plan.summary, seconds=seconds)
    if not plan.summary.solved:
        return result
    if finance:
        result.finance = timed("finance", "cash flows, ownership, returns",
                               lambda: write_finance(out))
    if risk_samples > 0:
        result.risk = timed("risk", f"Monte Carlo of {risk_samples:,} samples",
                            lambda: run_risk(out, risk_samples, seed=risk_seed))
    if resolve > 0:
        sweep = timed("resolve", f"re-solving {resolve} plans", lambda: write_resolve(
            out, resolve, seed=risk_seed, time_limit=time_limit))
        if result.risk is not None:
            result.risk["resolve"] = sweep
    if report_lang is not None:
        result.report = timed("report", f"report ({report_lang})",
                              lambda: write_report(out, lang=report_lang))
    return result


# ---------------------------------------------------------------------- re-solved sweeps
def _resolve_one(scenario_path: str, knobs: dict[str, float | int],
                 time_limit: float | None) -> dict[str, Any]:
    """Re-solve the scenario at ``scenario_path`` with ``sensitivity`` set to ``knobs``."""
    scenario = load_scenario(scenario_path)
    scenario = scenario.model_copy(
        update={"sensitivity": scenario.sensitivity.model_copy(update=knobs)})
    # A sweep wants the plan's cost and reach, not the comparisons: skip the re-solve
    # without residency and the greedy baseline (each would double the time).
    summary = solve(scenario, time_limit=time_limit, sovereignty=False, baseline=False).summary
    totals = summary.totals
    return {
        **knobs,
        "status": summary.status.value,
        "capex_usd": totals.capex_usd if totals else None,
        "opex_usd": totals.opex_usd if totals else None,
        "cost_usd": (totals.capex_usd + totals.opex_usd) if totals else None,
        "people_served": summary.people_served,
        "facility_mw": totals.facility_mw if totals else None,
        "solve_seconds": summary.solve_seconds,
    }


def resolve_sweep(tables: PlanTables, k: int, *, seed: int | None = None,
                  engine: str = "local", workers: int = 1, ray_address: str | None = None,
                  time_limit: float | None = None) -> pd.DataFrame:
    """Re-solve the plan's scenario ``k`` times with its ``sensitivity`` knobs drawn from the
    ``uncertainty`` ranges (delay rounded to whole years); one row per solve."""
    scenario_path = tables.path / "scenario.yaml"
    if not scenario_path.exists():
        raise UserError(f"{scenario_path}: missing; --resolve needs the scenario the plan solved")
    draws = draw_inputs(tables, k, seed)
    tasks = []
    for i in range(k):
        knobs: dict[str, float | int] = {
            "accelerator_price_factor": float(draws["accelerator_price"][i]),
            "adoption_factor": float(draws["adoption"][i]),
            "power_price_factor": float(draws["power_price"][i]),
            "delay_years": int(round(float(draws["delay_years"][i]))),
        }
        tasks.append((str(scenario_path), knobs, time_limit))
    rows = parallel_map(_resolve_one, tasks, engine=engine, workers=workers,
                        ray_address=ray_address)
    return pd.DataFrame(rows)


def write_resolve(plan_dir: str | Path, k: int, *, seed: int | None = None,
                  engine: str = "local", workers: int | None = None,
                  ray_address: str | None = None, time_limit: float | None = None
                  ) -> dict[str, Any]:
    """Run :func:`resolve_sweep` on a plan directory, write ``risk_resolve.csv`` there and
    return its summary (plans, workers, seconds, solved, P10/P50/P90 of cost and people).

    ``workers`` None: one process per CPU, at most ``k``."""
    tables = load_plan(plan_dir)
    sweep_workers = workers if workers is not None else max(1, min(os.cpu_count() or 1, k))
    started = time.perf_counter()
    sweep = resolve_sweep(tables, k, seed=seed, engine=engine, workers=sweep_workers,
                          ray_address=ray_address, time_limit=time_limit)
    sweep.to_csv(tables.path / "risk_resolve.csv", index=False)
    ok = sweep[sweep["status"].astype(str).str.startswith("optimal")] if not sweep.empty \
        else sweep
    summary = {
        "plans": k,
        "workers": sweep_workers,
        "seconds": time.perf_counter() - started,
        "solved": int(len(ok)),
        "quantiles": {
            m: {f"p{q}": float(v) for q, v in zip(
                QUANTILES, np.percentile(ok[m].astype(float), QUANTILES), strict=True)}
            for m in ("cost_usd", "people_served") if len(ok)
        },
    }
    risk_json = tables.path / "risk.json"
    if risk_json.exists():  # beside the Monte Carlo it belongs to (the report reads it there)
        risk = json.loads(risk_json.read_text(encoding="utf-8"))
        risk["resolve"] = summary
        risk["files"] = [*[f for f in risk.get("files", []) if f != "risk_resolve.csv"],
                         "risk_resolve.csv"]
        risk_json.write_text(json.dumps(to_jsonable(risk), indent=2, ensure_ascii=False)
                             + "\n", encoding="utf-8")
    return summary
