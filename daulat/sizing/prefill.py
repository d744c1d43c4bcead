"""Prefill as its own pool (prefill/decode disaggregation, issue 10 item 2).

Production stacks serving a large MoE at scale run prefill and decode on separate
accelerators (DeepSeek-V3/R1: prefill units of EP32, decode units of EP144; SGLang's
open reproduction the same). A prefill pool processes the *uncached* input tokens of each
request (prefix/KV-cache hits are loaded, not recomputed) and is compute-bound: per
token, the GEMMs of the active parameters (routed experts stretched by the expert-parallel
imbalance) and causal attention over the cached prefix plus half the new prompt. Expert
parallel dispatch/combine overlaps the kernels (two micro-batches, as DeepSeek and SGLang
run prefill), so a token costs the longer of compute and communication. The TTFT bound:
one request's new tokens on one replica must finish within ``ttft_s``.

The decode pool is :func:`daulat.sizing.inference.inference_throughput` with one input
token per request (nothing prefilled in the decode steps), as ``fleet_checks``'
``deepseek-decode-node`` already uses it. Constants and efficiencies are the
per-accelerator ones (``constants.csv``, fitted on MLPerf by
:mod:`daulat.sizing.calibrate`); nothing here is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from daulat.catalog.accelerators import Accelerator, get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import ModelClass, get_model
from daulat.errors import UserError
from daulat.sizing.inference import (
    attention_flops_per_s,
    default_efficiency,
    gemm_flops_per_s,
    resolve_precision,
)

__all__ = ["PrefillSizing", "prefill_throughput"]


@dataclass(frozen=True)
class PrefillSizing:
    """Uncached input tokens/s per accelerator of a prefill pool (after ``efficiency``),
    its replica size, the time one request's new tokens take on one replica (s) and what
    binds a token (``compute`` or ``expert all-to-all``)."""

    model: str
    accelerator: str
    precision: str
    tokens_per_s_per_accelerator: float
    replica_size: int
    request_prefill_s: float
    binding: str
    meets_ttft: bool


def _replica(model: ModelClass, acc: Accelerator, precision: str) -> int:
    """Smallest power-of-two replica (at least one scale-up domain for an MoE, whose
    experts are sharded expert-parallel) whose HBM holds the weights with room to spare."""
    bytes_w = constant(f"bytes_per_param_{precision}")
    usable = acc.hbm_gb * 1e9 * constant("hbm_usable_fraction")
    moe = model.experts > 0
    n = acc.scaleup_domain if moe else 1
    while n <= 1024:
        w = (model.dense_params_b * (n if moe else 1) + model.expert_params_b) * 1e9 * bytes_w
        if w < constant("prefill_weight_share_of_hbm") * n * usable:
            return n
        n *= 2
    raise UserError(f"model: {model.id} does not fit on 1,024 {acc.id}; valid: a smaller model")


def prefill_throughput(
    model: str | ModelClass,
    accelerator: str | Accelerator,
    precision: str | None = None,
    efficiency: float = 1.0,
    *,
    new_tokens: float,
    context_tokens: float,
    ttft_s: float,
) -> PrefillSizing:
    """Uncached input tokens/s per accelerator of a prefill pool for requests of
    ``new_tokens`` new (uncached) tokens attending to ``context_tokens`` in all."""
    mc = get_model(model) if isinstance(model, str) else model
    acc = get_accelerator(accelerator)
    precision = resolve_precision(acc, precision)
    if not 0 < efficiency <= 1:
        raise UserError(f"efficiency: {efficiency!r} out of range; valid: 0 < efficiency <= 1")
    if new_tokens <= 0 or context_tokens < new_tokens or ttft_s <= 0:
        raise UserError(f"new_tokens/context_tokens/ttft_s: {new_tokens}/{context_tokens}/"
                        f"{ttft_s} invalid; valid: 0 < new <= context tokens, ttft_s > 0")
    eff = default_efficiency()
    n = _replica(mc, acc, precision)
    flops = gemm_flops_per_s(acc, precision, eff)
    attn_rate = attention_flops_per_s(acc)
    moe_ep = mc.experts > 0 and n > 1
    imbalance = constant("moe_expert_imbalance") if moe_ep else 1.0
    routed = mc.experts_per_token * mc.expert_params_b / mc.experts * 1e9 if moe_ep else 0.0
    gemm = 2.0 * (mc.active_params_b * 1e9 + routed * (imbalance - 1.0)) / flops
    positions = (context_tokens - new_tokens) + new_tokens / 2.0
    attn = 4.0 * mc.layers * mc.attn_dim * positions / attn_rate
    compute_s = (gemm + attn) / n  # replica seconds per token, n accelerators sharing it
    comm_s = 0.0
    if moe_ep:
        tp = min(n, acc.scaleup_domain)
        link = acc.scaleup_gbps * 1e9 * constant("eta_link")
        scaleout = constant("scaleout_gbps_per_accelerator") * 1e9 * constant("eta_scaleout")
        copies = 3.0 / 2.0 * mc.experts_per_token * mc.hidden * constant("comm_bytes_per_value")
        comm_s = mc.layers * copies / n * ((tp - 1) / n / link + max(0, n - tp) / n / scaleout)
    per_token_s = max(compute_s, comm_s)
    rate = efficiency / (per_token_s * n)
    request_s = new_tokens * per_token_s / efficiency
    return PrefillSizing(
        model=mc.id, accelerator=acc.id, precision=precision,
        tokens_per_s_per_accelerator=rate, replica_size=n, request_prefill_s=request_s,
        binding="compute" if compute_s >= comm_s else "expert all-to-all",
        meets_ttft=request_s <= ttft_s,
    )
