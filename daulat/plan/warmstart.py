"""A MIP start for HiGHS: the LP relaxation, rounded to a plan that keeps every rule.

HiGHS bounds a planning MILP well at its root (the formulation is tight: see
``constraints.define_training_campus``) but may spend most of its time looking for a
first plan within the gap — sub-MIP heuristics on thousands of integer systems. The plan
it is looking for is almost always the LP relaxation with its decisions rounded, so
:func:`mip_start` writes that plan and hands it to HiGHS (``setSolution``) before the
branch and bound:

1. solve the LP relaxation (integers relaxed), on the solver's own model;
2. round the binaries the way their rules allow: a portfolio keeps its K countries with
   the largest LP value (``programme-portfolio``), a training run its campus with the
   largest value (``training-one_campus_pick``), a new site opens wherever the LP builds
   on it at all; re-solve the LP with them fixed;
3. round the integer systems up (else to the nearest, else down) and re-solve the LP
   with them fixed: every continuous decision (MW, routing, funding) is re-derived;
4. restore the bounds and integrality, and give HiGHS the plan as its incumbent.

If a step finds no feasible plan, no start is given and HiGHS solves as before: the start
changes how fast a plan is found, never which plans are allowed nor what they cost.
"""

from __future__ import annotations

import time
from typing import Any

import highspy
import linopy
import numpy as np

__all__ = ["mip_start", "relaxation_objective"]

_TOL = 1e-6
#: LP values of ``site_open`` from which a site is opened, tried in turn
_OPEN_AT = (0.5, 0.2, _TOL)
#: at most this many single-site closures tried after rounding (one LP each)
_CLOSE_TRIES = 12


def _columns(model: linopy.Model, vlabels: np.ndarray, name: str) -> Any:
    """The solver columns of variable ``name`` (same shape as its labels; -1: masked)."""
    labels = np.asarray(model.variables[name].labels)
    pos = np.full(int(max(labels.max(initial=-1), vlabels.max(initial=-1))) + 1, -1,
                  dtype=np.int64)
    pos[vlabels] = np.arange(len(vlabels))
    return np.where(labels >= 0, pos[np.clip(labels, 0, None)], -1)


def _round_binaries(model: linopy.Model, vlabels: np.ndarray, x: np.ndarray,
                    binary_cols: np.ndarray, k_countries: int | None,
                    open_at: float, site_country: dict[str, str]) -> dict[int, float]:
    """Binary column -> 0/1 from the LP values ``x`` (see the module docstring)."""
    fixed = {int(c): float(x[c] > 0.5) for c in binary_cols}
    names = set(model.variables)
    closed: set[str] = set()  # portfolio countries left out: their sites are unusable
    if "select" in names and k_countries is not None:
        cols = _columns(model, vlabels, "select").ravel()
        countries = [str(c) for c in model.variables["select"].coords["country"].values]
        order = np.argsort(-np.where(cols >= 0, x[np.clip(cols, 0, None)], -1.0),
                           kind="stable")
        keep = {i for i in order[:k_countries] if cols[i] >= 0 and x[cols[i]] > _TOL}
        fixed.update({int(c): float(i in keep) for i, c in enumerate(cols) if c >= 0})
        closed = {countries[i] for i in range(len(cols)) if i not in keep}
    if "training_campus" in names:
        cols = _columns(model, vlabels, "training_campus")  # [workload, site]
        sites = [str(s) for s in model.variables["training_campus"].coords["site"].values]
        usable = np.array([site_country.get(s) not in closed for s in sites])
        for row in cols.reshape(cols.shape[0], -1):
            ok = (row >= 0) & usable
            if not ok.any():
                fixed.update({int(c): 0.0 for c in row[row >= 0]})
                continue
            value = np.where(ok, x[np.clip(row, 0, None)], -1.0)
            best = int(row[int(np.argmax(value))])
            fixed.update({int(c): float(c == best) for c in row[row >= 0]})
    if "site_open" in names:
        cols = _columns(model, vlabels, "site_open").ravel()
        fixed.update({int(c): float(x[c] >= open_at) for c in cols[cols >= 0]})
    return fixed


def _close_sites(model: linopy.Model, vlabels: np.ndarray, x_lp: np.ndarray,
                 best: tuple[float, dict[int, float], np.ndarray], fix: Any, solve_lp: Any,
                 h: highspy.Highs) -> tuple[float, dict[int, float], np.ndarray]:
    """Close the opened sites one at a time, least built first (up to ``_CLOSE_TRIES``),
    keeping each closure the LP finds cheaper: an opening cost is paid whole, and the
    relaxation spreads building over more sites than a plan opens."""
    if "site_open" not in model.variables:
        return best
    cols = _columns(model, vlabels, "site_open").ravel()
    opened = [int(c) for c in cols[cols >= 0] if best[1].get(int(c), 0.0) > 0.5]
    for c in sorted(opened, key=lambda c: x_lp[c])[:_CLOSE_TRIES]:
        trial = {**best[1], c: 0.0}
        fix(np.fromiter(trial, dtype=np.int32), np.fromiter(trial.values(), dtype=float))
        y = solve_lp()
        if y is not None and h.getInfo().objective_function_value < best[0]:
            best = (float(h.getInfo().objective_function_value), trial, y)
    return best


