"""Per-accelerator serving throughput: a batch-aware roofline (DESIGN.md §3).

A decode step for a batch of ``B`` sequences on a replica of ``n`` accelerators runs its
kernels in series, each at its own roofline::

    t(B) = max(W_read(B) / (n·BW·η_w), 2·N_active·B·(1 + I/O) / (n·F_prec·η_flop[prec]))
         + max(B·KV(ctx) / (n·BW·η_kv), B·4·layers·attn_dim·ctx / (n·F_attn·η_attn))
         + B·(I/O)·4·layers·attn_dim·(I/2) / (n·F_attn·η_attn)
         + B·(1 + I/O)·comm_per_token + t_fixed

* GEMMs (first line): the weights are streamed once for the step's ``B`` decode tokens and
  ``B·I/O`` prompt tokens (chunked prefill). ``W_read`` is all weights of a dense model;
  a mixture-of-experts model is served expert-parallel with data-parallel attention, so
  its dense part is replicated (held and read by each accelerator) and each routed expert
  is read when one of the step's tokens picks it (``1 - (1 - k/E)^tokens``).
* Decode attention: each sequence reads its own KV cache, ``KV(ctx)`` at the mean context
  of the sequences in flight, ``I + O·(1 + cv²)/2`` (length-biased: a request holds its
  slot for ``O`` steps), fp8 KV when serving at fp8 or fp4.
* Prompt attention: causal, ``I/2`` positions per prompt token, compute-bound.
* Attention runs at fp8 (bf16 without fp8) at FlashAttention-3's measured share of peak.
* ``comm_per_token`` is the scale-up time per processed token on each accelerator's link:
  two ring all-reduces of the hidden state per layer for tensor parallelism (dense models),
  or, for MoE (expert parallel, data-parallel attention), the dispatch + combine of ``k``
  copies of the accelerator's 1/n share of the tokens; at link bandwidth × ``eta_link``,
  serial with the step (not overlapped).

The batch is the largest that fits in HBM (``hbm_usable_fraction``), the engine's batch cap
(``max_batch_per_replica`` or the model's ``engine_max_batch``) and token budget per step
(``max_tokens_per_step``, decode plus prefill tokens) and meets the scenario's TPOT and
TTFT targets at their 99th percentile: with Poisson arrivals the sequences in flight are
Poisson(B); MLPerf's TPOT is a per-request mean, so the TPOT check uses the p99 of each
request's time-averaged batch, ``B + f·z99·√B`` (``tpot_request_average_p99_factor`` f,
``latency_p99_z``), and TTFT the instantaneous ``B + z99·√B``. The slots (HBM, batch
cap, token budget) bound that p99 in flight, not the mean B: a request finding every slot
taken waits a whole generation (square-root staffing, Halfin & Whitt 1981); offline fills
them all. An aggregated MoE replica (data-parallel attention, prompts in the step) runs
at ``adp_balance_efficiency`` of the balanced step. The decode context is length-biased
by the workload's measured output-length spread (``output_length_cv``). The replica size
is chosen among powers of two up to the scale-up domain (multi-node only when the model
does not fit one domain) to maximise tokens/s per accelerator. ``η_w``, ``η_kv``,
``η_flop`` (cuBLASLt GEMMs of a serving step's size), the attention and link efficiencies
are sourced measurements; ``t_fixed`` (and the calibration workload's unpublished prompt
length) are fitted by :mod:`daulat.sizing.calibrate` on ``calibration.csv`` only; an
accelerator's ``compute_efficiency`` scales its FLOPS where a lower measured share of peak
is cited.

A serving stack (``data/stacks.csv``, :mod:`daulat.sizing.stacks`) may replace ``t_fixed``
and the in-domain all-to-all round trips by a floor per layer and step
(``layers × layer_fixed_s``, the latency stack fitted on published throughput-vs-speed
curves: :mod:`daulat.sizing.interactivity`). With speculative decoding each sequence puts
its draft token(s) through the GEMMs, routing and all-to-all too (``1 + d + I/O`` tokens per
sequence and step in place of ``1 + I/O``) and keeps ``tokens_per_step`` of them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from daulat.catalog.accelerators import PRECISIONS, Accelerator, get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import ModelClass, get_model
from daulat.errors import UserError
from daulat.sizing.stacks import get_stack, load_stacks

__all__ = [
    "SCENARIOS",
    "Efficiency",
    "InferenceSizing",
    "attention_flops_per_s",
    "default_efficiency",
    "gemm_flops_per_s",
    "inference_throughput",
    "resolve_precision",
    "scenario_targets",
    "speculative_tokens_per_step",
]

SCENARIOS: tuple[str, ...] = ("offline", "server", "interactive")

_MAX_MULTI_NODE_FACTOR = 8


@dataclass(frozen=True)
class Efficiency:
    """Achieved shares of peak: ``mem`` of HBM bandwidth when streaming weights, ``mem_kv``
    when reading the paged KV cache, ``flop`` of dense FLOPS per precision, and a fixed
    per-step overhead ``t_fixed_s`` (seconds)."""

    mem: float
    flop: dict[str, float]
    t_fixed_s: float
    mem_kv: float | None = None

    @property
    def kv(self) -> float:
        """Achieved share of HBM bandwidth for KV-cache reads (``mem`` when not given)."""
        return self.mem if self.mem_kv is None else self.mem_kv


def default_efficiency() -> Efficiency:
    """The fitted efficiencies from the constants catalog."""
    flop = {p: constant(f"eta_flop_{p}") for p in PRECISIONS}
    return Efficiency(
        mem=constant("eta_mem_weights"),
        mem_kv=constant("eta_mem_kv"),
        flop=flop,
        t_fixed_s=constant("t_fixed_s"),
    )


def scenario_targets(scenario: str) -> tuple[float | None, float | None]:
    """(TTFT, TPOT) targets in seconds for ``scenario``; ``None`` when unconstrained."""
    if scenario not in SCENARIOS:
        raise UserError(
            f"scenario: unknown value {scenario!r}; valid values: {', '.join(SCENARIOS)}"
        )
    if scenario == "offline":
        return None, None
    return constant(f"{scenario}_ttft_s"), constant(f"{scenario}_tpot_s")


@dataclass(frozen=True)
class InferenceSizing:
    """Serving throughput of one model class on one accelerator.

    ``tokens_per_s_per_accelerator`` counts generated (output) tokens per second per
    accelerator, after the scenario ``efficiency``. ``batch`` is concurrent sequences per
    replica of ``replica_size`` accelerators; ``binding`` is what stops a larger batch or
    a faster step: ``memory capacity``, ``bandwidth``, ``compute``, or ``latency target
    (TPOT)`` / ``latency target (TTFT)``.
    """

    model: str
    accelerator: str
    precision: str
    scenario: str
    tokens_per_s_per_accelerator: float
    tokens_per_s_per_replica: float
    batch: int
    replica_size: int
    binding: str
    step_bound: str
    tpot_s: float
    ttft_s: float
    input_tokens: int
    output_tokens: int
    weights_gb: float
    kv_gb_per_sequence: float
    efficiency: float
    multi_node: bool = False
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _speculative() -> dict[str, float]:
    text = resources.files("daulat.sizing").joinpath("data", "speculative.csv").read_text("utf-8")
    return {r["model"]: float(r["tokens_per_step"]) for r in csv.DictReader(text.splitlines())}


def speculative_tokens_per_step(model: str) -> float:
    """Tokens per decode step with the model's published speculative decoding (1: none)."""
    return _speculative().get(model, 1.0)


