"""Solve a scenario: inputs → model → HiGHS → typed result → diagnostics.

``solve(scenario)`` is the library call behind ``daulat plan``; it reads as the steps of
PyPSA's ``optimize``:

1. :func:`~daulat.plan.inputs.prepare` gathers the inputs; :func:`~daulat.plan.build.build_model`
   writes the model from its ``define_*`` families;
2. :func:`run_highs` solves it (time limit, MIP gap) into a :class:`SolverRun` whose status
   and termination condition are linopy's enums;
3. :func:`round_to_systems` rounds an LP's purchases to whole systems and re-solves;
4. :func:`~daulat.plan.result.extract_tables` reads the solved model into the plan tables
   and :func:`summarise` totals them into a :class:`~daulat.plandir.PlanSummary`;
5. :func:`diagnose` explains: shadow prices (a MILP re-solved as an LP with its binaries
   fixed), the cost of sovereignty (a re-solve with residency relaxed), the greedy
   baseline, unmet demand and its causes; an infeasible scenario gets the rules that
   conflict (elastic re-solve).

Progress (phases, elapsed, gap) is shown by :mod:`daulat.plan.progress` on stderr.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr
from linopy.constants import SolverStatus, TerminationCondition

from daulat.console import err_console
from daulat.plan.baseline import BaselineResult, greedy
from daulat.plan.build import BuiltModel, build_model
from daulat.plan.constraints import commitment_notes, fix_training_campus
from daulat.plan.data import PlanData
from daulat.plan.diagnose import (
    binding_constraints,
    explain_infeasible,
    explain_unmet,
    precheck,
    unmet_causes,
)
from daulat.plan.inputs import prepare
from daulat.plan.progress import Stage, follow_log, quiet_stdout, stage
from daulat.plan.result import PlanResult, extract_tables, input_tables, people_served
from daulat.plan.warmstart import mip_start
from daulat.plandir import PlanInputs, PlanStatus, PlanSummary, Totals
from daulat.scenario.load import dump_scenario
from daulat.scenario.schema import Scenario

__all__ = ["SolverRun", "compare_baseline", "diagnose", "plan_cost_usd", "round_to_systems",
           "run_highs", "solve", "solve_data", "summarise"]

#: Relative MIP gap a MILP stops at when none is given: integer systems make HiGHS's own
#: default (1e-4) slow to prove for no planning value (0.5 % of the plan's cost).
DEFAULT_MIP_GAP = 0.005
_INFEASIBLE = (TerminationCondition.infeasible, TerminationCondition.infeasible_or_unbounded)


@dataclass(frozen=True)
class SolverRun:
    """One HiGHS run: linopy's status and termination condition, MIP gap, seconds."""

    status: SolverStatus
    termination: TerminationCondition
    gap: float | None
    seconds: float
    #: the MIP start given to HiGHS (warmstart.mip_start's report), None for an LP
    start: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the solver finished with a solution it vouches for."""
        return self.status == SolverStatus.ok


def run_highs(built: BuiltModel, time_limit: float | None, mip_gap: float | None,
              progress: Stage | None = None, *, warm_start: bool = True) -> SolverRun:
    """Solve ``built`` with HiGHS. With a live ``progress`` stage the current gap (MILP) or
    simplex iteration (LP) is shown on it as HiGHS reports it. A MILP gets a MIP start
    (the rounded LP relaxation, ``warmstart.py``) unless ``warm_start`` is False."""
    options: dict[str, Any] = {"output_flag": False, "threads": 1}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    if built.model.type.startswith("MI"):
        options["mip_rel_gap"] = float(DEFAULT_MIP_GAP if mip_gap is None else mip_gap)
    started = time.perf_counter()
    linopy_log = logging.getLogger("linopy")
    level = linopy_log.level
    linopy_log.setLevel(logging.ERROR)  # an infeasible re-solve is explained in words
    start: dict[str, Any] | None = None
    try:
        with quiet_stdout(), follow_log(progress, options):
            if built.model.type.startswith("MI") and not built.elastic and warm_start:
                status, condition, start = _solve_with_start(built, options, time_limit)
            if start is not None and condition == TerminationCondition.internal_solver_error:
                start["retried_cold"] = True  # a numerical failure: solve again as before
            if start is None or start.get("retried_cold"):
                status, condition = built.model.solve(solver_name="highs", progress=False,
                                                      **options)
    finally:
        linopy_log.setLevel(level)
    seconds = time.perf_counter() - started
    gap: float | None = None
    solver = getattr(built.model, "solver_model", None)
    if built.model.type.startswith("MI") and solver is not None:
        # highspy's info object has no mip_gap before a MIP run reports one
        with contextlib.suppress(AttributeError, RuntimeError):
            gap = float(solver.getInfo().mip_gap)
            if start and start.get("gap_scale") and not start.get("retried_cold"):
                info = solver.getInfo()
                gap = abs(float(info.objective_function_value) - float(info.mip_dual_bound)) \
                    / start["gap_scale"]
    elif status == "ok":
        gap = 0.0
    return SolverRun(SolverStatus(status), TerminationCondition(condition), gap, seconds,
                     start)


def _solve_with_start(built: BuiltModel, options: dict[str, Any], time_limit: float | None
                      ) -> tuple[str, str, dict[str, Any]]:
    """Solve a MILP through linopy's direct HiGHS interface with a MIP start: the LP
    relaxation rounded to a plan that keeps every rule (:func:`~daulat.plan.warmstart.
    mip_start`). Same model, same options, same result as ``model.solve``."""
    m = built.model
    m.constraints.sanitize_zeros()
    m.constraints.sanitize_infinities()
    solver = linopy.solvers.Solver.from_name("highs", model=m, io_api="direct",
                                             options=dict(options), set_names=False)
    h = solver.solver_model
    vlabels = np.asarray(m.variables.label_index.vlabels)
    data = built.data
    start = mip_start(m, h, vlabels, data.portfolio_max_countries, time_limit,
                      {str(k): str(v) for k, v in data.sites["country"].items()})
    if time_limit is not None:  # the start's LPs count against the limit
        h.setOptionValue("time_limit", max(float(time_limit) - start["seconds"], 1.0))
    if start.get("given") and "mip_rel_gap" in options:
        # the gap is relative to what the plan's decisions move: the objective without the
        # price of training it cannot deliver (a 2e29-FLOP run no site can hold is priced
        # at ~$170T, and 1 % of that is more than the whole programme's cost)
        scale = max(abs(start["objective"] - start["training_penalty"]), 1.0)
        start["gap_scale"] = scale
        h.setOptionValue("mip_abs_gap", float(options["mip_rel_gap"]) * scale)
        h.setOptionValue("mip_rel_gap", 0.0)
    status, condition = m.assign_result(solver.solve(), solver)
    return status, condition, start


def plan_cost_usd(data: PlanData, tables: dict[str, Any]) -> float:
    """NPV of capex and opex + site opening costs + priced unmet demand, computed from the
    written tables (the sum of :func:`cost_parts`)."""
    return sum(cost_parts(data, tables))


def cost_parts(data: PlanData, tables: dict[str, Any]) -> tuple[float, float, float]:
    """(NPV of capex and opex, opening cost of the new sites built on, the price of unmet
    demand and undelivered training — min_cost only, else 0), USD."""
    disc = data.discount().to_series()
    costs = tables["costs"]
    npv = float(((costs["capex_usd"] + costs["opex_usd"]) * costs["year"].map(disc)).sum())
    opening = 0.0
    if data.site_fixed_cost_usd > 0:  # opening cost of each new site built on (undiscounted)
        b = tables["builds"]
        opened = b.loc[(b["accelerator"] == "facility") & (b["shell_mw"] > 1e-6), "site"]
        opening = data.site_fixed_cost_usd * opened.nunique()
    return npv, opening, _unmet_penalty_usd(data, tables)


def _unmet_penalty_usd(data: PlanData, tables: dict[str, Any]) -> float:
    if data.objective != "min_cost":
        return 0.0
    disc = data.discount().to_series()
    unmet = tables["unmet"]
    pen = float((unmet["tokens_per_s"] * unmet["year"].map(disc)).sum()
                * data.unmet_usd_per_tps_year)
    tr = tables["training"]
    for w in data.training:
        need = float(data.workloads["required_eflop"].to_dict()[w])
        got = float(tr.loc[tr["workload"] == w, "eflop"].sum()) if len(tr) else 0.0
        pen += max(need - got, 0.0) * data.unmet_training_usd_per_eflop
    return pen


def weighted_access(data: PlanData, tables: dict[str, Any]) -> float:
    """max_access objective: Σ weight × users × served share, over countries and years."""
    d = tables["demand"]
    d = d[d["tokens_per_s"] > 0]
    if d.empty:
        return 0.0
    u = tables["unmet"].set_index(["country", "workload", "year"])["tokens_per_s"]
    unmet = [u.get(k, 0.0) for k in zip(d["country"], d["workload"], d["year"], strict=True)]
    share = 1 - pd.Series(unmet, index=d.index) / d["tokens_per_s"]
    weight = d["country"].map(data.countries["weight"])
    return float((weight * d["users"] * share).sum() / max(len(data.inference), 1))


def compare_baseline(data: PlanData, base: BaselineResult, cost: float,
                     tables: dict[str, Any]) -> dict[str, Any]:
    """summary.json ``baseline``: the greedy against the plan in the objective's terms.

    Always ``cost_usd``, ``saving_usd`` (greedy cost − plan cost) and ``saving_share``;
    for ``max_access`` also people and weighted people served by each (same budgets),
    ``access_gain`` (plan − greedy, weighted person-years) and ``access_gain_share``.
    ``text`` says it in words.
    """
    saving = base.cost_usd - cost
    out: dict[str, Any] = {**base.as_dict(), "saving_usd": saving,
                           "saving_share": saving / base.cost_usd if base.cost_usd else 0.0}
    last = data.years[-1]
    b_tables = {"demand": base.demand, "unmet": base.unmet}
    out["people_served"] = people_served(b_tables, last)
    out["weighted_served"] = weighted_access(data, b_tables)
    plan_people = people_served(tables, last)
    plan_weighted = weighted_access(data, tables)
    out["plan_people_served"] = plan_people
    out["plan_weighted_served"] = plan_weighted
    gain = plan_weighted - out["weighted_served"]
    out["access_gain"] = gain
    out["access_gain_share"] = gain / out["weighted_served"] if out["weighted_served"] else None
    money = "within the same budgets" if base.budget_bound else (
        "within the same budgets (which did not bind the greedy)")
    if data.objective == "max_access":
        share = out["access_gain_share"]
        rel = f" ({share:+.1%})" if share is not None else ""
        out["text"] = (
            f"The plan serves {plan_weighted:,.0f} weighted person-years ({plan_people:,.0f} "
            f"people in {last}) against the greedy's {out['weighted_served']:,.0f} "
            f"({out['people_served']:,.0f} people in {last}), {money}: "
            f"{gain:+,.0f} weighted person-years{rel}, at a cost (NPV) of "
            f"${cost / 1e9:,.2f}B against ${base.cost_usd / 1e9:,.2f}B. The greedy serves "
            f"its own {len(base.countries)} countries with the most weighted people per "
            "dollar, at home, cheapest site and accelerator first.")
        out["note"] = out["text"]  # the key readers of earlier plans look for
    else:
        out["text"] = (
            f"The plan costs ${cost / 1e9:,.3f}B (NPV incl. unmet demand) against the "
            f"greedy's ${base.cost_usd / 1e9:,.3f}B {money}: a saving of "
            f"${saving / 1e9:,.3f}B ({out['saving_share']:.1%}); the greedy serves "
            f"{base.served_share:.1%} of demand, the plan "
            f"{1 - _unmet_share(tables):.1%}.")
    return out


def _unmet_share(tables: dict[str, Any]) -> float:
    total = float(tables["demand"]["tokens_per_s"].sum())
    return float(tables["unmet"]["tokens_per_s"].sum()) / total if total > 0 else 0.0


def _fixed(built: BuiltModel) -> tuple[xr.DataArray | None, xr.DataArray | None]:
    m = built.model
    sel = m.variables["select"].solution.round() if "select" in m.variables else None
    opn = m.variables["site_open"].solution.fillna(0).round() if "site_open" in m.variables \
        else None
    return sel, opn




def _has_plan(built: BuiltModel, run: SolverRun) -> bool:
    value = built.model.objective.value
    if run.termination == TerminationCondition.time_limit:
        return run.gap is not None and bool(np.isfinite(run.gap))
    return value is not None and bool(np.isfinite(value))


def _unsolved(data: PlanData, inputs: PlanInputs, status: PlanStatus, reasons: list[str],
              **fields: Any) -> PlanSummary:
    return PlanSummary(status=status, objective=data.objective,
                       horizon=(data.years[0], data.years[-1]), currency=data.currency,
                       price_year=data.price_year, inputs=inputs, infeasibility=reasons,
                       **fields)


def round_to_systems(built: BuiltModel, kind: str, time_limit: float | None, quiet: bool
                     ) -> tuple[BuiltModel, dict[str, Any], float | None,
                                list[dict[str, Any]] | None]:
    """How the plan buys whole systems: (model to read, summary ``rounding``, the LP's cost
    before rounding or None, the LP's binding constraints read before rounding or None)."""
    if built.integer:
        return built, {"mode": "integer", "applied": True,
                       "text": "Accelerators are bought in whole systems (the catalog's "
                               "system_gpus per system) as integers in the model."}, None, None
    if built.systems != "round":
        return built, {"mode": "off", "applied": False,
                       "text": "Accelerator counts are fractional (whole_systems: off)."}, \
            None, None
    with stage("rounding to whole systems", quiet) as progress:
        binding = binding_constraints(built)  # duals of the LP itself
        lp_cost = plan_cost_usd(built.data, extract_tables(built))
        rounded, rounding = _round_systems(built, kind, time_limit, lp_cost, progress)
    return rounded, rounding, lp_cost, binding


def summarise(data: PlanData, built: BuiltModel, tables: dict[str, pd.DataFrame]
              ) -> dict[str, Any]:
    """Totals, served share and people served of a solved plan (summary fields)."""
    costs, energy, builds = tables["costs"], tables["energy"], tables["builds"]
    last = data.years[-1]
    npv, opening, penalty = cost_parts(data, tables)
    totals = Totals(
        capex_usd=float(costs["capex_usd"].sum()),
        opex_usd=float(costs["opex_usd"].sum()),
        npv_cost_usd=npv,
        site_opening_usd=opening,
        unmet_penalty_usd=penalty,
        plan_cost_usd=npv + opening + penalty,
        # facility MW the plan draws at full load in its last year (IT x PUE)
        facility_mw=float((tables["sites"]["it_mw"] * tables["sites"]["site"].map(
            data.sites["pue"])).sum()),
        it_mw=float(tables["sites"]["it_mw"].sum()),
        shell_mw_built=float(builds["shell_mw"].sum()),
        existing_mw_available=float(tables["sites"]["existing_mw"].sum()),
        accelerators=float(builds.loc[builds["accelerator"] != "facility", "count"].sum()),
        energy_mwh=float(energy["energy_mwh"].sum()),
        emissions_tco2=float(energy["emissions_tco2"].sum()),
    )
    total_demand = float(tables["demand"]["tokens_per_s"].sum())
    out: dict[str, Any] = {
        "totals": totals,
        "objective_value": totals.plan_cost_usd if data.objective == "min_cost"
        else weighted_access(data, tables),
        "objective_unit": "USD" if data.objective == "min_cost" else "weighted person-years",
        "served_share": (1 - float(tables["unmet"]["tokens_per_s"].sum()) / total_demand
                         if total_demand > 0 else 1.0),
        "people_served": people_served(tables, last),
        "people_served_by_year": {str(y): people_served(tables, y) for y in data.years},
    }
    if "select" in built.model.variables:
        sel = built.model.variables["select"].solution.to_series()
        out["selected_countries"] = [str(c) for c, v in sel.items() if v > 0.5]
    return out


def _shadow_prices(data: PlanData, built: BuiltModel, kind: str, time_limit: float | None,
                   quiet: bool) -> list[dict[str, Any]]:
    """Binding constraints from the LP, or the LP with the binaries fixed."""
    with stage("reading shadow prices", quiet) as progress:
        if kind == "MILP" or built.integer:
            sel, opn = _fixed(built)
            lp = build_model(data, fixed_select=sel, fixed_open=opn, integer=False)
            return binding_constraints(lp) if run_highs(lp, time_limit, None, progress).ok \
                else []
        return binding_constraints(built)


def _sovereignty(data: PlanData, built: BuiltModel, own_cost: float, people: float,
                 time_limit: float | None, mip_gap: float | None, quiet: bool,
                 own_npv: float | None = None) -> dict[str, Any]:
    """``cost_of_sovereignty_usd`` and ``sovereignty``: the plan re-solved with residency
    relaxed (a portfolio keeps its countries: what residency costs *this* selection).
    ``sovereignty`` also carries the relaxed plan's NPV of capex + opex
    (``relaxed_npv_cost_usd``) and unmet-demand penalty, so money and penalty are told
    apart (``own_npv``: the plan's own NPV of capex + opex)."""
    with stage("pricing sovereignty (residency relaxed)", quiet) as progress:
        relaxed = data.with_residency_relaxed()
        if not bool((relaxed.allowed != data.allowed).any()):
            return {"cost_of_sovereignty_usd": 0.0,
                    "sovereignty": {"text": "Residency changes nothing here: every allowed "
                                            "pair is already within the rules."}}
        same = _fixed(built)[0] if "select" in built.model.variables else None
        rb = build_model(relaxed, fixed_select=same)
        run = run_highs(rb, time_limit, mip_gap, progress)
        if not run.ok and rb.model.objective.value is None:
            return {"cost_of_sovereignty_usd": None}
        r_tables = extract_tables(rb)
        r_npv, r_open, r_pen = cost_parts(relaxed, r_tables)
        r_cost = r_npv + r_open + r_pen
        r_people = people_served(r_tables, data.years[-1])
        npv_extra = None if own_npv is None else own_npv - r_npv
        return {"cost_of_sovereignty_usd": own_cost - r_cost,
                "sovereignty": {"relaxed_cost_usd": r_cost, "relaxed_people_served": r_people,
                                "relaxed_npv_cost_usd": r_npv,
                                "relaxed_site_opening_usd": r_open,
                                "relaxed_unmet_penalty_usd": r_pen,
                                "text": _sovereignty_text(data, own_cost - r_cost,
                                                          people - r_people, npv_extra)}}


def diagnose(data: PlanData, built: BuiltModel, tables: dict[str, pd.DataFrame],
             summary: dict[str, Any], *, kind: str, lp_cost: float | None,
             time_limit: float | None, mip_gap: float | None, sovereignty: bool,
             baseline: bool, quiet: bool) -> dict[str, Any]:
    """What the plan says about itself: binding constraints, unmet demand and its causes,
    the cost of sovereignty and the greedy baseline (summary fields)."""
    out: dict[str, Any] = {}
    if "binding" not in summary:
        out["binding"] = _shadow_prices(data, built, kind, time_limit, quiet)
    out["unmet_explained"] = explain_unmet(data, tables)
    out["unmet_causes"] = unmet_causes(data, tables, summary.get("selected_countries"))
    cost = summary["totals"].plan_cost_usd
    if sovereignty:
        # a rounded plan is priced against the relaxed LP by its LP cost
        own = lp_cost if lp_cost is not None and built.systems == "round" else cost
        totals = summary["totals"]
        out |= _sovereignty(data, built, own, summary["people_served"], time_limit, mip_gap,
                            quiet, totals.npv_cost_usd)
    if baseline:
        with stage("greedy baseline", quiet):
            portfolio = summary.get("selected_countries") if data.objective == "min_cost" \
                else None
            base = greedy(data, portfolio)
        out["baseline"] = compare_baseline(data, base, cost, tables)
    return out


def solve_data(
    data: PlanData,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    sovereignty: bool = True,
    baseline: bool = True,
    quiet: bool = False,
    scenario_yaml: str = "",
    inputs: PlanInputs | None = None,
) -> PlanResult:
    """Solve prepared inputs (the hand-built instances of the tests come in here)."""
    inputs = inputs or PlanInputs(
        objective=data.objective, asset_life_years=data.accelerator_life_years,
        asset_life_source=data.accelerator_life_source,
        value_of_access_usd_per_person_year=data.value_of_access_usd_per_person_year)
    known = input_tables(data)
    problems = precheck(data)
    if problems:
        return PlanResult(_unsolved(data, inputs, PlanStatus.INFEASIBLE, problems), known,
                          scenario_yaml)

    with stage("building the model", quiet):
        t0 = time.perf_counter()
        built = build_model(data)
        build_s = time.perf_counter() - t0
    kind = "MILP" if built.model.type.startswith("MI") else "LP"
    size = f"{built.model.nvars:,} variables, {built.model.ncons:,} constraints ({kind})"
    with stage(f"solving {size}", quiet) as progress:
        run = run_highs(built, time_limit, mip_gap, progress)
    if not quiet:
        err_console.print(f"[dim]status {run.termination.value}, gap "
                          f"{'–' if run.gap is None else f'{run.gap:.2%}'}[/]", highlight=False)
    solver = {"build_seconds": build_s, "solve_seconds": run.seconds, "model_size": size,
              "mip_gap": run.gap, "termination": run.termination.value}

    if run.termination in _INFEASIBLE:
        with stage("explaining the infeasibility", quiet):
            elastic = build_model(data, elastic=True)
            run_highs(elastic, time_limit, None)
            reasons = explain_infeasible(elastic)
        return PlanResult(_unsolved(data, inputs, PlanStatus.INFEASIBLE, reasons, **solver),
                          known, scenario_yaml)
    if not _has_plan(built, run):
        limit = f" of {time_limit:g} s" if time_limit is not None else ""
        return PlanResult(_unsolved(data, inputs, PlanStatus.NO_SOLUTION, [
            f"HiGHS found no plan within the time limit{limit} ({run.termination.value}); "
            "give more time with --time-limit or a looser --mip-gap."], **solver), known,
            scenario_yaml)

    # each training run keeps the campus this solve chose: later re-solves need no binaries
    data = fix_training_campus(data, built.campus)
    built.data = data
    built, rounding, lp_cost, lp_binding = round_to_systems(built, kind, time_limit, quiet)
    tables = extract_tables(built)
    summary: dict[str, Any] = {**solver, **summarise(data, built, tables), "rounding": rounding}
    if lp_binding is not None:
        summary["binding"] = lp_binding
    cost = summary["totals"].plan_cost_usd
    if lp_cost is not None and rounding.get("applied"):
        rounding["rounded_cost_usd"] = cost
        rounding["text"] += (
            f" Rounding adds ${(cost - lp_cost) / 1e6:,.1f}M to the plan's cost "
            f"({(cost - lp_cost) / lp_cost:+.2%}).") if lp_cost else ""
    summary |= diagnose(data, built, tables, summary, kind=kind, lp_cost=lp_cost,
                        time_limit=time_limit, mip_gap=mip_gap, sovereignty=sovereignty,
                        baseline=baseline, quiet=quiet)
    status = PlanStatus.OPTIMAL if run.termination == TerminationCondition.optimal \
        else PlanStatus.FEASIBLE
    typed = PlanSummary(status=status, objective=data.objective,
                        horizon=(data.years[0], data.years[-1]), currency=data.currency,
                        price_year=data.price_year, inputs=inputs,
                        notes=list(data.notes) + commitment_notes(built.model), **summary)
    return PlanResult(summary=typed, tables=tables | known, scenario_yaml=scenario_yaml)


def _round_systems(built: BuiltModel, kind: str, time_limit: float | None, lp_cost: float,
                   stage: Stage | None = None) -> tuple[BuiltModel, dict[str, Any]]:
    """Round the LP's purchases to whole systems and re-solve with them fixed.

    Each purchase (site, accelerator, year) goes up to whole systems; the re-solve
    re-derives MW, funding, routing and cost from those counts. Where rounding up breaks
    a site limit or a budget, purchases at the sites without the power headroom for it
    are rounded down instead ('mixed'), and failing that every purchase ('down'); demand the
    lost capacity served is then reported unmet.
    """
    data = built.data
    buy = built.model.variables["accelerators_added"].solution.fillna(0.0)
    size = data.system_size()
    sel, opn = _fixed(built) if kind == "MILP" else (None, None)
    lp_count = float(buy.sum())
    tol = 1e-6
    up = np.ceil(buy / size - tol)
    down = np.floor(buy / size + tol)
    tight = _power_bound_sites(built, (up * size - buy).clip(min=0))
    for direction in ("up", "mixed", "down"):
        if direction == "up":
            systems = up
        elif direction == "mixed":
            if not bool(tight.any()):
                continue
            systems = xr.where(tight, down, up)
        else:
            systems = down
        fixed = systems.clip(min=0) * size
        rb = build_model(data, fixed_select=sel, fixed_open=opn, integer=False,
                         fixed_buy=fixed)
        if run_highs(rb, time_limit, None, stage).ok:
            count = float(fixed.sum())
            how = {"up": "up", "down": "down", "mixed": (
                f"up, and down at the {int(tight.sum())} sites without the power headroom,")}[
                direction]
            return rb, {
                "mode": "round", "applied": True, "direction": direction,
                "lp_accelerators": lp_count, "accelerators": count, "lp_cost_usd": lp_cost,
                "text": f"Solved as an LP ({kind} too large for integer systems), then each "
                        f"purchase was rounded {how} to whole systems ({lp_count:,.1f} "
                        f"-> {count:,.0f} accelerators) and the plan re-solved with those "
                        "counts fixed: MW, funding, routing and cost are re-derived.",
            }
    return built, {"mode": "round", "applied": False, "lp_cost_usd": lp_cost,
                   "text": "Rounding to whole systems failed both up (limits or budgets) and "
                           "down; the counts written are the LP's, fractional."}


def _power_bound_sites(built: BuiltModel, extra_accelerators: xr.DataArray) -> xr.DataArray:
    """Sites without the power headroom for ``extra_accelerators`` [site, accelerator,
    year] on top of the solved LP (facility MW against the site's ceiling), over ``site``."""
    data = built.data
    sites = data.sites.index
    kw = data.acc_col("it_kw")
    pue = data.site_col("pue")
    it_mw = (built.installed.solution.fillna(0.0) * kw / 1000).sum("accelerator")
    peak_mw = (it_mw * pue).max("year")
    extra_mw = (extra_accelerators * kw / 1000).sum(["accelerator", "year"]) * pue
    limit = data.site_col("power_limit_mw")
    tight = (peak_mw + extra_mw > limit * (1 - 1e-9)) & (extra_mw > 0)
    return tight.reindex(site=sites, fill_value=False).astype(bool)


def _sovereignty_text(data: PlanData, extra_usd: float, people_delta: float,
                      npv_extra: float | None = None) -> str:
    if data.objective == "min_cost":
        if npv_extra is None or abs(people_delta) < 0.5:
            return (f"Keeping every country's traffic where its law allows costs "
                    f"${extra_usd / 1e9:,.2f}B (NPV) more than a plan free to serve anywhere "
                    "within latency targets.")
        # the relaxed plan serves other people: the objective's difference is mostly the
        # price on unmet demand, not money — say both
        return (f"Keeping every country's traffic where its law allows changes the capex and "
                f"opex by ${npv_extra / 1e9:+,.2f}B (NPV) and the people served in "
                f"{data.years[-1]} by {people_delta:+,.0f} against a plan free to serve "
                f"anywhere within latency targets (${extra_usd / 1e9:,.2f}B in the plan's "
                "objective, where unmet demand is priced).")
    return (f"Keeping every country's traffic where its law allows changes the people served "
            f"by {people_delta:+,.0f} and the cost by ${extra_usd / 1e9:+,.2f}B (NPV) against "
            "a plan free to serve anywhere within latency targets (same countries selected).")


def solve(
    scenario: Scenario,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    sovereignty: bool = True,
    baseline: bool = True,
    quiet: bool = True,
) -> PlanResult:
    """Plan ``scenario``; the result's ``.write(dir)`` writes the plan directory."""
    with stage("gathering inputs (catalog, sizing, policy)", quiet):
        data = prepare(scenario)
    inputs = PlanInputs(
        scenario_name=scenario.name, objective=scenario.objective.kind,
        finance=scenario.finance, uncertainty=scenario.uncertainty,
        sensitivity=scenario.sensitivity, asset_life_years=data.accelerator_life_years,
        asset_life_source=data.accelerator_life_source,
        value_of_access_usd_per_person_year=scenario.objective.value_of_access_usd_per_person_year,
        rules=scenario.rules.model_dump(mode="json"))
    result = solve_data(data, time_limit=time_limit, mip_gap=mip_gap, sovereignty=sovereignty,
                        baseline=baseline, quiet=quiet, scenario_yaml=dump_scenario(scenario),
                        inputs=inputs)
    result.summary.scenario = scenario.name
    return result