def mip_start(model: linopy.Model, h: highspy.Highs, vlabels: np.ndarray,
              k_countries: int | None = None, time_limit: float | None = None,
              site_country: dict[str, str] | None = None) -> dict[str, Any]:
    """Give ``h`` (the solver built from ``model``; column i is linopy label
    ``vlabels[i]``) a feasible plan as its MIP start. ``k_countries``: the portfolio's K;
    ``site_country``: each site's country (a run's campus must be usable with the
    rounded portfolio). Returns what happened: ``given``, ``rounding`` (up / nearest /
    down), ``objective`` of the start and ``seconds``."""
    site_country = site_country or {}
    started = time.perf_counter()
    lp = h.getLp()
    n = int(lp.num_col_)
    integrality = np.asarray(lp.integrality_, dtype=np.uint8)
    out: dict[str, Any] = {"given": False}
    if n == 0 or integrality.size != n or not integrality.any():
        return out
    lower = np.asarray(lp.col_lower_, dtype=float).copy()
    upper = np.asarray(lp.col_upper_, dtype=float).copy()
    int_cols = np.flatnonzero(integrality > 0).astype(np.int32)
    all_cols = np.arange(n, dtype=np.int32)
    is_binary = (lower[int_cols] >= 0) & (upper[int_cols] <= 1)
    binary_cols, system_cols = int_cols[is_binary], int_cols[~is_binary]
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))

    def solve_lp() -> np.ndarray | None:
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value, dtype=float)

    def fix(cols: np.ndarray, values: np.ndarray) -> None:
        h.changeColsBounds(len(cols), cols, values, values)

    try:
        h.changeColsIntegrality(len(int_cols), int_cols,
                                np.zeros(len(int_cols), dtype=np.uint8))
        x = solve_lp()
        if x is None:
            return out
        objective = float(h.getInfo().objective_function_value)
        if len(binary_cols):
            # a site opens where the LP builds at least this share of its opening: the
            # cheapest of these roundings (by the LP with them fixed) is kept
            best: tuple[float, dict[int, float], np.ndarray] | None = None
            tried: list[dict[int, float]] = []
            for open_at in _OPEN_AT:
                chosen = _round_binaries(model, vlabels, x, binary_cols, k_countries, open_at,
                                         site_country)
                if chosen in tried:
                    continue
                tried.append(chosen)
                fix(np.fromiter(chosen, dtype=np.int32), np.fromiter(chosen.values(), dtype=float))
                y = solve_lp()
                if y is not None and (best is None or h.getInfo().objective_function_value
                                      < best[0]):
                    best = (float(h.getInfo().objective_function_value), chosen, y)
            if best is None:
                return out
            best = _close_sites(model, vlabels, x, best, fix, solve_lp, h)
            fix(np.fromiter(best[1], dtype=np.int32), np.fromiter(best[1].values(), dtype=float))
            x, objective = best[2], best[0]
        if len(system_cols):
            v = x[system_cols]
            for how, values in (("up", np.ceil(v - _TOL)), ("nearest", np.round(v)),
                                ("down", np.floor(v + _TOL))):
                fix(system_cols, np.clip(values, lower[system_cols], upper[system_cols]))
                start = solve_lp()
                if start is not None:
                    out["rounding"] = how
                    break
            else:
                return out
            x, objective = start, float(h.getInfo().objective_function_value)
        out.update(given=True, objective=objective)
    finally:
        h.changeColsBounds(n, all_cols, lower, upper)
        h.changeColsIntegrality(len(int_cols), int_cols, integrality[int_cols])
        out["seconds"] = time.perf_counter() - started
    x[int_cols] = np.round(x[int_cols])
    out["training_penalty"] = 0.0
    if "unmet_training_yflop" in model.variables:
        cols = _columns(model, vlabels, "unmet_training_yflop").ravel()
        cols = cols[cols >= 0]
        cost = np.asarray(lp.col_cost_, dtype=float)
        out["training_penalty"] = float((x[cols] * cost[cols]).sum())
    sol = highspy.HighsSolution()
    sol.col_value = list(x)
    sol.value_valid = True
    h.setSolution(sol)
    return out


def relaxation_objective(model: linopy.Model) -> float | None:
    """The objective of ``model``'s LP relaxation (integers and binaries continuous): the
    bound a MILP's branch and bound starts from; None if HiGHS finds no optimum. The
    relative gap between it and the MILP's optimum measures how tight the formulation
    is (``benchmarks/plan_scaling.py`` reports it)."""
    solver = linopy.solvers.Solver.from_name(
        "highs", model=model, io_api="direct", set_names=False,
        options={"output_flag": False, "threads": 1})
    h = solver.solver_model
    integrality = np.asarray(h.getLp().integrality_, dtype=np.uint8)
    cols = np.flatnonzero(integrality > 0).astype(np.int32)
    if len(cols):
        h.changeColsIntegrality(len(cols), cols, np.zeros(len(cols), dtype=np.uint8))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(h.getInfo().objective_function_value)
