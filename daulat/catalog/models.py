"""Model classes: parameters, active parameters (MoE), layers and KV-cache size.

Data: ``data/models.csv`` with a source on every row. ``kv_bytes_per_token`` is the KV
cache of one token across all layers at 16-bit (GQA/MLA as published); serving at fp8
halves it (see :mod:`daulat.sizing.inference`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from daulat.errors import UserError

__all__ = ["ModelClass", "load_models", "get_model"]


@dataclass(frozen=True)
class ModelClass:
    """A model class. Units: parameters in billions; ``kv_bytes_per_token`` bytes at bf16;
    ``default_context`` tokens; ``attn_dim`` query heads × head dim (attention FLOPs
    per token per context position per layer = 4 × attn_dim); ``hidden`` the model
    dimension; ``experts_per_token`` routed experts per token (0 for dense models);
    ``experts`` routed experts per MoE layer (0 for dense models);
    ``engine_max_batch`` the concurrent sequences per serving engine in the vendor's
    published max-throughput recipe for this model (None: the engine default,
    ``max_batch_per_replica``); ``window_layers`` layers attend only to the last
    ``window_tokens`` tokens (sliding-window / locally banded attention; 0: none)."""

    id: str
    params_b: float
    active_params_b: float
    layers: int
    kv_bytes_per_token: float
    default_context: int
    source: str
    attn_dim: int = 0
    hidden: int = 0
    experts_per_token: int = 0
    kind: str = "dense"
    kv_heads: int = 0
    head_dim: int = 0
    aliases: tuple[str, ...] = field(default=())
    engine_max_batch: int | None = None
    experts: int = 0
    window_layers: int = 0
    window_tokens: int = 0

    def kv_tokens(self, context: float) -> float:
        """Tokens of KV cache per layer, averaged over layers, that a sequence of
        ``context`` tokens holds and reads: ``context`` on full-attention layers, at most
        ``window_tokens`` on sliding-window layers."""
        if not self.window_layers:
            return context
        full = self.layers - self.window_layers
        return (full * context + self.window_layers * min(context, self.window_tokens)) / (
            self.layers)

    @property
    def is_moe(self) -> bool:
        """True for mixture-of-experts models (active < total parameters)."""
        return self.active_params_b < self.params_b

    @property
    def expert_params_b(self) -> float:
        """Routed-expert parameters (billions): total − active = experts·(1 − k/E), so
        experts = (total − active) / (1 − k/E); 0 for dense models."""
        if not self.is_moe or self.experts <= self.experts_per_token:
            return 0.0
        return (self.params_b - self.active_params_b) / (
            1.0 - self.experts_per_token / self.experts
        )

    @property
    def dense_params_b(self) -> float:
        """Parameters every token uses (attention, shared experts, embeddings), billions."""
        return self.params_b - self.expert_params_b


@lru_cache(maxsize=1)
def load_models() -> dict[str, ModelClass]:
    """All model classes keyed by id (e.g. ``llama-3.1-70b``)."""
    text = resources.files("daulat.catalog").joinpath("data", "models.csv").read_text("utf-8")
    out: dict[str, ModelClass] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["id"]] = ModelClass(
            id=row["id"],
            params_b=float(row["params_b"]),
            active_params_b=float(row["active_params_b"]),
            layers=int(row["layers"]),
            kv_bytes_per_token=float(row["kv_bytes_per_token"]),
            attn_dim=int(row["attn_dim"]),
            hidden=int(row["hidden"]),
            experts_per_token=int(row["experts_per_token"]),
            default_context=int(row["default_context"]),
            source=row["source"],
            kind=row["kind"],
            kv_heads=int(row["kv_heads"]),
            head_dim=int(row["head_dim"]),
            aliases=tuple(a for a in row["aliases"].split(";") if a),
            engine_max_batch=int(row["engine_max_batch"]) if row.get("engine_max_batch") else None,
            experts=int(row["experts"]) if row.get("experts") else 0,
            window_layers=int(row["window_layers"]) if row.get("window_layers") else 0,
            window_tokens=int(row["window_tokens"]) if row.get("window_tokens") else 0,
        )
    return out


def get_model(name: str | ModelClass) -> ModelClass:
    """Look a model class up by id or alias (case-insensitive); UserError lists valid ids."""
    if isinstance(name, ModelClass):
        return name
    table = load_models()
    key = name.strip().lower()
    for model in table.values():
        if key == model.id.lower() or key in model.aliases:
            return model
    raise UserError(f"model: unknown value {name!r}; valid ids: {', '.join(table)}")