def decode_context(
    input_tokens: float, output_tokens: float, output_length_cv: float | None = None
) -> float:
    """Mean context (tokens) of the sequences in flight during decode.

    A request with ``O`` output tokens occupies a batch slot for ``O`` steps, so the
    sequences in flight are length-biased: the time-averaged context is
    ``I + E[O²] / (2·E[O]) = I + O·(1 + cv²)/2`` for output lengths with coefficient of
    variation ``cv``, not the per-request mean ``I + O/2``. ``output_length_cv`` is the
    workload's measured value where one is published (``data/workloads.csv``), else the
    constant ``output_length_cv`` (an ASSUMPTION).
    """
    cv = constant("output_length_cv") if output_length_cv is None else output_length_cv
    return input_tokens + output_tokens * (1.0 + cv * cv) / 2.0


def resolve_precision(acc: Accelerator, precision: str | None) -> str:
    """``precision`` checked against ``acc`` (default: its narrowest native format)."""
    p = (precision or acc.precisions[-1]).lower()
    if p not in acc.precisions:
        raise UserError(
            f"precision: {p!r} is not supported by {acc.id}; valid values: "
            f"{', '.join(acc.precisions)}"
        )
    return p


def gemm_flops_per_s(acc: Accelerator, precision: str, eff: Efficiency) -> float:
    """One accelerator's sustained GEMM rate at ``precision`` (FLOP/s)."""
    return acc.tflops[precision] * 1e12 * eff.flop[precision] * acc.compute_efficiency


def attention_flops_per_s(acc: Accelerator) -> float:
    """One accelerator's sustained attention rate (fp8 where it has it, else bf16)."""
    prec = "fp8" if "fp8" in acc.tflops else "bf16"
    return acc.tflops[prec] * 1e12 * constant(f"eta_attention_{prec}") * acc.compute_efficiency


def _replica_candidates(domain: int) -> list[int]:
    sizes = [2**k for k in range(0, 16) if 2**k <= domain]
    if domain not in sizes:
        sizes.append(domain)
    return sizes


