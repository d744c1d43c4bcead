"""Residency-bound routing: failover inside permitted jurisdictions, breakers, fail closed."""

from __future__ import annotations

import random

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daulat.gateway.routing import CircuitBreaker, Route, Router
from daulat.policy.pack import load_pack
from daulat.store import Store
from tests.gateway.conftest import FAKES, Fakes, Gateway, start_gateway, upstream_cfg

MSG = [{"role": "user", "content": "Halo"}]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_breaker_opens_after_failures_and_probes_after_cooldown() -> None:
    clock = Clock()
    b = CircuitBreaker(failures=2, cooldown_s=5, clock=clock)
    b.failure()
    assert b.allows()
    b.failure()
    assert b.state == "open" and not b.allows()
    clock.t = 5.0
    assert b.state == "half_open" and b.allows()
    b.acquire()
    assert not b.allows()  # one probe at a time
    b.failure()
    assert b.state == "open"
    clock.t = 10.0
    b.acquire()
    b.success()
    assert b.state == "closed" and b.allows()


def test_router_only_offers_permitted_jurisdictions() -> None:
    routes = [Route(n, j, frozenset(), 1.0, CircuitBreaker()) for n, j in FAKES.items()]
    idn = load_pack("IDN")
    router = Router(routes, lambda c, j: load_pack(c).residency.allows(j), random.Random(1))
    picked = {router.choose("IDN", "m").name for _ in range(50)}  # type: ignore[union-attr]
    assert picked == {"jkt", "bth"}
    assert all(idn.residency.allows(r.jurisdiction) for r in router.permitted("IDN"))
    assert {r.name for r in router.permitted("USA")} == set(FAKES)  # USA pack: any


def test_failover_on_5xx_stays_in_country(gateway: Gateway, fakes: Fakes) -> None:
    fakes.upstreams["jkt"].mode = "error"
    for _ in range(6):
        resp = gateway.client().chat.completions.create(model="assistant", messages=MSG)
        assert (resp.choices[0].message.content or "").startswith("Echo from bth")
    assert fakes.upstreams["sgp"].received == fakes.upstreams["usa"].received == 0


def test_timeouts_slow_and_truncated_streams_fail_over(gateway: Gateway, fakes: Fakes) -> None:
    client = gateway.client()
    # A stream that breaks before its first chunk fails over; one that breaks after it cannot
    # (the client already has part of the answer) and must end in a clear error (see below).
    for mode, streams in (("timeout", (False, True)), ("truncated", (False,))):
        fakes.upstreams["jkt"].reset(mode)  # type: ignore[arg-type]
        fakes.upstreams["bth"].reset("ok")
        for stream in streams:
            if stream:
                text = "".join(c.choices[0].delta.content or "" for c in
                               client.chat.completions.create(model="assistant", messages=MSG,
                                                              stream=True) if c.choices)
            else:
                text = client.chat.completions.create(
                    model="assistant", messages=MSG).choices[0].message.content or ""
            assert text.startswith("Echo from bth"), (mode, stream, text)
    fakes.upstreams["jkt"].reset("slow")
    fakes.upstreams["bth"].reset("slow")
    text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="assistant", messages=MSG, stream=True) if c.choices)
    assert text.endswith("Halo")


def test_all_in_country_upstreams_down_is_503_never_abroad(gateway: Gateway,
                                                           fakes: Fakes) -> None:
    fakes.upstreams["jkt"].mode = "error"
    fakes.upstreams["bth"].mode = "error"
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(model="assistant", messages=MSG)
    assert info.value.status_code == 503
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "no_permitted_upstream"
    assert "fails closed" in body["message"] and "IDN" in body["message"]
    assert fakes.upstreams["sgp"].received == fakes.upstreams["usa"].received == 0


