"""Risk: Monte Carlo quantiles, reproducibility, tornado, engines, re-solved sweeps."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from daulat.cli import app
from daulat.errors import UserError
from daulat.finance import compute_finance, load_plan, write_finance
from daulat.finance.risk import (
    build_risk_model,
    capacity_multiplier,
    demand_factors,
    draw_inputs,
    evaluate,
    mode_draws,
    monte_carlo,
    run_risk,
)
from tests.finance.conftest import edit_summary

runner = CliRunner()


def test_quantiles_are_ordered_and_bracket_the_median(plan_dir: Path) -> None:
    result = monte_carlo(load_plan(plan_dir), 5000, seed=7)
    q = result.quantiles
    assert set(q["metric"]) == {"cost_usd", "people_served", "capacity_need_ratio",
                                "idle_capital_usd", "npv_usd"}
    assert set(q[q["metric"] == "npv_usd"]["funder"]) == {"provider", "government-idn"}
    assert (q["p10"] <= q["p50"]).all() and (q["p50"] <= q["p90"]).all()
    assert (q["p10"] < q["p90"]).all()  # the ranges in the fixture are not degenerate
    fan = result.fan
    for _, rows in fan.groupby("metric"):
        assert (rows["p10"] <= rows["p90"]).all()


def test_same_seed_same_answer_other_seed_other_answer(plan_dir: Path) -> None:
    tables = load_plan(plan_dir)
    a = monte_carlo(tables, 2000, seed=42).quantiles
    b = monte_carlo(tables, 2000, seed=42).quantiles
    c = monte_carlo(tables, 2000, seed=43).quantiles
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["p50"], c["p50"])


def test_the_mode_of_every_input_reproduces_the_plan(plan_dir: Path) -> None:
    """With all inputs at their mode (1, 1, 1, 0 years), the model gives back the plan."""
    tables = load_plan(plan_dir)
    q = monte_carlo(tables, 100, seed=1).quantiles.set_index(["metric", "funder"])
    costs = pd.read_csv(plan_dir / "costs.csv")
    assert q.loc[("cost_usd", ""), "base"] == pytest.approx(
        costs["capex_usd"].sum() + costs["opex_usd"].sum())
    summary = json.loads((plan_dir / "summary.json").read_text())
    assert q.loc[("people_served", ""), "base"] == pytest.approx(summary["people_served"],
                                                                  rel=1e-6)
    frames, _ = compute_finance(tables)
    for row in frames["returns"].itertuples():
        assert q.loc[("npv_usd", row.funder), "base"] == pytest.approx(row.npv_usd, rel=1e-9)


def test_no_uncertainty_means_every_sample_is_the_plan(tiny_plan: Path) -> None:
    one = {"low": 1, "mode": 1, "high": 1}
    edit_summary(tiny_plan, uncertainty={"accelerator_price": one, "adoption": one,
                                         "power_price": one,
                                         "delay_years": {"low": 0, "mode": 0, "high": 0}})
    q = monte_carlo(load_plan(tiny_plan), 500, seed=3).quantiles
    assert q["p10"].to_numpy() == pytest.approx(q["p90"].to_numpy())
    assert q["p50"].to_numpy() == pytest.approx(q["base"].to_numpy())


def test_tornado_moves_the_right_way(plan_dir: Path) -> None:
    t = monte_carlo(load_plan(plan_dir), 200, seed=1).tornado
    cost = t[t["metric"] == "cost_usd"].set_index("input")
    # dearer accelerators cost more; it is the largest swing on cost in this plan
    assert cost.loc["accelerator_price", "value_high"] > cost.loc["accelerator_price", "base"]
    assert cost.index[0] == "accelerator_price"
    assert cost.loc["power_price", "value_high"] > cost.loc["power_price", "value_low"]
    people = t[t["metric"] == "people_served"].set_index("input")
    # a construction delay serves fewer people in the last year; lower adoption too
    assert people.loc["delay_years", "value_high"] < people.loc["delay_years", "base"]
    assert people.loc["adoption", "value_low"] < people.loc["adoption", "base"]
    npv = t[(t["metric"] == "npv_usd") & (t["funder"] == "provider")].set_index("input")
    assert npv.loc["accelerator_price", "value_high"] < npv.loc["accelerator_price", "value_low"]
    assert (t["swing"] >= 0).all()


def test_ten_thousand_samples_in_well_under_a_second(plan_dir: Path) -> None:
    tables = load_plan(plan_dir)
    model = build_risk_model(tables)
    monte_carlo(tables, 100, seed=0, model=model)  # warm up numpy
    started = time.perf_counter()
    monte_carlo(tables, 10_000, seed=0, model=model)
    assert time.perf_counter() - started < 1.0


def test_process_pool_gives_the_same_answer_as_one_process(plan_dir: Path) -> None:
    tables = load_plan(plan_dir)
    one = monte_carlo(tables, 3000, seed=5).quantiles
    pool = monte_carlo(tables, 3000, seed=5, engine="local", workers=2).quantiles
    pd.testing.assert_frame_equal(one, pool)


def test_risk_command_writes_its_tables(plan_dir: Path) -> None:
    result = runner.invoke(app, ["risk", str(plan_dir), "--samples", "2000", "--seed", "1",
                                 "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["samples"] == 2000 and out["seed"] == 1
    for name in ("risk.csv", "risk_fan.csv", "tornado.csv", "risk.json",
                 "risk_samples.parquet"):
        assert (plan_dir / name).exists(), name
    assert len(pd.read_parquet(plan_dir / "risk_samples.parquet")) == 2000


def test_finance_command_prints_returns(plan_dir: Path) -> None:
    result = runner.invoke(app, ["finance", str(plan_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert {f["funder"] for f in json.loads(result.stdout)["funders"]} == {
        "provider", "government-idn"}


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark"], "--engine"),
    (["--samples", "0"], "--samples"),
    (["--workers", "0"], "--workers"),
])
def test_bad_options_say_what_is_valid(plan_dir: Path, args: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message):
        run_risk(plan_dir, int(args[1]) if args[0] == "--samples" else 10,
                 engine=args[1] if args[0] == "--engine" else "local",
                 workers=int(args[1]) if args[0] == "--workers" else 1)


def test_finance_and_risk_on_the_real_planner_output(real_plan: Path) -> None:
    summary = write_finance(real_plan)
    own = pd.DataFrame(summary["ownership"])
    assert own.groupby("site")["share"].sum().to_numpy() == pytest.approx(1.0)
    plan_summary = json.loads((real_plan / "summary.json").read_text())
    # the plan's co-funding rule (government >= 20 % of each site) shows in ownership
    gov = own[own["funder"] == "gov-idn"]["share"]
    assert (gov >= 0.2 - 1e-6).all()
    risk = run_risk(real_plan, 5000, seed=11)
    q = pd.DataFrame(risk["quantiles"]).set_index(["metric", "funder"])
    totals = plan_summary["totals"]
    assert q.loc[("cost_usd", ""), "base"] == pytest.approx(
        totals["capex_usd"] + totals["opex_usd"], rel=1e-6)
    assert q.loc[("people_served", ""), "base"] == pytest.approx(
        plan_summary["people_served"], rel=1e-6)
    assert (q["p10"] <= q["p90"]).all()


def test_resolve_sweep_re_solves_the_real_plan_in_a_process_pool(local_sweep: pd.DataFrame,
                                                                 real_plan: Path) -> None:
    sweep = local_sweep
    assert len(sweep) == 2
    assert set(sweep["status"]) == {"optimal"}
    assert (sweep["cost_usd"] > 0).all()
    assert {"accelerator_price_factor", "adoption_factor", "power_price_factor",
            "delay_years"} <= set(sweep.columns)
    # the knobs are the seeded draws of the scenario's uncertainty ranges
    unc = load_plan(real_plan).uncertainty
    assert sweep["adoption_factor"].between(unc.adoption.low, unc.adoption.high).all()
    assert sweep["delay_years"].between(unc.delay_years.low, unc.delay_years.high).all()


def test_people_are_counted_once_whatever_the_number_of_workloads(tiny_plan: Path) -> None:
    # a second workload of the same users: the people served stay the same
    for name in ("demand", "routing"):
        df = pd.read_csv(tiny_plan / f"{name}.csv")
        pd.concat([df, df.assign(workload="chat-2")]).to_csv(tiny_plan / f"{name}.csv",
                                                            index=False)
    peaks = pd.read_csv(tiny_plan / "inputs_peak_factors.csv")
    pd.concat([peaks, peaks.assign(workload="chat-2")]).to_csv(
        tiny_plan / "inputs_peak_factors.csv", index=False)
    model = build_risk_model(load_plan(tiny_plan))
    users_in_2028 = 1e6  # tiny plan: one million users, every token served
    assert float((model.users_per_tps_p * model.served_p)[:, -1].sum()) == pytest.approx(
        users_in_2028)


def _write_ranges(plan: Path, rows: list[tuple[str, float, float, float, float, float]],
                  groups: dict[str, tuple[str, float]] | None = None) -> None:
    """inputs_demand_ranges for the fixture's workload: (factor, low, base, high,
    capacity_low, capacity_high) per row; ``groups``: factor -> (mode, its fleet share)."""
    groups = groups or {}
    pd.DataFrame([{"workload": "assistant-medium", "year": 2028, "factor": f,
                   "label": f"figure {f}", "low": lo, "base": b, "high": hi, "unit": "x",
                   "capacity_low": cl, "capacity_high": ch, "source": "test value",
                   "group": groups.get(f, ("", None))[0],
                   "group_share": groups.get(f, ("", None))[1]}
                  for f, lo, b, hi, cl, ch in rows]).to_csv(
        plan / "inputs_demand_ranges.csv", index=False)


def test_every_demand_figure_is_drawn_with_its_median_at_the_catalog_value(
        plan_dir: Path) -> None:
    """A figure's catalog value is its best estimate: half the draws lie below it and half
    above, within its range, even where the range reaches much further up than down (a
    triangle with its mode at the base would put 62 % of 10-20-50 above 20)."""
    _write_ranges(plan_dir, [("assistant/consumer/agentic/steps_per_task", 10, 20, 50, 0.7, 2.2),
                             ("fleet/headroom", 0.05, 0.15, 0.3, 0.9, 1.1)])
    tables = load_plan(plan_dir)
    draws = draw_inputs(tables, 20_000, seed=5)
    for f in demand_factors(tables):
        x = draws[f.input]
        assert f.low <= x.min() and x.max() <= f.high
        assert float(np.mean(x < f.base)) == pytest.approx(0.5, abs=0.015), f.input


def test_the_median_draw_needs_the_plans_capacity(plan_dir: Path) -> None:
    """With one right-skewed figure and nothing else uncertain, the capacity the users need
    is the plan's at base and at P50 and far more at P90; people served follow it."""
    one = {"low": 1, "mode": 1, "high": 1}
    edit_summary(plan_dir, uncertainty={"accelerator_price": one, "adoption": one,
                                        "power_price": one,
                                        "delay_years": {"low": 0, "mode": 0, "high": 0}})
    _write_ranges(plan_dir, [("assistant/consumer/agentic/steps_per_task", 10, 20, 50, 0.7, 2.2)])
    q = monte_carlo(load_plan(plan_dir), 8000, seed=2).quantiles.set_index(["metric", "funder"])
    need = q.loc[("capacity_need_ratio", "")]
    assert need["base"] == pytest.approx(1.0)
    assert need["p50"] == pytest.approx(1.0, abs=0.03)
    assert need["p90"] > 1.5 and need["p10"] < 0.9
    people = q.loc[("people_served", "")]
    assert people["p50"] == pytest.approx(people["base"], rel=0.03)
    assert people["p10"] < 0.8 * people["base"]


