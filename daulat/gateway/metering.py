"""Metering and quotas: requests/s and tokens/day per tenant, tokens/day per country.

Usage is written to the store by the audit :class:`~daulat.gateway.audit.Recorder` (same
transaction as the audit record). Quota checks on the hot path read in-memory counters:

* without Redis, each worker keeps today's tokens per tenant/country, refreshed from the
  store every ``usage_sync_s`` and incremented locally in between (workers sharing one
  store see each other's use within that interval); requests/s is a token bucket per worker,
  each worker allowed ``requests_per_s / workers``;
* with Redis (``redis_url``), counters are shared exactly: a per-second window per tenant
  and per-day token totals (``INCRBY``), so any number of workers and instances agree.
  Every key starts with the deployment's prefix (``limits.redis_prefix``; default
  ``daulat:`` + a digest of the store URL), so deployments sharing a Redis never share quotas.

Country allocations come from a plan directory's ``routing.csv`` (tokens/s served per
country and year, summed over sites) and are metered as tokens/day = tokens/s × 86 400.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy.exc import SQLAlchemyError

from daulat.errors import UserError
from daulat.store.store import Store, utc_day

__all__ = ["Quota", "Meter", "QuotaExceeded", "read_allocations", "SECONDS_PER_DAY"]

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Quota:
    """A tenant's limits (None = unlimited)."""

    tokens_per_day: int | None
    requests_per_s: float | None


class QuotaExceeded(Exception):
    """A quota is used up; ``retry_after_s`` is when to try again, ``code`` which one."""

    def __init__(self, message: str, retry_after_s: int, code: str) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.code = code


def _seconds_to_midnight(now: float) -> int:
    today = dt.datetime.fromtimestamp(now, dt.UTC)
    tomorrow = (today + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((tomorrow - today).total_seconds()))


def read_allocations(plan_dir: Path) -> list[dict[str, Any]]:
    """Country allocations from ``plan_dir/routing.csv``: tokens/s summed per country and year.

    Returns rows (country, year, tokens_per_s, tokens_per_day, source).
    """
    path = plan_dir / "routing.csv"
    if not path.exists():
        raise UserError(f"{path}: no routing.csv in the plan directory "
                        "(write one with `daulat plan SCENARIO --out DIR`)")
    totals: dict[tuple[str, int], float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"country", "year", "tokens_per_s"} - set(reader.fieldnames or [])
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                            "routing.csv needs country,site,site_country,workload,year,"
                            "tokens_per_s")
        for lineno, row in enumerate(reader, start=2):
            try:
                year = int(float(row["year"]))
                tps = float(row["tokens_per_s"] or 0.0)
            except ValueError as exc:
                raise UserError(f"{path}:{lineno}: year={row['year']!r} "
                                f"tokens_per_s={row['tokens_per_s']!r} must be numbers") from exc
            if not math.isfinite(tps) or tps < 0:
                raise UserError(f"{path}:{lineno}: tokens_per_s={tps!r} must be ≥ 0")
            key = (row["country"].strip().upper(), year)
            totals[key] = totals.get(key, 0.0) + tps
    return [{"country": c, "year": y, "tokens_per_s": tps,
             "tokens_per_day": int(tps * SECONDS_PER_DAY), "source": str(plan_dir)}
            for (c, y), tps in sorted(totals.items())]


