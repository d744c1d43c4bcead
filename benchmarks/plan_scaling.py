"""Planner scaling: build time, solve time and peak memory against model size, LP and
MILP, and each example's cost against the greedy baseline — one table, one run.

    .venv/bin/python benchmarks/plan_scaling.py            # everything (a few minutes)
    .venv/bin/python benchmarks/plan_scaling.py --quick    # skip global and the largest sweep

Each case runs in a fresh subprocess so its peak RSS is its own. Targets (issue 4, on
2 cores): program-10 <= 30 s, global <= 120 s to a 1 % gap, peak RSS <= 4 GB.
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
EXAMPLES = ("indonesia", "program-10", "global")
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
    size = (f"{len(data.countries)}c x {len(data.sites)}s x {len(data.years)}y x "
            f"{len(data.accelerators)}a")
    return {
        "case": name, "size": size, "model": s.get("model_size", ""),
        "prepare_s": prep_s, "build_s": s.get("build_seconds"), "solve_s": s.get("solve_seconds"),
        "total_s": total, "gap": s.get("mip_gap"), "status": s.get("status"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cost_usd": (s.get("totals") or {}).get("plan_cost_usd"),
        "baseline_usd": base.get("cost_usd"), "saving_share": base.get("saving_share"),
        # max_access plans are compared in people served, not cost (DESIGN.md §4).
        "access_gain_share": base.get("access_gain_share")
        if s.get("objective") == "max_access" else None,
    }


def _fmt(v: Any, spec: str) -> str:
    return "–" if v is None else format(v, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="skip global and the largest sweep")
    args = parser.parse_args()
    if args.case:
        sys.stdout.write(json.dumps(run_case(args.case)) + "\n")
        return
    sweep = SWEEP[:-1] if args.quick else SWEEP
    cases = [f"sweep-{n}-{k}" for n in sweep for k in ("lp", "milp")] + [
        e for e in EXAMPLES if not (args.quick and e == "global")]
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
            "RSS MB", "plan cost", "greedy", "saving", "access gain")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join([
            r["case"], r.get("size", ""), r.get("model", ""), _fmt(r.get("prepare_s"), ".1f"),
            _fmt(r.get("build_s"), ".1f"), _fmt(r.get("solve_s"), ".1f"),
            _fmt(r.get("total_s"), ".1f"), _fmt(r.get("gap"), ".2%"),
            _fmt(r.get("peak_rss_mb"), ",.0f"),
            _fmt(None if r.get("cost_usd") is None else r["cost_usd"] / 1e9, ",.3f") + "B"
            if r.get("cost_usd") is not None else "–",
            _fmt(None if r.get("baseline_usd") is None else r["baseline_usd"] / 1e9, ",.3f")
            + "B" if r.get("baseline_usd") is not None else "–",
            _fmt(r.get("saving_share"), ".1%"),
            _fmt(r.get("access_gain_share"), "+.1%"),
        ]) + " |")
    print(f"\n{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end; "
          "HiGHS single-threaded; examples solved with --mip-gap 0.01 and the full "
          "explanation (shadow prices, sovereignty re-solve, greedy baseline) in 'total s'.")


if __name__ == "__main__":
    main()
