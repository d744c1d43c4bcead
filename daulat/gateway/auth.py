"""API keys on the hot path: ``Authorization: Bearer dk-…`` → tenant, cached briefly.

Keys are stored hashed (SHA-256) by :class:`~daulat.store.Store`. A lookup result (found or
not) is cached for ``key_cache_s`` so a request costs no store read; a revoked key therefore
stops working within that many seconds in every worker.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from starlette.requests import Request

from daulat.store.store import Store, Tenant, hash_key

__all__ = ["Principal", "KeyCache", "bearer"]

# Unknown keys are remembered for at most this long, so a revoked-then-recreated tenant or a
# freshly created key is seen quickly while a flood of bad keys does not reach the store.
_NEGATIVE_CACHE_S = 1.0
_MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id and its tenant."""

    key_id: str
    tenant: Tenant


def bearer(request: Request) -> str | None:
    """The presented key: ``Authorization: Bearer KEY`` or ``api-key: KEY``."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return request.headers.get("api-key") or None


class KeyCache:
    """Resolves keys to principals with a small time-bounded cache."""

    def __init__(self, store: Store, ttl_s: float) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def resolve(self, key: str) -> Principal | None:
        """The principal of ``key`` or None when unknown or revoked."""
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = await asyncio.to_thread(self.store.lookup_key, key)
        principal = Principal(found[0].id, found[1]) if found else None
        ttl = self.ttl_s if principal else min(self.ttl_s, _NEGATIVE_CACHE_S)
        if len(self._cache) >= _MAX_ENTRIES:
            self._cache.clear()
        if ttl > 0:
            self._cache[digest] = (now + ttl, principal)
        return principal
