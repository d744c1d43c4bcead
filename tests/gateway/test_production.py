"""Issue 12's findings, each reproduced against a real gateway (uvicorn on loopback, the
official openai client, the fake upstreams) and a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis
import sqlalchemy as sa
from stdnum.id import npwp
from typer.testing import CliRunner

from daulat.cli import app as cli_app
from daulat.cli import main as cli_main
from daulat.errors import StoreError
from daulat.gateway.app import create_app, redis_prefix
from daulat.gateway.audit import (
    AuditEntry,
    AuditStoreError,
    Recorder,
    anchor,
    chain_hash,
    verify_chain,
)
from daulat.gateway.config import GatewayConfig, PolicyConfig
from daulat.gateway.enforce import PolicyRegistry
from daulat.gateway.errors import ERRORS
from daulat.gateway.metering import Meter
from daulat.gateway.testing import free_port, serve_in_thread
from daulat.policy.pack import PACKS_DIR, list_packs, load_pack, load_pack_file
from daulat.policy.pii import PiiEngine
from daulat.store import Store, Tenant
from daulat.store import models as m
from tests.gateway.conftest import Fakes, Gateway, start_gateway, upstream_cfg

MSG = [{"role": "user", "content": "Halo"}]
DAULAT = str(Path(sys.executable).with_name("daulat"))  # the installed console script
EMAIL = "budi.santoso@contoh.co.id"
PHONE = "0812-3456-7890"


def _records(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(m.audit_log.c.record).order_by(m.audit_log.c.seq))
        return [json.loads(r) for r in rows.scalars()]


def _record(store: Store, request_id: str) -> dict[str, Any]:
    found = [r for r in _records(store) if r["request_id"] == request_id]
    assert len(found) == 1, (request_id, found)
    return found[0]


def _post(gw: Gateway, body: Any, *, raw: bytes | None = None, path: str = "/v1/chat/completions",
          headers: dict[str, str] | None = None, method: str = "POST") -> httpx.Response:
    hdrs = {"authorization": f"Bearer {gw.keys['kominfo']}",
            "content-type": "application/json", **(headers or {})}
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.request(method, gw.url + path, content=content if method == "POST" else None,
                         headers=hdrs, timeout=30)


def _assert_openai_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    err = resp.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["code"] == code, err
    assert resp.headers.get("x-request-id")
    return err  # type: ignore[no-any-return]


# --- 1. PostgreSQL and a NUL byte; a bad row never loses its batch -----------------------------

@pytest.mark.parametrize("stream", [False, True])
def test_nul_byte_on_postgresql_is_answered_audited_and_metered(fakes: Fakes, pg_store: Store,
                                                                stream: bool) -> None:
    gw = start_gateway(pg_store, {"upstreams": upstream_cfg(fakes, ["jkt"])})
    try:
        client = gw.client()
        msgs = [{"role": "user", "content": "hi\u0000there"}]
        if stream:
            chunks = list(client.chat.completions.create(model="assistant", messages=msgs,
                                                          stream=True))
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            request_id = chunks[0].id
        else:
            resp = client.chat.completions.create(model="assistant", messages=msgs)
            text, request_id = resp.choices[0].message.content or "", resp.id
        assert "there" in text
        # the same keep-alive connection keeps working
        assert client.chat.completions.create(model="assistant", messages=MSG).choices
        rec = _record(pg_store, request_id)
        assert (rec["status"], rec["http_status"]) == ("ok", 200)
        assert sum(u["requests"] for u in pg_store.usage()) == 2
        kept = pg_store.bodies()[0]
        assert "hi\\u0000there" in kept["request"]  # JSON-escaped in the kept request
        # the echoed answer held a raw NUL, which PostgreSQL text cannot: kept as U+FFFD
        assert "\x00" not in kept["response"] and "hi\ufffdthere" in kept["response"]
        assert verify_chain(pg_store.engine).ok
    finally:
        gw.server.stop()


def _entry(i: int, tenant: str = "kominfo") -> AuditEntry:
    return AuditEntry(request_id=f"r{i}", record={"status": "ok"}, tenant=tenant,
                      country="IDN", prompt_tokens=1, completion_tokens=2)


def test_one_bad_row_does_not_lose_its_group_committed_batch(pg_store: Store) -> None:
    pg_store.migrate()
    recorder = Recorder(pg_store.engine, batch=16)

    async def run() -> list[BaseException | None]:
        # one event-loop iteration: one batch; the middle entry's tenant is too long for
        # PostgreSQL's varchar(128), so its usage row fails
        results = await asyncio.gather(recorder.record(_entry(1)),
                                       recorder.record(_entry(2, "x" * 200)),
                                       recorder.record(_entry(3)), return_exceptions=True)
        return list(results)  # type: ignore[arg-type]

    results = asyncio.run(run())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], AuditStoreError)
    assert [r["request_id"] for r in _records(pg_store)] == ["r1", "r3"]
    assert verify_chain(pg_store.engine).ok
    assert pg_store.usage()[0]["requests"] == 2


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_whose_record_cannot_be_written_is_withheld_but_audited(
        fakes: Fakes, sqlite_store: Store, stream: bool) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes, ["jkt"])})
    try:
        with sqlite_store.engine.begin() as conn:  # kept bodies cannot be written any more
            conn.execute(sa.text("DROP TABLE daulat_bodies"))
        resp = _post(gw, {"model": "assistant", "messages": MSG, "stream": stream})
        if stream:
            assert resp.status_code == 200
            events = [ln[6:] for ln in resp.text.splitlines() if ln.startswith("data: ")]
            assert events[-1] != "[DONE]"  # never looks complete
            assert json.loads(events[-1])["error"]["code"] == "audit_write_failed"
        else:
            _assert_openai_error(resp, 500, "audit_write_failed")
        rec = _record(sqlite_store, resp.headers["x-request-id"])
        assert rec["status"] == "store_error" and rec["completion_tokens"] > 0
        assert sqlite_store.usage()[0]["completion_tokens"] == rec["completion_tokens"]
        assert verify_chain(sqlite_store.engine).ok
    finally:
        gw.server.stop()


# --- 2. no plain-text 500s: surrogates, nesting, 404, 405 -----------------------------------------

def test_malformed_requests_get_json_errors_and_audit_records(gateway: Gateway) -> None:
    cases = [
        (_post(gateway, None, raw=b'{"model":"assistant","messages":[{"role":"user",'
                                  b'"content":"a\\ud800b"}]}'), 400, "invalid_json"),
        (_post(gateway, None, raw=b"[" * 100_000), 400, "invalid_json"),
        (_post(gateway, None, method="GET"), 405, "method_not_allowed"),
        (_post(gateway, {"x": 1}, path="/v1/no-such-endpoint"), 404, "unknown_url"),
        (_post(gateway, {"x": 1}, path="/v1/models"), 405, "method_not_allowed"),
    ]
    for resp, status, code in cases:
        _assert_openai_error(resp, status, code)
        rec = _record(gateway.store, resp.headers["x-request-id"])
        assert rec["http_status"] == status
    # a valid surrogate pair (an emoji) is text and passes
    ok = _post(gateway, None, raw=b'{"model":"assistant","messages":[{"role":"user",'
                                   b'"content":"hi \\ud83d\\ude00"}]}')
    assert ok.status_code == 200, ok.text
    assert verify_chain(gateway.store.engine).ok


def test_models_listing_is_audited(gateway: Gateway) -> None:
    page = gateway.client().models.list()
    assert [mdl.id for mdl in page.data] == ["assistant"]
    rec = [r for r in _records(gateway.store) if r["path"] == "/v1/models"]
    assert len(rec) == 1 and rec[0]["tenant"] == "kominfo" and rec[0]["http_status"] == 200


# --- 3. the body size is checked while it streams in ---------------------------------------------

def test_a_huge_chunked_body_is_refused_before_it_is_read(fakes: Fakes,
                                                          sqlite_store: Store) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes, ["jkt"]),
                                      "limits": {"max_body_bytes": 1_048_576}})
    try:
        sock = socket.create_connection(("127.0.0.1", gw.server.port), timeout=10)
        sock.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                      f"Authorization: Bearer {gw.keys['kominfo']}\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      ).encode())
        chunk = b"x" * 65_536
        sent = 0
        for _ in range(32):  # 2 MB of a 20 MB body, then stop sending and wait for the answer
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65_536)
            if not data:
                break
            answer += data
        sock.close()
        assert sent < 20 * 1024 * 1024
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[-1] or b"{}"
                          ) if b"chunked" in answer.lower() else json.loads(
            answer.split(b"\r\n\r\n", 1)[1])
        assert body["error"]["code"] == "request_too_large"
        assert [r["http_status"] for r in _records(sqlite_store)] == [413]
    finally:
        gw.server.stop()


# --- 4. validation before forwarding; a client's bad request never opens the breaker -----------

def test_invalid_requests_are_refused_before_the_upstream(gateway: Gateway, fakes: Fakes) -> None:
    bad = [
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": MSG, "max_tokens": -5}, "max_tokens"),
        ({"messages": MSG, "max_tokens": "lots"}, "max_tokens"),
        ({"messages": MSG, "temperature": 99}, "temperature"),
        ({"messages": MSG, "bogus_option": 1}, "bogus_option"),
    ]
    for body, param in bad * 2:  # more than breaker_failures (3) bad requests
        err = _assert_openai_error(_post(gateway, {"model": "assistant", **body}), 400,
                                   "invalid_value")
        assert err["param"] == param and err["type"] == "invalid_request_error"
    err = _assert_openai_error(
        _post(gateway, {"model": "assistant", "messages": MSG},
              headers={"content-type": "text/plain"}), 415, "unsupported_media_type")
    assert sum(fakes.received().values()) == 0  # nothing reached an upstream
    # the country is still served
    assert gateway.client().chat.completions.create(model="assistant", messages=MSG).choices
    assert all(r.breaker.state == "closed" for r in gateway.app_state.router.routes)


def test_documented_openai_parameters_and_echoed_answers_pass(gateway: Gateway) -> None:
    client = gateway.client()
    first = client.chat.completions.create(model="assistant", messages=MSG)
    history = [*MSG, first.choices[0].message.model_dump(), {"role": "user", "content": "Lagi"}]
    again = client.chat.completions.create(  # an earlier answer sent back as the SDK gives it
        model="assistant", messages=history, parallel_tool_calls=False, store=False,
        metadata={"case": "1"}, logit_bias={"50256": -100}, user="u1", seed=7)
    assert again.choices[0].message.content
    err = _assert_openai_error(_post(gateway, {"model": "assistant", "messages": MSG,
                                               "store": "yes"}), 400, "invalid_value")
    assert err["param"] == "store"


def test_upstream_400_is_documented_and_never_names_the_upstream(gateway: Gateway,
                                                                 fakes: Fakes) -> None:
    for u in fakes.upstreams.values():
        u.mode = "reject"
    for _ in range(4):
        with pytest.raises(openai.BadRequestError) as info:
            gateway.client().chat.completions.create(model="assistant", messages=MSG,
                                                     max_tokens=100_000)
        body = info.value.body
        assert isinstance(body, dict) and body["code"] == "upstream_bad_request"
        assert "context is 2048 tokens" in body["message"]
        for name in ("jkt", "bth", "127.0.0.1", "upstream jkt"):
            assert name not in body["message"]
    assert all(r.breaker.state == "closed" for r in gateway.app_state.router.routes)


# --- 5. countries: codes checked; no pack fails closed unless configured ----------------------

def test_keys_create_with_an_unknown_country_exits_2(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # the installed entry point (daulat.cli:main), in process
    monkeypatch.setattr(sys, "argv", ["daulat", "keys", "create", "--tenant", "x", "--country",
                                      "XYZ", "--data-dir", str(tmp_path)])
    with pytest.raises(SystemExit) as info:
        cli_main()
    assert info.value.code == 2
    assert "'XYZ' is not an ISO 3166-1 alpha-3" in capsys.readouterr().err
    assert not Store(f"sqlite:///{tmp_path / 'daulat.db'}").tenants()


def test_a_country_without_a_pack_is_served_only_at_home_unless_configured(
        fakes: Fakes, sqlite_store: Store, tmp_path: Path) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes)},
                       {"kominfo": {"country": "IDN"}, "chile": {"country": "CHL"}})
    try:
        with pytest.raises(openai.InternalServerError) as info:
            gw.client("chile").chat.completions.create(model="assistant", messages=MSG)
        assert info.value.status_code == 503
        assert info.value.body["code"] == "no_permitted_upstream"  # type: ignore[index]
        assert "no_pack" in info.value.body["message"]  # type: ignore[index]
        assert fakes.received()["usa"] == 0 and sum(fakes.received().values()) == 0
    finally:
        gw.server.stop()
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    gw = start_gateway(other, {"upstreams": upstream_cfg(fakes), "residency": {"CHL": ["USA"]}},
                       {"chile": {"country": "CHL"}})
    try:
        resp = gw.client("chile").chat.completions.with_raw_response.create(
            model="assistant", messages=MSG)
        assert resp.headers["x-daulat-upstream"] == "usa"
    finally:
        gw.server.stop()
        other.dispose()


def test_a_broken_pack_fails_its_country_closed_and_an_operators_pack_is_honoured(
        fakes: Fakes, sqlite_store: Store, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    idn = (PACKS_DIR / "IDN.yaml").read_text("utf-8")
    (packs / "IDN.yaml").write_text(idn.replace("mode: in_country", "mode: in_contry"), "utf-8")
    chl = (PACKS_DIR / "ARG.yaml").read_text("utf-8").replace("iso3: ARG", "iso3: CHL")
    chl = re.sub(r"residency:\n  mode: \w+\n", "residency:\n  mode: jurisdictions\n"
                 "  jurisdictions: [CHL, USA]\n", chl, count=1)
    (packs / "CHL.yaml").write_text(chl, "utf-8")
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes),
                                      "policy": {"packs_dir": str(packs)}},
                       {"kominfo": {"country": "IDN"}, "chile": {"country": "CHL"}})
    try:
        with pytest.raises(openai.InternalServerError) as info:
            gw.client().chat.completions.create(model="assistant", messages=MSG)
        assert info.value.status_code == 503
        assert info.value.body["code"] == "no_policy_pack"  # type: ignore[index]
        assert "IDN.yaml" in info.value.body["message"]  # type: ignore[index]
        assert sum(fakes.received().values()) == 0
        health = httpx.get(gw.url + "/healthz", timeout=10).json()
        assert health["countries"]["IDN"]["status"] == "unavailable"
        resp = gw.client("chile").chat.completions.with_raw_response.create(
            model="assistant", messages=MSG)
        assert resp.headers["x-daulat-upstream"] == "usa"  # the operator's pack permits USA
    finally:
        gw.server.stop()


# --- 6. audit: every column covered, edits named, attempts once ---------------------------------

def _tamper(store: Store, seq: int, **values: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == seq).values(**values))


def _three(store: Store) -> None:
    store.migrate()
    recorder = Recorder(store.engine)
    for i in range(3):
        recorder.record_sync(_entry(i))


def test_editing_ts_or_request_id_is_detected(any_store: Store) -> None:
    _three(any_store)
    _tamper(any_store, 2, ts=1.0)
    _tamper(any_store, 3, request_id="forged")
    problems = verify_chain(any_store.engine).problems
    assert [(p["seq"], p["kind"]) for p in problems] == [(2, "edited"), (3, "edited")]
    assert "ts" in problems[0]["detail"] and "request_id" in problems[1]["detail"]


def test_a_rehashed_edit_is_reported_as_an_edit(any_store: Store) -> None:
    _three(any_store)
    with any_store.engine.connect() as conn:
        row = conn.execute(sa.select(m.audit_log).where(m.audit_log.c.seq == 2)).one()
    forged = row.record.replace('"status":"ok"', '"status":"forged"')
    _tamper(any_store, 2, record=forged, hash=chain_hash(row.prev_hash, forged))
    problems = verify_chain(any_store.engine).problems
    assert [(p["seq"], p["kind"]) for p in problems] == [(2, "edited")]
    assert "reordered" not in json.dumps(problems)


def test_an_anchor_detects_a_rewritten_chain(any_store: Store) -> None:
    _three(any_store)
    mark = anchor(any_store.engine)
    assert mark["seq"] == 3 and len(mark["hash"]) == 64
    # rewrite the whole chain consistently (every hash and the head recomputed)
    prev = "0" * 64
    with any_store.engine.begin() as conn:
        rows = conn.execute(sa.select(m.audit_log).order_by(m.audit_log.c.seq)).all()
        for row in rows:
            forged = row.record.replace('"status":"ok"', '"status":"forged"')
            digest = chain_hash(prev, forged)
            conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == row.seq)
                         .values(record=forged, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(sa.update(m.audit_head).values(hash=prev))
    assert verify_chain(any_store.engine).ok  # undetectable from inside the database …
    report = verify_chain(any_store.engine, anchor=mark)  # … but not against the anchor
    assert not report.ok and report.problems[0]["kind"] == "edited"


def test_a_truncated_stream_lists_its_attempt_once(gateway: Gateway, fakes: Fakes) -> None:
    for u in fakes.upstreams.values():
        u.mode = "truncated"
        u.reply = "one two three four five six seven eight"
    resp = _post(gateway, {"model": "assistant", "messages": MSG, "stream": True})
    events = [ln[6:] for ln in resp.text.splitlines() if ln.startswith("data: ")]
    assert json.loads(events[-1])["error"]["code"] == "upstream_stream_broken"
    rec = _record(gateway.store, resp.headers["x-request-id"])
    assert rec["status"] == "upstream_truncated" and len(rec["attempts"]) == 1
    assert rec["attempts"][0]["error"]


# --- 7. health per country; the banner once the server accepts requests -----------------------

def test_healthz_is_degraded_when_a_country_has_no_healthy_upstream(fakes: Fakes,
                                                                    sqlite_store: Store) -> None:
    dead = {"name": "jkt-down", "url": f"http://127.0.0.1:{free_port()}/v1",
            "jurisdiction": "IDN", "models": ["assistant"], "timeout_s": 1.0}
    gw = start_gateway(sqlite_store, {
        "upstreams": [dead, *upstream_cfg(fakes, ["sgp"])],
        "routing": {"health_interval_s": 30, "health_timeout_s": 0.5}},
        {"kominfo": {"country": "IDN"}, "sg": {"country": "SGP"}})
    try:
        resp = httpx.get(gw.url + "/healthz", timeout=10)
        assert resp.status_code == 503
        body = resp.json()
        assert body["status"] == "degraded"
        assert body["countries"]["IDN"]["status"] == "unavailable"
        assert body["countries"]["SGP"]["status"] == "ok"
        assert httpx.get(gw.url + "/readyz", timeout=10).json() == {"status": "ready"}
    finally:
        gw.server.stop()


def test_serving_banner_is_printed_once_requests_are_accepted(fakes: Fakes,
                                                              tmp_path: Path) -> None:
    port = free_port()
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text(json.dumps({
        "server": {"port": port}, "store": {"data_dir": str(tmp_path)},
        "local_model": {"enabled": False}, "routing": {"health_interval_s": 0},
        "upstreams": upstream_cfg(fakes, ["jkt"]), "tenants": [{"name": "t", "country": "IDN"}],
    }), encoding="utf-8")
    proc = subprocess.Popen([DAULAT, "serve", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        line = ""
        while "Serving on" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "serve exited"
        assert "Serving on" in line
        # the moment the banner is out, the server answers
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- 8. PII in names and tool-call arguments -----------------------------------------------------

def test_pii_in_name_and_tool_call_arguments_is_redacted(gateway: Gateway, fakes: Fakes) -> None:
    args = json.dumps({"email": EMAIL, "phone": PHONE})
    gateway.client().chat.completions.create(model="assistant", messages=[
        {"role": "user", "content": "Siapa saya?", "name": "budi"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "c1", "content": f"kontak {EMAIL}"},
        {"role": "user", "content": "Lanjut", "name": EMAIL},
    ])
    sent = json.dumps([u.bodies[-1] for u in fakes.upstreams.values() if u.bodies])
    assert EMAIL not in sent and PHONE not in sent
    assert "<EMAIL>" in sent


@pytest.mark.parametrize("stream", [False, True])
def test_pii_in_tool_call_arguments_of_the_answer_is_redacted(gateway: Gateway, fakes: Fakes,
                                                              stream: bool) -> None:
    for u in fakes.upstreams.values():
        u.tool_args = json.dumps({"to": EMAIL, "phone": PHONE})
        u.chunk_chars = 3  # the e-mail address is split across many chunks
    client = gateway.client()
    if stream:
        args = ""
        for chunk in client.chat.completions.create(model="assistant", messages=MSG,
                                                    stream=True):
            for choice in chunk.choices:
                for call in choice.delta.tool_calls or []:
                    args += (call.function.arguments if call.function else "") or ""
    else:
        msg = client.chat.completions.create(model="assistant", messages=MSG).choices[0].message
        args = msg.tool_calls[0].function.arguments if msg.tool_calls else ""
    assert EMAIL not in args and PHONE not in args
    assert "<EMAIL>" in args and "<PHONE>" in args


@pytest.mark.parametrize("iso3", list_packs())
def test_every_non_english_pack_tells_the_language_in_its_own_language(iso3: str) -> None:
    pack, base = load_pack(iso3), load_pack_file(PACKS_DIR / "base.yaml")
    if pack.default_locale.startswith("en"):
        assert pack.language_instruction == base.language_instruction
        return
    assert pack.language_instruction != base.language_instruction
    policy = PolicyRegistry(PolicyConfig(pii=False, content_rules=False)).get(iso3)
    messages, actions, _ = policy.prepare([{"role": "user",
                                            "content": "How do I renew my passport, please?"}])
    assert actions["language"] == "en"
    line = messages[0]["content"].rsplit("\n\n", 1)[1]
    assert "Answer in" not in line and re.search(r"[(（]en[)）]", line)
    assert "\n" not in messages[0]["content"].split("\n\n", 1)[0]  # prose, not YAML lines


# --- 9. Redis prefix, revoking twice ------------------------------------------------------------

def test_redis_counters_carry_a_deployment_prefix(sqlite_store: Store) -> None:
    sqlite_store.migrate()
    url = "redis://127.0.0.1:6379/0"
    prefix_a, prefix_b = f"test-a-{time.time_ns()}", f"test-b-{time.time_ns()}"

    async def run() -> tuple[int, int]:
        a = Meter(sqlite_store, redis_url=url, redis_prefix=prefix_a)
        b = Meter(sqlite_store, redis_url=url, redis_prefix=prefix_b)
        try:
            await a.add("kominfo", "IDN", 500)
            return await a._tokens("t", "kominfo"), await b._tokens("t", "kominfo")
        finally:
            await a.aclose()
            await b.aclose()

    seen_a, seen_b = asyncio.run(run())
    assert (seen_a, seen_b) == (500, 0)
    r = redis.Redis.from_url(url)
    keys = r.keys(f"{prefix_a}:*")
    assert keys and all(k.decode().startswith(f"{prefix_a}:tok:") for k in keys)
    r.delete(*keys)
    # the default prefix differs between deployments (stores) and is stable for one
    cfg = GatewayConfig()
    assert redis_prefix(cfg, "sqlite:///a.db") != redis_prefix(cfg, "sqlite:///b.db")
    assert redis_prefix(cfg, "sqlite:///a.db") == redis_prefix(cfg, "sqlite:///a.db")


def test_revoking_a_revoked_key_says_so(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", f"sqlite:///{tmp_path / 'k.db'}"]
    created = json.loads(runner.invoke(cli_app, ["keys", "create", "--tenant", "t", "--country",
                                                 "IDN", "--json", *store]).stdout)
    first = runner.invoke(cli_app, ["keys", "revoke", created["id"], *store])
    again = runner.invoke(cli_app, ["keys", "revoke", created["id"], *store])
    assert "Revoked key" in first.stdout
    assert "already revoked" in again.stdout and "Revoked key" not in again.stdout


def test_the_npwp_example_in_docs_pii_passes_its_own_checksum() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "pii.md").read_text("utf-8")
    row = next(ln for ln in docs.splitlines() if ln.startswith("| `IDN_NPWP`"))
    example = row.split("`")[5]  # | `IDN_NPWP` | TAX_ID | stdnum `id.npwp`: `EXAMPLE` …
    assert re.fullmatch(r"\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}", example), example
    assert npwp.is_valid(example)
    found = PiiEngine(countries=["IDN"]).redact(f"NPWP saya {example}").entities
    assert [e.subtype for e in found] == ["IDN_NPWP"]


def test_every_error_the_gateway_can_answer_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "gateway.md").read_text("utf-8")
    for cls in ERRORS:
        assert f"| {cls.status} | `{cls.type}` | `{cls.code}`" in docs, cls.__name__
    for code in ("missing_required_parameter", "tokens_per_day_exceeded",
                 "country_allocation_exceeded", "upstream_stream_broken"):
        assert f"`{code}`" in docs


def test_an_unreachable_store_is_one_clear_error_naming_it() -> None:
    res = CliRunner().invoke(cli_app, ["audit", "verify", "--store",
                                       f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/test"])
    assert isinstance(res.exception, StoreError)
    msg = str(res.exception)
    assert "cannot open it" in msg and "s3cret" not in msg and "***" in msg


def test_integral_floats_are_integers_as_json_schema_says(gateway: Gateway) -> None:
    ok = _post(gateway, {"model": "assistant", "messages": MSG, "max_tokens": 64.0, "n": 1.0})
    assert ok.status_code == 200, ok.text
    err = _assert_openai_error(_post(gateway, {"model": "assistant", "messages": MSG,
                                               "max_tokens": 64.5}), 400, "invalid_value")
    assert err["param"] == "max_tokens"


class _BrokenMidStream:
    """An in-process upstream whose second batch is malformed (a choice that is no object)."""

    name, jurisdiction, models = "odd", "IDN", ("assistant",)

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("not used")

    async def stream(self, body: dict[str, Any]) -> Any:
        yield [{"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "assistant",
                "choices": [{"index": 0, "delta": {"content": "Hal"}, "finish_reason": None}]}]
        yield [{"id": "x", "choices": ["not an object"]}]

    async def health(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


def test_a_bug_inside_a_started_stream_ends_it_with_an_error_event(sqlite_store: Store) -> None:
    sqlite_store.migrate()
    sqlite_store.put_tenant(Tenant("kominfo", "IDN"))
    key = sqlite_store.create_key("kominfo")[1]
    cfg = GatewayConfig.model_validate({"routing": {"health_interval_s": 0},
                                        "local_model": {"enabled": False}})
    server = serve_in_thread(create_app(cfg, sqlite_store, upstreams=[_BrokenMidStream()]))
    try:
        resp = httpx.post(server.url + "/v1/chat/completions", timeout=30,
                          headers={"authorization": f"Bearer {key}"},
                          json={"model": "assistant", "messages": MSG, "stream": True})
        events = [ln[6:] for ln in resp.text.splitlines() if ln.startswith("data: ")]
        assert events[-1] != "[DONE]"
        assert json.loads(events[-1])["error"]["code"] == "internal_error"
        rec = _record(sqlite_store, resp.headers["x-request-id"])
        assert rec["status"] == "internal_error"
    finally:
        server.stop()


def test_serve_check_reports_countries_without_a_healthy_permitted_upstream(
        fakes: Fakes, tmp_path: Path) -> None:
    def check(tenants: list[dict[str, str]]) -> Any:
        cfg = tmp_path / f"gw-{len(tenants)}.yaml"
        cfg.write_text(json.dumps({
            "store": {"data_dir": str(tmp_path)}, "local_model": {"enabled": False},
            "upstreams": upstream_cfg(fakes, ["jkt", "usa"]), "tenants": tenants}), "utf-8")
        return CliRunner().invoke(cli_app, ["serve", "--config", str(cfg), "--check"])

    ok = check([{"name": "kominfo", "country": "IDN"}])
    assert ok.exit_code == 0, ok.output
    assert "config OK" in ok.output and "jkt" in ok.output
    bad = check([{"name": "kominfo", "country": "IDN"}, {"name": "chile", "country": "CHL"}])
    assert bad.exit_code == 1
    assert "no healthy permitted upstream for: CHL" in bad.output
