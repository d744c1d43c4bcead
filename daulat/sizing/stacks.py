"""Serving stacks: an engine's per-rank caps and its measured per-sequence step cost.

``data/stacks.csv``: one row per serving stack (an engine of a given period running a
given model) — its ``max_batch_per_rank`` (TensorRT-LLM's ``max_batch_size`` is per rank;
with attention data parallelism each rank holds its own sequences), its configured token
budget per step ``max_tokens_per_rank`` (``max_num_tokens``; blank: the catalog default
``max_tokens_per_step``) and
``seq_overhead_s``, the time per sequence per rank and step beyond the roofline's kernels
(0: a stack at the roofline). Where a stack has a reference run outside the validation
(``ref_*`` columns), ``seq_overhead_s`` is fitted on that run by
:func:`daulat.sizing.calibrate.fit_seq_overhead`.

``layer_fixed_s`` (blank: the fitted constant ``t_fixed_s`` per step plus the DeepEP
all-to-all round trips per MoE layer) is a stack's batch-independent time per layer and
decode step: each layer's kernels and collectives have a floor (launch, tail, one-shot
NVLink all-reduce or all-to-all latency) however small the batch, so a step costs at least
``layers x layer_fixed_s``; expert parallelism beyond one scale-up domain adds the
measured cross-node all-to-all round trips. A latency-tuned stack (CUDA graphs, one-shot
NVLink collectives, overlapped scheduling) runs a DeepSeek-V3 step in a few milliseconds
where the MLPerf-fitted constants charge 22.5 ms plus 11.7 ms of all-to-all, which caps a
user's speed near 30 tokens/s. ``a2a_growth_share`` (blank: 0) is the share of DeepEP's
measured all-to-all latency growth from EP8 to wider expert parallelism that the stack's
in-domain (NVLink) all-to-all adds per MoE layer. ``model`` ``*`` marks a stack measured
on one model and applied to any.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from daulat.errors import UserError

__all__ = ["ReferenceRun", "Stack", "get_stack", "load_stacks"]


@dataclass(frozen=True)
class ReferenceRun:
    """A published max-throughput run of the stack (offline, fixed request lengths)."""

    accelerator: str
    precision: str
    input_tokens: int
    output_tokens: int
    batch_per_rank: int
    tokens_per_s_per_accelerator: float
    source: str


@dataclass(frozen=True)
class Stack:
    """A serving stack: per-rank sequence cap and per-sequence step cost (seconds)."""

    id: str
    model: str
    max_batch_per_rank: int
    seq_overhead_s: float
    source: str
    reference: ReferenceRun | None
    max_tokens_per_rank: int | None = None
    layer_fixed_s: float | None = None
    layer_fixed_source: str = ""
    a2a_growth_share: float = 0.0

    def serves(self, model: str) -> bool:
        """True when this stack may serve ``model`` (its own model, or any for ``*``)."""
        return self.model in ("*", model)


@lru_cache(maxsize=1)
def load_stacks() -> dict[str, Stack]:
    """All serving stacks keyed by id."""
    text = resources.files("daulat.sizing").joinpath("data", "stacks.csv").read_text("utf-8")
    out: dict[str, Stack] = {}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            out[row["id"]] = _stack(row)
        except (KeyError, ValueError) as exc:
            raise UserError(f"daulat/sizing/data/stacks.csv line {line}: {exc}; valid: the "
                            "columns of the header, integers for batches and tokens, numbers "
                            "for rates and seconds") from None
    return out


def _stack(row: dict[str, str]) -> Stack:
    """One row of ``stacks.csv``."""
    ref = None
    if row["ref_accelerator"].strip():
        ref = ReferenceRun(
            accelerator=row["ref_accelerator"],
            precision=row["ref_precision"],
            input_tokens=int(row["ref_input_tokens"]),
            output_tokens=int(row["ref_output_tokens"]),
            batch_per_rank=int(row["ref_batch_per_rank"]),
            tokens_per_s_per_accelerator=float(row["ref_tokens_per_s_per_accelerator"]),
            source=row["ref_source"],
        )
    return Stack(
        id=row["id"],
        model=row["model"],
        max_batch_per_rank=int(row["max_batch_per_rank"]),
        seq_overhead_s=float(row["seq_overhead_s"]),
        source=row["seq_overhead_source"],
        reference=ref,
        max_tokens_per_rank=(
            int(row["max_tokens_per_rank"]) if row["max_tokens_per_rank"].strip() else None
        ),
        layer_fixed_s=float(row["layer_fixed_s"]) if row["layer_fixed_s"].strip() else None,
        layer_fixed_source=row["layer_fixed_source"],
        a2a_growth_share=float(row["a2a_growth_share"] or 0.0),
    )


def get_stack(name: str) -> Stack:
    """Look a stack up by id (case-insensitive); UserError lists the valid ids."""
    table = load_stacks()
    for st in table.values():
        if st.id.lower() == name.strip().lower():
            return st
    raise UserError(f"stack: unknown value {name!r}; valid ids: {', '.join(table)}")