def _spread(q: pd.DataFrame, metric: str) -> float:
    row = q[q["metric"] == metric].iloc[0]
    return float(row["p90"] - row["p10"])


def test_a_wider_usage_range_widens_the_people_served(plan_dir: Path) -> None:
    """A usage-profile figure's range is sampled: widening it (the capacity the same users
    need at its ends moves with it) widens people served and the capital left idle."""
    one = {"low": 1, "mode": 1, "high": 1}
    edit_summary(plan_dir, uncertainty={"accelerator_price": one, "adoption": one,
                                        "power_price": one,
                                        "delay_years": {"low": 0, "mode": 0, "high": 0}})
    base = monte_carlo(load_plan(plan_dir), 4000, seed=2).quantiles
    assert _spread(base, "people_served") == pytest.approx(0.0, abs=1e-6)  # nothing varies
    # prompts per user-day 3.0-3.6-4.2: the same users need 0.83x-1.17x the plan's capacity
    _write_ranges(plan_dir, [("assistant/consumer/all/prompts_per_user_day",
                              3.0, 3.6, 4.2, 3.0 / 3.6, 4.2 / 3.6)])
    narrow = monte_carlo(load_plan(plan_dir), 4000, seed=2).quantiles
    _write_ranges(plan_dir, [("assistant/consumer/all/prompts_per_user_day",
                              2.0, 3.6, 7.2, 2.0 / 3.6, 7.2 / 3.6)])
    wide = monte_carlo(load_plan(plan_dir), 4000, seed=2).quantiles
    assert 0 < _spread(narrow, "people_served") < _spread(wide, "people_served")
    # more use per person than planned: fewer people served; less: capacity stands idle
    people = wide[wide["metric"] == "people_served"].iloc[0]
    assert people["p10"] < people["base"]
    idle = wide[wide["metric"] == "idle_capital_usd"].iloc[0]
    assert idle["base"] == pytest.approx(0.0, abs=1.0) and idle["p90"] > 0
    assert _spread(narrow, "idle_capital_usd") < _spread(wide, "idle_capital_usd")
    # the plan's own cost does not move (the fast path keeps its builds)
    assert _spread(wide, "cost_usd") == pytest.approx(0.0, abs=1.0)


