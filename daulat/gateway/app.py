"""The gateway's ASGI app: OpenAI-compatible chat completions, models, health, metrics.

Per request: authenticate (cached key lookup) → read the body within its size limit →
validate it as OpenAI documents it (:mod:`daulat.gateway.requests`) → quota check → the
tenant's country policy (system prompt, language, PII redaction, content rules) → a
*permitted* upstream chosen by the router, with failover (one loop, streaming or not) →
the answer, PII-redacted on the way out (streaming-aware) → an audit record and usage
written durably → the response. Fail closed: no permitted healthy upstream is a 503, never
a request abroad.

Every refusal is an exception class of :mod:`daulat.gateway.errors`; one Starlette
exception handler turns it into an OpenAI-format JSON error and writes its audit record,
so every request — valid or not, on any path — ends in JSON and an audit record.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route as HttpRoute

from daulat.errors import CountryCodeError, PackError, UserError
from daulat.gateway.audit import AuditEntry, AuditStoreError, Recorder
from daulat.gateway.auth import KeyCache, Principal, bearer
from daulat.gateway.config import GatewayConfig
from daulat.gateway.enforce import CountryPolicy, PolicyRegistry
from daulat.gateway.errors import (
    AuditWriteFailed,
    ClientClosed,
    ContentBlocked,
    FailClosed,
    GatewayError,
    InternalError,
    InvalidApiKey,
    MethodNotAllowed,
    ModelNotFound,
    NoPolicyPack,
    NotFound,
    QuotaExceededError,
    RequestTooLarge,
    UpstreamBadRequest,
)
from daulat.gateway.local_model import INSTALL_HINT, LocalModelUpstream, local_available
from daulat.gateway.metering import Meter, Quota, QuotaExceeded
from daulat.gateway.openapi import openapi_document
from daulat.gateway.requests import check_content_type, parse_chat
from daulat.gateway.routing import CircuitBreaker, Route, Router
from daulat.gateway.upstreams import HttpUpstream, Upstream, UpstreamError
from daulat.store.db import current_revision, default_url, head_revision
from daulat.store.store import Store

__all__ = ["Gateway", "create_app", "app_from_env", "CONFIG_ENV", "openai_error",
           "single_threaded_natives", "redis_prefix"]

log = logging.getLogger("daulat.gateway")

CONFIG_ENV = "DAULAT_GATEWAY_CONFIG_JSON"
# Rough characters per token, used only when an upstream reports no usage
# (OpenAI, "What are tokens and how to count them": ~4 characters of English per token).
_CHARS_PER_TOKEN = 4
# Requests larger than this are redacted on a worker thread rather than on the event loop
# (about a millisecond of PII scanning; a 1 MB body takes tens of ms).
_INLINE_POLICY_BYTES = 65_536
# The upstream's own message in an "upstream_bad_request" error is cut to this many characters.
_UPSTREAM_MESSAGE_CHARS = 300
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
_AUTH_HINT = ("Missing or invalid API key. Pass it as 'Authorization: Bearer dk-…' "
              "(create one with `daulat keys create`).")
T = TypeVar("T")


def openai_error(status: int, message: str, type_: str, code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in OpenAI's JSON shape: ``{"error": {message, type, param, code}}``."""
    return JSONResponse({"error": {"message": message, "type": type_, "param": param,
                                   "code": code}}, status_code=status, headers=headers)


def redis_prefix(cfg: GatewayConfig, store_url: str) -> str:
    """``limits.redis_prefix``, else ``daulat:`` + 8 hex of the store URL's SHA-256: the
    instances of one deployment share a store and so a prefix; two deployments do not."""
    if cfg.limits.redis_prefix:
        return cfg.limits.redis_prefix
    return "daulat:" + hashlib.sha256(store_url.encode()).hexdigest()[:8]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // _CHARS_PER_TOKEN) if text else 0


def _sse(obj: Any) -> str:
    return f"data: {_dumps(obj)}\n\n"


@dataclass
class _Ctx:
    """What one request accumulates for its audit record."""

    request_id: str
    t0: float
    path: str = ""
    stream: bool = False
    principal: Principal | None = None
    model: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    actions: dict[str, Any] = field(default_factory=dict)
    upstream: str | None = None
    jurisdiction: str | None = None
    upstream_s: float = 0.0  # time spent waiting on upstreams (all attempts)
    policy: CountryPolicy | None = None
    prompt_tokens: int = 0  # served tokens, kept for the audit record of a failed write
    completion_tokens: int = 0


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("daulat_requests", "Chat requests by country and outcome",
                                ["country", "status"], registry=self.registry)
        self.tokens = Counter("daulat_tokens", "Tokens served by country and direction",
                              ["country", "direction"], registry=self.registry)
        self.upstream_failures = Counter("daulat_upstream_failures",
                                         "Upstream failures (5xx, timeouts, broken streams)",
                                         ["upstream"], registry=self.registry)
        self.latency = Histogram("daulat_request_seconds", "Request time to the last byte, s",
                                 ["stream"], registry=self.registry)
        self.breaker_open = Gauge("daulat_upstream_available",
                                  "1 if the upstream is healthy and its breaker admits requests",
                                  ["upstream", "jurisdiction"], registry=self.registry)


