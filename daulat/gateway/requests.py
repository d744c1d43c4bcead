"""The chat request as OpenAI documents it, validated before anything is forwarded.

``parse_chat(raw, content_type)`` turns the body bytes into ``(body dict, ChatRequest)``
or raises a :mod:`daulat.gateway.errors` class naming the parameter, the bad value and
what is valid. The dict (unknown fields kept) is what goes upstream once its messages
are redacted; the model only checks it. Limits: JSON nesting (Python's parser recursion
guard), lone UTF-16 surrogates (not text), message count.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from daulat.gateway.errors import InvalidJson, InvalidRequest, UnsupportedMediaType

__all__ = ["ChatMessage", "ChatRequest", "parse_chat", "MAX_MESSAGES"]

#: Most messages one request may carry (OpenAI's documented limit for chat completions).
MAX_MESSAGES = 2048
# A JSON escape of a UTF-16 surrogate; only then is the (slower) walk for lone ones needed.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_JSON_TYPES = ("application/json", "application/x-json", "text/json")

def _integral(value: Any) -> Any:
    """JSON has one number type: ``128.0`` is the integer 128 (``"5"``, ``true`` stay errors)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer as JSON Schema's "integer" means it: integral floats count.
JsonInt = Annotated[int, BeforeValidator(_integral)]


class _Closed(BaseModel):
    # As OpenAI does ("Unrecognized request argument supplied"), unknown fields are refused;
    # the fields are those of the published document (daulat/gateway/openapi.py).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class TextPart(_Closed):
    """One part of a multi-part message: ``{"type": "text", "text": ...}``."""

    type: Literal["text"]
    text: str


class FunctionCall(_Open):
    name: str
    arguments: str


class ToolCall(_Open):
    id: str
    type: Literal["function"]
    function: FunctionCall


class ChatMessage(_Closed):
    """A message: ``role`` and ``content`` (text, a list of text parts, or null for an
    assistant message that carries ``tool_calls``)."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    # what an assistant message carries when a client sends an earlier answer back as is
    refusal: str | None = None
    annotations: list[dict[str, Any]] | None = None
    audio: dict[str, Any] | None = None
    function_call: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _null_content(self) -> ChatMessage:
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError("content may be null only in an assistant message with tool_calls")
        return self


class StreamOptions(_Closed):
    include_usage: bool | None = None


class ToolFunction(_Open):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Open):
    type: Literal["function"]
    function: ToolFunction


class ToolChoiceFunction(_Open):
    name: str


class ToolChoice(_Open):
    type: Literal["function"]
    function: ToolChoiceFunction


class ResponseFormat(_Open):
    type: Literal["text", "json_object", "json_schema"]


class ChatRequest(_Closed):
    """``POST /v1/chat/completions`` as OpenAI documents it (the fields the gateway knows)."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: JsonInt | None = Field(default=None, ge=1)
    max_completion_tokens: JsonInt | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: JsonInt | None = Field(default=None, ge=1, le=128)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: JsonInt | None = None
    stop: str | list[str] | None = None
    user: str = ""
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | ToolChoice | None = None
    response_format: ResponseFormat | None = None
    logprobs: bool | None = None
    top_logprobs: JsonInt | None = Field(default=None, ge=0, le=20)
    # further documented OpenAI parameters: checked for their JSON type, passed through
    logit_bias: dict[str, float] | None = None
    parallel_tool_calls: bool | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    reasoning_effort: str | None = None
    verbosity: str | None = None
    modalities: list[str] | None = None
    service_tier: str | None = None
    prediction: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> str | list[str] | None:
        if isinstance(v, list) and len(v) > 4:
            raise ValueError(f"at most 4 stop sequences, got {len(v)}")
        return v


def _param(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or part in ("str", "list", "function-after")):
            continue  # pydantic's union-member tag
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _lone_surrogate(node: Any, path: str = "body") -> str | None:
    """The path of the first string holding a lone surrogate, or None."""
    stack: list[tuple[Any, str]] = [(node, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return where
        elif isinstance(item, dict):
            stack.extend((v, f"{where}.{k}") for k, v in item.items())
            stack.extend((k, f"{where} (a key)") for k in item if isinstance(k, str))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return None


def check_content_type(content_type: str | None) -> None:
    """Raise :class:`UnsupportedMediaType` unless the body is declared as JSON (or undeclared)."""
    if not content_type:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return
    raise UnsupportedMediaType(
        f"Content-Type {media!r} is not supported; send the chat request as "
        "'Content-Type: application/json'", param="Content-Type")


def parse_chat(raw: bytes) -> tuple[dict[str, Any], ChatRequest]:
    """The JSON body and its validated :class:`ChatRequest`, or an InvalidJson/InvalidRequest."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise InvalidJson("the request body is nested too deeply to be a chat request") from None
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"the request body is not UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise InvalidJson(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest(f"the request body must be a JSON object, got {type(body).__name__}",
                             param="body")
    if _SURROGATE_ESCAPE.search(raw):
        where = _lone_surrogate(body)
        if where is not None:
            raise InvalidJson(f"{where} holds a lone UTF-16 surrogate (e.g. \\ud800), which is "
                              "not Unicode text; send valid UTF-8", param=where)
    try:
        request = ChatRequest.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        param = _param(tuple(err["loc"]))
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        if len(shown) > 80:
            shown = shown[:77] + "..."
        code = "missing_required_parameter" if err["type"] == "missing" else "invalid_value"
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unrecognized request argument (see the request schema at /openapi.json)"
        elif param.endswith(".content") or ".content[" in param:
            msg = ("valid: a string, a list of text parts ({\"type\": \"text\", \"text\": …}), "
                   "or null in an assistant message with tool_calls")
        what = "is required" if err["type"] == "missing" else f"= {shown}: {msg}"
        raise InvalidRequest(f"'{param}' {what}{more}", param=param, code=code) from None
    return body, request
