"""The gateway's ASGI app: OpenAI-compatible chat completions, models, health, metrics.

Per request: authenticate (cached key lookup) → quota check → the tenant's country policy
(system prompt, language, PII redaction, content rules) → a *permitted* upstream chosen by
the router, with failover → the answer, PII-redacted on the way out (streaming-aware) →
an audit record and usage written durably → the response. Fail closed: no permitted healthy
upstream is a 503, never a request abroad.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route as HttpRoute

from daulat.errors import UserError
from daulat.gateway.audit import AuditEntry, Recorder
from daulat.gateway.auth import KeyCache, Principal, bearer
from daulat.gateway.config import GatewayConfig
from daulat.gateway.enforce import CountryPolicy, PolicyRegistry
from daulat.gateway.metering import Meter, Quota, QuotaExceeded
from daulat.gateway.routing import CircuitBreaker, Route, Router
from daulat.gateway.upstreams import HttpUpstream, Upstream, UpstreamError
from daulat.store.store import Store

__all__ = ["Gateway", "create_app", "app_from_env", "CONFIG_ENV", "openai_error",
           "single_threaded_natives"]

CONFIG_ENV = "DAULAT_GATEWAY_CONFIG_JSON"
# Rough characters per token, used only when an upstream reports no usage
# (OpenAI, "What are tokens and how to count them": ~4 characters of English per token).
_CHARS_PER_TOKEN = 4
# Requests larger than this are redacted on a worker thread rather than on the event loop
# (about a millisecond of PII scanning; a 1 MB body takes tens of ms).
_INLINE_POLICY_BYTES = 65_536
_SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def openai_error(status: int, message: str, type_: str, code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in OpenAI's JSON shape: ``{"error": {message, type, param, code}}``."""
    return JSONResponse({"error": {"message": message, "type": type_, "param": param,
                                   "code": code}}, status_code=status, headers=headers)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // _CHARS_PER_TOKEN) if text else 0


