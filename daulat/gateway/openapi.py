"""The gateway's OpenAPI 3.2 document (served at ``GET /openapi.json``).

It describes what the gateway accepts and answers: OpenAI's chat-completions request as
OpenAI documents it (https://platform.openai.com/docs/api-reference/chat/create), the
answer (``chat.completion``, or ``chat.completion.chunk`` events over Server-Sent Events
when ``stream`` is true), ``/v1/models``, the health, readiness and metrics endpoints, and
every error in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``.

The fuzz test (``tests/gateway/test_fuzz.py``) drives generated requests — valid and
invalid — from this document against a running gateway and checks every answer against it,
so the document is the contract: a constraint written here is one the gateway enforces.
The document is built once per process and is a plain ``dict`` (JSON-serialisable).
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from daulat import __version__

__all__ = ["openapi_document", "ERROR_SCHEMA", "CHAT_REQUEST_SCHEMA", "STREAM_CHUNK_SCHEMA",
           "CHAT_COMPLETION_SCHEMA"]

_REF = "#/components/schemas/"

# --- errors ---------------------------------------------------------------------------------
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "OpenAI's error shape. `code` is machine-readable (docs/gateway.md lists "
                   "every code); `param` names the offending request field, when there is one.",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {"error": {
        "type": "object",
        "required": ["message", "type", "param", "code"],
        "additionalProperties": False,
        "properties": {
            "message": {"type": "string", "minLength": 1},
            "type": {"type": "string", "minLength": 1},
            "param": {"type": ["string", "null"]},
            "code": {"type": ["string", "null"]},
        },
    }},
}

# --- the chat request, as OpenAI documents it --------------------------------------------------
_TEXT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "additionalProperties": False,
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
}
_TOOL_CALL = {
    "type": "object",
    "required": ["id", "type", "function"],
    "properties": {
        "id": {"type": "string"},
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "arguments"],
            "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
        },
    },
}
_MESSAGE = {
    "type": "object",
    "description": "One message. `content` is text or a list of text parts; it may be null "
                   "only for an assistant message that carries `tool_calls`.",
    "required": ["role", "content"],
    "additionalProperties": False,
    "properties": {
        "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {"anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"$ref": _REF + "TextContentPart"}},
            {"type": "null"},
        ]},
        "name": {"type": ["string", "null"]},
        "tool_calls": {"anyOf": [{"type": "array", "items": {"$ref": _REF + "ToolCall"}},
                                 {"type": "null"}]},
        "tool_call_id": {"type": ["string", "null"]},
        # what an assistant message carries when a client sends an earlier answer back as is
        "refusal": {"type": ["string", "null"]},
        "annotations": {"anyOf": [{"type": "array", "items": {"type": "object"}},
                                  {"type": "null"}]},
        "audio": {"type": ["object", "null"]},
        "function_call": {"type": ["object", "null"]},
    },
    "anyOf": [
        {"properties": {"content": {"type": ["string", "array"]}}},
        {"required": ["tool_calls"],
         "properties": {"role": {"const": "assistant"},
                        "tool_calls": {"type": "array", "minItems": 1}}},
    ],
}
_TOOL = {
    "type": "object",
    "required": ["type", "function"],
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                           "description": {"type": ["string", "null"]},
                           "parameters": {"type": ["object", "null"]}},
        },
    },
}
CHAT_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "OpenAI's chat-completions request. Unknown fields are refused, as OpenAI "
                   "refuses them ('Unrecognized request argument').",
    "required": ["model", "messages"],
    "additionalProperties": False,
    "properties": {
        "model": {"type": "string", "minLength": 1,
                  "description": "a model the tenant's country may use (GET /v1/models)"},
        "messages": {"type": "array", "minItems": 1, "items": {"$ref": _REF + "ChatMessage"}},
        "max_tokens": {"type": ["integer", "null"], "minimum": 1},
        "max_completion_tokens": {"type": ["integer", "null"], "minimum": 1},
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 128},
        "presence_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
        "frequency_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
        "stop": {"anyOf": [{"type": "string"},
                           {"type": "array", "items": {"type": "string"}, "maxItems": 4},
                           {"type": "null"}]},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"anyOf": [
            {"type": "object", "additionalProperties": False,
             "properties": {"include_usage": {"type": ["boolean", "null"]}}},
            {"type": "null"}]},
        "seed": {"type": ["integer", "null"]},
        "user": {"type": "string"},
        "tools": {"anyOf": [{"type": "array", "items": {"$ref": _REF + "Tool"}},
                            {"type": "null"}]},
        "tool_choice": {"anyOf": [
            {"enum": ["none", "auto", "required"]},
            {"type": "object", "required": ["type", "function"],
             "properties": {"type": {"const": "function"},
                            "function": {"type": "object", "required": ["name"],
                                         "properties": {"name": {"type": "string"}}}}},
            {"type": "null"}]},
        "response_format": {"anyOf": [
            {"type": "object", "required": ["type"],
             "properties": {"type": {"enum": ["text", "json_object", "json_schema"]}}},
            {"type": "null"}]},
        "logprobs": {"type": ["boolean", "null"]},
        "top_logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
        # further documented OpenAI parameters: checked for their JSON type, passed through
        "logit_bias": {"type": ["object", "null"], "additionalProperties": {"type": "number"}},
        "parallel_tool_calls": {"type": ["boolean", "null"]},
        "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "store": {"type": ["boolean", "null"]},
        "reasoning_effort": {"type": ["string", "null"]},
        "verbosity": {"type": ["string", "null"]},
        "modalities": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                 {"type": "null"}]},
        "service_tier": {"type": ["string", "null"]},
        "prediction": {"type": ["object", "null"]},
        "audio": {"type": ["object", "null"]},
        "web_search_options": {"type": ["object", "null"]},
        "functions": {"anyOf": [{"type": "array", "items": {"type": "object"}},
                                {"type": "null"}]},
        "function_call": {"type": ["string", "object", "null"]},
        "safety_identifier": {"type": ["string", "null"]},
        "prompt_cache_key": {"type": ["string", "null"]},
    },
}

# --- answers ----------------------------------------------------------------------------------
_USAGE = {
    "type": "object",
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
    "properties": {"prompt_tokens": {"type": "integer", "minimum": 0},
                   "completion_tokens": {"type": "integer", "minimum": 0},
                   "total_tokens": {"type": "integer", "minimum": 0}},
}
CHAT_COMPLETION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The answer (`id` is the audit record's request id, also `x-request-id`). "
                   "`usage` is always present: what is metered for this request.",
    "required": ["id", "object", "created", "model", "choices", "usage"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": {
            "type": "object",
            "required": ["index", "message", "finish_reason"],
            "properties": {
                "index": {"type": "integer", "minimum": 0},
                "message": {"type": "object", "required": ["role", "content"],
                            "properties": {"role": {"const": "assistant"},
                                           "content": {"type": ["string", "null"]}}},
                "finish_reason": {"type": ["string", "null"]},
            },
        }},
        "usage": {"$ref": _REF + "Usage"},
    },
}
STREAM_CHUNK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One `data:` event of a stream. With `stream_options.include_usage` the "
                   "last chunk before `data: [DONE]` has `choices: []` and `usage`. A stream "
                   "that fails after it started ends with a `data:` event holding an Error "
                   "instead of `[DONE]`.",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "object": {"const": "chat.completion.chunk"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": {
            "type": "object", "required": ["index", "delta"],
            "properties": {"index": {"type": "integer", "minimum": 0},
                           "delta": {"type": "object",
                                     "properties": {"role": {"type": "string"},
                                                    "content": {"type": ["string", "null"]}}},
                           "finish_reason": {"type": ["string", "null"]}},
        }},
        "usage": {"anyOf": [{"$ref": _REF + "Usage"}, {"type": "null"}]},
    },
}
_STREAM_EVENT = {
    "type": "object",
    "description": "One Server-Sent Event: its `data` is a ChatCompletionChunk, an Error (a "
                   "stream that failed after it started, then no `[DONE]`) or `[DONE]`.",
    "required": ["data"],
    "properties": {"data": {"anyOf": [
        {"const": "[DONE]"},
        {"type": "string", "contentMediaType": "application/json",
         "contentSchema": {"anyOf": [{"$ref": _REF + "ChatCompletionChunk"},
                                     {"$ref": _REF + "Error"}]}},
    ]}},
}
_MODEL_LIST = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {
        "object": {"const": "list"},
        "data": {"type": "array", "items": {
            "type": "object", "required": ["id", "object", "created", "owned_by"],
            "properties": {"id": {"type": "string"}, "object": {"const": "model"},
                           "created": {"type": "integer"}, "owned_by": {"type": "string"}},
        }},
    },
}
_HEALTH = {
    "type": "object",
    "description": "Per tenant country, whether a permitted upstream is available. `degraded` "
                   "(HTTP 503) when some country has none — its requests would fail closed — "
                   "or the store does not answer.",
    "required": ["status", "store", "countries", "upstreams"],
    "properties": {
        "status": {"enum": ["ok", "degraded"]},
        "store": {"type": "boolean"},
        "countries": {"type": "object", "additionalProperties": {
            "type": "object",
            "required": ["status", "available_upstreams", "permitted_upstreams", "residency"],
            "properties": {
                "status": {"enum": ["ok", "unavailable"]},
                "available_upstreams": {"type": "array", "items": {"type": "string"}},
                "permitted_upstreams": {"type": "array", "items": {"type": "string"}},
                "residency": {"type": "string"},
            },
        }},
        "upstreams": {"type": "array", "items": {
            "type": "object", "required": ["name", "jurisdiction", "healthy", "breaker"],
            "properties": {"name": {"type": "string"}, "jurisdiction": {"type": "string"},
                           "healthy": {"type": "boolean"}, "breaker": {"type": "string"}},
        }},
    },
}
_READY = {
    "type": "object",
    "description": "`ready` once the instance has started and its store answers (the load "
                   "balancer's check); `not_ready` (HTTP 503) before, while stopping, or "
                   "without the store.",
    "required": ["status"],
    "properties": {"status": {"enum": ["ready", "not_ready"]}},
}

_REQUEST_ID = {"x-request-id": {
    "description": "the request's id in the audit log (also the completion's `id`)",
    "required": True, "schema": {"type": "string", "minLength": 1}}}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description,
            "headers": {**_REQUEST_ID, **(headers or {})},
            "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}}}


_CHAT_ERRORS = {
    "400": _error("not a valid chat request (`invalid_json`, `invalid_value` with `param`, "
                  "…) or blocked by a content rule (`content_policy_violation`)"),
    "401": _error("missing, unknown or revoked key (`invalid_api_key`)"),
    "404": _error("no permitted upstream serves that model (`model_not_found`)"),
    "413": _error("body over `limits.max_body_bytes` (`request_too_large`), refused while "
                  "reading"),
    "415": _error("the body is not `application/json`"),
    "429": _error("a quota (`rate_limit_exceeded`, `tokens_per_day_exceeded`, "
                  "`country_allocation_exceeded`)",
                  {"retry-after": {"description": "seconds until the quota allows again",
                                   "required": True, "schema": {"type": "string"}}}),
    "500": _error("the gateway failed (`internal_error`) or could not write the request's "
                  "audit record (`audit_write_failed`): the request was not served"),
    "502": _error("the upstream failed in a way no other upstream can fix"),
    "503": _error("fail closed: no permitted upstream is available (`no_permitted_upstream`, "
                  "`no_policy_pack`), or the store cannot record the request"),
}


def _build() -> dict[str, Any]:
    key_auth: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
    return {
        "openapi": "3.2.0",
        "info": {
            "title": "daulat gateway",
            "version": __version__,
            "description": "An OpenAI-compatible assistant gateway that applies each tenant's "
                           "country pack, keeps traffic in permitted jurisdictions (failing "
                           "closed), meters use and audits every request. See docs/gateway.md.",
        },
        "paths": {
            "/v1/chat/completions": {"post": {
                "operationId": "createChatCompletion",
                "summary": "Chat completion (streamed when `stream` is true)",
                "security": key_auth,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": _REF + "ChatCompletionRequest"}}}},
                "responses": {
                    "200": {
                        "description": "the answer; with `stream: true` Server-Sent Events of "
                                       "ChatCompletionChunk, `data: [DONE]` last",
                        "headers": _REQUEST_ID,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": _REF + "ChatCompletion"}},
                            "text/event-stream": {"itemSchema": {"$ref": _REF + "StreamEvent"}},
                        },
                    },
                    **_CHAT_ERRORS,
                },
            }},
            "/v1/models": {"get": {
                "operationId": "listModels",
                "summary": "Models the tenant's country may use (permitted upstreams only)",
                "security": key_auth,
                "responses": {
                    "200": {"description": "the models", "headers": _REQUEST_ID,
                            "content": {"application/json": {
                                "schema": {"$ref": _REF + "ModelList"}}}},
                    "401": _CHAT_ERRORS["401"],
                    "429": _CHAT_ERRORS["429"],
                    "500": _CHAT_ERRORS["500"],
                    "503": _CHAT_ERRORS["503"],
                },
            }},
            "/healthz": {"get": {
                "operationId": "health",
                "summary": "Upstreams' health and breakers; per-country degradation",
                "security": [],
                "responses": {
                    "200": {"description": "every tenant country can be served", "content": {
                        "application/json": {"schema": {"$ref": _REF + "Health"}}}},
                    "503": {"description": "degraded", "content": {
                        "application/json": {"schema": {"$ref": _REF + "Health"}}}},
                },
            }},
            "/readyz": {"get": {
                "operationId": "ready",
                "summary": "Readiness for a load balancer",
                "security": [],
                "responses": {
                    "200": {"description": "ready", "content": {
                        "application/json": {"schema": {"$ref": _REF + "Ready"}}}},
                    "503": {"description": "not ready", "content": {
                        "application/json": {"schema": {"$ref": _REF + "Ready"}}}},
                },
            }},
            "/metrics": {"get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics of this worker",
                "security": [],
                "responses": {"200": {"description": "Prometheus text format", "content": {
                    "text/plain": {"schema": {"type": "string"}}}}},
            }},
            "/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.2", "content": {
                    "application/json": {"schema": {"type": "object"}}}}},
            }},
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "`Authorization: Bearer dk-…` (`daulat keys create`)"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "api-key"},
            },
            "schemas": {
                "Error": ERROR_SCHEMA,
                "ChatCompletionRequest": CHAT_REQUEST_SCHEMA,
                "ChatMessage": _MESSAGE,
                "TextContentPart": _TEXT_PART,
                "ToolCall": _TOOL_CALL,
                "Tool": _TOOL,
                "ChatCompletion": CHAT_COMPLETION_SCHEMA,
                "ChatCompletionChunk": STREAM_CHUNK_SCHEMA,
                "StreamEvent": _STREAM_EVENT,
                "Usage": _USAGE,
                "ModelList": _MODEL_LIST,
                "Health": _HEALTH,
                "Ready": _READY,
            },
        },
    }


@lru_cache(maxsize=1)
def _cached() -> dict[str, Any]:
    return _build()


def openapi_document() -> dict[str, Any]:
    """The gateway's OpenAPI 3.2 document (a fresh copy; built once per process)."""
    return copy.deepcopy(_cached())