def test_tornado_lists_the_demand_figures_that_move_the_fleet_most(plan_dir: Path) -> None:
    _write_ranges(plan_dir, [
        ("assistant/consumer/agentic/steps_per_task", 10, 20, 50, 0.6, 2.3),
        ("assistant/consumer/image/output_tokens", 1056, 4160, 6240, 0.97, 1.02),
        ("fleet/headroom", 0.05, 0.15, 0.3, 0.91, 1.13),
    ])
    result = monte_carlo(load_plan(plan_dir), 500, seed=1)
    t = result.tornado
    people = t[t["metric"] == "people_served"]
    demand = people[people["input"].str.startswith("demand:")]
    assert demand["input"].tolist() == [
        "demand:assistant/consumer/agentic/steps_per_task", "demand:fleet/headroom",
        "demand:assistant/consumer/image/output_tokens"]
    steps = demand.iloc[0]
    assert steps["label"] == "figure assistant/consumer/agentic/steps_per_task"
    assert (steps["low"], steps["high"]) == (10, 50)
    # more agent steps per task than planned: fewer people served
    assert steps["value_high"] < steps["base"]
    assert {"demand:fleet/headroom"} <= set(result.samples.columns)
    assert [f["input"] for f in result.info["demand_factors"]][-1] == "demand:fleet/headroom"


