"""The embedded demonstration model (runs only where the daulat[local] extra is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from daulat.gateway.app import create_app
from daulat.gateway.config import GatewayConfig
from daulat.gateway.local_model import local_available
from daulat.gateway.testing import serve_in_thread
from daulat.store import Store, Tenant

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(not local_available(), reason="needs the daulat[local] extra"),
]


def test_local_model_answers_through_the_whole_gateway(tmp_path: Path) -> None:
    import openai

    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    store.migrate()
    store.put_tenant(Tenant("demo-idn", "IDN"))
    _, key = store.create_key("demo-idn")
    cfg = GatewayConfig.model_validate({
        "local_model": {"enabled": True, "jurisdiction": "IDN", "max_tokens": 16},
        "routing": {"health_interval_s": 0}})
    server = serve_in_thread(create_app(cfg, store))
    try:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0,
                               timeout=300)
        assert [m.id for m in client.models.list().data] == ["gemma-3-270m"]
        resp = client.chat.completions.create(
            model="gemma-3-270m", messages=[{"role": "user", "content": "Halo, apa kabar?"}])
        assert resp.choices[0].message.content
        assert resp.usage is not None and resp.usage.completion_tokens > 0
        stream = client.chat.completions.create(
            model="gemma-3-270m", messages=[{"role": "user", "content": "Sebutkan satu buah."}],
            stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    finally:
        server.stop()
    (row,) = store.usage()
    assert row["requests"] == 2