class _Bucket:
    __slots__ = ("rate", "tokens", "stamp")

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = max(1.0, rate)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 if allowed, else seconds until a request is allowed."""
        now = time.monotonic()
        self.tokens = min(max(1.0, self.rate), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class Meter:
    """Quota checks and local counters for one worker."""

    def __init__(self, store: Store, *, country_tokens_per_day: dict[str, int] | None = None,
                 workers: int = 1, redis_url: str | None = None, sync_s: float = 2.0,
                 redis_prefix: str = "daulat") -> None:
        self.store = store
        self.country_limit = dict(country_tokens_per_day or {})
        self.workers = max(1, workers)
        self.sync_s = sync_s
        self._buckets: dict[str, _Bucket] = {}
        self._day = utc_day()
        self._tenant_base: dict[str, int] = {}
        self._country_base: dict[str, int] = {}
        self._tenant_local: dict[str, int] = {}
        self._country_local: dict[str, int] = {}
        #: Every Redis key starts with this: two deployments on one Redis never share counters.
        self.prefix = redis_prefix
        self._redis: Any = aioredis.from_url(redis_url) if redis_url else None

    # --- sync with the store ---------------------------------------------------------------
    async def sync(self) -> None:
        """Reload today's totals from the store (the read runs in a thread)."""
        by_tenant, by_country = await asyncio.to_thread(self.store.tokens_today)
        # Applied on the event loop, so no increment from add() interleaves with the swap.
        self._day = utc_day()
        self._tenant_base, self._country_base = by_tenant, by_country
        self._tenant_local.clear()
        self._country_local.clear()

    async def run_sync(self) -> None:
        """Background task: :meth:`sync` every ``sync_s``."""
        while True:
            try:
                await self.sync()
            except SQLAlchemyError:  # the store may be briefly busy; keep serving on local counts
                pass
            await asyncio.sleep(self.sync_s)

    # --- checks ----------------------------------------------------------------------------
    async def check(self, tenant: str, country: str, quota: Quota) -> None:
        """Raise :class:`QuotaExceeded` if the tenant or its country may not send now."""
        now = time.time()
        if quota.requests_per_s is not None:
            wait = await self._rate(tenant, quota.requests_per_s, now)
            if wait > 0:
                raise QuotaExceeded(
                    f"tenant {tenant!r} is over its rate limit of {quota.requests_per_s:g} "
                    "requests/s", max(1, math.ceil(wait)), "rate_limit_exceeded")
        if quota.tokens_per_day is not None:
            used = await self._tokens("t", tenant)
            if used >= quota.tokens_per_day:
                raise QuotaExceeded(
                    f"tenant {tenant!r} has used {used} of its {quota.tokens_per_day} tokens "
                    "for today (UTC)", _seconds_to_midnight(now), "tokens_per_day_exceeded")
        limit = self.country_limit.get(country)
        if limit is not None:
            used = await self._tokens("c", country)
            if used >= limit:
                raise QuotaExceeded(
                    f"country {country} has used {used} of the {limit} tokens/day its plan "
                    "allocation funds", _seconds_to_midnight(now), "country_allocation_exceeded")

    async def _rate(self, tenant: str, rate: float, now: float) -> float:
        if self._redis is not None:
            window = int(now)
            key = f"{self.prefix}:rl:{tenant}:{window}"
            pipe = self._redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2)
            count, _ = await pipe.execute()
            if count > max(1, math.floor(rate)):
                return window + 1 - now
            return 0.0
        bucket = self._buckets.get(tenant)
        if bucket is None or bucket.rate != rate / self.workers:
            bucket = self._buckets[tenant] = _Bucket(rate / self.workers)
        return bucket.take()

    async def _tokens(self, kind: str, name: str) -> int:
        if self._redis is not None:
            value = await self._redis.get(f"{self.prefix}:tok:{kind}:{name}:{utc_day()}")
            return int(value or 0)
        if kind == "t":
            return self._tenant_base.get(name, 0) + self._tenant_local.get(name, 0)
        return self._country_base.get(name, 0) + self._country_local.get(name, 0)

    async def add(self, tenant: str, country: str, tokens: int) -> None:
        """Count ``tokens`` just served (the durable count is the store's usage table)."""
        if tokens <= 0:
            return
        if self._redis is not None:
            day = utc_day()
            pipe = self._redis.pipeline()
            for key in (f"{self.prefix}:tok:t:{tenant}:{day}",
                        f"{self.prefix}:tok:c:{country}:{day}"):
                pipe.incrby(key, tokens)
                pipe.expire(key, 2 * SECONDS_PER_DAY)
            await pipe.execute()
            return
        self._tenant_local[tenant] = self._tenant_local.get(tenant, 0) + tokens
        self._country_local[country] = self._country_local.get(country, 0) + tokens

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
