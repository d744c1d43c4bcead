"""Clients for OpenAI-compatible upstreams (vLLM, llama.cpp server, a provider's API).

An upstream either answers or raises :class:`UpstreamError`; ``retryable`` says whether
another permitted upstream may be tried (5xx, timeouts, refused connections and streams that
break before their first chunk are; a 4xx about the request itself is not).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp

from daulat.gateway.config import UpstreamConfig

__all__ = ["Upstream", "HttpUpstream", "UpstreamError"]

# Connection pool per upstream: enough for a few hundred concurrent streams per worker.
_MAX_CONNECTIONS = 1000


class UpstreamError(Exception):
    """An upstream failed. ``status`` is its HTTP status (or None), ``retryable`` as above."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True,
                 body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.body = body


class Upstream(Protocol):
    """What the gateway needs from an upstream."""

    name: str
    jurisdiction: str

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def stream(self, body: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]: ...

    async def health(self) -> bool: ...

    async def aclose(self) -> None: ...


def _raise_for(resp_status: int, text: str, name: str) -> None:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    msg = f"upstream {name} answered HTTP {resp_status}"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        msg += f": {body['error'].get('message', '')}"
    # 408/429/5xx: the upstream's trouble, another may serve; other 4xx: the request's.
    retryable = resp_status >= 500 or resp_status in (408, 429)
    raise UpstreamError(msg, status=resp_status, retryable=retryable, body=body)


class HttpUpstream:
    """An upstream reached over HTTP with a pooled aiohttp session (created on first use,
    inside the serving event loop). aiohttp rather than httpx on this hop: about half the
    client CPU per request, which is most of what a proxy adds."""

    def __init__(self, cfg: UpstreamConfig, health_timeout_s: float = 2.0) -> None:
        self.name = cfg.name
        self.jurisdiction = cfg.jurisdiction
        self.base_url = cfg.url
        self._headers = {"content-type": "application/json"}
        key = cfg.key()
        if key:
            self._headers["authorization"] = f"Bearer {key}"
        self._timeout = aiohttp.ClientTimeout(total=None, connect=cfg.connect_timeout_s,
                                              sock_read=cfg.timeout_s)
        self._health_timeout = aiohttp.ClientTimeout(total=health_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=_MAX_CONNECTIONS, ttl_dns_cache=300))
        return self._session

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a non-streaming chat completion; returns the upstream's JSON."""
        try:
            async with self._client().post(f"{self.base_url}/chat/completions",
                                           data=json.dumps(body)) as resp:
                text = await resp.text()
                status = resp.status
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamError(f"upstream {self.name} timed out") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"upstream {self.name} failed: {exc!r}") from exc
        if status != 200:
            _raise_for(status, text, self.name)
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UpstreamError(f"upstream {self.name} sent a body that is not JSON") from exc
        if not isinstance(data, dict) or "choices" not in data:
            raise UpstreamError(f"upstream {self.name} sent JSON without 'choices'")
        return data

    async def stream(self, body: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """POST a streaming completion; yields the SSE ``data:`` chunks as dicts, in batches:
        every chunk that has already arrived comes in one batch, so the gateway relays them in
        one write instead of one wake-up per chunk.

        Raises UpstreamError if the stream ends without ``data: [DONE]`` (truncated).
        """
        done = False
        try:
            async with self._client().post(f"{self.base_url}/chat/completions",
                                           data=json.dumps(body)) as resp:
                if resp.status != 200:
                    _raise_for(resp.status, await resp.text(), self.name)
                pending = b""
                async for data in resp.content.iter_any():
                    pending += data
                    *lines, pending = pending.split(b"\n")
                    batch = []
                    for raw in lines:
                        if not raw.startswith(b"data:"):
                            continue
                        payload = raw[5:].strip()
                        if payload == b"[DONE]":
                            done = True
                            break
                        try:
                            chunk = json.loads(payload)
                        except ValueError as exc:
                            raise UpstreamError(
                                f"upstream {self.name} sent a chunk that is not JSON") from exc
                        if isinstance(chunk, dict) and "error" in chunk:
                            err = chunk["error"]
                            msg = err.get("message") if isinstance(err, dict) else str(err)
                            raise UpstreamError(f"upstream {self.name} failed mid-stream: {msg}")
                        batch.append(chunk)
                    if batch:
                        yield batch
                    if done:
                        break
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamError(f"upstream {self.name} timed out") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"upstream {self.name} stream broke: {exc!r}") from exc
        if not done:
            raise UpstreamError(f"upstream {self.name} ended the stream without [DONE]")

    async def health(self) -> bool:
        """GET /models answers 200 within the health timeout."""
        try:
            async with self._client().get(f"{self.base_url}/models",
                                          timeout=self._health_timeout) as resp:
                return resp.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