@dataclass(frozen=True)
class _Case:
    n: int
    batch: int
    step_s: float
    mem_s: float
    comp_s: float
    ttft_s: float
    binding: str
    per_acc: float


def _evaluate(
    model: ModelClass,
    acc: Accelerator,
    precision: str,
    n: int,
    input_tokens: int,
    output_tokens: int,
    ttft_target: float | None,
    tpot_target: float | None,
    eff: Efficiency,
    context_tokens: int | None = None,
    tpot_mean: bool = False,
    tokens_per_step: float = 1.0,
    output_length_cv: float | None = None,
    max_batch_per_rank: int | None = None,
    seq_overhead_s: float = 0.0,
    max_tokens_per_rank: int | None = None,
    layer_fixed_s: float | None = None,
    a2a_growth_share: float = 0.0,
) -> _Case | None:
    """Best batch on a replica of ``n`` accelerators, or None when nothing fits.

    ``input_tokens`` are the prompt tokens prefilled per request; ``context_tokens`` (default
    ``input_tokens``) are all tokens a request attends to — larger when a prefix (system
    prompt, history) is a KV-cache hit and is read but not recomputed.
    """
    ctx_in = input_tokens if context_tokens is None else max(context_tokens, input_tokens)
    # positions a prompt token attends to: the cached prefix plus half its own prompt
    prefill_positions = (ctx_in - input_tokens) + input_tokens / 2
    bytes_w = constant(f"bytes_per_param_{precision}")
    kv_value = constant(
        "kv_bytes_per_value_fp8" if precision in ("fp8", "fp4") else "kv_bytes_per_value_bf16"
    )
    kv_token = model.kv_bytes_per_token * kv_value / constant("kv_bytes_per_value_bf16")
    ctx = decode_context(ctx_in, output_tokens, output_length_cv)
    kv_seq = kv_token * model.kv_tokens(ctx)
    # Weights: a MoE model is served expert-parallel with data-parallel attention (as the
    # communication term below assumes), so its routed experts are sharded across the
    # replica while the dense part (attention, shared experts, embeddings) is replicated on
    # every accelerator, held and read by each; a dense model is sharded (tensor parallel).
    w_experts = model.expert_params_b * 1e9 * bytes_w
    dense_copies = n if w_experts > 0 else 1
    w_dense = model.dense_params_b * 1e9 * bytes_w * dense_copies
    w_total = w_dense + w_experts
    n_active = model.active_params_b * 1e9
    hbm = n * acc.hbm_gb * 1e9 * constant("hbm_usable_fraction")
    bw = n * acc.hbm_tbps * 1e12 * eff.mem
    # One KV head shared by every query head (MLA's latent, as DeepSeek-V3 caches it) is
    # read as one contiguous stream per sequence, not paged GQA's scattered per-head
    # blocks: it streams at MLA decode kernels' measured share (``eta_mem_kv_mla``).
    eta_kv = constant("eta_mem_kv_mla") if model.kv_heads == 1 else eff.kv
    bw_kv = n * acc.hbm_tbps * 1e12 * eta_kv
    flops = n * gemm_flops_per_s(acc, precision, eff)
    if w_total >= hbm:
        return None
    expert_share = model.experts_per_token / model.experts if model.experts else 1.0
    prefill_per_token = input_tokens / output_tokens
    # Speculative decoding (multi-token prediction) verifies its draft tokens in the same
    # forward pass: each sequence puts 1 + d tokens through the GEMMs, the expert routing
    # and the all-to-all per step (d drafts: the fewest that can yield ``tokens_per_step``)
    # and keeps ``tokens_per_step`` of them; attention reads the same KV cache.
    draft = math.ceil(tokens_per_step - 1.0 - 1e-9) if tokens_per_step > 1.0 else 0
    per_seq = 1.0 + draft + prefill_per_token  # tokens through the GEMMs per sequence/step
    # the batch is capped by HBM, by the engine's sequence cap and by its token budget per
    # step (each step processes B decode tokens plus B·I/O prompt tokens)
    # TensorRT-LLM's max_batch_size and max_num_tokens are per rank: with attention data
    # parallelism (a MoE replica, n > 1) each rank schedules its own sequences, so a
    # deployment's configured per-rank caps (``max_batch_per_rank``) give the replica n
    # times the rank's; a tensor-parallel engine (dense) shares one batch over its ranks.
    # Without a configured cap the catalog's cap is per replica (see docs/validation.md,
    # "What remains wrong": per rank by default overshoots every stack but the newest).
    adp_ranks = n if w_experts > 0 else 1  # ranks scheduling their own sequences
    ranks = adp_ranks if max_batch_per_rank is not None else 1
    if max_batch_per_rank is not None:
        seq_cap = max_batch_per_rank * ranks
    elif model.engine_max_batch is not None:
        seq_cap = model.engine_max_batch
    else:
        seq_cap = int(constant("max_batch_per_replica"))
    tokens_cap = (
        constant("max_tokens_per_step") if max_tokens_per_rank is None else max_tokens_per_rank
    )
    limits = {
        "memory capacity": int((hbm - w_total) // kv_seq),
        "engine batch cap": int(seq_cap),
        "engine token budget": int(ranks * tokens_cap // per_seq),
    }
    cap_name = min(limits, key=lambda k: limits[k])
    b_mem = limits[cap_name]
    if b_mem < 1:
        return None

    # Per-kernel rooflines, summed: a step runs its GEMMs (weights streamed once for all B
    # decode tokens and the B·I/O prompt tokens of the prefill chunk), then the decode
    # attention (each sequence reads its own KV cache: memory-bound for GQA) and the
    # prefill attention (compute-bound, causal: mean I/2 positions per prompt token).
    # These are separate kernels, so their times add; only within a kernel do memory
    # traffic and arithmetic overlap.
    attn_flops_rate = n * attention_flops_per_s(acc)
    attn_decode_flops = 4.0 * model.layers * model.attn_dim * ctx
    attn_prefill_flops = 4.0 * model.layers * model.attn_dim * prefill_per_token * prefill_positions

    # Expert-parallel load imbalance: the accelerator holding the busiest experts sets the
    # step, so the routed-expert share of the weight reads and GEMM FLOPs is stretched by
    # max/mean load (``moe_expert_imbalance``, SGLang large-scale EP measurement).
    moe_ep = w_experts > 0 and n > 1
    imbalance = constant("moe_expert_imbalance") if moe_ep else 1.0
    routed_active = (
        model.experts_per_token * model.expert_params_b / model.experts * 1e9
        if moe_ep and model.experts
        else 0.0
    )
    gemm_params = n_active + routed_active * (imbalance - 1.0)

    # Small-expert grouped GEMMs stream their weights below a dense GEMM's share of HBM
    # bandwidth (``eta_mem_experts``, DeepGEMM masked layout at 256 tokens per expert): the
    # routed-expert reads are charged at that share, expressed here as extra bytes at ``bw``.
    expert_bw_scale = eff.mem / constant("eta_mem_experts") if w_experts > 0 else 1.0

    def w_read(b: float) -> float:
        # each expert is read when at least one of the step's B·(1 + I/O) tokens routes
        # to it: P(touched) = 1 − (1 − k/E)^tokens (≈ all experts at large batch)
        touched = 1.0 - (1.0 - expert_share) ** (b * per_seq)
        return w_dense + w_experts * touched * imbalance * expert_bw_scale

    def mem_s(b: float) -> float:
        """Memory-bound time of the step's kernels (weights, KV)."""
        return w_read(b) / bw + b * kv_seq / bw_kv

    def comp_s(b: float) -> float:
        """Compute-bound time of the step's kernels (GEMMs, attention)."""
        gemm = 2.0 * gemm_params * b * per_seq / flops
        return gemm + b * (attn_decode_flops + attn_prefill_flops) / attn_flops_rate

    def kernels_s(b: float) -> float:
        gemm = max(w_read(b) / bw, 2.0 * gemm_params * b * per_seq / flops)
        attn_decode = max(b * kv_seq / bw_kv, b * attn_decode_flops / attn_flops_rate)
        return gemm + attn_decode + b * attn_prefill_flops / attn_flops_rate

    # Tensor-parallel all-reduces (dense: 2 per layer) or expert-parallel all-to-all (MoE:
    # dispatch + combine of k expert copies per token) across the scale-up domain, for every
    # token processed (decode and prompt). Beyond one domain, replicas pipeline across nodes.
    tp = min(n, acc.scaleup_domain)
    comm_per_token = 0.0
    link = acc.scaleup_gbps * 1e9 * constant("eta_link")
    value = constant("comm_bytes_per_value")
    if model.experts_per_token and n > 1:
        # expert parallel with data-parallel attention: each accelerator routes its 1/n
        # share of the tokens; of the k copies (fp8 out, bf16 back), (tp-1)/n stay in the
        # scale-up domain and (n-tp)/n cross to other nodes over the scale-out NIC.
        copies = 3.0 / 2.0 * model.experts_per_token * model.hidden * value
        scaleout = constant("scaleout_gbps_per_accelerator") * 1e9 * constant("eta_scaleout")
        per_layer_s = copies / n * ((tp - 1) / n / link + max(0, n - tp) / n / scaleout)
        comm_per_token = model.layers * per_layer_s
    elif tp > 1:
        # tensor parallel: every rank sees every token; two ring all-reduces per layer.
        per_layer = 2.0 * model.hidden * value * 2.0 * (tp - 1) / tp
        comm_per_token = model.layers * per_layer / link

    # Expert-parallel dispatch and combine are latency-bound at decode batch sizes: each MoE
    # layer pays the measured round trip of the low-latency all-to-all kernels (DeepEP on
    # H800: ``moe_a2a_latency_s`` at EP8, ``moe_a2a_latency_ep128_s`` at EP128,
    # log-interpolated in the EP size).
    # A stack with a measured per-layer floor (``layer_fixed_s``) keeps its EP8 collectives
    # within the scale-up domain inside that floor; wider expert parallelism in the domain
    # adds ``a2a_growth_share`` of DeepEP's measured growth above EP8 (NVLink all-to-all
    # grows with the number of peers, less than RDMA does), and cross-node expert
    # parallelism the whole DeepEP round trip.
    a2a_fixed = 0.0
    if moe_ep:
        lat8, lat128 = constant("moe_a2a_latency_s"), constant("moe_a2a_latency_ep128_s")
        t = min(max((math.log2(n) - 3.0) / 4.0, 0.0), 1.0)
        a2a_fixed = model.layers * (lat8 + t * (lat128 - lat8))
        if layer_fixed_s is not None and n <= acc.scaleup_domain:
            a2a_fixed = model.layers * t * (lat128 - lat8) * a2a_growth_share
    # Across nodes, expert parallelism runs two micro-batches so that one's all-to-all
    # overlaps the other's kernels (DeepSeek's inference system, SGLang's two-batch
    # overlap): the step is the longer of the two. Within one scale-up domain (MLPerf's
    # single-node submissions) communication stays in series with the kernels.
    overlap = model.experts_per_token > 0 and n > acc.scaleup_domain

    def comm_s(b: float) -> float:
        return b * per_seq * comm_per_token + a2a_fixed

    # Attention data parallelism with in-flight batching: each rank runs its own sequences'
    # attention, and ranks that prefill a prompt in a step hold up the ranks that only
    # decode (the step is set by the busiest rank; the MoE all-to-all synchronises them).
    # With the engine's balancing scheduler the iterations reach ``adp_balance_efficiency``
    # of the perfectly balanced step (TensorRT-LLM tech blog 10, DeepSeek-V3 on 8 GB200,
    # ADP8/EP8, 803 in / 3,653 out). Decode-only replicas (prefill elsewhere) are balanced.
    adp_stretch = (
        1.0 / constant("adp_balance_efficiency")
        if w_experts > 0 and n > 1 and prefill_per_token > 0
        else 1.0
    )

    # A serving stack's measured per-sequence cost per step beyond these kernels
    # (``seq_overhead_s``, per sequence on each rank; 0 for a stack at the roofline) and
    # its batch-independent time per layer where measured (``layer_fixed_s``: each layer's
    # kernel and collective floors, replacing ``t_fixed`` and the in-domain all-to-all
    # round trips above).
    fixed_s = eff.t_fixed_s if layer_fixed_s is None else layer_fixed_s * model.layers

    def step(b: float) -> float:
        fixed = fixed_s + b / adp_ranks * seq_overhead_s
        if overlap:
            return (max(kernels_s(b), comm_s(b)) + fixed) * adp_stretch
        return (kernels_s(b) + comm_s(b) + fixed) * adp_stretch

    # MLPerf Server/Interactive bound the 99th percentile of TPOT and TTFT under Poisson
    # arrivals. With continuous batching each request stays for its own generation time
    # (an M/G/inf system), so the number of sequences in flight is Poisson with mean B:
    # the p99 step runs B + z99·sqrt(B) sequences.
    z99 = constant("latency_p99_z") if tpot_target is not None and not tpot_mean else 0.0

    def b99(b: int) -> float:
        return b + z99 * math.sqrt(b)

    # MLPerf's TPOT is one value per request, its mean time per output token (LoadGen
    # ProcessTokenLatencies: one time_per_output_token per sample, percentile over
    # samples), so the TPOT limit binds each request's time-average of the batch over its
    # own decode, whose p99 excess over B is below the instantaneous Poisson(B) one
    # (``tpot_request_average_p99_factor``, from simulating the M/G/inf queue). The TTFT
    # check keeps the instantaneous p99 (a new request meets the running step).
    z_tpot = z99 * constant("tpot_request_average_p99_factor")

    def bt99(b: int) -> float:
        return b + z_tpot * math.sqrt(b)

    own_prefill_s = (
        2.0 * n_active * input_tokens / flops
        + 4.0 * model.layers * model.attn_dim * input_tokens * prefill_positions / attn_flops_rate
    )

    def ttft(b: int) -> float:
        # a new request waits for the running (p99) step, then its prompt is processed at
        # the replica's full compute rate (GEMMs + causal attention over the prompt).
        return step(b99(b)) + own_prefill_s

    def ok(b: int) -> bool:
        if tpot_target is not None and step(bt99(b)) > tpot_target * tokens_per_step:
            return False
        return ttft_target is None or ttft(b) <= ttft_target

    if not ok(1):
        return _Case(
            n,
            0,
            step(1),
            mem_s(1),
            comp_s(1),
            ttft(1),
            "latency target (TPOT)"
            if tpot_target is not None and step(bt99(1)) > tpot_target
            else "latency target (TTFT)",
            0.0,
        )
    # The slots (HBM for KV, the engine's sequence cap and token budget) bound the
    # sequences in flight, not their mean: under Poisson arrivals the in-flight count is
    # Poisson(B), and a request that finds every slot taken waits for one to free (a whole
    # generation away), which breaks the TTFT target. So the p99 in flight,
    # ``B + z99·√B``, must fit the slots (square-root staffing of an M/G/c queue, Halfin &
    # Whitt 1981); offline runs have no arrivals to absorb and fill every slot.
    b_slots = b_mem
    if z99 > 0:
        root = (-z99 + math.sqrt(z99 * z99 + 4.0 * b_mem)) / 2.0
        b_slots = max(int(root * root), 1)
    lo, hi = 1, b_slots
    while lo < hi:  # largest b in [1, b_slots] meeting the latency targets (step is monotone)
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    b = lo
    m, c = mem_s(b), comp_s(b)
    if c >= m:
        binding = "compute"
    elif b < b_slots:
        binding = (
            "latency target (TPOT)"
            if tpot_target is not None and step(bt99(b + 1)) > tpot_target
            else "latency target (TTFT)"
        )
    else:
        binding = cap_name
    # speculative decoding (multi-token prediction) yields ``tokens_per_step`` tokens per
    # sequence and step (its draft tokens are charged in the step above)
    per_acc = b * tokens_per_step / step(b) / n
    # Prompts queue: under Poisson arrivals a new prompt waits for those ahead of it. The
    # replica prefills at rate 1/own_prefill_s prompts/s, so the prompt work is an M/D/1
    # queue with load rho = lambda·S (lambda = requests/s at this throughput). Mean wait
    # (Pollaczek-Khinchine) W = rho·S / (2(1 - rho)); with an exponential tail
    # P(W > t) = rho·exp(-t·rho/W), the p-th percentile is S / (2(1 - rho))·ln(rho/(1 - p)).
    # Where that breaks the TTFT target the replica must run below full load (u < 1).
    t_ttft = ttft(b)
    if ttft_target is not None:
        lam_full = b / step(b) / output_tokens
        tail = 1.0 - constant("latency_percentile")

        def ttft_at(u: float) -> float:
            rho = u * lam_full * own_prefill_s
            if rho >= 1.0:
                return math.inf
            wait = (
                0.0 if rho <= tail else own_prefill_s / (2.0 * (1.0 - rho)) * math.log(rho / tail)
            )
            return ttft(b) + wait

        u = 1.0
        if ttft_at(1.0) > ttft_target:
            lo_u, hi_u = 0.0, 1.0
            for _ in range(50):
                mid_u = (lo_u + hi_u) / 2.0
                if ttft_at(mid_u) <= ttft_target:
                    lo_u = mid_u
                else:
                    hi_u = mid_u
            u = lo_u
            binding = "latency target (TTFT)"
        per_acc *= u
        t_ttft = ttft_at(u)
    return _Case(n, b, step(b), m, c, t_ttft, binding, per_acc)


def inference_throughput(
    model: str | ModelClass,
    accelerator: str | Accelerator,
    precision: str | None = None,
    scenario: str = "server",
    efficiency: float = 1.0,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    context_tokens: int | None = None,
    ttft_s: float | None = None,
    tpot_s: float | None = None,
    eta: Efficiency | None = None,
    tpot_mean: bool = False,
    speculative: bool = False,
    output_length_cv: float | None = None,
    max_batch_per_rank: int | None = None,
    seq_overhead_s: float | None = None,
    stack: str | None = None,
    max_tokens_per_rank: int | None = None,
    layer_fixed_s: float | None = None,
    a2a_growth_share: float | None = None,
) -> InferenceSizing:
    """Output tokens/s per accelerator for ``model`` on ``accelerator``.

    ``precision`` defaults to the narrowest the accelerator computes natively (fp4 on
    Blackwell and MI355X, fp8 on Hopper/MI300, bf16 on A100 and Ascend). ``efficiency``
    (0–1] scales vendor-tuned (MLPerf closed) results to a stock serving stack.
    ``ttft_s``/``tpot_s`` override the scenario's latency targets (seconds) for the
    ``server`` and ``interactive`` scenarios. ``context_tokens`` (default: the input) is
    what each request attends to when part of it is a prefix-cache hit: it is read
    (KV cache, attention) but only ``input_tokens`` are prefilled. ``tpot_mean`` bounds
    the *mean* step time by the TPOT target (a fleet's "output tokens/s per user" is an
    average, as DeepSeek publishes it) instead of MLPerf's 99th percentile.
    ``speculative`` applies the model's published multi-token-prediction yield
    (``data/speculative.csv``), as production stacks run it (MLPerf v5.1 closed did not).
    ``output_length_cv`` is the coefficient of variation of output lengths (default: the
    constant ``output_length_cv``); it sets the length-biased context of the batch.
    ``max_batch_per_rank`` is a deployment's configured engine ``max_batch_size``
    (sequences per rank, as TensorRT-LLM counts it): with attention data parallelism (MoE,
    replica of n) the replica holds up to n times that, and its token budget per step is
    n times ``max_tokens_per_step``; a dense tensor-parallel replica holds that many.
    ``seq_overhead_s`` is a serving stack's measured step time per sequence on each rank
    beyond the roofline's kernels (default 0). ``max_tokens_per_rank`` is a deployment's
    configured token budget per step (``max_num_tokens``, per rank as ``max_batch_per_rank``;
    default the constant ``max_tokens_per_step``). ``stack`` names a serving stack in
    ``data/stacks.csv`` whose per-rank caps and per-sequence cost fill those three.
    ``layer_fixed_s`` (default: the stack's, else none) replaces the fitted per-step
    constant ``t_fixed_s`` and the in-domain all-to-all round trips by a floor per layer
    and step (``layers × layer_fixed_s``); ``a2a_growth_share`` (default: the stack's) is
    the share of DeepEP's all-to-all latency growth above EP8 that wider expert
    parallelism in the scale-up domain adds; see :mod:`daulat.sizing.stacks`.
    """
    mc = get_model(model)
    acc = get_accelerator(accelerator)
    if scenario not in SCENARIOS:
        raise UserError(
            f"scenario: unknown value {scenario!r}; valid values: {', '.join(SCENARIOS)}"
        )
    precision = resolve_precision(acc, precision)
    if not 0 < efficiency <= 1:
        raise UserError(
            f"efficiency: {efficiency!r} out of range; valid values: 0 < efficiency <= 1"
        )
    i_tok = int(constant("default_input_tokens") if input_tokens is None else input_tokens)
    o_tok = int(constant("default_output_tokens") if output_tokens is None else output_tokens)
    m_tok = speculative_tokens_per_step(mc.id) if speculative else 1.0
    c_tok = None if context_tokens is None else int(context_tokens)
    if output_length_cv is not None and not 0 <= output_length_cv <= 10:
        raise UserError(
            f"output_length_cv: {output_length_cv!r} out of range; valid: 0 <= cv <= 10"
        )
    if stack is not None:
        st = get_stack(stack)
        if not st.serves(mc.id):
            same = [k for k, v in load_stacks().items() if v.serves(mc.id)]
            raise UserError(
                f"stack: {st.id!r} is measured on {st.model}, not {mc.id}; valid: a stack "
                f"of {mc.id} ({', '.join(same) or 'none in data/stacks.csv'})"
            )
        if max_batch_per_rank is None:
            max_batch_per_rank = st.max_batch_per_rank
        if max_tokens_per_rank is None:
            max_tokens_per_rank = st.max_tokens_per_rank
        seq_overhead_s = st.seq_overhead_s if seq_overhead_s is None else seq_overhead_s
        layer_fixed = st.layer_fixed_s if layer_fixed_s is None else layer_fixed_s
        growth = st.a2a_growth_share if a2a_growth_share is None else a2a_growth_share
    else:
        layer_fixed = layer_fixed_s
        growth = a2a_growth_share or 0.0
    if layer_fixed is not None and layer_fixed < 0:
        raise UserError(f"layer_fixed_s: {layer_fixed} invalid; valid: seconds >= 0")
    seq_ov = 0.0 if seq_overhead_s is None else seq_overhead_s
    if seq_ov < 0:
        raise UserError(f"seq_overhead_s: {seq_ov} invalid; valid: seconds >= 0")
    if max_tokens_per_rank is not None and max_tokens_per_rank < 1:
        raise UserError(
            f"max_tokens_per_rank: {max_tokens_per_rank} invalid; valid: tokens >= 1"
        )
    if max_batch_per_rank is not None and max_batch_per_rank < 1:
        raise UserError(
            f"max_batch_per_rank: {max_batch_per_rank} invalid; valid: sequences >= 1"
        )
    if c_tok is not None and c_tok < 0:
        raise UserError(f"context_tokens: {c_tok} invalid; valid: tokens >= 0")
    if i_tok < 0 or o_tok < 1:
        raise UserError(
            f"input_tokens/output_tokens: {i_tok}/{o_tok} invalid; valid: input >= 0, output >= 1"
        )
    eff = eta or default_efficiency()
    ttft_t, tpot_t = scenario_targets(scenario)
    if scenario != "offline":
        for name, value in (("ttft_s", ttft_s), ("tpot_s", tpot_s)):
            if value is not None and value <= 0:
                raise UserError(f"{name}: {value} invalid; valid values: seconds > 0")
        ttft_t = ttft_s if ttft_s is not None else ttft_t
        tpot_t = tpot_s if tpot_s is not None else tpot_t

    cases: list[_Case] = []
    sizes = _replica_candidates(acc.scaleup_domain)
    for n in sizes:
        case = _evaluate(
            mc, acc, precision, n, i_tok, o_tok, ttft_t, tpot_t, eff, c_tok, tpot_mean, m_tok,
            output_length_cv, max_batch_per_rank, seq_ov, max_tokens_per_rank, layer_fixed,
            growth,
        )
        if case is not None:
            cases.append(case)
    if mc.experts_per_token:
        # Expert parallelism at scale: a MoE replica may span several nodes (DeepSeek
        # decodes on EP144 units of 18 nodes) so that each accelerator holds fewer experts
        # and more KV cache; sizes up to ``moe_max_replica_accelerators``.
        k = 2
        while acc.scaleup_domain * k <= constant("moe_max_replica_accelerators"):
            case = _evaluate(
                mc, acc, precision, acc.scaleup_domain * k, i_tok, o_tok, ttft_t, tpot_t, eff,
                c_tok, tpot_mean, m_tok, output_length_cv, max_batch_per_rank, seq_ov,
                max_tokens_per_rank, layer_fixed, growth,
            )
            if case is not None:
                cases.append(case)
            k *= 2
    if not cases:
        # The model does not fit one scale-up domain: pipeline across nodes.
        k = 2
        while not cases and k <= _MAX_MULTI_NODE_FACTOR:
            case = _evaluate(
                mc, acc, precision, acc.scaleup_domain * k, i_tok, o_tok, ttft_t, tpot_t, eff,
                c_tok, tpot_mean, m_tok, output_length_cv, max_batch_per_rank, seq_ov,
                max_tokens_per_rank, layer_fixed, growth,
            )
            if case is not None:
                cases.append(case)
            k *= 2
    if not cases:
        raise UserError(
            f"model: {mc.id} at {precision} does not fit {_MAX_MULTI_NODE_FACTOR} scale-up "
            f"domains of {acc.id}; valid: a smaller model or a narrower precision "
            f"({', '.join(acc.precisions)})"
        )
    best = max(cases, key=lambda c: (c.per_acc, -c.n))
    multi_node = best.n > acc.scaleup_domain
    w_gb = mc.params_b * constant(f"bytes_per_param_{precision}")
    kv_value = constant(
        "kv_bytes_per_value_fp8" if precision in ("fp8", "fp4") else "kv_bytes_per_value_bf16"
    )
    kv_gb = (
        mc.kv_bytes_per_token
        * kv_value
        / constant("kv_bytes_per_value_bf16")
        * mc.kv_tokens(decode_context(max(c_tok or 0, i_tok), o_tok, output_length_cv))
        / 1e9
    )
    notes: list[str] = []
    if multi_node:
        notes.append(
            f"replica spans {best.n // acc.scaleup_domain} scale-up domains (pipeline across nodes)"
        )
    if best.batch == 0:
        notes.append("no batch meets the latency targets on any replica size")
    return InferenceSizing(
        model=mc.id,
        accelerator=acc.id,
        precision=precision,
        scenario=scenario,
        tokens_per_s_per_accelerator=best.per_acc * efficiency,
        tokens_per_s_per_replica=best.per_acc * best.n * efficiency,
        batch=best.batch,
        replica_size=best.n,
        binding=best.binding,
        step_bound="compute" if best.comp_s >= best.mem_s else "bandwidth",
        tpot_s=best.step_s,
        ttft_s=best.ttft_s,
        input_tokens=i_tok,
        output_tokens=o_tok,
        weights_gb=w_gb,
        kv_gb_per_sequence=kv_gb,
        efficiency=efficiency,
        multi_node=multi_node,
        notes=notes,
    )


def replicas_needed(tokens_per_s: float, sizing: InferenceSizing) -> int:
    """Whole replicas needed to serve ``tokens_per_s`` output tokens/s (0 for no demand)."""
    if tokens_per_s <= 0:
        return 0
    if sizing.tokens_per_s_per_replica <= 0:
        raise UserError(
            f"latency targets: no batch of {sizing.model} on {sizing.accelerator} meets the "
            f"{sizing.scenario} targets; valid: another scenario, accelerator or model"
        )
    return math.ceil(tokens_per_s / sizing.tokens_per_s_per_replica)
