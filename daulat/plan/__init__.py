"""daulat.plan: where, when and on what to build — the capacity-expansion optimiser.

``solve(scenario) -> PlanResult``; ``PlanResult.write(dir)`` writes the tables (CSV and
Parquet), ``summary.json`` and ``scenario.yaml``. ``solve_data(PlanData)`` solves
hand-built inputs. See docs/plan.md.
"""

from __future__ import annotations

from daulat.plan.baseline import BaselineResult, greedy
from daulat.plan.data import OriginCap, PlanData
from daulat.plan.optimize import plan_cost_usd, solve, solve_data
from daulat.plan.result import TABLES, PlanResult, read_tables

__all__ = [
    "TABLES",
    "BaselineResult",
    "OriginCap",
    "PlanData",
    "PlanResult",
    "greedy",
    "plan_cost_usd",
    "read_tables",
    "solve",
    "solve_data",
]
