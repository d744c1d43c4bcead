"""The store's operations: tenants, keys, usage, allocations, bodies, retention purge.

One :class:`Store` wraps an engine; every method is one short transaction. The gateway's
hot path does not call these per request (it caches keys and writes in batches through
:mod:`daulat.gateway.audit`); the CLI and tests do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from daulat.errors import UserError
from daulat.iso3 import check_iso3
from daulat.store import models as m
from daulat.store.db import make_engine, migrate

__all__ = ["Store", "Tenant", "ApiKey", "KEY_PREFIX", "hash_key", "utc_day", "upsert_usage"]

KEY_PREFIX = "dk-"
_KEY_ID_CHARS = 8
_KEY_SECRET_BYTES = 24


def hash_key(key: str) -> str:
    """SHA-256 hex of an API key. Keys are 192-bit random, so an unsalted hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def utc_day(ts: float | None = None) -> str:
    """The UTC date of unix time ``ts`` (default now) as YYYY-MM-DD."""
    return dt.datetime.fromtimestamp(time.time() if ts is None else ts, dt.UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Tenant:
    """A tenant: an agency or service of a country programme, with optional quotas."""

    name: str
    country: str  # ISO 3166-1 alpha-3
    tokens_per_day: int | None = None
    requests_per_s: float | None = None
    created_at: float = 0.0


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    id: str
    tenant: str
    created_at: float
    revoked_at: float | None
    label: str | None


def upsert_usage(
    conn: Connection,
    rows: list[dict[str, Any]],
) -> None:
    """Add ``rows`` (tenant, country, day, requests, prompt_tokens, completion_tokens, rejected)
    to the usage counters in one statement per row, atomically per row on both backends."""
    if not rows:
        return
    dialect = conn.dialect.name
    ins: Any
    if dialect == "postgresql":
        ins = postgresql.insert(m.usage)
    else:
        ins = sqlite.insert(m.usage)
    counters = ("requests", "prompt_tokens", "completion_tokens", "rejected")
    stmt = ins.on_conflict_do_update(
        index_elements=["tenant", "country", "day"],
        set_={c: getattr(m.usage.c, c) + getattr(ins.excluded, c) for c in counters},
    )
    conn.execute(stmt, rows)


class Store:
    """Typed access to the gateway's store (see :mod:`daulat.store.models`)."""

    def __init__(self, url: str | None = None, *, schema: str | None = None,
                 engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url, schema=schema)
        self.url = self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> str:
        """Bring the schema to the newest revision; returns it."""
        return migrate(self.engine)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()

    # --- tenants -------------------------------------------------------------------------
    def put_tenant(self, tenant: Tenant) -> Tenant:
        """Create or update a tenant (quotas and country; CountryCodeError for a country
        that is not ISO 3166-1 alpha-3)."""
        values = {
            "country": check_iso3(tenant.country),
            "tokens_per_day": tenant.tokens_per_day,
            "requests_per_s": tenant.requests_per_s,
        }
        with self.engine.begin() as conn:
            found = conn.execute(
                update(m.tenants).where(m.tenants.c.name == tenant.name).values(**values)
            ).rowcount
            if not found:
                conn.execute(
                    insert(m.tenants).values(name=tenant.name, created_at=time.time(), **values)
                )
        got = self.get_tenant(tenant.name)
        assert got is not None
        return got

    def get_tenant(self, name: str) -> Tenant | None:
        """The tenant called ``name`` or None."""
        with self.engine.begin() as conn:
            row = conn.execute(select(m.tenants).where(m.tenants.c.name == name)).first()
        return Tenant(**row._mapping) if row else None

    def tenants(self) -> list[Tenant]:
        """All tenants, by name."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(m.tenants).order_by(m.tenants.c.name)).all()
        return [Tenant(**r._mapping) for r in rows]

    # --- keys ----------------------------------------------------------------------------
    def create_key(self, tenant: str, label: str | None = None) -> tuple[ApiKey, str]:
        """A new key for ``tenant``; returns (stored key, the secret — shown once, not stored)."""
        if self.get_tenant(tenant) is None:
            names = ", ".join(t.name for t in self.tenants()) or "none yet"
            raise UserError(f"tenant {tenant!r} does not exist (tenants: {names}); "
                            "create it with --country")
        key_id = secrets.token_hex(_KEY_ID_CHARS // 2)
        secret = f"{KEY_PREFIX}{key_id}-{secrets.token_urlsafe(_KEY_SECRET_BYTES)}"
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(insert(m.api_keys).values(
                id=key_id, key_hash=hash_key(secret), tenant=tenant, created_at=now,
                revoked_at=None, label=label))
        return ApiKey(key_id, tenant, now, None, label), secret

    def lookup_key(self, secret: str) -> tuple[ApiKey, Tenant] | None:
        """The live key and its tenant for a presented secret, or None (unknown or revoked)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(m.api_keys, m.tenants.c.country, m.tenants.c.tokens_per_day,
                       m.tenants.c.requests_per_s, m.tenants.c.created_at.label("t_created"))
                .join(m.tenants, m.tenants.c.name == m.api_keys.c.tenant)
                .where(m.api_keys.c.key_hash == hash_key(secret))
                .where(m.api_keys.c.revoked_at.is_(None))
            ).first()
        if row is None:
            return None
        r = row._mapping
        key = ApiKey(r["id"], r["tenant"], r["created_at"], r["revoked_at"], r["label"])
        tenant = Tenant(r["tenant"], r["country"], r["tokens_per_day"], r["requests_per_s"],
                        r["t_created"])
        return key, tenant

    def keys(self, tenant: str | None = None) -> list[ApiKey]:
        """Stored keys (all, or one tenant's), oldest first."""
        q = select(m.api_keys).order_by(m.api_keys.c.created_at)
        if tenant is not None:
            q = q.where(m.api_keys.c.tenant == tenant)
        with self.engine.begin() as conn:
            rows = conn.execute(q).all()
        return [ApiKey(r.id, r.tenant, r.created_at, r.revoked_at, r.label) for r in rows]

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key by id (the part after ``dk-``); UserError if unknown."""
        with self.engine.begin() as conn:
            n = conn.execute(update(m.api_keys).where(m.api_keys.c.id == key_id)
                             .where(m.api_keys.c.revoked_at.is_(None))
                             .values(revoked_at=time.time())).rowcount
        found = [k for k in self.keys() if k.id == key_id]
        if not found:
            ids = ", ".join(k.id for k in self.keys() if k.revoked_at is None) or "none"
            raise UserError(f"key id {key_id!r} does not exist (live key ids: {ids})")
        if not n and found[0].revoked_at is None:  # pragma: no cover - race
            raise UserError(f"key id {key_id!r} could not be revoked")
        return found[0]

    # --- usage ---------------------------------------------------------------------------
    def usage(self, *, tenant: str | None = None, day: str | None = None) -> list[dict[str, Any]]:
        """Usage rows (tenant, country, day, requests, prompt/completion tokens, rejected)."""
        q = select(m.usage).order_by(m.usage.c.day, m.usage.c.tenant)
        if tenant is not None:
            q = q.where(m.usage.c.tenant == tenant)
        if day is not None:
            q = q.where(m.usage.c.day == day)
        with self.engine.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(q).all()]

    def tokens_today(self) -> tuple[dict[str, int], dict[str, int]]:
        """(tokens by tenant, tokens by country) used today (UTC)."""
        day = utc_day()
        total = m.usage.c.prompt_tokens + m.usage.c.completion_tokens
        with self.engine.begin() as conn:
            by_t = conn.execute(select(m.usage.c.tenant, func.sum(total))
                                .where(m.usage.c.day == day).group_by(m.usage.c.tenant)).all()
            by_c = conn.execute(select(m.usage.c.country, func.sum(total))
                                .where(m.usage.c.day == day).group_by(m.usage.c.country)).all()
        return ({t: int(n or 0) for t, n in by_t}, {c: int(n or 0) for c, n in by_c})

    # --- allocations ---------------------------------------------------------------------
    def put_allocations(self, rows: list[dict[str, Any]]) -> int:
        """Replace allocations (country, year, tokens_per_s, tokens_per_day, source)."""
        with self.engine.begin() as conn:
            conn.execute(delete(m.allocations))
            if rows:
                conn.execute(insert(m.allocations), rows)
        return len(rows)

    def allocations(self) -> list[dict[str, Any]]:
        """Stored country allocations."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(m.allocations).order_by(
                m.allocations.c.country, m.allocations.c.year)).all()
        return [dict(r._mapping) for r in rows]

    # --- bodies and retention ------------------------------------------------------------
    def bodies(self) -> list[dict[str, Any]]:
        """Kept request/response bodies (already redacted), oldest first."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(m.bodies).order_by(m.bodies.c.ts)).all()
        return [dict(r._mapping) for r in rows]

    def purge(self, now: float | None = None) -> int:
        """Delete bodies whose retention has expired; returns how many were deleted."""
        cutoff = time.time() if now is None else now
        with self.engine.begin() as conn:
            gone = conn.execute(delete(m.bodies).where(m.bodies.c.expires_at <= cutoff))
            return int(gone.rowcount)
