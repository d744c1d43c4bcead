"""The audit chain: every decision recorded; `daulat audit verify` finds any tampering."""

from __future__ import annotations

import json

import openai
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from daulat.cli import app as cli_app
from daulat.gateway.audit import AuditEntry, _write_batch, verify_chain
from daulat.store import Store
from daulat.store import models as m
from tests.gateway.conftest import Fakes, Gateway, start_gateway, upstream_cfg

MSG = [{"role": "user", "content": "Halo"}]


def _traffic(gw: Gateway, n: int = 6) -> None:
    client = gw.client()
    for i in range(n):
        client.chat.completions.create(model="assistant", messages=MSG, stream=bool(i % 2))
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gw.url + "/v1", api_key="dk-bad", max_retries=0
                      ).chat.completions.create(model="assistant", messages=MSG)


@pytest.fixture
def audited(fakes: Fakes, any_store: Store) -> Store:
    gw = start_gateway(any_store, {"upstreams": upstream_cfg(fakes)})
    try:
        _traffic(gw)
    finally:
        gw.server.stop()
    return any_store


@pytest.fixture
def chain(any_store: Store) -> Store:
    """A store with 7 audit records written by the gateway's recorder."""
    any_store.migrate()
    for i in range(7):
        _write_batch(any_store.engine, [AuditEntry(
            request_id=f"r{i}", record={"tenant": "kominfo", "country": "IDN",
                                        "jurisdiction": "IDN", "status": "ok"},
            tenant="kominfo", country="IDN", prompt_tokens=3, completion_tokens=4)])
    assert verify_chain(any_store.engine).ok
    return any_store


def test_every_decision_is_in_an_intact_chain(audited: Store) -> None:
    report = verify_chain(audited.engine)
    assert report.ok and report.records == 7 and report.head_seq == 7
    with audited.engine.connect() as conn:
        recs = [json.loads(r) for r in conn.execute(sa.select(m.audit_log.c.record)
                                                    .order_by(m.audit_log.c.seq)).scalars()]
    assert [r["status"] for r in recs] == ["ok"] * 6 + ["unauthenticated"]
    assert all(r["jurisdiction"] == "IDN" for r in recs[:6])
    assert {r["upstream"] for r in recs[:6]} <= {"jkt", "bth"}


def test_edited_record_is_detected(chain: Store) -> None:
    with chain.engine.begin() as conn:
        rec = json.loads(conn.execute(sa.select(m.audit_log.c.record)
                                      .where(m.audit_log.c.seq == 3)).scalar_one())
        rec["jurisdiction"] = "USA"  # pretend it went elsewhere
        conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == 3)
                     .values(record=json.dumps(rec, sort_keys=True, separators=(",", ":"))))
    report = verify_chain(chain.engine)
    assert not report.ok and report.problems[0] == {
        "seq": 3, "kind": "edited", "detail": "record content does not match its hash"}


def test_deleted_record_is_detected(chain: Store) -> None:
    with chain.engine.begin() as conn:
        conn.execute(sa.delete(m.audit_log).where(m.audit_log.c.seq == 4))
    report = verify_chain(chain.engine)
    assert [(p["seq"], p["kind"]) for p in report.problems] == [(5, "deleted")]


def test_deleted_tail_is_detected(chain: Store) -> None:
    with chain.engine.begin() as conn:
        conn.execute(sa.delete(m.audit_log).where(m.audit_log.c.seq == 7))
    report = verify_chain(chain.engine)
    assert [(p["seq"], p["kind"]) for p in report.problems] == [(7, "deleted")]


def test_reordered_records_are_detected(chain: Store) -> None:
    with chain.engine.begin() as conn:
        rows = {r.seq: r for r in conn.execute(sa.select(m.audit_log)
                                               .where(m.audit_log.c.seq.in_([2, 3])))}
        for seq, other in ((2, 3), (3, 2)):  # swap the two records, hashes and all
            o = rows[other]
            conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == seq).values(
                ts=o.ts, request_id=f"tmp-{seq}", record=o.record, prev_hash=o.prev_hash,
                hash=o.hash))
    report = verify_chain(chain.engine)
    assert ("reordered" in {p["kind"] for p in report.problems}) and report.problems[0]["seq"] == 2


def test_cli_audit_verify_exit_codes(fakes: Fakes, sqlite_store: Store) -> None:
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes)})
    try:
        _traffic(gw, 2)
    finally:
        gw.server.stop()
    runner = CliRunner()
    res = runner.invoke(cli_app, ["audit", "verify", "--store", sqlite_store.url, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True
    res = runner.invoke(cli_app, ["audit", "tail", "--store", sqlite_store.url, "-n", "2",
                                  "--json"])
    assert res.exit_code == 0
    assert [r["status"] for r in json.loads(res.stdout)] == ["ok", "unauthenticated"]
    with sqlite_store.engine.begin() as conn:
        conn.execute(sa.update(m.audit_log).where(m.audit_log.c.seq == 1)
                     .values(record='{"edited":true}'))
    res = runner.invoke(cli_app, ["audit", "verify", "--store", sqlite_store.url])
    assert res.exit_code == 1
    assert "edited" in res.stderr
