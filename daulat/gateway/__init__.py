"""daulat.gateway: the sovereign assistant gateway (``daulat serve``).

An OpenAI-compatible ASGI app that applies a tenant's country policy pack, routes only to
upstreams in permitted jurisdictions (failing closed), meters use against quotas and plan
allocations, and records every decision in a hash-chained audit log. See docs/gateway.md.

Public API (imported lazily, so ``daulat --help`` does not load the web stack)::

    from daulat.gateway import GatewayConfig, load_config, create_app, verify_chain
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "GatewayConfig",
    "load_config",
    "create_app",
    "Gateway",
    "Router",
    "CircuitBreaker",
    "Recorder",
    "AuditEntry",
    "verify_chain",
    "read_allocations",
    "FakeUpstream",
    "serve_in_thread",
]

_WHERE = {
    "GatewayConfig": "daulat.gateway.config",
    "load_config": "daulat.gateway.config",
    "create_app": "daulat.gateway.app",
    "Gateway": "daulat.gateway.app",
    "Router": "daulat.gateway.routing",
    "CircuitBreaker": "daulat.gateway.routing",
    "Recorder": "daulat.gateway.audit",
    "AuditEntry": "daulat.gateway.audit",
    "verify_chain": "daulat.gateway.audit",
    "read_allocations": "daulat.gateway.metering",
    "FakeUpstream": "daulat.gateway.testing",
    "serve_in_thread": "daulat.gateway.testing",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'daulat.gateway' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
