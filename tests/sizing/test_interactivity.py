"""The latency-tuned serving stack: fitted on two published curves, checked on the rest."""

from __future__ import annotations

import pytest

from daulat.sizing.fleet import FleetAssumptions, load_from_users, size_service
from daulat.sizing.inference import inference_throughput
from daulat.sizing.interactivity import (
    LATENCY_STACK,
    fit_latency_stack,
    interactivity_checks,
    load_points,
)
from daulat.sizing.stacks import get_stack


def test_committed_stack_figures_are_the_fit_on_the_fitted_rows_only() -> None:
    st = get_stack(LATENCY_STACK)
    fit = fit_latency_stack()
    assert fit["layer_fixed_s"] == pytest.approx(st.layer_fixed_s, abs=5e-7)
    assert fit["seq_overhead_s"] == pytest.approx(st.seq_overhead_s, abs=5e-7)
    assert fit["a2a_growth_share"] == pytest.approx(st.a2a_growth_share, abs=0.005)
    fitted = {p.accelerator for p in load_points() if p.use == "fitted"}
    assert fitted == {"B200", "GB200"}  # everything else is only checked


def test_the_fitted_curves_are_reproduced() -> None:
    rows = [r for r in interactivity_checks() if r.point.use == "fitted"]
    assert len(rows) == 7
    assert sum(r.ok for r in rows) >= 5
    assert all(0.5 < r.ratio < 2.0 for r in rows)


def test_an_unfitted_accelerator_of_the_same_class_is_predicted_within_35_percent() -> None:
    # B300 (not fitted on): every MTP-off point of its curve within ±35 %
    b300 = [r for r in interactivity_checks()
            if r.point.accelerator == "B300" and not r.point.speculative]
    assert len(b300) == 3
    assert all(r.ok for r in b300), [(r.point.id, round(r.ratio, 2)) for r in b300]


def test_a_frontier_moe_can_be_served_at_chatgpt_speed_only_on_the_latency_stack() -> None:
    kw = dict(input_tokens=1, output_tokens=1000, context_tokens=2000, tpot_s=1 / 80.0,
              ttft_s=2.0, tpot_mean=True, speculative=True)
    mlperf = inference_throughput("deepseek-v3", "GB200", "fp4", "server", 1.0, **kw)
    tuned = inference_throughput("deepseek-v3", "GB200", "fp4", "server", 1.0,
                                 stack=LATENCY_STACK, **kw)
    assert mlperf.tokens_per_s_per_accelerator == 0  # 22.5 ms + all-to-all per step
    assert tuned.tokens_per_s_per_accelerator > 1000


def test_a_faster_user_costs_throughput() -> None:
    rates = [
        inference_throughput("deepseek-v3", "B200", "fp4", "server", 1.0, input_tokens=1,
                             output_tokens=1000, context_tokens=2000, tpot_s=1 / s,
                             ttft_s=2.0, tpot_mean=True, stack=LATENCY_STACK)
        .tokens_per_s_per_accelerator
        for s in (40, 80, 120)
    ]
    assert rates[0] > rates[1] > rates[2] > 0


def test_speculative_drafts_are_charged_when_compute_bound() -> None:
    # offline (no latency limit, compute-bound batches): verifying a draft token per
    # sequence costs GEMM work, so MTP cannot yield its full 1.85 tokens per step
    base = inference_throughput("deepseek-v3", "B200", "fp4", "offline", 1.0,
                                input_tokens=1000, output_tokens=1000)
    mtp = inference_throughput("deepseek-v3", "B200", "fp4", "offline", 1.0,
                               input_tokens=1000, output_tokens=1000, speculative=True)
    assert mtp.tokens_per_s_per_accelerator < 1.85 * base.tokens_per_s_per_accelerator


def test_a_stack_for_any_model_serves_every_model() -> None:
    st = get_stack(LATENCY_STACK)
    assert st.serves("gpt-oss-120b") and st.serves("deepseek-v3")
    assert not get_stack("trtllm-2025-deepseek").serves("gpt-oss-120b")


def test_a_fleet_says_which_stack_it_runs() -> None:
    load = load_from_users(1e6, "assistant", 2027)
    assert size_service(load).stack == LATENCY_STACK
    slow = size_service(load, FleetAssumptions(stack=None, output_tokens_per_s_per_user=20))
    assert slow.stack is None