def test_the_planner_writes_the_demand_ranges_risk_samples(real_plan: Path) -> None:
    """The real planner's output carries the usage-profile and fleet ranges, with the
    capacity each end needs from the sizing engine; risk samples them."""
    ranges = pd.read_csv(real_plan / "inputs_demand_ranges.csv")
    by = ranges.set_index("factor")
    prompts = by.loc["assistant/consumer/all/prompts_per_user_day"]
    assert prompts["low"] < prompts["base"] < prompts["high"]
    assert prompts["capacity_low"] < 1 < prompts["capacity_high"]
    assert by.loc["fleet/research_share", "capacity_high"] > 1
    assert by.loc["fleet/fleet_utilisation", "capacity_high"] < 1  # a better-run fleet
    assert ranges["source"].str.contains("ASSUMPTION").any()
    t = monte_carlo(load_plan(real_plan), 300, seed=4).tornado
    people = t[t["metric"] == "people_served"]
    assert people.head(10)["input"].str.startswith("demand:").sum() >= 3


def test_figures_of_two_modes_add_their_parts_of_the_fleet(plan_dir: Path) -> None:
    """Two modes each half the fleet, each figure at its high needing 1.5x the fleet: each
    mode's part doubles, so the fleet needs 2x (not 1.5 x 1.5); one mode's two figures and a
    whole-fleet figure multiply."""
    rows = [("p/consumer/chat/output_tokens", 1, 2, 3, 0.5, 1.5),
            ("p/consumer/agentic/steps_per_task", 1, 2, 3, 0.5, 1.5),
            ("p/consumer/agentic/context_tokens", 1, 2, 3, 0.5, 1.5),
            ("p/consumer/all/prompts_per_user_day", 1, 2, 3, 0.5, 1.5)]
    _write_ranges(plan_dir, rows, {"p/consumer/chat/output_tokens": ("chat", 0.5),
                                   "p/consumer/agentic/steps_per_task": ("agentic", 0.5),
                                   "p/consumer/agentic/context_tokens": ("agentic", 0.5)})
    tables = load_plan(plan_dir)
    model = build_risk_model(tables)

    def need(**high: float) -> float:
        draws = {f"demand:{f}": np.array([high.get(f.split("/")[2] + "_" + f.split("/")[3],
                                                   2.0)]) for f, *_ in rows}
        return float(capacity_multiplier(model, draws)[0, 0])

    assert need() == pytest.approx(1.0)
    assert need(chat_output_tokens=3, agentic_steps_per_task=3) == pytest.approx(2.0)
    # within agentic: part 2x * 2x = 4x on half the fleet -> 2.5x
    assert need(agentic_steps_per_task=3, agentic_context_tokens=3) == pytest.approx(2.5)
    assert need(all_prompts_per_user_day=3, chat_output_tokens=3) == pytest.approx(1.5 * 1.5)


