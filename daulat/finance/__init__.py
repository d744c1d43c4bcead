"""daulat.finance: who pays, who owns, what it returns and what could go wrong.

``write_finance(plan_dir)`` reads a plan result directory and writes ``cashflows.csv``,
``returns.csv``, ``ramp.csv`` (each with a Parquet twin) and ``finance.json`` beside the
plan's tables; ``daulat risk DIR`` adds the Monte Carlo risk tables (:mod:`daulat.finance.risk`).
See ``docs/finance.md`` and ``docs/risk.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from daulat.console import to_jsonable
from daulat.finance.cashflow import (
    CashFlowBasis,
    cash_flows,
    cash_flows_with_lines,
    revenue_lines,
)
from daulat.finance.ownership import ownership, ownership_by_year
from daulat.finance.returns import funder_returns, ramp
from daulat.finance.risk import RiskResult, monte_carlo, run_risk
from daulat.finance.tables import PlanTables, load_plan

__all__ = [
    "CashFlowBasis",
    "PlanTables",
    "RiskResult",
    "cash_flows",
    "compute_finance",
    "funder_returns",
    "load_plan",
    "monte_carlo",
    "ownership",
    "ownership_by_year",
    "programme_funders",
    "ramp",
    "revenue_lines",
    "run_risk",
    "write_finance",
    "write_table",
]


def write_table(df: pd.DataFrame, plan_dir: Path, name: str) -> None:
    """Write ``name``.csv and ``name``.parquet into ``plan_dir``."""
    df.to_csv(plan_dir / f"{name}.csv", index=False)
    df.to_parquet(plan_dir / f"{name}.parquet", index=False)


def programme_funders(tables: PlanTables) -> dict[str, str]:
    """Every funder of the programme (id -> kind): the plan's inputs_funders, then any
    other funder that pays in the plan."""
    f = tables.inputs_funders
    out: dict[str, str] = {str(i): str(k) for i, k in zip(f["funder"], f["kind"], strict=True)}
    for funder, kind in zip(tables.funding["funder"], tables.funding["funder_kind"],
                            strict=True):
        out.setdefault(str(funder), str(kind))
    return out


def compute_finance(tables: PlanTables, life_years: int | None = None
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Cash flows, returns and ramp of a read plan, and the summary dict (nothing written)."""
    flows, lines, basis = cash_flows_with_lines(tables, life_years=life_years)
    years = sorted(set(tables.years) | set(flows["year"].tolist()))
    returns = funder_returns(flows, tables.finance.discount_rate, years,
                             funders=programme_funders(tables))
    ramp_df = ramp(tables.budgets)
    own = ownership(tables.funding)
    # ``lines``: the revenue behind each NPV (H8)
    by_line: dict[str, dict[str, float]] = {}
    for funder, line, usd in lines.groupby(["funder", "line"], as_index=False)[
            "revenue_usd"].sum().itertuples(index=False):
        by_line.setdefault(str(funder), {})[str(line)] = float(usd)
    returns["revenue_by_line"] = pd.Series(
        [by_line.get(str(f), {}) for f in returns["funder"]], index=returns.index, dtype=object)
    programme = ramp_df[ramp_df["scope"] == "programme"]
    summary: dict[str, Any] = {
        "currency": tables.currency,
        "price_year": tables.price_year,
        "discount_rate": tables.finance.discount_rate,
        "discounted_to_year": years[0] if years else None,
        "years": [years[0], years[-1]] if years else [],
        "basis": to_jsonable(basis),
        "capital_usd": float(flows["capex_usd"].sum()),
        "revenue_usd": float(flows["revenue_usd"].sum()),
        "existing_revenue_usd": float(flows["existing_revenue_usd"].sum()),
        "revenue_by_line": {k: float(v) for k, v in
                            lines.groupby("line")["revenue_usd"].sum().items()},
        "funders": to_jsonable(returns.to_dict(orient="records")),
        "ownership": to_jsonable(own.to_dict(orient="records")),
        "ramp": to_jsonable(programme[["year", "budget_usd", "committed_usd",
                                       "cumulative_budget_usd", "cumulative_committed_usd",
                                       "utilisation"]].to_dict(orient="records")),
    }
    return {"cashflows": flows, "returns": returns.drop(columns="revenue_by_line"),
            "ramp": ramp_df, "revenue_lines": lines}, summary


def write_finance(plan_dir: str | Path, life_years: int | None = None) -> dict[str, Any]:
    """Compute finance for the plan in ``plan_dir`` and write it there.

    Writes ``cashflows``, ``returns``, ``ramp`` (.csv and .parquet) and ``finance.json``;
    returns the summary dict (also the content of ``finance.json``).
    """
    tables = load_plan(plan_dir)
    frames, summary = compute_finance(tables, life_years=life_years)
    for name, df in frames.items():
        write_table(df, tables.path, name)
    summary["files"] = [f"{n}.csv" for n in frames] + ["finance.json"]
    (tables.path / "finance.json").write_text(
        json.dumps(to_jsonable(summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
