"""Training compute: FLOPs = 6 · N_active · tokens; accelerator-hours = FLOPs / (peak · MFU)."""

from __future__ import annotations

from dataclasses import dataclass

from daulat.catalog.accelerators import Accelerator, get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import get_model
from daulat.errors import UserError

__all__ = ["TrainingSizing", "training"]


@dataclass(frozen=True)
class TrainingSizing:
    """Units: ``flops`` FLOP; ``accelerator_hours`` h; ``days`` wall-clock days on
    ``count`` accelerators (None without a count); ``accelerators_for_days`` the count that
    meets ``deadline_days`` (None without a deadline)."""

    params_b: float
    active_params_b: float
    tokens: float
    accelerator: str
    precision: str
    mfu: float
    flops: float
    accelerator_hours: float
    count: int | None
    days: float | None
    deadline_days: float | None
    accelerators_for_deadline: int | None


def training(
    *,
    tokens: float,
    accelerator: str | Accelerator,
    model: str | None = None,
    params_b: float | None = None,
    active_params_b: float | None = None,
    count: int | None = None,
    mfu: float | None = None,
    precision: str = "bf16",
    deadline_days: float | None = None,
) -> TrainingSizing:
    """Size a training run of ``tokens`` tokens (give ``model`` or ``params_b``)."""
    if model is None and params_b is None:
        raise UserError(
            "model/params: give --model or --params; valid models: see `daulat catalog list models`"
        )
    if model is not None:
        mc = get_model(model)
        n_total, n_active = mc.params_b, mc.active_params_b
    else:
        assert params_b is not None
        n_total = params_b
        n_active = active_params_b if active_params_b is not None else params_b
    if n_total <= 0 or n_active <= 0 or n_active > n_total:
        raise UserError(
            f"params: total {n_total} / active {n_active} invalid; valid: 0 < active <= total"
        )
    if n_total > constant("params_b_max"):
        raise UserError(
            f"params: {n_total:g} out of range; valid: billions of parameters, 0 < params <= "
            f"{constant('params_b_max'):g} (70 for a 70B model; a count such as 70e9 is read "
            "as 70 billion billions)"
        )
    if not constant("training_tokens_min") <= tokens <= constant("training_tokens_max"):
        raise UserError(
            f"tokens: {tokens:g} out of range; valid: a count of training tokens, "
            f"{constant('training_tokens_min'):g}..{constant('training_tokens_max'):g} "
            "(e.g. 15.6e12 for 15.6 trillion)"
        )
    acc = get_accelerator(accelerator)
    if precision not in acc.precisions:
        raise UserError(
            f"precision: {precision!r} not supported by {acc.id}; "
            f"valid values: {', '.join(acc.precisions)}"
        )
    u = constant("mfu_default") if mfu is None else mfu
    if not 0 < u <= 1:
        raise UserError(f"mfu: {u} out of range; valid values: 0 < mfu <= 1")
    if count is not None and count < 1:
        raise UserError(f"count: {count} invalid; valid values: an integer >= 1")
    flops = 6.0 * n_active * 1e9 * tokens
    rate = acc.tflops[precision] * 1e12 * u
    hours = flops / rate / 3600.0
    days = hours / count / 24.0 if count else None
    need = None
    if deadline_days is not None:
        if deadline_days <= 0:
            raise UserError(f"deadline_days: {deadline_days} invalid; valid values: > 0")
        need = int(-(-hours // (deadline_days * 24.0)))
    return TrainingSizing(
        n_total,
        n_active,
        tokens,
        acc.id,
        precision,
        u,
        flops,
        hours,
        count,
        days,
        deadline_days,
        need,
    )
