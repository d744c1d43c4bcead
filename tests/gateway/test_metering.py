"""Metering: usage per tenant/country/day, quotas with 429 + Retry-After, plan allocations."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from daulat.errors import UserError
from daulat.gateway.metering import read_allocations
from daulat.store import Store, utc_day
from tests.gateway.conftest import Fakes, start_gateway, upstream_cfg

MSG = [{"role": "user", "content": "Halo apa kabar"}]


def test_usage_is_metered_per_tenant_country_and_day(fakes: Fakes, any_store: Store) -> None:
    gw = start_gateway(any_store, {"upstreams": upstream_cfg(fakes)},
                       tenants={"kominfo": {"country": "IDN"}, "ustr": {"country": "USA"}})
    try:
        total = 0
        for tenant in ("kominfo", "kominfo", "ustr"):
            r = gw.client(tenant).chat.completions.create(model="assistant", messages=MSG)
            total += r.usage.total_tokens if r.usage else 0
        stream = gw.client("kominfo").chat.completions.create(
            model="assistant", messages=MSG, stream=True, stream_options={"include_usage": True})
        total += sum(c.usage.total_tokens for c in stream if c.usage)
    finally:
        gw.server.stop()
    rows = {(r["tenant"], r["country"], r["day"]): r for r in any_store.usage()}
    day = utc_day()
    assert rows[("kominfo", "IDN", day)]["requests"] == 3
    assert rows[("ustr", "USA", day)]["requests"] == 1
    assert sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows.values()) == total


def test_requests_per_second_quota_is_429_with_retry_after(fakes: Fakes,
                                                            sqlite_store: Store) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes)},
                       tenants={"kominfo": {"country": "IDN", "requests_per_s": 1}})
    try:
        client = gw.client()
        client.chat.completions.create(model="assistant", messages=MSG)
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="assistant", messages=MSG)
        assert int(info.value.response.headers["retry-after"]) >= 1
        assert info.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    finally:
        gw.server.stop()
    (row,) = sqlite_store.usage()
    assert (row["requests"], row["rejected"]) == (1, 1)


def test_tokens_per_day_quota_is_429_until_midnight(fakes: Fakes, sqlite_store: Store) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes)},
                       tenants={"kominfo": {"country": "IDN", "tokens_per_day": 5}})
    try:
        client = gw.client()
        client.chat.completions.create(model="assistant", messages=MSG)  # uses > 5 tokens
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="assistant", messages=MSG)
        assert info.value.body["code"] == "tokens_per_day_exceeded"  # type: ignore[index]
        assert 1 <= int(info.value.response.headers["retry-after"]) <= 86_400
    finally:
        gw.server.stop()


def test_country_allocation_from_a_plan_caps_the_country(fakes: Fakes, sqlite_store: Store,
                                                          tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "routing.csv").write_text(
        "country,site,site_country,workload,year,tokens_per_s\n"
        "IDN,jakarta,IDN,assistant,2026,0.00005\n"
        "IDN,batam,IDN,assistant,2026,0.00005\n"
        "USA,abilene,USA,assistant,2026,1000\n")
    rows = read_allocations(plan)
    idn = next(r for r in rows if r["country"] == "IDN")
    assert idn["tokens_per_day"] == int(0.0001 * 86_400)  # 8 tokens/day: summed over sites
    sqlite_store.migrate()
    sqlite_store.put_allocations(rows)
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes),
                                      "limits": {"allocation_year": 2026}},
                       tenants={"kominfo": {"country": "IDN"}, "ustr": {"country": "USA"}})
    try:
        # The first request is served (the allocation is not yet used up) and uses it up.
        gw.client("kominfo").chat.completions.create(model="assistant", messages=MSG)
        with pytest.raises(openai.RateLimitError) as info:
            gw.client("kominfo").chat.completions.create(model="assistant", messages=MSG)
        assert info.value.body["code"] == "country_allocation_exceeded"  # type: ignore[index]
        gw.client("ustr").chat.completions.create(model="assistant", messages=MSG)
    finally:
        gw.server.stop()


def test_bad_routing_csv_names_file_line_and_value(tmp_path: Path) -> None:
    (tmp_path / "routing.csv").write_text("country,site,year,tokens_per_s\nIDN,a,2026,lots\n")
    with pytest.raises(UserError, match=r"routing.csv:2: .*'lots'"):
        read_allocations(tmp_path)
    with pytest.raises(UserError, match="no routing.csv"):
        read_allocations(tmp_path / "nowhere")
