"""Reading a plan directory for finance, risk and the report.

The directory is the contract between the planner and every later stage; its tables and
columns are declared once in :mod:`daulat.plandir` (docs/plan.md). :func:`load_plan` reads
and checks it once (format version, every declared table and column, dtypes), so every
later step can trust column names and read *only* the directory: the resolved inputs
(power price per site, accelerator capex with its network share, peak factors, funders,
residency, finance and uncertainty settings) are in it. A missing, foreign or older
directory is a :class:`~daulat.errors.PlanDirectoryError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from daulat.plandir import PlanSummary, read_plan_dir
from daulat.scenario.schema import Finance, Uncertainty

__all__ = ["PlanTables", "load_plan"]


@dataclass
class PlanTables:
    """A plan directory, read: one DataFrame per declared table plus the typed summary."""

    path: Path
    summary: PlanSummary
    builds: pd.DataFrame
    installed: pd.DataFrame
    routing: pd.DataFrame
    training: pd.DataFrame
    demand: pd.DataFrame
    unmet: pd.DataFrame
    funding: pd.DataFrame
    ownership: pd.DataFrame
    costs: pd.DataFrame
    site_costs: pd.DataFrame
    energy: pd.DataFrame
    sites: pd.DataFrame
    budgets: pd.DataFrame
    inputs_sites: pd.DataFrame
    inputs_countries: pd.DataFrame
    inputs_accelerators: pd.DataFrame
    inputs_funders: pd.DataFrame
    inputs_peak_factors: pd.DataFrame
    inputs_demand: pd.DataFrame
    inputs_revenue: pd.DataFrame
    inputs_demand_ranges: pd.DataFrame

    @property
    def years(self) -> list[int]:
        """The plan's years, first to last inclusive."""
        return self.summary.years

    @property
    def horizon(self) -> tuple[int, int]:
        """``(first year, last year)`` of the plan."""
        return self.summary.horizon

    @property
    def currency(self) -> str:
        """The currency every amount is in (``USD``)."""
        return self.summary.currency

    @property
    def price_year(self) -> int:
        """The price year of every amount."""
        return self.summary.price_year

    @property
    def finance(self) -> Finance:
        """The scenario's money conventions (discount rate, token price)."""
        return self.summary.inputs.finance

    @property
    def uncertainty(self) -> Uncertainty:
        """The scenario's uncertainty ranges (risk)."""
        return self.summary.inputs.uncertainty

    @property
    def name(self) -> str:
        """The scenario's name (the directory's name when it has none)."""
        return self.summary.scenario or self.path.resolve().name


def load_plan(plan_dir: str | Path) -> PlanTables:
    """Read and check a plan directory (:func:`daulat.plandir.read_plan_dir`)."""
    d = read_plan_dir(plan_dir)
    return PlanTables(path=d.path, summary=d.summary, **d.tables)
