"""Two gateway instances sharing one PostgreSQL store and Redis: one chain, shared quotas."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import openai
import pytest
import redis

from daulat.gateway.audit import verify_chain
from daulat.store import Store
from tests.gateway.conftest import Fakes, Gateway, start_gateway, upstream_cfg

MSG = [{"role": "user", "content": "Halo"}]
REDIS_URL = "redis://127.0.0.1:6379/0"


def _pair(fakes: Fakes, store: Store, extra: dict[str, Any],
          tenants: dict[str, Any]) -> tuple[Gateway, Gateway]:
    a = start_gateway(store, {"upstreams": upstream_cfg(fakes), **extra}, tenants)
    b = start_gateway(store, {"upstreams": upstream_cfg(fakes), **extra}, {})
    b.keys = a.keys
    return a, b


def test_two_instances_extend_one_audit_chain(fakes: Fakes, pg_store: Store) -> None:
    a, b = _pair(fakes, pg_store, {}, {"kominfo": {"country": "IDN"}})

    async def load(gw: Gateway, n: int) -> None:
        client = gw.async_client()
        try:
            await asyncio.gather(*(client.chat.completions.create(model="assistant",
                                                                  messages=MSG)
                                   for _ in range(n)))
        finally:
            await client.close()

    async def both() -> None:
        await asyncio.gather(load(a, 40), load(b, 40))

    try:
        asyncio.run(both())
    finally:
        a.server.stop()
        b.server.stop()
    report = verify_chain(pg_store.engine)
    assert report.ok and report.records == 80, report.problems
    assert pg_store.usage()[0]["requests"] == 80


def test_redis_shares_the_rate_limit_across_instances(fakes: Fakes, pg_store: Store) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"  # fresh Redis keys for this run
    a, b = _pair(fakes, pg_store, {"redis_url": REDIS_URL},
                 {tenant: {"country": "IDN", "requests_per_s": 1}})
    try:
        ok, limited = 0, 0
        for gw in (a, b, a, b):
            try:
                gw.client(tenant).chat.completions.create(model="assistant", messages=MSG)
                ok += 1
            except openai.RateLimitError as exc:
                limited += 1
                assert int(exc.response.headers["retry-after"]) >= 1
        # 1 request/s for the tenant across both instances (the 4 calls take < 1 s or span
        # at most two windows)
        assert ok <= 2 and limited >= 2
    finally:
        a.server.stop()
        b.server.stop()
        r = redis.Redis.from_url(REDIS_URL)
        for key in r.scan_iter(f"daulat:*{tenant}*"):
            r.delete(key)
        r.close()


@pytest.fixture(autouse=True)
def _redis_up() -> None:
    redis.Redis.from_url(REDIS_URL).ping()
