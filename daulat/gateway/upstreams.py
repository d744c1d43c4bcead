"""Clients for OpenAI-compatible upstreams (vLLM, llama.cpp server, a provider's API).

An upstream either answers or raises :class:`UpstreamError`; ``retryable`` says whether
another permitted upstream may be tried (5xx, timeouts, refused connections and streams that
break before their first chunk are; a 4xx about the request itself is not).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

import httpx

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

    def stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]: ...

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
    """An upstream reached over HTTP with a pooled async client."""

    def __init__(self, cfg: UpstreamConfig, health_timeout_s: float = 2.0) -> None:
        self.name = cfg.name
        self.jurisdiction = cfg.jurisdiction
        self.base_url = cfg.url
        headers = {"content-type": "application/json"}
        key = cfg.key()
        if key:
            headers["authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            base_url=cfg.url,
            headers=headers,
            timeout=httpx.Timeout(cfg.timeout_s, connect=cfg.connect_timeout_s),
            limits=httpx.Limits(max_connections=_MAX_CONNECTIONS,
                                max_keepalive_connections=_MAX_CONNECTIONS),
        )
        self._health_timeout = health_timeout_s

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a non-streaming chat completion; returns the upstream's JSON."""
        try:
            resp = await self._client.post("/chat/completions", content=json.dumps(body))
        except httpx.TimeoutException as exc:
            raise UpstreamError(f"upstream {self.name} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"upstream {self.name} unreachable: {exc!r}") from exc
        if resp.status_code != 200:
            _raise_for(resp.status_code, resp.text, self.name)
        try:
            data = resp.json()
        except ValueError as exc:
            raise UpstreamError(f"upstream {self.name} sent a body that is not JSON") from exc
        if not isinstance(data, dict) or "choices" not in data:
            raise UpstreamError(f"upstream {self.name} sent JSON without 'choices'")
        return data

    async def stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """POST a streaming completion; yields each SSE ``data:`` chunk as a dict.

        Raises UpstreamError if the stream ends without ``data: [DONE]`` (truncated).
        """
        done = False
        try:
            async with self._client.stream("POST", "/chat/completions",
                                           content=json.dumps(body)) as resp:
                if resp.status_code != 200:
                    text = (await resp.aread()).decode(errors="replace")
                    _raise_for(resp.status_code, text, self.name)
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        done = True
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError as exc:
                        raise UpstreamError(f"upstream {self.name} sent a chunk that is not JSON"
                                            ) from exc
                    if isinstance(chunk, dict) and "error" in chunk:
                        err = chunk["error"]
                        msg = err.get("message") if isinstance(err, dict) else str(err)
                        raise UpstreamError(f"upstream {self.name} failed mid-stream: {msg}")
                    yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamError(f"upstream {self.name} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"upstream {self.name} stream broke: {exc!r}") from exc
        if not done:
            raise UpstreamError(f"upstream {self.name} ended the stream without [DONE]")

    async def health(self) -> bool:
        """GET /models answers 200 within the health timeout."""
        try:
            resp = await self._client.get("/models", timeout=self._health_timeout)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200

    async def aclose(self) -> None:
        await self._client.aclose()
