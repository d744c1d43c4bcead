"""Bounded loopback load and faults: concurrency, failover under load, kill -9 durability."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import sqlalchemy as sa

from daulat.gateway.audit import verify_chain
from daulat.gateway.testing import free_port
from daulat.store import Store, Tenant
from daulat.store import models as m
from tests.gateway.conftest import Fakes, Gateway, start_gateway, upstream_cfg

MSG = [{"role": "user", "content": "Tolong jelaskan cara membuat KTP elektronik"}]
STREAMS = 200


def _audit_ids(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(m.audit_log.c.request_id)).scalars())


def test_200_concurrent_streams_without_an_error(fakes: Fakes, sqlite_store: Store) -> None:
    # generous upstream timeout: the fakes, the gateway and 200 clients share 2 CPUs here
    gateway = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes, timeout_s=30)})
    async def one(client: openai.AsyncOpenAI) -> str:
        stream = await client.chat.completions.create(
            model="assistant", messages=MSG, stream=True, stream_options={"include_usage": True})
        text = []
        async for chunk in stream:
            if chunk.choices:
                text.append(chunk.choices[0].delta.content or "")
        return "".join(text)

    async def run() -> list[str | BaseException]:
        client = gateway.async_client(http_client=openai.DefaultAsyncHttpxClient(
            limits=httpx.Limits(max_connections=STREAMS)))
        try:
            return await asyncio.gather(*(one(client) for _ in range(STREAMS)),
                                        return_exceptions=True)
        finally:
            await client.close()

    try:
        results = asyncio.run(run())
    finally:
        gateway.server.stop()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], [repr(e) for e in errors[:5]]
    assert all(str(r).endswith("KTP elektronik") for r in results)
    (usage,) = gateway.store.usage()
    assert usage["requests"] == STREAMS
    report = verify_chain(gateway.store.engine)
    assert report.ok and report.records == STREAMS


def test_faults_under_load_fail_over_or_fail_clearly_and_lose_nothing(
        fakes: Fakes, sqlite_store: Store) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes, ["jkt", "bth"]),
                                      "routing": {"breaker_failures": 1000}})
    rng = random.Random(7)
    n = 120
    fakes.upstreams["jkt"].script = [rng.choice(["error", "timeout", "slow", "truncated", "ok"])
                                     for _ in range(n)]
    fakes.upstreams["bth"].script = [rng.choice(["ok", "ok", "slow", "error"]) for _ in range(n)]

    async def one(client: openai.AsyncOpenAI, i: int) -> str:
        if i % 2:
            stream = await client.chat.completions.create(model="assistant", messages=MSG,
                                                          stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream
                            if c.choices])
        resp = await client.chat.completions.create(model="assistant", messages=MSG)
        return resp.choices[0].message.content or ""

    async def run() -> list[str | BaseException]:
        client = gw.async_client()
        try:
            return await asyncio.gather(*(one(client, i) for i in range(n)),
                                        return_exceptions=True)
        finally:
            await client.close()

    try:
        results = asyncio.run(run())
    finally:
        gw.server.stop()
    ok = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert all(r.endswith("KTP elektronik") for r in ok)  # no silently short answers
    for e in errors:  # every failure is a clear API error, not a hang or a bad payload
        assert isinstance(e, openai.APIError), repr(e)
        assert ("fails closed" in e.message or "incomplete" in e.message), e.message
    assert len(ok) > n // 2
    # nothing lost: one audit record per request, usage counts every answered request
    assert len(_audit_ids(sqlite_store)) == n
    assert verify_chain(sqlite_store.engine).ok
    (usage,) = sqlite_store.usage()
    assert usage["requests"] + usage["rejected"] >= len(ok)
    assert fakes.upstreams["sgp"].received == fakes.upstreams["usa"].received == 0


def test_kill_9_under_load_keeps_the_chain_and_every_acknowledged_request(
        fakes: Fakes, tmp_path: Path) -> None:
    db = tmp_path / "daulat.db"
    store = Store(f"sqlite:///{db}")
    store.migrate()
    store.put_tenant(Tenant("kominfo", "IDN"))
    _, key = store.create_key("kominfo")
    port = free_port()
    cfg = {"server": {"port": port, "log_level": "warning"}, "store": {"url": f"sqlite:///{db}"},
           "upstreams": upstream_cfg(fakes, ["jkt"], timeout_s=30),
           "local_model": {"enabled": False},
           "routing": {"health_interval_s": 0}}
    (tmp_path / "gateway.yaml").write_text(json.dumps(cfg))  # JSON is YAML
    daulat = Path(sys.executable).with_name("daulat")
    proc = subprocess.Popen([str(daulat), "serve", "--config", str(tmp_path / "gateway.yaml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a cold start loads packs and language models
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "gateway did not start"
            time.sleep(0.1)
        acked: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=base, headers={"authorization": f"Bearer {key}"},
                              timeout=10) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/v1/chat/completions",
                                   json={"model": "assistant", "messages": MSG})
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 200:
                        with lock:
                            acked.append(r.json()["id"])

        threads = [threading.Thread(target=load) for _ in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 100 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # mid-load, no shutdown hooks
        proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(acked) >= 100
    report = verify_chain(store.engine)
    assert report.ok, report.problems
    ids = set(_audit_ids(store))
    assert set(acked) <= ids  # every acknowledged request is on record
    (usage,) = store.usage()
    assert usage["requests"] >= len(acked)


def test_client_walking_away_mid_stream_is_recorded(gateway: Gateway, fakes: Fakes) -> None:
    for u in fakes.upstreams.values():
        u.mode = "slow"
        u.delay_s = 0.05
        u.reply = " ".join(["kata"] * 40)
    try:
        with httpx.stream("POST", gateway.url + "/v1/chat/completions",
                          json={"model": "assistant", "messages": MSG, "stream": True},
                          headers={"authorization": f"Bearer {gateway.keys['kominfo']}"}) as r:
            for line in r.iter_lines():
                if '"kata' in line:
                    break  # leave after the first words
        deadline = time.monotonic() + 10
        statuses: list[str] = []
        while time.monotonic() < deadline:
            with gateway.store.engine.connect() as conn:
                statuses = [json.loads(x)["status"] for x in
                            conn.execute(sa.select(m.audit_log.c.record)).scalars()]
            if statuses:
                break
            time.sleep(0.05)
        assert statuses == ["client_disconnected"]
        assert verify_chain(gateway.store.engine).ok
    finally:
        for u in fakes.upstreams.values():
            u.delay_s = 0.01
