"""A deterministic fake OpenAI-compatible upstream and helpers to run ASGI apps on loopback.

Used by the tests and the benchmark: a real HTTP server (uvicorn in a thread) so the
gateway is exercised over the real protocol. Its ``mode`` decides how it answers:

* ``ok``: answers at once; the reply is ``reply`` or echoes the last user message;
* ``error``: HTTP 500 with an OpenAI error body;
* ``timeout``: sleeps ``hang_s`` before answering (longer than the gateway's timeout);
* ``slow``: waits ``delay_s`` before each streamed chunk (and before a non-streamed answer);
* ``truncated``: streams half the chunks, then drops the connection (no ``[DONE]``);
* ``reject``: HTTP 400 with an OpenAI error body (the model server refuses the request).

``script`` (a list of modes) overrides ``mode`` for the next requests, one per request.
``tool_args`` (a string) makes it answer with one tool call ``lookup`` whose arguments are
that string (streamed in ``chunk_chars`` pieces) instead of text.
``received`` counts the chat requests it got; ``bodies`` keeps the last few.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["FakeUpstream", "ServerThread", "serve_in_thread", "free_port"]

Mode = Literal["ok", "error", "timeout", "slow", "truncated", "reject"]
_KEEP_BODIES = 32


class _Truncate(Exception):
    """Raised inside a streaming body to make uvicorn drop the connection."""


class FakeUpstream:
    """An OpenAI-compatible chat server whose behaviour tests set."""

    def __init__(self, name: str = "fake", *, mode: Mode = "ok", reply: str | None = None,
                 delay_s: float = 0.05, hang_s: float = 30.0, chunk_words: int = 1,
                 chunk_chars: int | None = None) -> None:
        self.name = name
        self.mode: Mode = mode
        self.script: list[Mode] = []
        self.reply = reply
        self.delay_s = delay_s
        self.hang_s = hang_s
        self.chunk_words = chunk_words
        self.chunk_chars = chunk_chars  # split the streamed text every N characters instead
        self.tool_args: str | None = None
        self.received = 0
        self.bodies: deque[dict[str, Any]] = deque(maxlen=_KEEP_BODIES)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self._chat, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
        ])

    def reset(self, mode: Mode = "ok") -> None:
        with self._lock:
            self.mode = mode
            self.tool_args = None
            self.script = []
            self.received = 0
            self.bodies.clear()

    def _next_mode(self) -> Mode:
        with self._lock:
            self.received += 1
            return self.script.pop(0) if self.script else self.mode

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [
            {"id": "fake-model", "object": "model", "created": 0, "owned_by": self.name}]})

    def _text(self, body: dict[str, Any]) -> str:
        if self.reply is not None:
            return self.reply
        last = ""
        for msg in body.get("messages", []):
            if msg.get("role") == "user" and isinstance(msg.get("content"), str):
                last = msg["content"]
        return f"Echo from {self.name}: {last}"

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        mode = self._next_mode()
        self.bodies.append(body)
        if mode == "error":
            return JSONResponse({"error": {"message": f"{self.name} is failing (fake 500)",
                                           "type": "server_error", "code": None}}, status_code=500)
        if mode == "reject":
            return JSONResponse({"error": {
                "message": "max_tokens is too large: this model's context is 2048 tokens",
                "type": "invalid_request_error", "param": "max_tokens", "code": None}},
                status_code=400)
        if mode == "timeout":
            await asyncio.sleep(self.hang_s)
        text = self._text(body)
        words = text.split(" ")
        step = self.chunk_words
        pieces = [" ".join(words[i:i + step]) + (" " if i + step < len(words) else "")
                  for i in range(0, len(words), step)]
        if self.chunk_chars:
            n = self.chunk_chars
            pieces = [text[i:i + n] for i in range(0, len(text), n)]
        prompt_tokens = sum(len(str(m.get("content", "")).split())
                            for m in body.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces),
                 "total_tokens": prompt_tokens + len(pieces)}
        model = body.get("model", "fake-model")
        created = int(time.time())
        if self.tool_args is not None:
            return self._tool_answer(body, model, created)
        if not body.get("stream"):
            if mode == "slow":
                await asyncio.sleep(self.delay_s * len(pieces))
            if mode == "truncated":
                payload = json.dumps({"id": "x", "choices": [{"message": {"content": text}}]})
                cut = payload[: len(payload) // 2].encode()
                return Response(cut, media_type="application/json",
                                headers={"content-length": str(len(cut) * 2)})
            return JSONResponse({
                "id": f"chatcmpl-fake-{self.received}", "object": "chat.completion",
                "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": usage,
            })
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def events() -> AsyncIterator[bytes]:
            base = {"id": f"chatcmpl-fake-{self.received}", "object": "chat.completion.chunk",
                    "created": created, "model": model}
            first = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]}
            yield f"data: {json.dumps(first)}\n\n".encode()
            for i, piece in enumerate(pieces):
                if mode == "truncated" and i >= len(pieces) // 2:
                    raise _Truncate("fake upstream drops the connection")
                if mode == "slow":
                    await asyncio.sleep(self.delay_s)
                chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece},
                                              "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield f"data: {json.dumps(last)}\n\n".encode()
            if include_usage:
                yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


    def _tool_answer(self, body: dict[str, Any], model: str, created: int) -> Response:
        args = self.tool_args or ""
        call = {"id": "call_1", "type": "function",
                "function": {"name": "lookup", "arguments": args}}
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        if not body.get("stream"):
            return JSONResponse({
                "id": "chatcmpl-fake-tool", "object": "chat.completion", "created": created,
                "model": model, "usage": usage,
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": None, "tool_calls": [call]}}]})
        n = self.chunk_chars or len(args) or 1
        base = {"id": "chatcmpl-fake-tool", "object": "chat.completion.chunk",
                "created": created, "model": model}

        async def events() -> AsyncIterator[bytes]:
            for i in range(0, max(len(args), 1), n):
                head = {"id": "call_1", "type": "function",
                        "function": {"name": "lookup"}} if i == 0 else {"function": {}}
                head["function"]["arguments"] = args[i:i + n]  # type: ignore[index]
                chunk = {**base, "choices": [{"index": 0, "finish_reason": None, "delta": {
                    "tool_calls": [{"index": 0, **head}]}}]}
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            last = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
            yield f"data: {json.dumps(last)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """A uvicorn server running an ASGI app in a daemon thread on 127.0.0.1."""

    def __init__(self, app: Any, port: int | None = None, *, log_level: str = "critical",
                 timeout_keep_alive: int = 30) -> None:
        self.port = port or free_port()
        self.config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level=log_level,
                                     lifespan="on", timeout_keep_alive=timeout_keep_alive,
                                     access_log=False, backlog=4096)
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(app: Any, port: int | None = None, **kwargs: Any) -> ServerThread:
    """Start ``app`` on loopback in a thread; returns the running :class:`ServerThread`."""
    return ServerThread(app, port, **kwargs).start()


def main(argv: list[str] | None = None) -> None:
    """``python -m daulat.gateway.testing [--port 9000] [--mode ok]``: run a fake upstream."""
    ap = argparse.ArgumentParser(description="A deterministic fake OpenAI-compatible upstream.")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--mode", default="ok", choices=["ok", "error", "timeout", "slow",
                                                     "truncated", "reject"])
    ap.add_argument("--reply", default=None, help="fixed answer (default: echo the question)")
    args = ap.parse_args(argv)
    fake = FakeUpstream("fake", mode=args.mode, reply=args.reply)
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
