"""Fixtures: fake upstreams on loopback, a gateway under uvicorn, the official openai client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest
import sqlalchemy as sa

from daulat.gateway.app import create_app
from daulat.gateway.config import GatewayConfig
from daulat.gateway.testing import FakeUpstream, ServerThread, serve_in_thread
from daulat.store import Store, Tenant

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

# name -> jurisdiction of each fake upstream; IDN has two so failover stays in-country.
FAKES = {"jkt": "IDN", "bth": "IDN", "sgp": "SGP", "usa": "USA"}


@dataclass
class Fakes:
    upstreams: dict[str, FakeUpstream]
    servers: dict[str, ServerThread]

    def url(self, name: str) -> str:
        return self.servers[name].url + "/v1"

    def received(self) -> dict[str, int]:
        return {n: u.received for n, u in self.upstreams.items()}


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    ups = {n: FakeUpstream(n, delay_s=0.01, hang_s=3.0) for n in FAKES}
    servers = {n: serve_in_thread(u.app) for n, u in ups.items()}
    yield Fakes(ups, servers)
    for s in servers.values():
        s.stop()


@pytest.fixture(autouse=True)
def _reset_fakes(request: pytest.FixtureRequest) -> None:
    if "fakes" in request.fixturenames:
        f = request.getfixturevalue("fakes")
        for u in f.upstreams.values():
            u.reset()
            u.reply = None
            u.chunk_chars = None


def upstream_cfg(fakes: Fakes, names: list[str] | None = None,
                 **extra: Any) -> list[dict[str, Any]]:
    return [{"name": n, "url": fakes.url(n), "jurisdiction": FAKES[n], "timeout_s": 1.0,
             "models": ["assistant"], **extra} for n in (names or list(FAKES))]


@dataclass
class Gateway:
    """A running gateway and what tests need to talk to it."""

    server: ServerThread
    store: Store
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, tenant: str = "kominfo", **kw: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=self.keys[tenant],
                             max_retries=0, timeout=30, **kw)

    def async_client(self, tenant: str = "kominfo", **kw: Any) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.url + "/v1", api_key=self.keys[tenant],
                                  max_retries=0, timeout=60, **kw)

    @property
    def app_state(self) -> Any:
        return self.server.config.app.state.gateway  # type: ignore[union-attr]


def start_gateway(store: Store, config: dict[str, Any],
                  tenants: dict[str, dict[str, Any]] | None = None) -> Gateway:
    """Migrate ``store``, create tenants and keys, run the gateway on loopback."""
    store.migrate()
    cfg = GatewayConfig.model_validate({"routing": {"health_interval_s": 0},
                                        "local_model": {"enabled": False}, **config})
    gw = Gateway(server=None, store=store)  # type: ignore[arg-type]
    for name, t in (tenants or {"kominfo": {"country": "IDN"}}).items():
        store.put_tenant(Tenant(name, t["country"], t.get("tokens_per_day"),
                                t.get("requests_per_s")))
        gw.keys[name] = store.create_key(name)[1]
    gw.server = serve_in_thread(create_app(cfg, store))
    return gw


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'daulat.db'}")
    yield store
    store.dispose()


@pytest.fixture
def pg_store() -> Iterator[Store]:
    schema = f"gwtest_{uuid.uuid4().hex[:12]}"
    store = Store(PG_URL, schema=schema)
    yield store
    store.dispose()
    eng = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


@pytest.fixture
def gateway(fakes: Fakes, sqlite_store: Store) -> Iterator[Gateway]:
    """A gateway with all four fake upstreams and an Indonesian tenant 'kominfo'."""
    gw = start_gateway(sqlite_store, {"upstreams": upstream_cfg(fakes)})
    yield gw
    gw.server.stop()
