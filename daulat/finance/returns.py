"""NPV, IRR and payback per funder (numpy-financial), and the programme's funding ramp."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pandas as pd

__all__ = ["IMPLAUSIBLE_IRR", "MEANINGLESS_IRR", "funder_returns", "irr", "irr_note", "npv",
           "payback", "ramp", "recovered", "reported_irr", "yearly_net"]

#: An IRR above this (per year) is flagged as implausible: no infrastructure programme
#: returns more than 100 % a year on its capital; such a figure means revenue reaches a
#: funder that paid little for the assets earning it (or before it paid).
IMPLAUSIBLE_IRR = 1.0
#: Below this rate (per year) an IRR is not reported as a rate: at -50 % a year the money
#: halves every year, and what a reader can use is how much of it comes back at all
#: (the note says it: "gets back $0.21 of every $1 it pays"), not the rate.
MEANINGLESS_IRR = -0.5


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


def recovered(values: np.ndarray) -> float:
    """Undiscounted money back per dollar paid out: Σ inflows ÷ Σ outflows of ``values``."""
    out = float(-values[values < 0].sum())
    return float(values[values > 0].sum()) / out if out > 0 else math.inf


def _positive_roots(values: np.ndarray) -> int:
    """How many rates above -100 % make the NPV of ``values`` zero: the positive real roots
    x = 1/(1+r) of Σ v_t x^t (Descartes' count of sign changes is only an upper bound)."""
    coefs = np.trim_zeros(values[::-1], "f")
    if coefs.size < 2:
        return 0
    roots = np.roots(coefs)
    real = roots[np.abs(roots.imag) <= 1e-9 * np.maximum(1.0, np.abs(roots.real))].real
    return int(np.sum(real > 0))


def reported_irr(values: np.ndarray) -> float | None:
    """The IRR to report: :func:`irr`, or None when it is below :data:`MEANINGLESS_IRR` (the
    note then says how much of the money comes back instead)."""
    rate = irr(values)
    return None if rate is not None and rate < MEANINGLESS_IRR else rate


def irr_note(values: np.ndarray, rate: float | None) -> str:
    """Why the IRR of yearly ``values`` is undefined or not a meaningful rate, or why it
    should not be trusted ('' when it is an ordinary figure)."""
    if not np.any(values < 0):
        return ("undefined: this funder never pays out more than it receives in any year "
                "(no investment to earn a rate on)" if np.any(values > 0) else
                "undefined: no cash flows (the plan asked this funder for nothing)")
    if not np.any(values > 0):
        return ("undefined: no money comes back to this funder in any year (its revenue "
                "never exceeds its costs), so no rate makes the NPV zero")
    signs = np.sign(values[values != 0])
    changes = int(np.sum(signs[1:] != signs[:-1]))
    back = recovered(values)
    raw = irr(values) if rate is None else rate
    if raw is not None and raw < MEANINGLESS_IRR:
        return (f"not meaningful as a rate ({raw:.0%} a year): this funder gets back "
                f"${back:.2f} of every $1 it pays, undiscounted — a cost, not an investment "
                "that earns a return")
    if rate is None:
        return (f"undefined: the cash flows change sign {changes} times and no rate makes "
                "the NPV zero")
    if rate > IMPLAUSIBLE_IRR:
        return (f"implausible: {rate:.0%} a year — revenue reaches this funder before, or far "
                "beyond, the capital it paid (check its ownership and the revenue lines)")
    if changes > 1 and _positive_roots(values) > 1:
        return (f"ambiguous: the cash flows change sign {changes} times and more than one "
                "rate makes the NPV zero")
    if back < 1:
        return (f"a loss: this funder gets back ${back:.2f} of every $1 it pays, "
                "undiscounted")
    return ""


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

    Columns: funder, funder_kind, capital_usd, opex_usd, licence_usd (a government's
    licence for its public servants), revenue_usd, net_usd (undiscounted sums), npv_usd
    (discounted at ``discount_rate`` to the first year), irr (fraction per
    year, None when undefined or below :data:`MEANINGLESS_IRR`), irr_note (why it is
    undefined or not a meaningful rate, a flag when implausible or ambiguous, how much comes
    back when it is a loss; '' otherwise), payback_year, payback_years. ``funders``
    (id -> kind) adds a row of zeros for each programme funder the plan asked for no capital.
    """
    net = yearly_net(flows, years)
    flows = flows if "licence_usd" in flows else flows.assign(licence_usd=0.0)
    sums = flows.groupby("funder")[["capex_usd", "opex_usd", "licence_usd", "revenue_usd",
                                    "net_usd"]].sum()
    kinds = flows.drop_duplicates("funder").set_index("funder")["funder_kind"]
    totals = sums.to_dict(orient="index")
    rows = []
    for funder, series in net.iterrows():
        values = series.to_numpy(dtype=float)
        year, span = payback(values, years)
        rate = reported_irr(values)
        rows.append({
            "funder": funder,
            "funder_kind": kinds.get(funder),
            "capital_usd": float(totals[funder]["capex_usd"]),
            "opex_usd": float(totals[funder]["opex_usd"]),
            "licence_usd": float(totals[funder]["licence_usd"]),
            "revenue_usd": float(totals[funder]["revenue_usd"]),
            "net_usd": float(totals[funder]["net_usd"]),
            "npv_usd": npv(discount_rate, values),
            "irr": rate,
            "irr_note": irr_note(values, rate),
            "payback_year": year,
            "payback_years": span,
        })
    for funder, kind in (funders or {}).items():
        if funder not in net.index:
            rows.append({"funder": funder, "funder_kind": kind, "capital_usd": 0.0,
                         "opex_usd": 0.0, "licence_usd": 0.0, "revenue_usd": 0.0,
                         "net_usd": 0.0, "npv_usd": 0.0,
                         "irr": None, "irr_note": irr_note(np.zeros(1), None),
                         "payback_year": None, "payback_years": None})
    out = pd.DataFrame(rows, columns=["funder", "funder_kind", "capital_usd", "opex_usd",
                                      "licence_usd", "revenue_usd", "net_usd", "npv_usd", "irr",
                                      "irr_note", "payback_year", "payback_years"])
    # Keep "none" as None (not NaN) and years as whole numbers.
    out["payback_year"] = pd.Series([None if pd.isna(v) else int(v) for v in out["payback_year"]],
                                    dtype=object)
    for col in ("irr", "payback_years"):
        out[col] = pd.Series([None if pd.isna(v) else float(v) for v in out[col]], dtype=object)
    return out


def ramp(budgets: pd.DataFrame) -> pd.DataFrame:
    """The programme's ramp: capital committed against budget per year, and cumulative.

    ``budgets`` is the plan's ``budgets.csv`` (funder, year, budget_usd, committed_usd,
    basis). A ``cumulative`` funder's ``budget_usd`` is already its cap to date ("$500 B by
    2029"), so its cumulative budget is that figure and its budget for the year is the
    increase over the year before; a ``per_year`` funder's budgets add up. The programme's
    cumulative budget is the sum of its funders' (never a cumulative figure added again).

    Returns rows for each funder (``scope`` = 'funder') and for the whole programme
    (``scope`` = 'programme', ``funder`` = '*'), with columns scope, funder, year, basis,
    budget_usd (new money that year; None without a budget), committed_usd,
    cumulative_budget_usd, cumulative_committed_usd, utilisation (per_year: committed ÷
    that year's budget; cumulative and the programme: cumulative committed ÷ cumulative
    budget; None without a budget).
    """
    b = budgets.copy()
    if "basis" not in b.columns:
        b["basis"] = "per_year"
    b = b[["funder", "year", "basis", "budget_usd", "committed_usd"]]
    b = b.fillna({"committed_usd": 0.0, "basis": "per_year"})
    per = b.groupby(["funder", "year"], as_index=False).agg(
        basis=("basis", "first"), budget_usd=("budget_usd", lambda v: v.sum(min_count=1)),
        committed_usd=("committed_usd", "sum")).sort_values(["funder", "year"])
    cumulative = per["basis"] == "cumulative"
    stated = per["budget_usd"]
    # Cumulative to date: the stated cap (cumulative basis, carried forward over a year
    # without a figure) or the running sum of yearly budgets (per_year basis).
    cap = stated.where(cumulative).groupby(per["funder"]).ffill()
    running = stated.where(~cumulative).fillna(0.0).groupby(per["funder"]).cumsum()
    has_budget = stated.notna().groupby(per["funder"]).cummax()
    per["cumulative_budget_usd"] = cap.where(cumulative, running).where(has_budget)
    previous = per.groupby("funder")["cumulative_budget_usd"].shift(1).fillna(0.0)
    per["budget_usd"] = stated.where(~cumulative, per["cumulative_budget_usd"] - previous)
    per["cumulative_committed_usd"] = per.groupby("funder")["committed_usd"].cumsum()
    per.insert(0, "scope", "funder")
    total = per.groupby("year", as_index=False)[
        ["budget_usd", "committed_usd", "cumulative_budget_usd",
         "cumulative_committed_usd"]].sum(min_count=1)
    total.insert(0, "basis", "sum of funders")
    total.insert(0, "funder", "*")
    total.insert(0, "scope", "programme")
    out = pd.concat([per, total], ignore_index=True).sort_values(["scope", "funder", "year"])
    # A per-year budget lapses at the year's end: its use is that year's; a cumulative cap
    # (and the programme's mix) is used to date.
    yearly = out["basis"] == "per_year"
    util = (out["committed_usd"] / out["budget_usd"].where(out["budget_usd"] > 0)).where(
        yearly, out["cumulative_committed_usd"] / out["cumulative_budget_usd"].where(
            out["cumulative_budget_usd"] > 0))
    out["utilisation"] = util.astype(object).where(util.notna(), None)
    for col in ("budget_usd", "cumulative_budget_usd"):
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out[["scope", "funder", "year", "basis", "budget_usd", "committed_usd",
                "cumulative_budget_usd", "cumulative_committed_usd",
                "utilisation"]].reset_index(drop=True)
