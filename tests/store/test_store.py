"""The store on SQLite and on the real PostgreSQL: migrations, keys, usage, retention."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from daulat.errors import CountryCodeError, UserError
from daulat.store import Store, Tenant, current_revision, head_revision, upsert_usage, utc_day
from daulat.store import models as m

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'd.db'}")
        s.migrate()
        yield s
        s.dispose()
        return
    schema = f"sttest_{uuid.uuid4().hex[:12]}"
    s = Store(PG_URL, schema=schema)
    s.migrate()
    yield s
    s.dispose()
    eng = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def test_migrations_reach_head_and_are_idempotent(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    assert store.migrate() == head_revision()  # a second run changes nothing
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"daulat_tenants", "daulat_api_keys", "daulat_usage", "daulat_audit",
            "daulat_audit_head", "daulat_bodies", "daulat_allocations"} <= names


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'w.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_keys_are_stored_hashed_shown_once_and_revocable(store: Store) -> None:
    store.put_tenant(Tenant("kominfo", "IDN", tokens_per_day=1000))
    key, secret = store.create_key("kominfo", label="ops")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(m.api_keys)).one()
    assert secret not in str(tuple(stored))  # only the hash is kept
    found = store.lookup_key(secret)
    assert found is not None and found[1].country == "IDN" and found[1].tokens_per_day == 1000
    assert store.lookup_key(secret + "x") is None
    store.revoke_key(key.id)
    assert store.lookup_key(secret) is None
    assert store.keys()[0].revoked_at is not None


def test_unknown_tenant_and_key_errors_name_what_is_valid(store: Store) -> None:
    store.put_tenant(Tenant("kominfo", "IDN"))
    with pytest.raises(UserError, match="kominfo"):
        store.create_key("nobody")
    key, _ = store.create_key("kominfo")
    with pytest.raises(UserError, match=key.id):
        store.revoke_key("deadbeef")


def test_usage_upserts_add_up_under_concurrent_writers(store: Store) -> None:
    day = utc_day()
    row = {"tenant": "t", "country": "IDN", "day": day, "requests": 1, "prompt_tokens": 3,
           "completion_tokens": 5, "rejected": 0}
    threads_n, per_thread = 4, 25

    def work() -> None:
        for _ in range(per_thread):
            with store.engine.begin() as conn:
                upsert_usage(conn, [row])

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (got,) = store.usage(tenant="t")
    n = threads_n * per_thread
    assert (got["requests"], got["prompt_tokens"], got["completion_tokens"]) == (n, 3 * n, 5 * n)
    assert store.tokens_today() == ({"t": 8 * n}, {"IDN": 8 * n})


def test_purge_deletes_only_expired_bodies(store: Store) -> None:
    now = time.time()
    with store.engine.begin() as conn:
        conn.execute(sa.insert(m.bodies), [
            {"request_id": "old", "tenant": "t", "country": "IDN", "ts": now - 10,
             "expires_at": now - 1, "request": "{}", "response": "a", "kept": True},
            {"request_id": "new", "tenant": "t", "country": "IDN", "ts": now,
             "expires_at": now + 3600, "request": "{}", "response": "b", "kept": True},
        ])
    assert store.purge(now) == 1
    assert [b["request_id"] for b in store.bodies()] == ["new"]
    assert store.purge(now + 7200) == 1
    assert store.bodies() == []


def test_bad_store_url_names_valid_backends() -> None:
    with pytest.raises(UserError, match="sqlite or postgresql"):
        Store("mysql://root@localhost/db")
    with pytest.raises(UserError, match="schema"):
        Store(PG_URL, schema="Bad-Name")


def test_a_tenant_country_must_be_an_iso3_code(store: Store) -> None:
    store.migrate()
    with pytest.raises(CountryCodeError, match="'XYZ'"):
        store.put_tenant(Tenant("x", "XYZ"))
    assert store.put_tenant(Tenant("x", "idn")).country == "IDN"
