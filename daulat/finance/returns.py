"""NPV, IRR and payback per funder (numpy-financial), and the programme's funding ramp."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pandas as pd

__all__ = ["funder_returns", "npv", "irr", "payback", "ramp", "yearly_net"]


def yearly_net(flows: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Net cash flow per funder (rows) and year (columns, every year in ``years``), USD."""
    pivot = flows.pivot_table(index="funder", columns="year", values="net_usd", aggfunc="sum")
    return pivot.reindex(columns=years, fill_value=0.0).fillna(0.0)


def npv(rate: float, values: np.ndarray) -> float:
    """Net present value of yearly ``values`` at ``rate``; ``values[0]`` is not discounted."""
    return float(npf.npv(rate, values))


def irr(values: np.ndarray) -> float | None:
    """Internal rate of return of yearly ``values`` (None when there is none: no sign change)."""
    if not (np.any(values > 0) and np.any(values < 0)):
        return None
    result = float(npf.irr(values))
    return result if math.isfinite(result) else None


def payback(values: np.ndarray, years: list[int]) -> tuple[int | None, float | None]:
    """First year the cumulative net cash flow is back to >= 0 after the first outflow, and
    the years from the first outflow to that point (flows at year ends, interpolated within
    the year: -100, 60, 60 pays back in 1.67 years). ``(None, None)`` when the money is not
    paid back within ``years``; ``(first year, 0.0)`` when no year is negative."""
    outflows = np.flatnonzero(values < 0)
    if outflows.size == 0:  # never out of pocket: paid back in the first year with flows
        nonzero = np.flatnonzero(values != 0)
        return (years[int(nonzero[0])], 0.0) if nonzero.size else (None, None)
    start = int(outflows[0])
    cumulative = np.cumsum(values[start:])
    for k in range(len(cumulative)):
        if cumulative[k] >= 0 and k > 0:
            before = cumulative[k - 1]
            fraction = -before / values[start + k] if values[start + k] > 0 else 1.0
            return years[start + k], float(k - 1 + fraction)
    return None, None


def funder_returns(flows: pd.DataFrame, discount_rate: float, years: list[int],
                   funders: dict[str, str] | None = None) -> pd.DataFrame:
    """Returns per funder over ``years`` (plan years plus any operating tail).

    Columns: funder, funder_kind, capital_usd, opex_usd, revenue_usd, net_usd (undiscounted
    sums), npv_usd (discounted at ``discount_rate`` to the first year), irr (fraction per
    year, None when undefined), payback_year, payback_years. ``funders`` (id -> kind) adds
    a row of zeros for each programme funder the plan asked for no capital.
    """
    net = yearly_net(flows, years)
    sums = flows.groupby("funder")[["capex_usd", "opex_usd", "revenue_usd", "net_usd"]].sum()
    kinds = flows.drop_duplicates("funder").set_index("funder")["funder_kind"]
    totals = sums.to_dict(orient="index")
    rows = []
    for funder, series in net.iterrows():
        values = series.to_numpy(dtype=float)
        year, span = payback(values, years)
        rows.append({
            "funder": funder,
            "funder_kind": kinds.get(funder),
            "capital_usd": float(totals[funder]["capex_usd"]),
            "opex_usd": float(totals[funder]["opex_usd"]),
            "revenue_usd": float(totals[funder]["revenue_usd"]),
            "net_usd": float(totals[funder]["net_usd"]),
            "npv_usd": npv(discount_rate, values),
            "irr": irr(values),
            "payback_year": year,
            "payback_years": span,
        })
    for funder, kind in (funders or {}).items():
        if funder not in net.index:
            rows.append({"funder": funder, "funder_kind": kind, "capital_usd": 0.0,
                         "opex_usd": 0.0, "revenue_usd": 0.0, "net_usd": 0.0, "npv_usd": 0.0,
                         "irr": None, "payback_year": None, "payback_years": None})
    out = pd.DataFrame(rows, columns=["funder", "funder_kind", "capital_usd", "opex_usd",
                                      "revenue_usd", "net_usd", "npv_usd", "irr",
                                      "payback_year", "payback_years"])
    # Keep "none" as None (not NaN) and years as whole numbers.
    out["payback_year"] = pd.Series([None if pd.isna(v) else int(v) for v in out["payback_year"]],
                                    dtype=object)
    for col in ("irr", "payback_years"):
        out[col] = pd.Series([None if pd.isna(v) else float(v) for v in out[col]], dtype=object)
    return out


def ramp(budgets: pd.DataFrame) -> pd.DataFrame:
    """The programme's ramp: capital committed against budget per year, and cumulative.

    ``budgets`` is the plan's ``budgets.csv`` (funder, year, budget_usd, committed_usd).
    Returns rows for each funder (``scope`` = 'funder') and for the whole programme
    (``scope`` = 'programme', ``funder`` = '*'), with columns scope, funder, year,
    budget_usd, committed_usd, cumulative_budget_usd, cumulative_committed_usd,
    utilisation (committed ÷ budget that year; None without a budget).
    """
    b = budgets[["funder", "year", "budget_usd", "committed_usd"]].copy()
    b = b.fillna({"committed_usd": 0.0})
    per = b.groupby(["funder", "year"], as_index=False)[["budget_usd", "committed_usd"]].sum(
        min_count=1)
    per.insert(0, "scope", "funder")
    total = b.groupby("year", as_index=False)[["budget_usd", "committed_usd"]].sum(min_count=1)
    total.insert(0, "funder", "*")
    total.insert(0, "scope", "programme")
    out = pd.concat([per, total], ignore_index=True).sort_values(["scope", "funder", "year"])
    group = out.groupby(["scope", "funder"])
    out["cumulative_budget_usd"] = group["budget_usd"].cumsum()
    out["cumulative_committed_usd"] = group["committed_usd"].cumsum()
    util = out["committed_usd"] / out["budget_usd"].where(out["budget_usd"] > 0)
    out["utilisation"] = util.astype(object).where(util.notna(), None)
    return out.reset_index(drop=True)
