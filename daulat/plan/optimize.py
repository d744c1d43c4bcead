"""Solve a scenario: build the model, run HiGHS, explain the result.

``solve(scenario)`` is the library call behind ``daulat plan``. It

1. gathers the inputs (``inputs.prepare``) and builds the linopy model (``build.py``);
2. solves it with HiGHS (time limit and MIP gap as given);
3. for a MILP (portfolio or site-opening binaries), re-solves the LP with the binaries
   fixed to read shadow prices;
4. re-solves with residency relaxed to price sovereignty (``cost_of_sovereignty_usd``);
5. runs the greedy baseline and reports the saving;
6. answers an infeasible scenario with the rules that conflict (elastic re-solve).

Progress (building, solving, elapsed, gap) goes to stderr so ``--json`` stdout stays clean.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn

from daulat.console import err_console
from daulat.plan.baseline import BaselineResult, greedy
from daulat.plan.build import BuiltModel, build_model
from daulat.plan.data import PlanData
from daulat.plan.diagnose import (
    binding_constraints,
    explain_infeasible,
    explain_unmet,
    precheck,
)
from daulat.plan.result import PlanResult, extract_tables, people_served
from daulat.scenario.schema import Scenario

__all__ = ["solve", "solve_data", "plan_cost_usd", "compare_baseline"]

_OK = {"optimal"}
#: Relative MIP gap a MILP stops at when none is given: integer systems make HiGHS's own
#: default (1e-4) slow to prove for no planning value (0.5 % of the plan's cost).
DEFAULT_MIP_GAP = 0.005


#: How often the live status re-reads HiGHS's log, seconds.
_LOG_POLL_S = 0.25
#: A HiGHS branch-and-bound line: [source] nodes queue leaves explored% bound best gap …
_MIP_LINE = re.compile(r"^\s*[A-Za-z]?\s+(\d+)\s+\d+\s+\d+\s+[\d.]+%\s+(\S+)\s+(\S+)\s+(\S+)")
#: A HiGHS simplex line: iteration objective Pr|Du|Ph1|Ph2: infeasibilities time
_LP_LINE = re.compile(r"^\s*(\d+)\s+(-?[\d.]+e[+-]\d+)\s+(?:Pr|Du|Ph1|Ph2):")


def highs_progress(line: str) -> str | None:
    """Read one line of HiGHS's log; return what the live status should show, or None.

    Branch-and-bound lines give the MIP gap ("gap 0.32 %, 1 nodes"; "gap –" before the
    first incumbent), simplex lines the iteration ("simplex iteration 4,210")."""
    m = _MIP_LINE.match(line)
    if m:
        nodes, _, best, gap = m.groups()
        if gap.endswith("%"):
            text = f"gap {gap[:-1]} %"
        else:  # 'inf' or 'Large': no incumbent yet, or a gap above 10^4 %
            text = "gap – (no plan yet)" if best == "inf" else "gap large"
        return f"{text}, {int(nodes):,} nodes"
    m = _LP_LINE.match(line)
    if m:
        return f"simplex iteration {int(m.group(1)):,}"
    return None


class _Stage:
    """One phase's live status on stderr: label, elapsed seconds and a detail (the gap)."""

    def __init__(self, label: str, progress: Progress | None = None,
                 task: TaskID | None = None) -> None:
        self.label = label
        self.progress = progress
        self.task = task
        self.last = ""

    @property
    def live(self) -> bool:
        """Whether anyone sees the status (not quiet)."""
        return self.progress is not None

    def detail(self, text: str) -> None:
        """Show ``text`` next to the label (e.g. the current MIP gap)."""
        self.last = text
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=f"{self.label}… {text}")


@contextlib.contextmanager
def _stage(label: str, quiet: bool) -> Iterator[_Stage]:
    """A phase with a rich live status on stderr (spinner, label, detail, elapsed s);
    on exit one line 'label: 12.3 s' (and the last detail, e.g. the gap)."""
    started = time.perf_counter()
    if quiet:
        yield _Stage(label)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("[dim]{task.elapsed:.0f} s[/]"))
    with Progress(*columns, console=err_console, transient=True) as progress:
        stage = _Stage(label, progress, progress.add_task(f"{label}…", total=None))
        yield stage
    tail = f" ({stage.last})" if stage.last else ""
    err_console.print(f"[dim]{label}: {time.perf_counter() - started:.1f} s{tail}[/]",
                      highlight=False)


