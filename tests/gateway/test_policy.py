"""The country pack applied: system prompt, language, PII in and out, content rules, retention."""

from __future__ import annotations

import datetime as dt
import json
import time

import openai
import pytest
from typer.testing import CliRunner

from daulat.cli import app as cli_app
from daulat.gateway.enforce import ContentDecision
from daulat.policy.pack import load_pack
from daulat.store import Store
from tests.gateway.conftest import Fakes, Gateway

EMAIL = "budi.santoso@contoh.co.id"
PHONE = "0812-3456-7890"


def _sent(fakes: Fakes) -> dict:  # type: ignore[type-arg]
    """The last body any fake upstream received."""
    bodies = [u.bodies[-1] for u in fakes.upstreams.values() if u.bodies]
    assert len(bodies) == 1
    return bodies[0]


def test_pack_system_prompt_and_user_language_are_injected(gateway: Gateway,
                                                           fakes: Fakes) -> None:
    gateway.client().chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": "Could you explain how to renew my passport?"}])
    system = _sent(fakes)["messages"][0]
    assert system["role"] == "system"
    # the pack's prompt as prose: the YAML block's line breaks are gone, its words kept
    assert " ".join(load_pack("IDN").system_prompt.split()) in system["content"]
    assert "bahasa\nIndonesia" not in system["content"]
    # the language line is in the pack's language (Indonesian), naming the user's (English)
    assert system["content"].endswith(
        "Jawablah dalam bahasa Inggris (en), yaitu bahasa pesan terakhir pengguna.")
    assert "Answer in" not in system["content"]


def test_pii_is_redacted_before_the_upstream_and_in_the_answer(gateway: Gateway,
                                                               fakes: Fakes) -> None:
    resp = gateway.client().chat.completions.create(
        model="assistant",
        messages=[{"role": "user", "content": f"Email saya {EMAIL}, HP {PHONE}."}])
    sent = json.dumps(_sent(fakes))
    assert EMAIL not in sent and PHONE not in sent
    text = resp.choices[0].message.content or ""
    assert EMAIL not in text and "<EMAIL>" in text


@pytest.mark.parametrize("chunk_chars", [1, 3, 7])
def test_streamed_answer_is_redacted_across_chunk_boundaries(gateway: Gateway, fakes: Fakes,
                                                             chunk_chars: int) -> None:
    for u in fakes.upstreams.values():
        u.reply = f"Hubungi {EMAIL} atau {PHONE} ya."
        u.chunk_chars = chunk_chars
    stream = gateway.client().chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "Kontak?"}], stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert EMAIL not in text and PHONE not in text
    assert text == "Hubungi <EMAIL> atau <PHONE> ya."


def test_blocking_content_rule_refuses_with_the_law(gateway: Gateway, fakes: Fakes) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gateway.client().chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": "kasih link slot gacor"}])
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "content_policy_violation"
    assert "online-gambling" in body["message"] and "Pasal 27" in body["message"]
    assert sum(fakes.received().values()) == 0  # never sent upstream


def test_flagging_rule_serves_and_records_the_flag(gateway: Gateway) -> None:
    from daulat.gateway.audit import tail

    gateway.client().chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "mereka bilang usir etnis"}])
    (last,) = tail(gateway.store.engine, 1)
    assert last["status"] == "ok" and last["policy"]["content"] == ["sara-hate"]


def test_bodies_kept_redacted_for_the_pack_retention_then_purged(gateway: Gateway) -> None:
    gateway.client().chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": f"Email saya {EMAIL}"}])
    (body,) = gateway.store.bodies()
    days = load_pack("IDN").retention_days
    assert body["expires_at"] - body["ts"] == pytest.approx(days * 86_400)
    assert EMAIL not in (body["request"] or "") and EMAIL not in (body["response"] or "")
    runner = CliRunner()
    url = gateway.store.url
    later = dt.datetime.fromtimestamp(time.time() + (days - 1) * 86_400, dt.UTC)
    res = runner.invoke(cli_app, ["store", "purge", "--store", url, "--json",
                                  "--now", later.strftime("%Y-%m-%dT%H:%M:%S")])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == {"purged": 0, "kept": 1}
    after = dt.datetime.fromtimestamp(time.time() + (days + 1) * 86_400, dt.UTC)
    res = runner.invoke(cli_app, ["store", "purge", "--store", url, "--json",
                                  "--now", after.strftime("%Y-%m-%dT%H:%M:%S")])
    assert json.loads(res.stdout) == {"purged": 1, "kept": 0}


def test_zero_retention_keeps_no_bodies(fakes: Fakes, sqlite_store: Store) -> None:
    from tests.gateway.conftest import start_gateway, upstream_cfg

    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes),
                                      "policy": {"store_bodies": False}})
    try:
        gw.client().chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": "halo"}])
        assert gw.store.bodies() == []
        assert gw.store.usage()[0]["requests"] == 1
    finally:
        gw.server.stop()


def test_large_request_is_redacted_too(gateway: Gateway, fakes: Fakes) -> None:
    text = "kata " * 20_000 + f"email {EMAIL}"  # > 64 KiB: scanned off the event loop
    gateway.client().chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": text}])
    sent = _sent(fakes)["messages"][-1]["content"]
    assert EMAIL not in sent and sent.endswith("email <EMAIL>")


def classify(text: str, country: str) -> list[ContentDecision]:
    """A stand-in classifier plugged in through policy.classifier (module:function)."""
    if "rahasia negara" in text.lower():
        return [ContentDecision("classifier-secrets", "block", "classified by the model",
                                f"{country} secrets act")]
    return []


def test_classifier_hook_can_block(fakes: Fakes, sqlite_store: Store) -> None:
    from tests.gateway.conftest import start_gateway, upstream_cfg

    gw = start_gateway(sqlite_store, {
        "upstreams": upstream_cfg(fakes),
        "policy": {"classifier": "tests.gateway.test_policy:classify"}})
    try:
        with pytest.raises(openai.BadRequestError) as info:
            gw.client().chat.completions.create(
                model="assistant",
                messages=[{"role": "user", "content": "Bocorkan rahasia negara"}])
        assert "classifier-secrets" in info.value.message
        assert "IDN secrets act" in info.value.message
        gw.client().chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": "Halo"}])
    finally:
        gw.server.stop()


def test_unknown_classifier_is_a_clear_error() -> None:
    from daulat.errors import UserError
    from daulat.gateway.enforce import load_classifier

    with pytest.raises(UserError, match="cannot import"):
        load_classifier("no_such_module:fn")
    with pytest.raises(UserError, match="module:function"):
        load_classifier("justaname")
