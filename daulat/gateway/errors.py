"""Every way the gateway can refuse or fail a request, as exception classes.

Endpoints raise one of these; the app's Starlette exception handler turns it into an
OpenAI-format JSON error (``{"error": {message, type, param, code}}``) with the class's
HTTP status, and writes the request's audit record with ``audit_status``. The table in
``docs/gateway.md`` lists each one; a test checks the table against this module.
"""

from __future__ import annotations

__all__ = [
    "AuditWriteFailed",
    "ClientClosed",
    "ContentBlocked",
    "FailClosed",
    "GatewayError",
    "InternalError",
    "InvalidApiKey",
    "InvalidJson",
    "InvalidRequest",
    "MethodNotAllowed",
    "ModelNotFound",
    "NoPolicyPack",
    "NotFound",
    "QuotaExceededError",
    "RequestTooLarge",
    "UnsupportedMediaType",
    "UpstreamBadRequest",
    "ERRORS",
]


class GatewayError(Exception):
    """A request the gateway answers with an OpenAI-format error.

    Class attributes give the defaults: ``status`` (HTTP), ``type`` and ``code`` (the
    JSON error's fields) and ``audit_status`` (the audit record's ``status``).
    """

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"
    audit_status = "rejected"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = headers or {}


class InvalidApiKey(GatewayError):
    """No ``Authorization: Bearer`` key, or one that is unknown or revoked."""

    status, code, audit_status = 401, "invalid_api_key", "unauthenticated"


class InvalidJson(GatewayError):
    """The body is not JSON, not UTF-8, nested too deeply or holds a lone surrogate."""

    code = "invalid_json"


class InvalidRequest(GatewayError):
    """A field of the chat request is missing, of the wrong type or out of range."""

    code = "invalid_value"


class UnsupportedMediaType(GatewayError):
    """A ``Content-Type`` other than ``application/json``."""

    status, code = 415, "unsupported_media_type"


class RequestTooLarge(GatewayError):
    """The body is larger than ``limits.max_body_bytes`` (refused while it streams in)."""

    status, code = 413, "request_too_large"


class NotFound(GatewayError):
    """No such path."""

    status, code, audit_status = 404, "unknown_url", "not_found"


class MethodNotAllowed(GatewayError):
    """The path exists but not with this HTTP method."""

    status, code, audit_status = 405, "method_not_allowed", "method_not_allowed"


class ModelNotFound(GatewayError):
    """No upstream permitted for the tenant's country serves the requested model."""

    status, code = 404, "model_not_found"


class ContentBlocked(GatewayError):
    """A content rule of the country's pack with action ``block`` matched."""

    code = "content_policy_violation"


class QuotaExceededError(GatewayError):
    """A tenant or country quota (requests/s, tokens/day) is used up."""

    status, type, code = 429, "rate_limit_error", "rate_limit_exceeded"


class UpstreamBadRequest(GatewayError):
    """The model server rejected the request as invalid (its 4xx); never retried, and it
    never counts against the upstream's circuit breaker. The upstream is not named."""

    code, audit_status = "upstream_bad_request", "upstream_rejected"


class FailClosed(GatewayError):
    """No permitted upstream is healthy: 503, never a request abroad."""

    status, type, code, audit_status = (503, "service_unavailable", "no_permitted_upstream",
                                        "fail_closed")


class NoPolicyPack(GatewayError):
    """The country's policy pack does not validate: its tenants are served nowhere."""

    status, type, code, audit_status = 503, "service_unavailable", "no_policy_pack", "fail_closed"


class AuditWriteFailed(GatewayError):
    """The audit record could not be written: the answer is withheld (streams end with an
    error event), since an unaudited answer must not look complete."""

    status, type, code, audit_status = 500, "server_error", "audit_write_failed", "store_error"


class ClientClosed(GatewayError):
    """The client closed the connection before its whole body arrived (recorded only:
    nobody is left to receive the answer; 499 as nginx logs it)."""

    status, code, audit_status = 499, "client_closed_request", "client_disconnected"


class InternalError(GatewayError):
    """A bug: the gateway failed in an unexpected way (logged with its traceback)."""

    status, type, code, audit_status = 500, "server_error", "internal_error", "internal_error"


#: Every error class, for the docs table and its test.
ERRORS: tuple[type[GatewayError], ...] = (
    InvalidApiKey, InvalidJson, InvalidRequest, UnsupportedMediaType, RequestTooLarge,
    NotFound, MethodNotAllowed, ModelNotFound, ContentBlocked, QuotaExceededError,
    UpstreamBadRequest, FailClosed, NoPolicyPack, AuditWriteFailed, ClientClosed, InternalError,
)
