"""Throughput at a user's speed: the latency-tuned serving stack, fitted and checked.

A fleet that serves users at a published speed (ChatGPT ~80 output tokens/s per user,
Artificial Analysis) runs each replica at the batch whose step time is ``1 / speed``. The
MLPerf-fitted step constants (``t_fixed_s`` 22.5 ms per step plus the DeepEP all-to-all
round trips per MoE layer) leave a frontier MoE no batch above ~30 tokens/s per user,
while 2026 stacks serve DeepSeek-R1 at 60-150 tokens/s per user. The stack
``production-2026`` (``data/stacks.csv``) carries two fitted figures instead:

* ``layer_fixed_s``: each layer's floor per decode step (kernel launch and tail, one-shot
  NVLink collectives), ``layers × layer_fixed_s`` per step, whatever the batch;
* ``seq_overhead_s``: the stack's time per sequence on each rank and step beyond the
  roofline's kernels (scheduling, sampling, the attention data-parallel bookkeeping);
* ``a2a_growth_share``: the share of DeepEP's measured all-to-all latency growth above EP8
  that wider expert parallelism inside one NVLink domain (GB200 NVL72) adds per layer.

They are fitted (:func:`fit_latency_stack`) on two published curves only — SemiAnalysis
InferenceX DeepSeek R1 FP4, 1k/1k, MTP off, on 8 B200 (62, 102, 142 tokens/s per user,
with TensorRT-LLM's own B200 max-throughput run) and on GB200 NVL72 (57, 97, 136) — and
every other curve of ``data/interactivity.csv`` (B300, GB300, MI355X, H200, H100; every
MTP-on curve) is only checked (:func:`interactivity_checks`,
``benchmarks/interactivity_validation.py``).

InferenceX's tokens/s per GPU count input and output tokens (its aggregation divides the
total token throughput by all GPUs, prefill and decode); ours are output tokens, so a
published figure is compared as ``total × O / (I + O)``. InferenceX reports the best
configuration it measured at each speed, so ours is the better of a replica that chunks
prompts into its decode steps and a disaggregated pair of prefill and decode pools.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from daulat.catalog.accelerators import get_accelerator
from daulat.errors import UserError
from daulat.sizing.inference import inference_throughput
from daulat.sizing.prefill import prefill_throughput
from daulat.sizing.stacks import get_stack

__all__ = [
    "LATENCY_STACK",
    "InteractivityCheck",
    "InteractivityPoint",
    "fit_latency_stack",
    "interactivity_checks",
    "load_points",
    "output_tokens_per_s_per_accelerator",
]

LATENCY_STACK = "production-2026"
_NO_TTFT_LIMIT_S = 60.0  # InferenceX bounds no TTFT; a minute keeps prefill queues finite


@dataclass(frozen=True)
class InteractivityPoint:
    """One published point: total tokens/s per GPU at a per-user output speed."""

    id: str
    model: str
    accelerator: str
    precision: str
    input_tokens: int
    output_tokens: int
    speculative: bool
    tokens_per_s_per_user: float
    total_tokens_per_s_per_gpu: float
    use: str
    source: str

    @property
    def output_tokens_per_s_per_gpu(self) -> float:
        """The published figure as output tokens (total × O / (I + O))."""
        o = self.output_tokens
        return self.total_tokens_per_s_per_gpu * o / (self.input_tokens + o)


@dataclass(frozen=True)
class InteractivityCheck:
    """A point with ours: ``ours`` output tokens/s per accelerator; ``basis`` how."""

    point: InteractivityPoint
    ours: float
    basis: str

    @property
    def ratio(self) -> float:
        return self.ours / self.point.output_tokens_per_s_per_gpu

    @property
    def ok(self) -> bool:
        return 1.0 / 1.35 <= self.ratio <= 1.35


@lru_cache(maxsize=1)
def load_points() -> tuple[InteractivityPoint, ...]:
    """Every row of ``data/interactivity.csv``."""
    text = resources.files("daulat.sizing").joinpath("data", "interactivity.csv").read_text(
        "utf-8"
    )
    out = []
    for line, r in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            out.append(InteractivityPoint(
                r["id"], r["model"], r["accelerator"], r["precision"], int(r["input_tokens"]),
                int(r["output_tokens"]), r["speculative"] == "1",
                float(r["tokens_per_s_per_user"]), float(r["total_tokens_per_s_per_gpu"]),
                r["use"], r["source"],
            ))
        except (KeyError, ValueError) as exc:
            raise UserError(
                f"daulat/sizing/data/interactivity.csv line {line}: {exc}; valid: the header's "
                "columns, integers for tokens, numbers for speeds and throughputs"
            ) from None
        if out[-1].use not in ("fitted", "checked"):
            raise UserError(
                f"daulat/sizing/data/interactivity.csv line {line}: use {r['use']!r}; valid: "
                "fitted, checked"
            )
    return tuple(out)


def output_tokens_per_s_per_accelerator(
    p: InteractivityPoint, layer_fixed_s: float | None = None,
    seq_overhead_s: float | None = None, a2a_growth_share: float | None = None,
) -> tuple[float, str]:
    """Our output tokens/s per accelerator at ``p``'s speed on the latency stack (its fitted
    figures unless given): the better of aggregated and disaggregated serving."""
    kw = dict(
        stack=LATENCY_STACK, layer_fixed_s=layer_fixed_s, seq_overhead_s=seq_overhead_s,
        a2a_growth_share=a2a_growth_share,
        tpot_s=1.0 / p.tokens_per_s_per_user, tpot_mean=True, ttft_s=_NO_TTFT_LIMIT_S,
        speculative=p.speculative, output_length_cv=0.0,
    )
    agg = inference_throughput(
        p.model, p.accelerator, p.precision, "server", 1.0, input_tokens=p.input_tokens,
        output_tokens=p.output_tokens, **kw,  # type: ignore[arg-type]
    )
    dec = inference_throughput(
        p.model, p.accelerator, p.precision, "server", 1.0, input_tokens=1,
        output_tokens=p.output_tokens, context_tokens=p.input_tokens, **kw,  # type: ignore[arg-type]
    )
    dis = 0.0
    if dec.tokens_per_s_per_accelerator > 0:
        pre = prefill_throughput(
            p.model, p.accelerator, p.precision, 1.0, new_tokens=p.input_tokens,
            context_tokens=p.input_tokens, ttft_s=_NO_TTFT_LIMIT_S,
        )
        dis = 1.0 / (
            1.0 / dec.tokens_per_s_per_accelerator
            + p.input_tokens / p.output_tokens / pre.tokens_per_s_per_accelerator
        )
    if dis > agg.tokens_per_s_per_accelerator:
        return dis, (f"disaggregated: decode n={dec.replica_size}, B={dec.batch}, "
                     f"{dec.binding}")
    return agg.tokens_per_s_per_accelerator, (
        f"aggregated: n={agg.replica_size}, B={agg.batch}, {agg.binding}")


def interactivity_checks() -> list[InteractivityCheck]:
    """Every published point with ours (the committed stack figures)."""
    return [InteractivityCheck(p, *output_tokens_per_s_per_accelerator(p)) for p in load_points()]


def _loss(points: list[InteractivityPoint], layer_fixed_s: float, seq_overhead_s: float,
          a2a_growth_share: float = 0.0) -> float:
    total = 0.0
    for p in points:
        ours, _ = output_tokens_per_s_per_accelerator(
            p, layer_fixed_s, seq_overhead_s, a2a_growth_share)
        total += math.log(max(ours, 1e-3) / p.output_tokens_per_s_per_gpu) ** 2
    return total


def fit_latency_stack() -> dict[str, float]:
    """The latency stack's three figures, fitted on the ``fitted`` points only, each
    minimising the squared log error of its own points (a grid, then a finer grid):

    1. ``layer_fixed_s`` and ``seq_overhead_s`` (µs, 0.5 µs resolution) on the fitted points
       served within eight accelerators (B200: expert parallelism within EP8, which the
       growth share does not touch);
    2. then ``a2a_growth_share`` (0-1 by 0.01) on the fitted points of a larger scale-up
       domain (GB200 NVL72), where wider expert parallelism pays it.
    """
    get_stack(LATENCY_STACK)
    fitted = [p for p in load_points() if p.use == "fitted"]
    small = [p for p in fitted if get_accelerator(p.accelerator).scaleup_domain <= 8]
    wide = [p for p in fitted if get_accelerator(p.accelerator).scaleup_domain > 8]
    if not small or not wide:
        raise UserError(
            "daulat/sizing/data/interactivity.csv: the fit needs fitted rows on an accelerator "
            "of at most 8 per scale-up domain and on one of a larger domain; valid: rows with "
            "use 'fitted' of both kinds"
        )
    best: tuple[float, float, float] = (math.inf, 0.0, 0.0)
    for lf in range(0, 81, 10):
        for so in range(0, 161, 20):
            best = min(best, (_loss(small, lf * 1e-6, so * 1e-6), float(lf), float(so)))
    _, lf0, so0 = best
    for lf2 in [lf0 + d / 2 for d in range(-20, 21, 2)]:
        for so2 in [so0 + d for d in range(-20, 21, 4)]:
            if lf2 >= 0 and so2 >= 0:
                best = min(best, (_loss(small, lf2 * 1e-6, so2 * 1e-6), lf2, so2))
    loss_small, lf_us, so_us = best
    growth = min(
        (_loss(wide, lf_us * 1e-6, so_us * 1e-6, g / 100), g / 100) for g in range(0, 101)
    )
    return {
        "layer_fixed_s": round(lf_us * 1e-6, 7),
        "seq_overhead_s": round(so_us * 1e-6, 7),
        "a2a_growth_share": growth[1],
        "rms_log_error": math.sqrt((loss_small + growth[0]) / len(fitted)),
    }