@contextlib.contextmanager
def _follow_log(stage: _Stage | None, options: dict[str, Any]) -> Iterator[None]:
    """While HiGHS runs, write its log to a temporary file (never the console) and show
    each new gap or iteration on ``stage``'s live status."""
    if stage is None or not stage.live:
        yield
        return
    fd, path = tempfile.mkstemp(prefix="daulat-highs-", suffix=".log")
    os.close(fd)
    options.update(output_flag=True, log_to_console=False, log_file=path)
    done = threading.Event()

    def follow() -> None:
        pos = 0
        while True:
            finished = done.wait(_LOG_POLL_S)
            with contextlib.suppress(OSError), open(path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
                cut = chunk.rfind(b"\n") + 1  # whole lines only
                pos += cut
                for line in chunk[:cut].decode("utf-8", errors="replace").splitlines():
                    text = highs_progress(line)
                    if text is not None:
                        stage.detail(text)
            if finished:
                return

    reader = threading.Thread(target=follow, name="highs-log", daemon=True)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join()
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence file-descriptor 1 while HiGHS runs: it prints its banner from C before any
    option applies, and ``--json`` stdout must hold only the summary."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _run_highs(built: BuiltModel, time_limit: float | None, mip_gap: float | None,
               stage: _Stage | None = None) -> tuple[str, str, float | None, float]:
    """Solve; return (status, termination condition, relative MIP gap, seconds).

    With a live ``stage`` the current gap (MILP) or simplex iteration (LP) is shown on it
    as HiGHS reports it."""
    options: dict[str, Any] = {"output_flag": False, "threads": 1}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    if built.model.type.startswith("MI"):
        options["mip_rel_gap"] = float(DEFAULT_MIP_GAP if mip_gap is None else mip_gap)
    started = time.perf_counter()
    linopy_log = logging.getLogger("linopy")
    level = linopy_log.level
    linopy_log.setLevel(logging.ERROR)  # an infeasible re-solve is explained in words
    try:
        with _quiet_stdout(), _follow_log(stage, options):
            status, condition = built.model.solve(solver_name="highs", progress=False,
                                                  **options)
    finally:
        linopy_log.setLevel(level)
    seconds = time.perf_counter() - started
    gap: float | None = None
    solver = getattr(built.model, "solver_model", None)
    if built.model.type.startswith("MI") and solver is not None:
        with contextlib.suppress(Exception):
            gap = float(solver.getInfo().mip_gap)
    elif status == "ok":
        gap = 0.0
    return status, condition, gap, seconds


def plan_cost_usd(data: PlanData, tables: dict[str, Any]) -> float:
    """NPV of capex and opex + priced unmet demand, computed from the written tables."""
    disc = data.discount().to_series()
    costs = tables["costs"]
    npv = float(((costs["capex_usd"] + costs["opex_usd"]) * costs["year"].map(disc)).sum())
    if data.site_fixed_cost_usd > 0:  # opening cost of each new site built on (undiscounted)
        b = tables["builds"]
        opened = b.loc[(b["accelerator"] == "facility") & (b["shell_mw"] > 1e-6), "site"]
        npv += data.site_fixed_cost_usd * opened.nunique()
    if data.objective != "min_cost":
        return npv
    unmet = tables["unmet"]
    pen = float((unmet["tokens_per_s"] * unmet["year"].map(disc)).sum()
                * data.unmet_usd_per_tps_year)
    tr = tables["training"]
    for w in data.training:
        need = float(data.workloads["required_eflop"].to_dict()[w])
        got = float(tr.loc[tr["workload"] == w, "eflop"].sum()) if len(tr) else 0.0
        pen += max(need - got, 0.0) * data.unmet_training_usd_per_eflop
    return npv + pen


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