class Gateway:
    """The gateway's state for one worker process."""

    def __init__(self, cfg: GatewayConfig, store: Store, *,
                 upstreams: list[Upstream] | None = None,
                 registry: PolicyRegistry | None = None,
                 country_tokens_per_day: dict[str, int] | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.policies = registry or PolicyRegistry(cfg.policy, cfg.residency)
        if upstreams is None:
            upstreams = [HttpUpstream(u, cfg.routing.health_timeout_s) for u in cfg.upstreams]
        self.upstreams: dict[str, Upstream] = {u.name: u for u in upstreams}
        models: dict[str, frozenset[str]] = {u.name: frozenset(u.models) for u in cfg.upstreams}
        weights = {u.name: u.weight for u in cfg.upstreams}
        for u in upstreams:  # e.g. the embedded local model
            if u.name not in models:
                models[u.name] = frozenset(getattr(u, "models", ()) or ())
        routes = [Route(name=u.name, jurisdiction=u.jurisdiction, models=models[u.name],
                        weight=weights.get(u.name, 1.0),
                        breaker=CircuitBreaker(cfg.routing.breaker_failures,
                                               cfg.routing.breaker_cooldown_s))
                  for u in upstreams]
        self.router = Router(routes, self._allows)
        self.keys = KeyCache(store, cfg.limits.key_cache_s)
        self.meter = Meter(store, country_tokens_per_day=country_tokens_per_day,
                           workers=cfg.server.workers, redis_url=cfg.redis_url,
                           sync_s=cfg.limits.usage_sync_s,
                           redis_prefix=redis_prefix(cfg, store.url))
        self.recorder: Recorder | None = None
        self.metrics = _Metrics()
        self.ready = False
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()

    def _allows(self, country: str, jurisdiction: str) -> bool:
        try:
            return self.policies.get(country).allows(jurisdiction)
        except (PackError, CountryCodeError):  # a broken pack or code: no route, fail closed
            return False

    # --- lifecycle ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.recorder = Recorder(self.store.engine, self.cfg.limits.audit_batch,
                                 threaded=self.cfg.limits.audit_thread)
        with contextlib.suppress(SQLAlchemyError, RedisError):
            await self.meter.sync()
        await asyncio.to_thread(self.warm_up)
        self._tasks.append(asyncio.create_task(self.meter.run_sync()))
        if self.cfg.routing.health_interval_s > 0:
            await self.check_health()
            self._tasks.append(asyncio.create_task(self._health_loop()))
        self.ready = True
        try:
            yield
        finally:
            self.ready = False
            for task in self._tasks:
                task.cancel()
            for task in list(self._background):
                with contextlib.suppress(AuditStoreError, asyncio.CancelledError):
                    await task
            self.recorder.close()
            for up in self.upstreams.values():
                await up.aclose()
            await self.meter.aclose()

    def warm_up(self) -> None:
        """Load and compile the policy of every tenant's country before the first request
        (packs, PII engines, the language detector's models: seconds, once)."""
        try:
            countries = sorted({t.country for t in self.store.tenants()})
        except SQLAlchemyError:  # an unreadable store shows up on the first request instead
            countries = []
        for country in countries:
            try:
                policy = self.policies.get(country)
            except (PackError, CountryCodeError):  # its requests fail closed with a 503
                log.warning("no valid policy for tenant country %s: its requests get 503",
                            country, exc_info=True)
                continue
            self.router.permitted(country)
            policy.prepare([{"role": "user", "content": "warm-up"}])

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.routing.health_interval_s)
            await self.check_health()

    async def check_health(self) -> None:
        """Probe every upstream once and mark it healthy or not."""
        routes = {r.name: r for r in self.router.routes}
        results = await asyncio.gather(*(u.health() for u in self.upstreams.values()),
                                       return_exceptions=True)
        for up, ok in zip(self.upstreams.values(), results, strict=True):
            routes[up.name].healthy = ok is True

    # --- audit -------------------------------------------------------------------------------
    def _entry(self, ctx: _Ctx, status: str, http_status: int, *, error: str | None = None,
               prompt_tokens: int = 0, completion_tokens: int = 0, rejected: bool = False,
               policy: CountryPolicy | None = None, body_request: str | None = None,
               body_response: str | None = None) -> AuditEntry:
        tenant = ctx.principal.tenant if ctx.principal else None
        record = {
            "path": ctx.path,
            "tenant": tenant.name if tenant else None,
            "key_id": ctx.principal.key_id if ctx.principal else None,
            "country": tenant.country if tenant else None,
            "model": ctx.model,
            "stream": ctx.stream,
            "upstream": ctx.upstream,
            "jurisdiction": ctx.jurisdiction,
            "attempts": ctx.attempts,
            "policy": ctx.actions,
            "status": status,
            "http_status": http_status,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "latency_ms": round((time.perf_counter() - ctx.t0) * 1000, 3),
            "upstream_ms": round(ctx.upstream_s * 1000, 3),
            "error": error,
        }
        if tenant is not None:
            self.metrics.requests.labels(tenant.country, status).inc()
        return AuditEntry(
            request_id=ctx.request_id, record=record,
            tenant=tenant.name if tenant else None, country=tenant.country if tenant else None,
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, rejected=rejected,
            body_request=body_request, body_response=body_response,
            retention_s=policy.retention_s if policy else 0.0,
        )

    async def _record(self, entry: AuditEntry) -> None:
        """Write ``entry`` durably (AuditStoreError if it cannot be), then count its tokens."""
        assert self.recorder is not None
        await self.recorder.record(entry)
        if entry.tenant and entry.country and not entry.rejected:
            try:
                await self.meter.add(entry.tenant, entry.country,
                                     entry.prompt_tokens + entry.completion_tokens)
            except RedisError:  # the durable count is the store's; Redis only speeds quotas
                log.warning("Redis token counter not updated for %s", entry.request_id,
                            exc_info=True)

    async def _record_served(self, ctx: _Ctx, entry: AuditEntry) -> None:
        """Record a served answer; when that fails, record the failure itself (no bodies,
        the tokens kept for usage) and raise :class:`AuditWriteFailed` to the client."""
        try:
            await self._record(entry)
        except AuditStoreError as exc:
            log.error("audit write failed for %s: %s", ctx.request_id, exc)
            ctx.prompt_tokens, ctx.completion_tokens = entry.prompt_tokens, \
                entry.completion_tokens
            raise AuditWriteFailed(
                f"the answer was produced but its audit record could not be written ({exc}); "
                f"it is withheld — request {ctx.request_id}") from exc

    # --- errors: one handler for every refusal -------------------------------------------------
    def _ctx(self, request: Request) -> _Ctx:
        ctx: _Ctx | None = getattr(request.state, "ctx", None)
        if ctx is None:
            ctx = _Ctx(request_id=f"chatcmpl-{uuid.uuid4().hex}", t0=time.perf_counter(),
                       path=request.url.path)
            request.state.ctx = ctx
        return ctx

    async def on_error(self, request: Request, exc: Exception) -> Response:
        """Starlette exception handler: an OpenAI-format JSON error and its audit record."""
        if isinstance(exc, HTTPException):  # the router's own 404/405
            err: GatewayError = (
                MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}",
                                 headers=dict(exc.headers or {}))
                if exc.status_code == 405 else
                NotFound(f"no such endpoint: {request.method} {request.url.path} (the gateway "
                         "serves POST /v1/chat/completions and GET /v1/models)"))
        elif isinstance(exc, GatewayError):
            err = exc
        else:  # the request boundary's last resort: a bug, logged with its traceback
            log.error("unexpected error in %s %s", request.method, request.url.path,
                      exc_info=exc)
            err = InternalError("the gateway failed unexpectedly; the error is logged")
        ctx = self._ctx(request)
        served = ctx.prompt_tokens + ctx.completion_tokens > 0
        entry = self._entry(ctx, err.audit_status, err.status, error=err.message,
                            rejected=not served, prompt_tokens=ctx.prompt_tokens,
                            completion_tokens=ctx.completion_tokens)
        try:
            await self._record(entry)
        except AuditStoreError:
            log.error("audit record of a %s error could not be written for %s", err.status,
                      ctx.request_id, exc_info=True)
        return openai_error(err.status, err.message, err.type, err.code, err.param,
                            headers={**err.headers, "x-request-id": ctx.request_id})

    def _boundary(self, endpoint: Callable[[Request], Awaitable[Response]]
                  ) -> Callable[[Request], Awaitable[Response]]:
        """Where a request meets the world: anything not a GatewayError becomes an
        :class:`InternalError` (500 JSON, audited, traceback logged)."""

        async def handle(request: Request) -> Response:
            self._ctx(request)
            try:
                return await endpoint(request)
            except GatewayError:
                raise
            except ClientDisconnect:
                raise ClientClosed("the client closed the connection before sending the whole "
                                   "body") from None
            except Exception as exc:  # the request boundary (see the docstring)
                log.error("unexpected error in %s %s", request.method, request.url.path,
                          exc_info=exc)
                raise InternalError("the gateway failed unexpectedly; the error is logged "
                                    f"as {self._ctx(request).request_id}") from exc

        return handle

    # --- endpoints ---------------------------------------------------------------------------
    async def healthz(self, request: Request) -> Response:
        """Per tenant country: its permitted upstreams and whether one is available.
        503 ``degraded`` when a country has none (its requests would fail closed)."""
        try:
            countries = sorted({t.country for t in await asyncio.to_thread(self.store.tenants)})
            store_ok = True
        except SQLAlchemyError:
            countries, store_ok = [], False
        per_country: dict[str, Any] = {}
        for c in countries:
            permitted = self.router.permitted(c)
            up = [r.name for r in permitted if r.available()]
            try:
                residency = self.policies.get(c).residency.describe()
            except (PackError, CountryCodeError) as exc:
                residency = f"policy pack does not load: {exc}"
            per_country[c] = {"status": "ok" if up else "unavailable",
                              "available_upstreams": up,
                              "permitted_upstreams": [r.name for r in permitted],
                              "residency": residency}
        degraded = not store_ok or any(v["status"] != "ok" for v in per_country.values())
        routes = [{"name": r.name, "jurisdiction": r.jurisdiction, "healthy": r.healthy,
                   "breaker": r.breaker.state} for r in self.router.routes]
        return JSONResponse({"status": "degraded" if degraded else "ok", "store": store_ok,
                             "countries": per_country, "upstreams": routes},
                            status_code=503 if degraded else 200)

    async def readyz(self, request: Request) -> Response:
        """200 once started and the store answers; 503 before, during shutdown, or without it."""
        ok = self.ready
        if ok:
            try:
                await asyncio.to_thread(self._ping_store)
            except SQLAlchemyError:
                ok = False
        return JSONResponse({"status": "ready" if ok else "not_ready"},
                            status_code=200 if ok else 503)

    async def openapi(self, request: Request) -> Response:
        """This gateway's OpenAPI document (:mod:`daulat.gateway.openapi`)."""
        return JSONResponse(openapi_document())

    def _ping_store(self) -> None:
        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def metrics_endpoint(self, request: Request) -> Response:
        for r in self.router.routes:
            self.metrics.breaker_open.labels(r.name, r.jurisdiction).set(int(r.available()))
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def _auth(self, ctx: _Ctx, request: Request) -> Principal:
        key = bearer(request)
        principal = await self.keys.resolve(key) if key else None
        if principal is None:
            raise InvalidApiKey(_AUTH_HINT)
        ctx.principal = principal
        return principal

    async def models(self, request: Request) -> Response:
        ctx = self._ctx(request)
        principal = await self._auth(ctx, request)
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "daulat"}
                for m in self.router.models(principal.tenant.country)]
        await self._record_served(ctx, self._entry(ctx, "ok", 200))
        return JSONResponse({"object": "list", "data": data},
                            headers={"x-request-id": ctx.request_id})

    async def _read_body(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as it passes ``limits.max_body_bytes`` —
        a declared length at once, a chunked body while it streams in (never buffered whole)."""
        limit = self.cfg.limits.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"the request body is {declared} bytes; the limit is {limit} "
                                  "(limits.max_body_bytes)")
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestTooLarge(f"the request body is over {limit} bytes, the limit "
                                      "(limits.max_body_bytes); refused while it was sent")
            parts.append(chunk)
        return b"".join(parts)

    def _policy(self, country: str) -> CountryPolicy:
        try:
            return self.policies.get(country)
        except (PackError, CountryCodeError) as exc:
            raise NoPolicyPack(f"the policy pack of {country} cannot be loaded ({exc}); the "
                               "gateway fails closed for this country") from exc

    async def chat(self, request: Request) -> Response:
        ctx = self._ctx(request)
        tenant = (await self._auth(ctx, request)).tenant
        check_content_type(request.headers.get("content-type"))
        raw = await self._read_body(request)
        body, chat = parse_chat(raw)
        ctx.model, ctx.stream = chat.model, bool(chat.stream)
        quota = Quota(
            tenant.tokens_per_day if tenant.tokens_per_day is not None
            else self.cfg.limits.tokens_per_day,
            tenant.requests_per_s if tenant.requests_per_s is not None
            else self.cfg.limits.requests_per_s)
        try:
            await self.meter.check(tenant.name, tenant.country, quota)
        except QuotaExceeded as exc:
            raise QuotaExceededError(str(exc), code=exc.code,
                                     headers={"retry-after": str(exc.retry_after_s)}) from None
        policy = ctx.policy = self._policy(tenant.country)
        if len(raw) > _INLINE_POLICY_BYTES:  # keep the event loop free for other requests
            messages, ctx.actions, decisions = await asyncio.to_thread(
                policy.prepare, body["messages"])
        else:
            messages, ctx.actions, decisions = policy.prepare(body["messages"])
        blocked = [d for d in decisions if d.action == "block"]
        if blocked:
            d = blocked[0]
            law = f" ({d.law})" if d.law else ""
            raise ContentBlocked(f"{d.message}{law} [rule {d.rule}]")
        if not self.router.permitted(tenant.country):
            raise FailClosed(f"no upstream is permitted for {tenant.country} by its residency "
                             f"({policy.residency.describe()}); the gateway fails closed rather "
                             "than send the request abroad")
        if not self.router.serves_model(tenant.country, chat.model):
            models = ", ".join(self.router.models(tenant.country)) or "none listed"
            raise ModelNotFound(f"model {chat.model!r} is not served to {tenant.country} "
                                f"(models: {models})", param="model")
        upstream_body = {**body, "messages": messages}
        if ctx.stream:
            upstream_body["stream_options"] = {**(body.get("stream_options") or {}),
                                               "include_usage": True}
            return await self._stream(ctx, policy, body, upstream_body)
        return await self._complete(ctx, policy, upstream_body, messages)

    # --- upstreams: one failover loop ------------------------------------------------------------
    async def _failover(self, ctx: _Ctx, policy: CountryPolicy,
                        call: Callable[[Upstream], Awaitable[T]]) -> tuple[Route, T]:
        """Try permitted upstreams (by weight, at most ``routing.attempts``) until ``call``
        succeeds. A retryable failure counts against that upstream's breaker and moves on;
        the upstream rejecting the request itself ends it (:class:`UpstreamBadRequest`,
        breaker untouched); nothing left is :class:`FailClosed`."""
        assert ctx.model is not None
        tried: set[str] = set()
        for _ in range(self.cfg.routing.attempts):
            route = self.router.choose(policy.iso3, ctx.model, tried)
            if route is None:
                break
            tried.add(route.name)
            t_up = time.perf_counter()
            try:
                result = await call(self.upstreams[route.name])
            except UpstreamError as exc:
                ctx.upstream_s += time.perf_counter() - t_up
                ctx.attempts.append({"upstream": route.name, "jurisdiction": route.jurisdiction,
                                     "error": str(exc), "status": exc.status})
                if exc.retryable:
                    self._failed(route)
                    continue
                route.breaker.success()  # it answered: the request was the problem
                raise UpstreamBadRequest(_rejection(exc)) from exc
            ctx.upstream_s += time.perf_counter() - t_up
            ctx.upstream, ctx.jurisdiction = route.name, route.jurisdiction
            ctx.attempts.append({"upstream": route.name, "jurisdiction": route.jurisdiction,
                                 "error": None, "status": 200})
            return route, result
        tried_names = ", ".join(a["upstream"] for a in ctx.attempts) or "none available"
        raise FailClosed(f"no permitted upstream for {policy.iso3} is available "
                         f"({policy.residency.describe()}; tried: {tried_names}); the gateway "
                         "fails closed rather than send the request abroad")

    def _failed(self, route: Route) -> None:
        route.breaker.failure()
        self.metrics.upstream_failures.labels(route.name).inc()

    async def _complete(self, ctx: _Ctx, policy: CountryPolicy, upstream_body: dict[str, Any],
                        messages: list[dict[str, Any]]) -> Response:
        assert ctx.principal is not None
        country = ctx.principal.tenant.country
        route, data = await self._failover(ctx, policy,
                                           lambda up: up.complete(upstream_body))
        route.breaker.success()
        pii_out: list[str] = []
        texts = []
        for choice in data.get("choices") or []:
            msg = choice.get("message") or {}
            if isinstance(msg.get("content"), str):
                red, types = policy.redact(msg["content"])
                pii_out += types
                msg["content"] = red
                texts.append(red)
            if msg.get("tool_calls"):
                msg["tool_calls"], types = policy.redact_tool_calls(msg["tool_calls"])
                pii_out += types
        ctx.actions["pii_out"] = sorted(set(pii_out))
        ctx.actions["pii_out_count"] = len(pii_out)
        flags = policy.check_content("\n".join(texts)) if policy.rules else []
        if flags:
            ctx.actions["content_out"] = [d.rule for d in flags]
        usage = data.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or _estimate_tokens(
            " ".join(str(m.get("content", "")) for m in messages)))
        completion_tokens = int(usage.get("completion_tokens") or _estimate_tokens("".join(texts)))
        data["usage"] = {**usage, "prompt_tokens": prompt_tokens,
                         "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
        data["id"] = ctx.request_id
        keep = policy.retention_s > 0
        await self._record_served(ctx, self._entry(
            ctx, "ok", 200, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            policy=policy, body_request=_dumps(messages) if keep else None,
            body_response="\n".join(texts) if keep else None))
        self.metrics.tokens.labels(country, "prompt").inc(prompt_tokens)
        self.metrics.tokens.labels(country, "completion").inc(completion_tokens)
        self.metrics.latency.labels("false").observe(time.perf_counter() - ctx.t0)
        return Response(_dumps(data), media_type="application/json",
                        headers={"x-request-id": ctx.request_id,
                                 "x-daulat-upstream": route.name})

    async def _stream(self, ctx: _Ctx, policy: CountryPolicy, body: dict[str, Any],
                      upstream_body: dict[str, Any]) -> Response:

        async def open_stream(up: Upstream) -> tuple[AsyncIterator[list[dict[str, Any]]],
                                                     list[dict[str, Any]]]:
            # An upstream that fails before its first chunk is a failed attempt like any other.
            agen = up.stream(upstream_body)
            try:
                return agen, await agen.__anext__()
            except StopAsyncIteration:
                return agen, []

        route, (agen, first) = await self._failover(ctx, policy, open_stream)
        want_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            self._relay(ctx, policy, route, agen, first, want_usage, upstream_body["messages"]),
            media_type="text/event-stream",
            headers={**_SSE_HEADERS, "x-request-id": ctx.request_id,
                     "x-daulat-upstream": route.name})

    async def _relay(self, ctx: _Ctx, policy: CountryPolicy, route: Route,
                     agen: AsyncIterator[list[dict[str, Any]]], first: list[dict[str, Any]],
                     want_usage: bool, messages: list[dict[str, Any]]) -> AsyncIterator[str]:
        assert ctx.principal is not None
        country = ctx.principal.tenant.country
        redactors: dict[int, Any] = {}
        out_text: dict[int, list[str]] = {}
        usage: dict[str, Any] | None = None
        template: dict[str, Any] = {}
        error: str | None = None
        finished = False

        tool_redactors: dict[tuple[int, int], Any] = {}  # (choice, tool call) -> redactor

        def flush_tools(idx: int | None) -> list[dict[str, Any]]:
            """What the tool-call redactors of choice ``idx`` (None: all) still hold."""
            out: list[dict[str, Any]] = []
            for key in [k for k in tool_redactors if idx is None or k[0] == idx]:
                tail = tool_redactors.pop(key).flush()
                if tail:
                    out.append({**template, "choices": [{"index": key[0], "delta": {
                        "tool_calls": [{"index": key[1], "function": {"arguments": tail}}]},
                        "finish_reason": None}]})
            return out

        def scrub(chunk: dict[str, Any]) -> list[dict[str, Any]]:
            """Redact one chunk (content and tool-call arguments); may return extra chunks
            (flushed tails) before it."""
            nonlocal usage, template
            chunk["id"] = ctx.request_id
            if not template:
                template = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
            usage_only = False
            if chunk.get("usage"):
                usage = chunk["usage"]
                if not want_usage:
                    chunk.pop("usage")
                    usage_only = not chunk.get("choices")
            out: list[dict[str, Any]] = []
            for choice in chunk.get("choices") or []:
                idx = int(choice.get("index", 0))
                delta = choice.get("delta") or {}
                red = redactors.get(idx)
                if red is None and policy.pii is not None:
                    red = redactors[idx] = policy.stream_redactor()
                content = delta.get("content")
                if isinstance(content, str) and content:
                    if red is not None:
                        content = red.feed(content)
                        delta["content"] = content
                    out_text.setdefault(idx, []).append(content)
                if policy.pii is not None:
                    for call in delta.get("tool_calls") or []:
                        fn = call.get("function") if isinstance(call, dict) else None
                        args = fn.get("arguments") if isinstance(fn, dict) else None
                        if isinstance(fn, dict) and isinstance(args, str) and args:
                            key = (idx, int(call.get("index", 0)))
                            tool_red: Any = tool_redactors.get(key)
                            if tool_red is None:
                                tool_red = tool_redactors[key] = policy.stream_redactor()
                            fn["arguments"] = tool_red.feed(args)
                if choice.get("finish_reason") is not None:
                    if red is not None:
                        tail = red.flush()
                        redactors[idx] = None
                        if tail:
                            out_text.setdefault(idx, []).append(tail)
                            out.append({**template, "choices": [{
                                "index": idx, "delta": {"content": tail},
                                "finish_reason": None}]})
                    out.extend(flush_tools(idx))
            if not usage_only:  # drop a usage chunk the client did not ask for
                out.append(chunk)
            return out

        try:
            try:
                batch: list[dict[str, Any]] | None = first
                while True:
                    if batch is None:
                        t_up = time.perf_counter()
                        try:
                            batch = await agen.__anext__()
                        except StopAsyncIteration:
                            break
                        finally:
                            ctx.upstream_s += time.perf_counter() - t_up
                    # Chunks that arrived together leave together: one write, one wake-up.
                    out = "".join(_sse(piece) for chunk in batch for piece in scrub(chunk))
                    batch = None
                    if out:
                        yield out
                route.breaker.success()
            except UpstreamError as exc:
                self._failed(route)
                error = str(exc)
                ctx.attempts[-1].update(error=error, status=exc.status)  # the same attempt
            # Flush what a redactor still holds (an upstream that sent no finish_reason).
            for piece in flush_tools(None):
                yield _sse(piece)
            for idx, red in list(redactors.items()):
                if red is not None:
                    tail = red.flush()
                    if tail:
                        out_text.setdefault(idx, []).append(tail)
                        yield _sse({**template, "choices": [
                            {"index": idx, "delta": {"content": tail}, "finish_reason": None}]})
            text_out = "".join("".join(v) for v in out_text.values())
            flags = policy.check_content(text_out) if policy.rules else []
            if flags:
                ctx.actions["content_out"] = [d.rule for d in flags]
            prompt_tokens = int((usage or {}).get("prompt_tokens") or _estimate_tokens(
                " ".join(str(m.get("content", "")) for m in messages)))
            completion_tokens = int((usage or {}).get("completion_tokens")
                                    or _estimate_tokens(text_out))
            keep = policy.retention_s > 0
            status, http_status = ("upstream_truncated", 502) if error else ("ok", 200)
            entry = self._entry(
                ctx, status, http_status, error=error, prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens, policy=policy,
                body_request=_dumps(messages) if keep else None,
                body_response=text_out if keep else None)
            try:
                await self._record_served(ctx, entry)
            except AuditWriteFailed as exc:
                finished = True
                await self._record_failure(ctx, exc)
                yield _sse(_error_event(exc))
                return
            finished = True
            if error is not None:
                yield _sse({"error": {"message": "the model server's stream broke; the answer "
                                      "is incomplete", "type": "upstream_error", "param": None,
                                      "code": "upstream_stream_broken"}})
                return
            if want_usage and usage is None:
                yield _sse({**template, "choices": [], "usage": {
                    "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens}})
            self.metrics.tokens.labels(country, "prompt").inc(prompt_tokens)
            self.metrics.tokens.labels(country, "completion").inc(completion_tokens)
            self.metrics.latency.labels("true").observe(time.perf_counter() - ctx.t0)
            yield "data: [DONE]\n\n"
        except Exception as exc:  # the request boundary of a stream already started
            if finished:
                raise
            finished = True
            log.error("unexpected error in the stream of %s", ctx.request_id, exc_info=exc)
            failure = InternalError("the gateway failed unexpectedly; the answer is incomplete")
            await self._record_failure(ctx, failure)
            yield _sse(_error_event(failure))
        finally:
            if not finished:
                # The client went away mid-stream: record it without blocking the teardown.
                text_out = "".join("".join(v) for v in out_text.values())
                entry = self._entry(ctx, "client_disconnected", 499,
                                    error="client closed the stream",
                                    completion_tokens=_estimate_tokens(text_out),
                                    prompt_tokens=int((usage or {}).get("prompt_tokens") or 0))
                task = asyncio.ensure_future(self._record_logged(entry))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                aclose = getattr(agen, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(UpstreamError, aiohttp.ClientError, OSError,
                                             RuntimeError):
                        await aclose()

    async def _record_logged(self, entry: AuditEntry) -> None:
        try:
            await self._record(entry)
        except AuditStoreError:
            log.error("audit record of %s could not be written", entry.request_id,
                      exc_info=True)

    async def _record_failure(self, ctx: _Ctx, exc: GatewayError) -> None:
        """The audit record of a stream that ends in an error event (no bodies)."""
        await self._record_logged(self._entry(
            ctx, exc.audit_status, exc.status, error=exc.message,
            prompt_tokens=ctx.prompt_tokens, completion_tokens=ctx.completion_tokens,
            rejected=ctx.prompt_tokens + ctx.completion_tokens == 0))

    def build(self) -> Starlette:
        """The Starlette app: every route behind the request boundary, one error handler."""
        b = self._boundary
        return Starlette(
            routes=[
                HttpRoute("/v1/chat/completions", b(self.chat), methods=["POST"]),
                HttpRoute("/chat/completions", b(self.chat), methods=["POST"]),
                HttpRoute("/v1/models", b(self.models), methods=["GET"]),
                HttpRoute("/healthz", b(self.healthz), methods=["GET"]),
                HttpRoute("/readyz", b(self.readyz), methods=["GET"]),
                HttpRoute("/metrics", b(self.metrics_endpoint), methods=["GET"]),
                HttpRoute("/openapi.json", b(self.openapi), methods=["GET"]),
            ],
            exception_handlers={GatewayError: self.on_error, HTTPException: self.on_error,
                                Exception: self.on_error},
            lifespan=self.lifespan,
        )


def _rejection(exc: UpstreamError) -> str:
    """The client's message for an upstream's 4xx: its own words, never its name or URL."""
    detail = ""
    if isinstance(exc.body, dict) and isinstance(exc.body.get("error"), dict):
        detail = str(exc.body["error"].get("message") or "")[:_UPSTREAM_MESSAGE_CHARS]
    status = f" (HTTP {exc.status})" if exc.status else ""
    return (f"the model server rejected the request{status}"
            + (f": {detail}" if detail else "; check the request's parameters"))


def _error_event(exc: GatewayError) -> dict[str, Any]:
    return {"error": {"message": exc.message, "type": exc.type, "param": exc.param,
                      "code": exc.code}}


def single_threaded_natives() -> None:
    """Keep native thread pools (rayon in lingua's language detector) to one thread.

    A request detects the language of one short message; a pool of spinning worker threads
    per process only steals CPU from the event loop (measured: 2.7x the sustained request
    rate on a 2-core machine). Must run before the detector first runs; an explicit
    ``RAYON_NUM_THREADS`` wins.
    """
    os.environ.setdefault("RAYON_NUM_THREADS", "1")


def create_app(cfg: GatewayConfig, store: Store | None = None, *,
               upstreams: list[Upstream] | None = None) -> Starlette:
    """The ASGI app for ``cfg`` (the store must already be migrated: `daulat store migrate`)."""
    single_threaded_natives()
    store = store or Store(cfg.store.url or _default_url(cfg), schema=cfg.store.db_schema)
    rev = current_revision(store.engine)
    if rev != head_revision():
        raise UserError(f"store {store.url} is at revision {rev!r}, this daulat needs "
                        f"{head_revision()!r}; run `daulat store migrate`")
    if upstreams is None:
        upstreams = [HttpUpstream(u, cfg.routing.health_timeout_s) for u in cfg.upstreams]
        local = _local_upstream(cfg)
        if local is not None:
            upstreams.append(local)
    allocations = _country_allocations(store, cfg)
    gw = Gateway(cfg, store, upstreams=upstreams, country_tokens_per_day=allocations)
    app = gw.build()
    app.state.gateway = gw
    return app


def _default_url(cfg: GatewayConfig) -> str:
    return default_url(cfg.store.data_dir)


def _local_upstream(cfg: GatewayConfig) -> Upstream | None:
    lm = cfg.local_model
    if lm.enabled is False:
        return None
    if not local_available():
        if lm.enabled == "auto":
            return None
        raise UserError(f"local_model.enabled is true but the model is not installed: "
                        f"{INSTALL_HINT}")
    if lm.jurisdiction is None:
        raise UserError("local_model.jurisdiction is required when the local model is enabled "
                        "(the ISO3 of the country this machine is in, e.g. IDN)")
    return LocalModelUpstream(lm)


def _country_allocations(store: Store, cfg: GatewayConfig) -> dict[str, int]:
    """tokens/day per country for the metered year (that year, else the nearest one)."""
    year = cfg.limits.allocation_year or time.gmtime().tm_year
    best: dict[str, tuple[int, int]] = {}
    for row in store.allocations():
        dist = abs(int(row["year"]) - year)
        cur = best.get(row["country"])
        if cur is None or dist < cur[0]:
            best[row["country"]] = (dist, int(row["tokens_per_day"]))
    return {c: v for c, (_, v) in best.items()}


def app_from_env() -> Starlette:
    """uvicorn factory for ``--workers N``; config from ``$DAULAT_GATEWAY_CONFIG_JSON``."""
    raw = os.environ.get(CONFIG_ENV)
    cfg = GatewayConfig.model_validate_json(raw) if raw else GatewayConfig()
    return create_app(cfg)
