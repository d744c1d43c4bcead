"""Planner scaling: build time, solve time and peak memory against model size, LP and
MILP, and each example's cost against the greedy baseline — one table, one run.

    .venv/bin/python benchmarks/plan_scaling.py            # everything (a few minutes)
    .venv/bin/python benchmarks/plan_scaling.py --quick    # skip global and the largest sweep

Each case runs in a fresh subprocess so its peak RSS is its own. Targets (issues 4 and
11, on 2 cores): program-10 <= 30 s, global (every workload, every catalog accelerator)
<= 120 s to a 1 % gap, any single-country scenario (indonesia, kenya) <= 10 s, peak RSS
<= 4 GB — all end to end ("total s": inputs, build, solve and the full explanation).

For a MILP the table also shows how tight the formulation is: the LP relaxation's
objective ("LP bound"), the MILP's objective when solved again to 1 % on its own
("MILP obj"), the root gap between them, HiGHS's own run time for that solve ("HiGHS
s", its timer, not the wall clock) and the MIP start the planner gave it (its gap to the
MILP objective, and how the systems were rounded).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("kenya", "indonesia", "program-10", "global")
SWEEP = (10, 40, 120)


def _sweep_scenario(n: int, milp: bool) -> Any:
    from daulat.catalog.countries import load_countries
    from daulat.scenario import Scenario

    by_pop = sorted(load_countries().values(), key=lambda c: -c.population)[:n]
    doc: dict[str, Any] = {
        "name": f"sweep-{n}-{'milp' if milp else 'lp'}",
        "horizon": {"start": 2026, "end": 2030},
        "countries": [{"iso3": c.iso3} for c in by_pop],
        "workloads": [{"id": "assistant", "model": "assistant-medium", "latency_ms": 150}],
        "sites": {"catalog": "all", "candidates_per_country": 3},
        "funders": [{"id": "provider", "kind": "provider", "budget_basis": "cumulative",
                     "budget_usd": {2026: 100e9, 2027: 200e9, 2028: 350e9, 2029: 500e9}}],
        "objective": {"kind": "max_access" if milp else "min_cost"},
    }
    # LP: purchases rounded to whole systems after the solve; MILP: a portfolio, and
    # integer systems while small enough (rules.whole_systems: auto)
    doc["rules"] = {"portfolio_max_countries": max(1, n // 3)} if milp else {
        "whole_systems": "round"}
    return Scenario.model_validate(doc)


def run_case(name: str) -> dict[str, Any]:
    """Run one case in this process; return its row."""
    from daulat.plan.inputs import prepare
    from daulat.plan.optimize import solve, solve_data
    from daulat.scenario import load_scenario

    t0 = time.perf_counter()
    if name.startswith("sweep-"):
        _, n, kind = name.split("-")
        scenario = _sweep_scenario(int(n), kind == "milp")
        data = prepare(scenario)
        prep_s = time.perf_counter() - t0
        result = solve_data(data, sovereignty=False, baseline=False, mip_gap=0.01)
    else:
        scenario = load_scenario(ROOT / "examples" / f"{name}.yaml")
        data = prepare(scenario)
        prep_s = time.perf_counter() - t0
        result = solve(scenario, mip_gap=0.01)
    total = time.perf_counter() - t0
    s = result.summary
    base = s.get("baseline") or {}
    tight = _tightness(data) if "MILP" in (s.get("model_size") or "") else {}
    size = (f"{len(data.countries)}c x {len(data.sites)}s x {len(data.years)}y x "
            f"{len(data.accelerators)}a")
    return {
        "case": name, "size": size, "model": s.get("model_size", ""),
        "prepare_s": prep_s, "build_s": s.get("build_seconds"), "solve_s": s.get("solve_seconds"),
        "total_s": total, "gap": s.get("mip_gap"), "status": s.get("status"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cost_usd": (s.get("totals") or {}).get("plan_cost_usd"),
        "npv_usd": (s.get("totals") or {}).get("npv_cost_usd"),
        "penalty_usd": (s.get("totals") or {}).get("unmet_penalty_usd"),
        **tight,
        "baseline_usd": base.get("cost_usd"), "saving_share": base.get("saving_share"),
        # max_access plans are compared in people served, not cost (DESIGN.md §4).
        "access_gain_share": base.get("access_gain_share")
        if s.get("objective") == "max_access" else None,
    }


def _tightness(data: Any) -> dict[str, Any]:
    """The MILP's LP relaxation against the MILP solved to 1 %, HiGHS's own run time and
    the MIP start (see the module docstring); model objective units (MUSD)."""
    from daulat.plan.build import build_model
    from daulat.plan.optimize import run_highs

    bound = _relaxation(build_model(data).model)
    built = build_model(data)
    run = run_highs(built, None, 0.01)
    value = built.model.objective.value
    if value is None or bound is None:
        return {}
    obj = float(value)
    start = getattr(run, "start", None) or {}  # (planners before the MIP start: none)
    scale = max(abs(obj), 1e-9)
    return {"lp_bound": bound, "milp_obj": obj, "root_gap": (obj - bound) / scale,
            "highs_s": float(built.model.solver_model.getRunTime()),
            "start_gap": (start["objective"] - obj) / scale if start.get("given") else None,
            "start_rounding": start.get("rounding", "–") if start.get("given") else "none"}


def _relaxation(model: Any) -> float | None:
    """The LP relaxation's objective (as ``daulat.plan.warmstart.relaxation_objective``,
    restated here so the same benchmark measures planners without that module)."""
    import highspy
    import linopy
    import numpy as np

    solver = linopy.solvers.Solver.from_name(
        "highs", model=model, io_api="direct", set_names=False,
        options={"output_flag": False, "threads": 1})
    h = solver.solver_model
    cols = np.flatnonzero(np.asarray(h.getLp().integrality_, dtype=np.uint8) > 0)
    if len(cols):
        h.changeColsIntegrality(len(cols), cols.astype(np.int32),
                                np.zeros(len(cols), dtype=np.uint8))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)


def _fmt(v: Any, spec: str) -> str:
    return "–" if v is None else format(v, spec)


def _money(v: Any) -> str:
    return "–" if v is None else f"{v / 1e9:,.3f}B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="skip global and the largest sweep")
    parser.add_argument("--only", help="comma-separated cases to run (e.g. kenya,global)")
    args = parser.parse_args()
    if args.case:
        sys.stdout.write(json.dumps(run_case(args.case)) + "\n")
        return
    sweep = SWEEP[:-1] if args.quick else SWEEP
    cases = [f"sweep-{n}-{k}" for n in sweep for k in ("lp", "milp")] + [
        e for e in EXAMPLES if not (args.quick and e == "global")]
    if args.only:
        cases = args.only.split(",")
    rows = []
    for case in cases:
        proc = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True,
                              text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode != 0:
            rows.append({"case": case, "status": "error: " + proc.stderr.strip()[-200:]})
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"done {case}", file=sys.stderr)
    head = ("case", "size", "model", "prep s", "build s", "solve s", "total s", "gap",
            "RSS MB", "plan cost", "NPV cost", "penalty", "greedy", "saving", "access gain",
            "LP bound", "MILP obj", "root gap", "HiGHS s", "start gap")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join([
            r["case"], r.get("size", ""), r.get("model", ""), _fmt(r.get("prepare_s"), ".1f"),
            _fmt(r.get("build_s"), ".1f"), _fmt(r.get("solve_s"), ".1f"),
            _fmt(r.get("total_s"), ".1f"), _fmt(r.get("gap"), ".2%"),
            _fmt(r.get("peak_rss_mb"), ",.0f"),
            _money(r.get("cost_usd")), _money(r.get("npv_usd")), _money(r.get("penalty_usd")),
            _money(r.get("baseline_usd")),
            _fmt(r.get("saving_share"), ".1%"),
            _fmt(r.get("access_gain_share"), "+.1%"),
            _fmt(r.get("lp_bound"), ",.1f"), _fmt(r.get("milp_obj"), ",.1f"),
            _fmt(r.get("root_gap"), ".2%"), _fmt(r.get("highs_s"), ".1f"),
            _fmt(r.get("start_gap"), ".2%") + (f" ({r['start_rounding']})"
                                               if r.get("start_rounding") else ""),
        ]) + " |")
    print(f"\n{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end; "
          "HiGHS single-threaded; examples solved with --mip-gap 0.01 and the full "
          "explanation (shadow prices, sovereignty re-solve, greedy baseline) in 'total s'.")


if __name__ == "__main__":
    main()