def solve_data(
    data: PlanData,
    *,
    time_limit: float | None = None,
    mip_gap: float | None = None,
    sovereignty: bool = True,
    baseline: bool = True,
    quiet: bool = False,
    scenario_yaml: str = "",
) -> PlanResult:
    """Solve prepared inputs (the hand-built instances of the tests come in here)."""
    summary: dict[str, Any] = {
        "objective": data.objective, "horizon": [data.years[0], data.years[-1]],
        "currency": data.currency, "price_year": data.price_year,
    }
    problems = precheck(data)
    if problems:
        summary.update(status="infeasible", infeasibility=problems, objective_value=None,
                       mip_gap=None, solve_seconds=0.0)
        return PlanResult(summary=summary, scenario_yaml=scenario_yaml)

    with _stage("building the model", quiet):
        t0 = time.perf_counter()
        built = build_model(data)
        build_s = time.perf_counter() - t0
    kind = "MILP" if built.model.type.startswith("MI") else "LP"
    size = f"{built.model.nvars:,} variables, {built.model.ncons:,} constraints ({kind})"
    with _stage(f"solving {size}", quiet) as stage:
        status, condition, gap, seconds = _run_highs(built, time_limit, mip_gap, stage)
    if not quiet:
        err_console.print(f"[dim]status {condition}, gap "
                          f"{'–' if gap is None else f'{gap:.2%}'}[/]", highlight=False)
    summary.update(build_seconds=build_s, solve_seconds=seconds, model_size=size,
                   mip_gap=gap, termination=condition)

    value = built.model.objective.value
    has_plan = value is not None and bool(np.isfinite(value)) and condition != "time_limit" or (
        condition == "time_limit" and gap is not None and bool(np.isfinite(gap)))
    if not has_plan and condition not in ("infeasible", "infeasible_or_unbounded"):
        limit = f" of {time_limit:g} s" if time_limit is not None else ""
        summary.update(status="no_solution", objective_value=None, infeasibility=[
            f"HiGHS found no plan within the time limit{limit} ({condition}); give more time "
            "with --time-limit or a looser --mip-gap."])
        return PlanResult(summary=summary, scenario_yaml=scenario_yaml)
    if condition in ("infeasible", "infeasible_or_unbounded"):
        with _stage("explaining the infeasibility", quiet):
            elastic = build_model(data, elastic=True)
            _run_highs(elastic, time_limit, None)
            reasons = explain_infeasible(elastic)
        summary.update(status="infeasible", infeasibility=reasons, objective_value=None)
        return PlanResult(summary=summary, scenario_yaml=scenario_yaml)

    summary["status"] = "optimal" if condition == "optimal" else "feasible"
    lp_cost: float | None = None
    if built.integer:
        summary["rounding"] = {
            "mode": "integer", "applied": True,
            "text": "Accelerators are bought in whole systems (the catalog's system_gpus per "
                    "system) as integers in the model.",
        }
    elif built.systems == "round":
        with _stage("rounding to whole systems", quiet) as stage:
            summary["binding"] = binding_constraints(built)  # duals of the LP itself
            lp_cost = plan_cost_usd(data, extract_tables(built))
            built, summary["rounding"] = _round_systems(built, kind, time_limit, lp_cost,
                                                        stage)
    else:
        summary["rounding"] = {"mode": "off", "applied": False,
                               "text": "Accelerator counts are fractional (whole_systems: off)."}
    tables = extract_tables(built)
    cost = plan_cost_usd(data, tables)
    if lp_cost is not None and summary["rounding"].get("applied"):
        summary["rounding"]["rounded_cost_usd"] = cost
        summary["rounding"]["text"] += (
            f" Rounding adds ${(cost - lp_cost) / 1e6:,.1f}M to the plan's cost "
            f"({(cost - lp_cost) / lp_cost:+.2%}).") if lp_cost else ""
    summary["objective_value"] = cost if data.objective == "min_cost" else weighted_access(
        data, tables)
    summary["objective_unit"] = "USD" if data.objective == "min_cost" else (
        "weighted person-years")

    # shadow prices: from the LP, or the LP with the binaries fixed
    with _stage("reading shadow prices", quiet) as stage:
        if "binding" in summary:
            pass  # read from the LP before rounding
        elif kind == "MILP" or built.integer:
            sel, opn = _fixed(built)
            lp = build_model(data, fixed_select=sel, fixed_open=opn, integer=False)
            lp_status, _, _, _ = _run_highs(lp, time_limit, None, stage)
            summary["binding"] = binding_constraints(lp) if lp_status == "ok" else []
        else:
            summary["binding"] = binding_constraints(built)

    last = data.years[-1]
    costs = tables["costs"]
    energy = tables["energy"]
    builds = tables["builds"]
    summary["totals"] = {
        "capex_usd": float(costs["capex_usd"].sum()),
        "opex_usd": float(costs["opex_usd"].sum()),
        "npv_cost_usd": float(((costs["capex_usd"] + costs["opex_usd"])
                               * costs["year"].map(data.discount().to_series())).sum()),
        "plan_cost_usd": cost,
        # facility MW the plan draws at full load in its last year (IT x PUE)
        "facility_mw": float((tables["sites"]["it_mw"] * tables["sites"]["site"].map(
            data.sites["pue"])).sum()),
        "it_mw": float(tables["sites"]["it_mw"].sum()),
        "shell_mw_built": float(builds["shell_mw"].sum()),
        "existing_mw_available": float(tables["sites"]["existing_mw"].sum()),
        "accelerators": float(builds.loc[builds["accelerator"] != "facility", "count"].sum()),
        "energy_mwh": float(energy["energy_mwh"].sum()),
        "emissions_tco2": float(energy["emissions_tco2"].sum()),
    }
    demand = tables["demand"]
    unmet = tables["unmet"]
    total_demand = float(demand["tokens_per_s"].sum())
    summary["served_share"] = (1 - float(unmet["tokens_per_s"].sum()) / total_demand
                               if total_demand > 0 else 1.0)
    summary["unmet_explained"] = explain_unmet(data, tables)
    summary["people_served"] = people_served(tables, last)
    summary["people_served_by_year"] = {str(y): people_served(tables, y) for y in data.years}
    if "select" in built.model.variables:
        sel = built.model.variables["select"].solution.to_series()
        summary["selected_countries"] = [str(c) for c, v in sel.items() if v > 0.5]

    summary["cost_of_sovereignty_usd"] = None
    if sovereignty:
        with _stage("pricing sovereignty (residency relaxed)", quiet) as stage:
            relaxed = data.with_residency_relaxed()
            if bool((relaxed.allowed != data.allowed).any()):
                # a portfolio keeps its countries: what residency costs *this* selection
                # (and the re-solve stays quick)
                same = _fixed(built)[0] if "select" in built.model.variables else None
                rb = build_model(relaxed, fixed_select=same)
                r_status, r_cond, _, _ = _run_highs(rb, time_limit, mip_gap, stage)
                if r_status == "ok" or rb.model.objective.value is not None:
                    r_tables = extract_tables(rb)
                    r_cost = plan_cost_usd(relaxed, r_tables)
                    # a rounded plan is priced against the relaxed LP by its LP cost
                    own = lp_cost if lp_cost is not None and rb.systems == "round" else cost
                    summary["cost_of_sovereignty_usd"] = own - r_cost
                    summary["sovereignty"] = {
                        "relaxed_cost_usd": r_cost,
                        "relaxed_people_served": people_served(r_tables, last),
                        "text": _sovereignty_text(data, own - r_cost,
                                                  summary["people_served"]
                                                  - people_served(r_tables, last)),
                    }
            else:
                summary["cost_of_sovereignty_usd"] = 0.0
                summary["sovereignty"] = {"text": "Residency changes nothing here: every "
                                          "allowed pair is already within the rules."}
    if baseline:
        with _stage("greedy baseline", quiet):
            portfolio: list[str] | None = summary.get("selected_countries") \
                if data.objective == "min_cost" else None
            base = greedy(data, portfolio)
        summary["baseline"] = compare_baseline(data, base, cost, tables)
    summary["notes"] = list(data.notes)
    return PlanResult(summary=summary, tables=tables, scenario_yaml=scenario_yaml)


def _round_systems(built: BuiltModel, kind: str, time_limit: float | None, lp_cost: float,
                   stage: _Stage | None = None) -> tuple[BuiltModel, dict[str, Any]]:
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
        status, _, _, _ = _run_highs(rb, time_limit, None, stage)
        if status == "ok":
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


def _sovereignty_text(data: PlanData, extra_usd: float, people_delta: float) -> str:
    if data.objective == "min_cost":
        return (f"Keeping every country's traffic where its law allows costs "
                f"${extra_usd / 1e9:,.2f}B (NPV) more than a plan free to serve anywhere "
                "within latency targets.")
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
    """Plan ``scenario``; the result's ``.write(dir)`` writes the tables and summary.json."""
    from daulat.plan.inputs import prepare
    from daulat.scenario.load import dump_scenario

    with _stage("gathering inputs (catalog, sizing, policy)", quiet):
        data = prepare(scenario)
    result = solve_data(data, time_limit=time_limit, mip_gap=mip_gap, sovereignty=sovereignty,
                        baseline=baseline, quiet=quiet, scenario_yaml=dump_scenario(scenario))
    result.summary["scenario"] = scenario.name
    return result
