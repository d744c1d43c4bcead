"""The OpenAI protocol, as the official ``openai`` client sees it, over a real loopback server."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.gateway.conftest import Fakes, Gateway

MSG = [{"role": "user", "content": "Apa ibu kota Indonesia?"}]


def test_non_streaming_completion_is_served_in_country(gateway: Gateway, fakes: Fakes) -> None:
    resp = gateway.client().chat.completions.create(model="assistant", messages=MSG)
    text = resp.choices[0].message.content or ""
    assert text.startswith("Echo from jkt:") or text.startswith("Echo from bth:")
    assert "Apa ibu kota Indonesia?" in text
    assert resp.usage is not None and resp.usage.total_tokens == (
        resp.usage.prompt_tokens + resp.usage.completion_tokens) > 0
    assert resp.id.startswith("chatcmpl-")
    assert fakes.upstreams["sgp"].received == fakes.upstreams["usa"].received == 0


def test_streaming_completion_matches_openai_sse(gateway: Gateway) -> None:
    stream = gateway.client().chat.completions.create(
        model="assistant", messages=MSG, stream=True, stream_options={"include_usage": True})
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        if chunk.usage is not None:
            usage = chunk.usage
            assert chunk.choices == []  # usage rides alone in the final chunk
    assert "".join(pieces).endswith("Apa ibu kota Indonesia?")
    assert usage is not None and usage.completion_tokens > 0


def test_raw_sse_ends_with_done_and_omits_usage_unless_asked(gateway: Gateway) -> None:
    body = {"model": "assistant", "messages": MSG, "stream": True}
    with httpx.stream("POST", gateway.url + "/v1/chat/completions", json=body,
                      headers={"authorization": f"Bearer {gateway.keys['kominfo']}"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln]
    assert all(ln.startswith("data: ") for ln in lines)
    assert lines[-1] == "data: [DONE]"
    assert not any('"usage"' in ln for ln in lines)


def test_models_lists_only_what_the_tenant_may_use(gateway: Gateway) -> None:
    models = gateway.client().models.list()
    assert [m.id for m in models.data] == ["assistant"]
    with pytest.raises(openai.NotFoundError) as info:
        gateway.client().chat.completions.create(model="gpt-unknown", messages=MSG)
    assert "assistant" in info.value.message


def test_bad_key_is_401_in_openai_error_format(gateway: Gateway) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="dk-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model="assistant", messages=MSG)
    err = info.value.body
    assert isinstance(err, dict) and err["code"] == "invalid_api_key"
    assert "daulat keys create" in err["message"]


def test_revoked_key_stops_working(fakes: Fakes, sqlite_store: object) -> None:
    from tests.gateway.conftest import start_gateway, upstream_cfg

    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes),  # type: ignore[arg-type]
                                      "limits": {"key_cache_s": 0}})
    try:
        client = gw.client()
        client.chat.completions.create(model="assistant", messages=MSG)
        key = gw.store.keys("kominfo")[0]
        gw.store.revoke_key(key.id)
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="assistant", messages=MSG)
    finally:
        gw.server.stop()


def test_invalid_request_names_the_field(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gateway.client().chat.completions.create(model="assistant", messages=[])
    assert info.value.body["param"] == "messages"  # type: ignore[index]
    r = httpx.post(gateway.url + "/v1/chat/completions", content=b"{not json",
                   headers={"authorization": f"Bearer {gateway.keys['kominfo']}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_healthz_and_prometheus_metrics(gateway: Gateway) -> None:
    gateway.client().chat.completions.create(model="assistant", messages=MSG)
    health = httpx.get(gateway.url + "/healthz").json()
    assert health["status"] == "ok"
    assert {u["name"] for u in health["upstreams"]} == {"jkt", "bth", "sgp", "usa"}
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'daulat_requests_total{country="IDN",status="ok"} 1.0' in metrics
    assert "daulat_tokens_total" in metrics