@dataclass
class _Ctx:
    """What one request accumulates for its audit record."""

    request_id: str
    t0: float
    stream: bool = False
    principal: Principal | None = None
    model: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    actions: dict[str, Any] = field(default_factory=dict)
    upstream: str | None = None
    jurisdiction: str | None = None
    upstream_s: float = 0.0  # time spent waiting on upstreams (all attempts)


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
        self.policies = registry or PolicyRegistry(cfg.policy)
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
                           sync_s=cfg.limits.usage_sync_s)
        self.recorder: Recorder | None = None
        self.metrics = _Metrics()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()

    def _allows(self, country: str, jurisdiction: str) -> bool:
        try:
            return self.policies.get(country).allows(jurisdiction)
        except Exception:  # no pack, no route: fail closed
            return False

    # --- lifecycle ---------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.recorder = Recorder(self.store.engine, self.cfg.limits.audit_batch,
                                 threaded=self.cfg.limits.audit_thread)
        with contextlib.suppress(Exception):
            await self.meter.sync()
        await asyncio.to_thread(self.warm_up)
        self._tasks.append(asyncio.create_task(self.meter.run_sync()))
        if self.cfg.routing.health_interval_s > 0:
            self._tasks.append(asyncio.create_task(self._health_loop()))
        try:
            yield
        finally:
            for task in self._tasks:
                task.cancel()
            for task in list(self._background):
                with contextlib.suppress(BaseException):
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
        except Exception:  # an unreadable store shows up on the first request instead
            countries = []
        for country in countries:
            try:
                policy = self.policies.get(country)
            except Exception:  # no pack: requests of that country fail closed with a 503
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
        assert self.recorder is not None
        await self.recorder.record(entry)
        if entry.tenant and entry.country and not entry.rejected:
            await self.meter.add(entry.tenant, entry.country,
                                 entry.prompt_tokens + entry.completion_tokens)

    async def _reject(self, ctx: _Ctx, http_status: int, message: str, type_: str, code: str,
                      *, status: str = "rejected", headers: dict[str, str] | None = None,
                      param: str | None = None) -> Response:
        await self._record(self._entry(ctx, status, http_status, error=message, rejected=True))
        return openai_error(http_status, message, type_, code, param,
                            headers={**(headers or {}), "x-request-id": ctx.request_id})

    # --- endpoints ---------------------------------------------------------------------------
    async def healthz(self, request: Request) -> Response:
        routes = [{"name": r.name, "jurisdiction": r.jurisdiction, "healthy": r.healthy,
                   "breaker": r.breaker.state} for r in self.router.routes]
        return JSONResponse({"status": "ok", "upstreams": routes})

    async def metrics_endpoint(self, request: Request) -> Response:
        for r in self.router.routes:
            self.metrics.breaker_open.labels(r.name, r.jurisdiction).set(int(r.available()))
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def _auth(self, request: Request) -> Principal | None:
        key = bearer(request)
        if not key:
            return None
        return await self.keys.resolve(key)

    async def models(self, request: Request) -> Response:
        principal = await self._auth(request)
        if principal is None:
            return openai_error(401, "Missing or invalid API key. Pass it as "
                                "'Authorization: Bearer dk-…' (create one with `daulat keys "
                                "create`).", "invalid_request_error", "invalid_api_key")
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "daulat"}
                for m in self.router.models(principal.tenant.country)]
        return JSONResponse({"object": "list", "data": data})

    async def chat(self, request: Request) -> Response:
        ctx = _Ctx(request_id=f"chatcmpl-{uuid.uuid4().hex}", t0=time.perf_counter())
        ctx.principal = await self._auth(request)
        if ctx.principal is None:
            return await self._reject(
                ctx, 401, "Missing or invalid API key. Pass it as 'Authorization: Bearer dk-…' "
                "(create one with `daulat keys create`).", "invalid_request_error",
                "invalid_api_key", status="unauthenticated")
        tenant = ctx.principal.tenant
        # --- the request body
        raw = await request.body()
        if len(raw) > self.cfg.limits.max_body_bytes:
            return await self._reject(ctx, 413, f"request body is {len(raw)} bytes; the limit "
                                      f"is {self.cfg.limits.max_body_bytes}",
                                      "invalid_request_error", "request_too_large")
        try:
            body = json.loads(raw)
        except ValueError:
            return await self._reject(ctx, 400, "request body is not valid JSON",
                                      "invalid_request_error", "invalid_json")
        problem = _validate(body)
        if problem:
            return await self._reject(ctx, 400, problem[1], "invalid_request_error",
                                      "invalid_value", param=problem[0])
        ctx.model = str(body["model"])
        ctx.stream = bool(body.get("stream"))
        # --- quotas
        quota = Quota(
            tenant.tokens_per_day if tenant.tokens_per_day is not None
            else self.cfg.limits.tokens_per_day,
            tenant.requests_per_s if tenant.requests_per_s is not None
            else self.cfg.limits.requests_per_s)
        try:
            await self.meter.check(tenant.name, tenant.country, quota)
        except QuotaExceeded as exc:
            return await self._reject(ctx, 429, str(exc), "rate_limit_error", exc.code,
                                      headers={"retry-after": str(exc.retry_after_s)})
        # --- policy
        try:
            policy = self.policies.get(tenant.country)
        except Exception as exc:
            return await self._reject(
                ctx, 503, f"no policy pack can be loaded for {tenant.country} ({exc}); "
                "the gateway fails closed", "service_unavailable", "no_policy_pack",
                status="fail_closed")
        if len(raw) > _INLINE_POLICY_BYTES:  # keep the event loop free for other requests
            messages, ctx.actions, decisions = await asyncio.to_thread(
                policy.prepare, body["messages"])
        else:
            messages, ctx.actions, decisions = policy.prepare(body["messages"])
        blocked = [d for d in decisions if d.action == "block"]
        if blocked:
            d = blocked[0]
            law = f" ({d.law})" if d.law else ""
            return await self._reject(ctx, 400, f"{d.message}{law} [rule {d.rule}]",
                                      "invalid_request_error", "content_policy_violation")
        permitted = self.router.permitted(tenant.country)
        if not permitted:
            return await self._reject(
                ctx, 503, f"no upstream is permitted for {tenant.country} by its residency "
                f"policy ({_residency_text(policy)}); the gateway fails closed rather than "
                "send the request abroad", "service_unavailable", "no_permitted_upstream",
                status="fail_closed")
        if not self.router.serves_model(tenant.country, ctx.model):
            models = ", ".join(self.router.models(tenant.country)) or "none listed"
            return await self._reject(ctx, 404, f"model {ctx.model!r} is not served to "
                                      f"{tenant.country} (models: {models})",
                                      "invalid_request_error", "model_not_found", param="model")
        upstream_body = {**body, "messages": messages}
        if ctx.stream:
            upstream_body["stream_options"] = {**(body.get("stream_options") or {}),
                                               "include_usage": True}
            return await self._stream(ctx, policy, body, upstream_body)
        return await self._complete(ctx, policy, upstream_body, messages)

    def _fail_closed(self, ctx: _Ctx, policy: CountryPolicy) -> tuple[int, str]:
        tried = ", ".join(a["upstream"] for a in ctx.attempts) or "none available"
        return 503, (f"no permitted upstream for {policy.iso3} is available "
                     f"({_residency_text(policy)}; tried: {tried}); the gateway fails closed "
                     "rather than send the request abroad")

    def _failed(self, ctx: _Ctx, route: Route, exc: UpstreamError) -> None:
        ctx.attempts.append({"upstream": route.name, "jurisdiction": route.jurisdiction,
                             "error": str(exc), "status": exc.status})
        if exc.retryable:
            route.breaker.failure()
            self.metrics.upstream_failures.labels(route.name).inc()
        else:
            route.breaker.success()

    async def _upstream_error(self, ctx: _Ctx, route: Route,
                              exc: UpstreamError) -> Response | None:
        """Record an upstream's failure. Returns the client's answer when the upstream
        rejected the request itself (no retry helps), else None: try the next upstream."""
        self._failed(ctx, route, exc)
        if exc.retryable:
            return None
        return await self._reject(ctx, exc.status or 502, str(exc), "invalid_request_error",
                                  "upstream_rejected", status="upstream_rejected")

    async def _complete(self, ctx: _Ctx, policy: CountryPolicy, upstream_body: dict[str, Any],
                        messages: list[dict[str, Any]]) -> Response:
        assert ctx.principal is not None and ctx.model is not None
        country = ctx.principal.tenant.country
        tried: set[str] = set()
        data: dict[str, Any] | None = None
        for _ in range(self.cfg.routing.attempts):
            route = self.router.choose(country, ctx.model, tried)
            if route is None:
                break
            tried.add(route.name)
            try:
                t_up = time.perf_counter()
                data = await self.upstreams[route.name].complete(upstream_body)
            except UpstreamError as exc:
                ctx.upstream_s += time.perf_counter() - t_up
                rejected = await self._upstream_error(ctx, route, exc)
                if rejected is not None:
                    return rejected
                continue
            ctx.upstream_s += time.perf_counter() - t_up
            route.breaker.success()
            ctx.upstream, ctx.jurisdiction = route.name, route.jurisdiction
            ctx.attempts.append({"upstream": route.name, "jurisdiction": route.jurisdiction,
                                 "error": None, "status": 200})
            break
        if data is None:
            status, message = self._fail_closed(ctx, policy)
            return await self._reject(ctx, status, message, "service_unavailable",
                                      "no_permitted_upstream", status="fail_closed")
        pii_out: list[str] = []
        texts = []
        for choice in data.get("choices") or []:
            msg = choice.get("message") or {}
            if isinstance(msg.get("content"), str):
                text, types = policy.redact(msg["content"])
                pii_out += types
                msg["content"] = text
                texts.append(text)
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
        await self._record(self._entry(
            ctx, "ok", 200, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            policy=policy, body_request=_dumps(messages) if keep else None,
            body_response="\n".join(texts) if keep else None))
        self.metrics.tokens.labels(country, "prompt").inc(prompt_tokens)
        self.metrics.tokens.labels(country, "completion").inc(completion_tokens)
        self.metrics.latency.labels("false").observe(time.perf_counter() - ctx.t0)
        return Response(_dumps(data), media_type="application/json",
                        headers={"x-request-id": ctx.request_id,
                                 "x-daulat-upstream": route.name if route else ""})

    async def _stream(self, ctx: _Ctx, policy: CountryPolicy, body: dict[str, Any],
                      upstream_body: dict[str, Any]) -> Response:
        assert ctx.principal is not None and ctx.model is not None
        country = ctx.principal.tenant.country
        tried: set[str] = set()
        opened: tuple[Route, AsyncIterator[list[dict[str, Any]]],
                      list[dict[str, Any]]] | None = None
        for _ in range(self.cfg.routing.attempts):
            route = self.router.choose(country, ctx.model, tried)
            if route is None:
                break
            tried.add(route.name)
            agen = self.upstreams[route.name].stream(upstream_body)
            t_up = time.perf_counter()
            try:
                first = await agen.__anext__()
            except StopAsyncIteration:
                first = []
            except UpstreamError as exc:
                ctx.upstream_s += time.perf_counter() - t_up
                rejected = await self._upstream_error(ctx, route, exc)
                if rejected is not None:
                    return rejected
                continue
            ctx.upstream_s += time.perf_counter() - t_up
            opened = (route, agen, first)
            ctx.upstream, ctx.jurisdiction = route.name, route.jurisdiction
            break
        if opened is None:
            status, message = self._fail_closed(ctx, policy)
            return await self._reject(ctx, status, message, "service_unavailable",
                                      "no_permitted_upstream", status="fail_closed")
        want_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            self._relay(ctx, policy, opened[0], opened[1], opened[2], want_usage,
                        upstream_body["messages"]),
            media_type="text/event-stream",
            headers={**_SSE_HEADERS, "x-request-id": ctx.request_id,
                     "x-daulat-upstream": opened[0].name})

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

        def scrub(chunk: dict[str, Any]) -> list[dict[str, Any]]:
            """Redact one chunk; may return an extra chunk (flushed tail) before it."""
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
                if choice.get("finish_reason") is not None and red is not None:
                    tail = red.flush()
                    redactors[idx] = None
                    if tail:
                        out_text.setdefault(idx, []).append(tail)
                        out.append({**template, "choices": [{
                            "index": idx, "delta": {"content": tail}, "finish_reason": None}]})
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
                    out = "".join(f"data: {_dumps(piece)}\n\n"
                                  for chunk in batch for piece in scrub(chunk))
                    batch = None
                    if out:
                        yield out
                route.breaker.success()
            except UpstreamError as exc:
                self._failed(ctx, route, exc)
                error = str(exc)
            # Flush what a redactor still holds (an upstream that sent no finish_reason).
            for idx, red in list(redactors.items()):
                if red is not None:
                    tail = red.flush()
                    if tail:
                        out_text.setdefault(idx, []).append(tail)
                        yield f"data: {_dumps({**template, 'choices': [{'index': idx, 'delta': {'content': tail}, 'finish_reason': None}]})}\n\n"  # noqa: E501
            text = "".join("".join(v) for v in out_text.values())
            flags = policy.check_content(text) if policy.rules else []
            if flags:
                ctx.actions["content_out"] = [d.rule for d in flags]
            prompt_tokens = int((usage or {}).get("prompt_tokens") or _estimate_tokens(
                " ".join(str(m.get("content", "")) for m in messages)))
            completion_tokens = int((usage or {}).get("completion_tokens")
                                    or _estimate_tokens(text))
            keep = policy.retention_s > 0
            ctx.attempts.append({"upstream": route.name, "jurisdiction": route.jurisdiction,
                                 "error": error, "status": 200})
            if error is not None:
                await self._record(self._entry(
                    ctx, "upstream_truncated", 502, error=error, prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens, policy=policy,
                    body_request=_dumps(messages) if keep else None,
                    body_response=text if keep else None))
                finished = True
                err = {"error": {"message": f"{error}; the answer is incomplete",
                                 "type": "upstream_error", "param": None,
                                 "code": "upstream_stream_broken"}}
                yield f"data: {_dumps(err)}\n\n"
                return
            if want_usage and usage is None:
                yield f"data: {_dumps({**template, 'choices': [], 'usage': {'prompt_tokens': prompt_tokens, 'completion_tokens': completion_tokens, 'total_tokens': prompt_tokens + completion_tokens}})}\n\n"  # noqa: E501
            await self._record(self._entry(
                ctx, "ok", 200, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                policy=policy, body_request=_dumps(messages) if keep else None,
                body_response=text if keep else None))
            finished = True
            self.metrics.tokens.labels(country, "prompt").inc(prompt_tokens)
            self.metrics.tokens.labels(country, "completion").inc(completion_tokens)
            self.metrics.latency.labels("true").observe(time.perf_counter() - ctx.t0)
            yield "data: [DONE]\n\n"
        finally:
            if not finished:
                # The client went away mid-stream: record it without blocking the teardown.
                text = "".join("".join(v) for v in out_text.values())
                entry = self._entry(ctx, "client_disconnected", 499,
                                    error="client closed the stream",
                                    completion_tokens=_estimate_tokens(text),
                                    prompt_tokens=int((usage or {}).get("prompt_tokens") or 0))
                task = asyncio.ensure_future(self._record(entry))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                aclose = getattr(agen, "aclose", None)
                if aclose is not None:
                    with contextlib.suppress(Exception):
                        await aclose()

    def build(self) -> Starlette:
        """The Starlette app."""
        return Starlette(
            routes=[
                HttpRoute("/v1/chat/completions", self.chat, methods=["POST"]),
                HttpRoute("/chat/completions", self.chat, methods=["POST"]),
                HttpRoute("/v1/models", self.models, methods=["GET"]),
                HttpRoute("/healthz", self.healthz, methods=["GET"]),
                HttpRoute("/metrics", self.metrics_endpoint, methods=["GET"]),
            ],
            lifespan=self.lifespan,
        )


