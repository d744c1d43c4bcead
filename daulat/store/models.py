"""The store's tables (SQLAlchemy Core): tenants, API keys, usage, allocations, audit, bodies.

The schema is owned by the alembic migrations in ``daulat/store/migrations``; this module
is the same schema as Python objects so queries are typed and portable between SQLite and
PostgreSQL. Keep the two in step: a change here needs a new migration.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "metadata",
    "tenants",
    "api_keys",
    "usage",
    "allocations",
    "audit_log",
    "audit_head",
    "bodies",
]

metadata = MetaData()

tenants = Table(
    "daulat_tenants",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("country", String(3), nullable=False),  # ISO 3166-1 alpha-3
    Column("tokens_per_day", BigInteger, nullable=True),  # quota; NULL = unlimited
    Column("requests_per_s", Float, nullable=True),  # quota; NULL = unlimited
    Column("created_at", Float, nullable=False),  # unix seconds
)

api_keys = Table(
    "daulat_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # public key id (the key's prefix)
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the key
    Column("tenant", String(128), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("label", String(256), nullable=True),
)

usage = Table(
    "daulat_usage",
    metadata,
    Column("tenant", String(128), primary_key=True),
    Column("country", String(3), primary_key=True),
    Column("day", String(10), primary_key=True),  # UTC date, YYYY-MM-DD
    Column("requests", BigInteger, nullable=False, default=0),
    Column("prompt_tokens", BigInteger, nullable=False, default=0),
    Column("completion_tokens", BigInteger, nullable=False, default=0),
    Column("rejected", BigInteger, nullable=False, default=0),
)

allocations = Table(
    "daulat_allocations",
    metadata,
    Column("country", String(3), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("tokens_per_s", Float, nullable=False),
    Column("tokens_per_day", BigInteger, nullable=False),
    Column("source", Text, nullable=False),  # the plan directory it came from
)

audit_log = Table(
    "daulat_audit",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("record", Text, nullable=False),  # canonical JSON of the decision
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("request_id", name="uq_daulat_audit_request"),
)

# One row (id = 1) holding the chain head, locked while appending so that several
# workers or instances extend one chain in one order.
audit_head = Table(
    "daulat_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

bodies = Table(
    "daulat_bodies",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("tenant", String(128), nullable=False),
    Column("country", String(3), nullable=False),
    Column("ts", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # unix seconds; purge deletes after
    Column("request", Text, nullable=True),  # redacted request JSON
    Column("response", Text, nullable=True),  # redacted response text
    Column("kept", Boolean, nullable=False, default=True),
)

Index("ix_daulat_bodies_expires", bodies.c.expires_at)
Index("ix_daulat_audit_ts", audit_log.c.ts)