def test_only_foreign_upstreams_configured_is_503(fakes: Fakes, sqlite_store: Store) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes, ["sgp", "usa"])})
    try:
        with pytest.raises(openai.InternalServerError) as info:
            gw.client().chat.completions.create(model="assistant", messages=MSG, stream=True)
        assert info.value.status_code == 503
        assert "residency" in info.value.message
    finally:
        gw.server.stop()
    assert fakes.upstreams["sgp"].received == fakes.upstreams["usa"].received == 0


def test_mid_stream_break_is_a_clear_error(gateway: Gateway, fakes: Fakes) -> None:
    fakes.upstreams["jkt"].reply = "satu dua tiga empat lima enam tujuh delapan"
    fakes.upstreams["bth"].reply = fakes.upstreams["jkt"].reply
    fakes.upstreams["jkt"].mode = fakes.upstreams["bth"].mode = "truncated"
    # The first chunk arrives before the break, so failover is no longer possible: the
    # client must get an error, not a silently short answer.
    with pytest.raises(openai.APIError, match="incomplete"):
        for _ in gateway.client().chat.completions.create(model="assistant", messages=MSG,
                                                          stream=True):
            pass


def test_health_checks_mark_dead_upstreams(fakes: Fakes, sqlite_store: Store) -> None:
    ups = upstream_cfg(fakes, ["jkt"]) + [{"name": "dead", "url": "http://127.0.0.1:9/v1",
                                           "jurisdiction": "IDN", "models": ["assistant"]}]
    gw = start_gateway(sqlite_store, {"upstreams": ups,
                                      "routing": {"health_interval_s": 0.1}})
    try:
        import time

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            health = {u["name"]: u["healthy"] for u in
                      httpx.get(gw.url + "/healthz").json()["upstreams"]}
            if health == {"jkt": True, "dead": False}:
                break
            time.sleep(0.05)
        assert health == {"jkt": True, "dead": False}
    finally:
        gw.server.stop()


@pytest.fixture(scope="module")
def property_gateway(fakes: Fakes, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'd.db'}")
    gw = start_gateway(
        store, {"upstreams": upstream_cfg(fakes),
                "routing": {"breaker_failures": 2, "breaker_cooldown_s": 0.02}},
        tenants={"kominfo": {"country": "IDN"}, "bundestag": {"country": "DEU"},
                 "ustr": {"country": "USA"}})
    yield gw
    gw.server.stop()


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["kominfo", "bundestag", "ustr"]),
                          st.fixed_dictionaries({n: st.sampled_from(["ok", "error", "truncated"])
                                                 for n in FAKES}),
                          st.booleans()),
                min_size=1, max_size=6))
def test_property_no_request_ever_reaches_a_forbidden_jurisdiction(
        property_gateway: Gateway, fakes: Fakes,
        steps: list[tuple[str, dict[str, str], bool]]) -> None:
    """Random failure sequences: every upstream request lands in a permitted country."""
    for tenant, modes, stream in steps:
        # IDN: in country only; DEU: EU/EEA only (no fake is there: always fail closed);
        # USA: any jurisdiction (failover may go anywhere).
        country = {"kominfo": "IDN", "bundestag": "DEU", "ustr": "USA"}[tenant]
        allows = load_pack(country).residency.allows
        before = fakes.received()
        for name, mode in modes.items():
            fakes.upstreams[name].mode = mode  # type: ignore[assignment]
        client = property_gateway.client(tenant)
        try:
            if stream:
                for _ in client.chat.completions.create(model="assistant", messages=MSG,
                                                        stream=True):
                    pass
            else:
                client.chat.completions.create(model="assistant", messages=MSG)
            ok = True
        except openai.APIError as exc:
            ok = False
            status = getattr(exc, "status_code", None)
            assert status in (503, None), exc  # fail closed, or a stream broken mid-way
        after = fakes.received()
        hit = {n for n in FAKES if after[n] > before[n]}
        assert all(allows(FAKES[n]) for n in hit), (tenant, modes, hit)
        permitted_up = [n for n in FAKES if allows(FAKES[n]) and modes[n] == "ok"]
        if not permitted_up:
            assert not ok  # nothing healthy at home: never served from abroad