def _residency_text(policy: CountryPolicy) -> str:
    res = policy.pack.residency
    mode = getattr(res, "mode", "?")
    if mode == "jurisdictions":
        return f"residency: {', '.join(getattr(res, 'jurisdictions', []) or [])}"
    if mode == "in_country":
        return f"residency: in {policy.iso3} only"
    return f"residency: {mode}"


def _validate(body: Any) -> tuple[str, str] | None:
    """(param, message) for the first problem in a chat request body, or None."""
    if not isinstance(body, dict):
        return "body", "the request body must be a JSON object"
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return "model", f"'model' must be a non-empty string, got {model!r}"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages", "'messages' must be a non-empty list of {role, content} objects"
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            return f"messages[{i}]", f"messages[{i}] must be an object with a 'role', got {msg!r}"
        if msg["role"] not in ("system", "developer", "user", "assistant", "tool", "function"):
            return (f"messages[{i}].role", f"messages[{i}].role = {msg['role']!r} is not one "
                    "of system, developer, user, assistant, tool")
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream", f"'stream' must be true or false, got {body['stream']!r}"
    return None


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
    from daulat.store.db import current_revision, head_revision

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
    from daulat.store.db import default_url

    return default_url(cfg.store.data_dir)


def _local_upstream(cfg: GatewayConfig) -> Upstream | None:
    lm = cfg.local_model
    if lm.enabled is False:
        return None
    from daulat.gateway.local_model import INSTALL_HINT, LocalModelUpstream, local_available

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
