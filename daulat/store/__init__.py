"""The gateway's store: tenants, hashed keys, usage, allocations, audit chain, bodies.

SQLite (WAL) by default under the data directory, PostgreSQL by URL; the schema is under
alembic migrations shipped in this package (``daulat store migrate``).
"""

from __future__ import annotations

from daulat.store.db import (
    current_revision,
    default_data_dir,
    default_url,
    head_revision,
    make_engine,
    migrate,
)
from daulat.store.store import KEY_PREFIX, ApiKey, Store, Tenant, hash_key, upsert_usage, utc_day

__all__ = [
    "ApiKey",
    "KEY_PREFIX",
    "Store",
    "Tenant",
    "current_revision",
    "default_data_dir",
    "default_url",
    "hash_key",
    "head_revision",
    "make_engine",
    "migrate",
    "upsert_usage",
    "utc_day",
]