def _npv_by_funder(plan: Path) -> dict[str, float]:
    frames, _ = compute_finance(load_plan(plan))
    r = frames["returns"]
    return dict(zip(r["funder"], r["npv_usd"], strict=True))


@pytest.mark.parametrize("figure", ["subscription_price_usd_per_month",
                                    "model_development_share"])
def test_a_revenue_figure_drawn_at_its_end_gives_the_npv_finance_computes_with_it(
        real_plan: Path, figure: str) -> None:
    # the fast path (the plan as built, each line scaled by the figures behind it) and
    # finance on the same plan with that figure at its high end agree to the dollar
    tables = load_plan(real_plan)
    model = build_risk_model(tables)
    assert figure in model.revenue_figures
    draws = {k: v.copy() for k, v in mode_draws(tables).items()}
    draws[f"revenue:{figure}"] = np.array([1.0])
    fast = dict(zip(model.funders, evaluate(model, draws)["npv_usd"][0], strict=True))
    rev = pd.read_csv(real_plan / "inputs_revenue.csv")
    at = rev["line"] == figure
    rev.loc[at, "value"] = rev.loc[at, "high"]
    rev.to_csv(real_plan / "inputs_revenue.csv", index=False)
    slow = _npv_by_funder(real_plan)
    for funder, npv in slow.items():
        assert fast[funder] == pytest.approx(npv, rel=1e-6, abs=1.0), funder


def test_the_models_cost_and_the_price_spread_the_providers_npv(real_plan: Path) -> None:
    risk = run_risk(real_plan, 4000, seed=5)
    names = {f["input"] for f in risk["revenue_figures"]}
    assert {"revenue:model_development_share", "revenue:paying_share"} <= names
    tor = pd.read_csv(real_plan / "tornado.csv")
    npv = tor[(tor["metric"] == "npv_usd") & (tor["funder"] == "provider")]
    assert npv.iloc[0]["input"].startswith("revenue:")  # a revenue figure swings it most
    q = pd.DataFrame(risk["quantiles"]).set_index(["metric", "funder"])
    provider = q.loc[("npv_usd", "provider")]
    assert provider["p10"] < provider["base"] < provider["p90"]
    assert provider["p90"] - provider["p10"] > 0.5 * abs(provider["base"])


def test_a_revenue_figure_without_a_range_stays_at_its_value(real_plan: Path) -> None:
    rev = pd.read_csv(real_plan / "inputs_revenue.csv")
    fixed = rev["line"] == "sales_support_share"
    rev.loc[fixed, "low"] = rev.loc[fixed, "value"]
    rev.loc[fixed, "high"] = rev.loc[fixed, "value"]
    rev.to_csv(real_plan / "inputs_revenue.csv", index=False)
    tables = load_plan(real_plan)
    model = build_risk_model(tables)
    assert "sales_support_share" not in model.revenue_figures
    assert "model_development_share" in model.revenue_figures
    base = evaluate(model, mode_draws(tables))["npv_usd"][0]
    slow = _npv_by_funder(real_plan)
    assert base == pytest.approx([slow[f] for f in model.funders], rel=1e-6)
    draws = mode_draws(tables)
    draws["revenue:model_development_share"] = np.array([1.0])
    assert evaluate(model, draws)["npv_usd"][0][model.funders.index("provider")] < base[
        model.funders.index("provider")]
