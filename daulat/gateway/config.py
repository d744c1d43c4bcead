"""``gateway.yaml``: the gateway's configuration (pydantic at the edge, read once at start).

Every field is documented in ``docs/gateway.md``. Errors name the file, the line, the field
path, the bad value and what is valid. Nothing here is read again per request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from daulat.errors import UserError
from daulat.iso3 import ISO3
from daulat.yamlio import load_model

__all__ = [
    "GatewayConfig",
    "ServerConfig",
    "StoreConfig",
    "UpstreamConfig",
    "LocalModelConfig",
    "RoutingConfig",
    "PolicyConfig",
    "LimitsConfig",
    "TenantConfig",
    "load_config",
]

#: An explicit residency rule in ``gateway.yaml``: ``in_country``, ``any`` or alpha-3 codes.
ResidencyOverride = Literal["in_country", "any"] | list[ISO3]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(_Model):
    """Where the gateway listens."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"


class StoreConfig(_Model):
    """Where usage, keys and the audit chain live."""

    url: str | None = Field(default=None, description="sqlite:///PATH or postgresql://USER@HOST/DB")
    data_dir: Path | None = Field(default=None, description="directory of the default SQLite store")
    db_schema: str | None = Field(default=None, alias="schema", description="PostgreSQL schema")


class UpstreamConfig(_Model):
    """An OpenAI-compatible server the gateway may route to."""

    name: str
    url: str = Field(description="base URL including /v1, e.g. http://10.0.0.5:8000/v1")
    jurisdiction: ISO3 = Field(description="ISO3 of the country the upstream runs in")
    models: list[str] = Field(default_factory=list, description="models served; empty = any")
    weight: float = Field(default=1.0, gt=0)
    api_key: str | None = None
    api_key_env: str | None = Field(
        default=None, description="read the upstream key from this env var"
    )
    timeout_s: float = Field(default=60.0, gt=0, description="read timeout per request/chunk, s")
    connect_timeout_s: float = Field(default=2.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
        return v.rstrip("/")

    def key(self) -> str | None:
        """The upstream API key (from ``api_key`` or the env var)."""
        if self.api_key_env:
            return os.environ.get(self.api_key_env)
        return self.api_key


class LocalModelConfig(_Model):
    """The embedded demonstration model (``daulat[local]``)."""

    enabled: bool | Literal["auto"] = "auto"
    name: str = "gemma-3-270m"
    jurisdiction: ISO3 | None = Field(
        default=None, description="ISO3 of the machine the gateway runs on; required when enabled"
    )
    model_path: Path | None = Field(
        default=None, description="a GGUF file; default: the packaged one"
    )
    n_ctx: int = Field(default=2048, ge=256)
    n_threads: int | None = None
    max_tokens: int = Field(default=256, ge=1, description="default completion length, tokens")


class RoutingConfig(_Model):
    """Failover, circuit breaking and health checks."""

    attempts: int = Field(default=3, ge=1, description="upstreams tried per request, at most")
    breaker_failures: int = Field(default=3, ge=1, description="consecutive failures that open it")
    breaker_cooldown_s: float = Field(default=10.0, gt=0, description="open → half-open after, s")
    health_interval_s: float = Field(default=10.0, ge=0, description="0 disables health checks")
    health_timeout_s: float = Field(default=2.0, gt=0)


class PolicyConfig(_Model):
    """How each tenant's country pack is applied."""

    pii: bool = Field(default=True, description="redact PII in requests and responses")
    pii_style: Literal["tag", "mask", "hash"] = "tag"
    pii_key_env: str | None = Field(default=None, description="HMAC key env var for style 'hash'")
    system_prompt: bool = Field(default=True, description="inject the pack's system prompt")
    match_language: bool = Field(
        default=True, description="tell the model to answer in the user's language")
    content_rules: bool = True
    classifier: str | None = Field(
        default=None, description="'module:function' content classifier hook"
    )
    store_bodies: bool = Field(
        default=True, description="keep redacted bodies for the pack's retention"
    )
    packs_dir: Path | None = Field(
        default=None, description="a directory of the operator's own country packs (XXX.yaml, "
        "merged onto the shipped base.yaml); a country found there wins over the shipped pack",
    )


class LimitsConfig(_Model):
    """Quotas and caches."""

    tokens_per_day: int | None = Field(default=None, ge=0, description="default per tenant")
    requests_per_s: float | None = Field(default=None, gt=0, description="default per tenant")
    allocation_year: int | None = Field(
        default=None, description="plan year metered; default this year"
    )
    key_cache_s: float = Field(default=5.0, ge=0, description="how long a key lookup is cached, s")
    usage_sync_s: float = Field(
        default=2.0, gt=0, description="refresh of shared daily counters, s"
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    audit_thread: bool = Field(
        default=False,
        description="write audit batches on a thread (a slow database never stalls the loop)",
    )
    audit_batch: int = Field(
        default=256, ge=1, description="records per audit transaction, at most"
    )
    redis_prefix: str | None = Field(
        default=None, min_length=1, pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="prefix of every Redis key; default 'daulat:' + a digest of the store URL, "
        "so instances of one deployment share counters and two deployments never do",
    )


class TenantConfig(_Model):
    """A tenant created (or updated) at start."""

    name: str
    country: ISO3
    tokens_per_day: int | None = Field(default=None, ge=0)
    requests_per_s: float | None = Field(default=None, gt=0)


class GatewayConfig(_Model):
    """The whole of ``gateway.yaml``."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    redis_url: str | None = Field(
        default=None, description="redis://HOST:6379/0 for shared rate counters"
    )
    upstreams: list[UpstreamConfig] = Field(default_factory=list)
    local_model: LocalModelConfig = Field(default_factory=LocalModelConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)
    residency: dict[ISO3, ResidencyOverride] = Field(
        default_factory=dict,
        description="explicit residency per tenant country (in_country | any | [ISO3, ...]); "
        "wins over the country's pack. A country with neither is served in country only.",
    )
    allocations: Path | None = Field(default=None, description="a plan directory with routing.csv")
    demo_tenant: bool = Field(default=False, description="create the Indonesian demo tenant")

    @field_validator("upstreams")
    @classmethod
    def _unique(cls, v: list[UpstreamConfig]) -> list[UpstreamConfig]:
        names = [u.name for u in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"upstream names must be unique; repeated: {', '.join(dupes)}")
        return v


def load_config(path: Path | None) -> GatewayConfig:
    """Read and validate ``path`` (None = defaults). All errors at once, file:line:col."""
    if path is None:
        return GatewayConfig()
    if not path.exists():
        raise UserError(f"{path}: no such gateway config (see examples/gateway.yaml)")
    cfg = load_model(path, GatewayConfig, error=UserError, what="gateway config", empty_ok=True)
    # Relative paths in the file are relative to the file, not to where serve was started.
    base = path.resolve().parent
    if cfg.allocations is not None and not cfg.allocations.is_absolute():
        cfg.allocations = base / cfg.allocations
    if cfg.store.data_dir is not None and not cfg.store.data_dir.is_absolute():
        cfg.store.data_dir = base / cfg.store.data_dir
    if cfg.policy.packs_dir is not None and not cfg.policy.packs_dir.is_absolute():
        cfg.policy.packs_dir = base / cfg.policy.packs_dir
    if cfg.local_model.model_path is not None and not cfg.local_model.model_path.is_absolute():
        cfg.local_model.model_path = base / cfg.local_model.model_path
    return cfg
