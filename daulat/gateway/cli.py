"""Commands: ``daulat serve``, ``daulat keys …``, ``daulat audit …``, ``daulat store …``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.table import Table

from daulat.console import console, emit, err_console
from daulat.errors import CountryCodeError, PackError, UserError
from daulat.gateway.app import CONFIG_ENV, create_app, single_threaded_natives
from daulat.gateway.audit import anchor, tail, verify_chain
from daulat.gateway.config import load_config
from daulat.gateway.local_model import INSTALL_HINT, local_available
from daulat.gateway.metering import read_allocations
from daulat.iso3 import check_iso3
from daulat.policy.residency import ResidencyBasis, resolve_residency
from daulat.store import Store, Tenant, default_url
from daulat.store.db import check_reachable

__all__ = ["register", "DEMO_TENANT", "DEMO_COUNTRY"]

# uvicorn's supervisor kills and respawns a worker that misses its health ping for this long
# (default 5 s). A starting worker loads packs, PII engines and the language detector
# (native code holding the GIL, seconds on a loaded machine): with 5 s, workers on a busy
# host were respawned forever and never served (seen by the scale benchmark at load 15).
_WORKER_HEALTHCHECK_S = 60

DEMO_TENANT = "demo-idn"
DEMO_COUNTRY = "IDN"

_CONFIG = typer.Option(None, "--config", "-c", help="gateway.yaml (see docs/gateway.md)",
                       exists=False, dir_okay=False)
_STORE = typer.Option(None, "--store", help="store URL: sqlite:///PATH or "
                      "postgresql://USER@HOST/DB (default: the config's store, else SQLite "
                      "under the data dir)")
_DATA_DIR = typer.Option(None, "--data-dir", help="directory of the default SQLite store "
                         "(default $DAULAT_DATA_DIR or ~/.local/share/daulat)", file_okay=False)
_SCHEMA = typer.Option(None, "--schema", help="PostgreSQL schema of the store")
_JSON = typer.Option(False, "--json", help="print JSON instead of a table")


def _config(path: Path | None) -> Any:
    return load_config(path)


def _store(cfg: Any, url: str | None, data_dir: Path | None, schema: str | None) -> Any:
    if data_dir is not None:
        cfg.store.data_dir = data_dir
    if url is not None:
        cfg.store.url = url
    if schema is not None:
        cfg.store.db_schema = schema
    cfg.store.url = cfg.store.url or default_url(cfg.store.data_dir)
    return Store(cfg.store.url, schema=cfg.store.db_schema)


def _open(config: Path | None, url: str | None, data_dir: Path | None, schema: str | None,
          migrate: bool = True) -> tuple[Any, Any]:
    cfg = _config(config)
    store = _store(cfg, url, data_dir, schema)
    check_reachable(store.engine)  # an unreachable store is one clear line, not a traceback
    if migrate:
        store.migrate()
        # the config's tenants exist for every command that reads it (keys create, serve)
        for t in cfg.tenants:
            store.put_tenant(Tenant(t.name, t.country, t.tokens_per_day, t.requests_per_s))
    return cfg, store


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _country(code: str) -> str:
    try:
        return check_iso3(code)
    except CountryCodeError as exc:
        raise CountryCodeError(f"--country: {exc}") from None


class _Server(uvicorn.Server):
    """uvicorn's server, printing the banner only once it accepts connections."""

    def __init__(self, config: uvicorn.Config, banner: str) -> None:
        super().__init__(config)
        self.banner = banner

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            console.print(self.banner, highlight=False)


def serve(
    config: Path | None = _CONFIG,
    host: str | None = typer.Option(None, "--host", help="interface to bind (default 127.0.0.1)"),
    port: int | None = typer.Option(None, "--port", help="TCP port (default 8080)"),
    workers: int | None = typer.Option(None, "--workers", min=1,
                                       help="uvicorn worker processes (default 1)"),
    allocations: Path | None = typer.Option(
        None, "--allocations", file_okay=False,
        help="plan directory whose routing.csv sets each country's tokens/day"),
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    check: bool = typer.Option(False, "--check", help="validate the config, the store and every "
                               "upstream, print each tenant country's permitted upstreams, and "
                               "exit (0: every country has one; 1: some country has none)"),
) -> None:
    """Run the OpenAI-compatible assistant gateway (works with no config: local demo model)."""
    single_threaded_natives()
    cfg, store = _open(config, store_url, data_dir, schema)
    if host is not None:
        cfg.server.host = host
    if port is not None:
        cfg.server.port = port
    if workers is not None:
        cfg.server.workers = workers
    if config is None:
        cfg.demo_tenant = True
        if cfg.local_model.jurisdiction is None:
            cfg.local_model.jurisdiction = DEMO_COUNTRY
    has_local = cfg.local_model.enabled is True or (
        cfg.local_model.enabled == "auto" and local_available())
    if not cfg.upstreams and not has_local:
        raise UserError(
            "no upstream to serve from: the embedded demonstration model is not installed and "
            f"{'no config was given' if config is None else f'{config} lists no upstreams'}.\n"
            f"  Either install it:     {INSTALL_HINT}\n"
            "  or configure an OpenAI-compatible upstream (vLLM, llama.cpp server, a provider):\n"
            "      daulat serve --config gateway.yaml\n"
            "  (see examples/gateway.yaml and docs/gateway.md)")
    if cfg.demo_tenant and store.get_tenant(DEMO_TENANT) is None:
        store.put_tenant(Tenant(DEMO_TENANT, DEMO_COUNTRY))
        _, secret = store.create_key(DEMO_TENANT, label="demo key printed at first start")
        console.print(f"Demo tenant [bold]{DEMO_TENANT}[/] ({DEMO_COUNTRY}) created. Its API key "
                      "is shown [bold]once[/]:")
        console.print(f"  {secret}", highlight=False, soft_wrap=True)
    plan_dir = allocations or cfg.allocations
    if plan_dir is not None:
        rows = read_allocations(Path(plan_dir))
        store.put_allocations(rows)
        console.print(f"Imported {len(rows)} country-year allocations from {plan_dir}/routing.csv")
    url = f"http://{cfg.server.host}:{cfg.server.port}/v1"
    # Built first: a bad store revision or a missing local model fails before any banner.
    app = create_app(cfg, store)
    if check:
        raise typer.Exit(_check(app.state.gateway))
    banner = (f"Serving on [bold]{url}[/] · store {store.url} · "
              f"{len(cfg.upstreams)} upstream(s){' + local model' if has_local else ''} · "
              f"{cfg.server.workers} worker(s)")
    if cfg.server.workers > 1:
        # Each worker builds its own app; uvicorn logs "Application startup complete" per
        # worker once it accepts requests.
        console.print(f"Starting {cfg.server.workers} workers on {url} (each logs "
                      "'Application startup complete' when it accepts requests)",
                      highlight=False)
        os.environ[CONFIG_ENV] = cfg.model_dump_json(by_alias=True)
        uvicorn.run("daulat.gateway.app:app_from_env", factory=True, host=cfg.server.host,
                    port=cfg.server.port, workers=cfg.server.workers,
                    log_level=cfg.server.log_level, access_log=False,
                    timeout_worker_healthcheck=_WORKER_HEALTHCHECK_S)
        return
    server = _Server(uvicorn.Config(app, host=cfg.server.host, port=cfg.server.port,
                                    log_level=cfg.server.log_level, access_log=False), banner)
    server.run()


def _check(gateway: Any) -> int:
    """``serve --check``: probe every upstream once, then per tenant country its permitted
    and healthy upstreams. 0 when every country has one, else 1."""
    async def probe() -> None:
        await gateway.check_health()
        for up in gateway.upstreams.values():
            await up.aclose()

    asyncio.run(probe())
    table = Table("country", "residency", "permitted upstreams", "healthy")
    missing = []
    for tenant_country in sorted({t.country for t in gateway.store.tenants()}):
        try:
            residency = gateway.policies.get(tenant_country).residency.describe()
        except (PackError, CountryCodeError) as exc:
            residency = f"pack does not load: {exc}"
        permitted = gateway.router.permitted(tenant_country)
        healthy = [r.name for r in permitted if r.healthy]
        if not healthy:
            missing.append(tenant_country)
        table.add_row(tenant_country, residency, ", ".join(r.name for r in permitted) or "none",
                      ", ".join(healthy) or "[red]none[/]")
    console.print(table)
    for r in gateway.router.routes:
        if not r.healthy:
            err_console.print(f"upstream {r.name} ({r.jurisdiction}) does not answer GET /models")
    if missing:
        err_console.print(f"no healthy permitted upstream for: {', '.join(missing)} — their "
                          "requests would fail closed (503)")
        return 1
    console.print("[green]config OK[/]: every tenant country has a healthy permitted upstream")
    return 0


keys_app = typer.Typer(help="Tenants' API keys: create (shown once, stored hashed), list, revoke.",
                       no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    tenant: str = typer.Option(..., "--tenant", help="tenant name (created if new)"),
    country: str | None = typer.Option(None, "--country",
                                       help="ISO3 of the tenant's country (needed for a new one)"),
    tokens_per_day: int | None = typer.Option(None, "--tokens-per-day", min=0,
                                              help="tenant quota, tokens per UTC day"),
    requests_per_s: float | None = typer.Option(None, "--requests-per-s", min=0.001,
                                                help="tenant quota, requests per second"),
    label: str | None = typer.Option(None, "--label", help="a note stored with the key"),
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    as_json: bool = _JSON,
) -> None:
    """Create an API key for a tenant; the key is printed once and only its hash is stored."""
    _, store = _open(config, store_url, data_dir, schema)
    existing = store.get_tenant(tenant)
    if existing is None and country is None:
        raise UserError(f"tenant {tenant!r} is new: give its --country (ISO3, e.g. IDN)")
    if existing is None or country is not None or tokens_per_day is not None \
            or requests_per_s is not None:
        base = existing or Tenant(tenant, _country(country or ""))
        store.put_tenant(Tenant(
            tenant, _country(country) if country else base.country,
            tokens_per_day if tokens_per_day is not None else base.tokens_per_day,
            requests_per_s if requests_per_s is not None else base.requests_per_s))
    key, secret = store.create_key(tenant, label)
    t = store.get_tenant(tenant)
    out = {"key": secret, "id": key.id, "tenant": tenant, "country": t.country if t else None}
    if as_json:
        emit(out, True)
        return
    console.print(f"Key [bold]{key.id}[/] for tenant {tenant} ({out['country']}). "
                  "Copy it now — it is not shown again:")
    console.print(f"  {secret}", highlight=False, soft_wrap=True)
    if t is not None and resolve_residency(t.country).basis is ResidencyBasis.NO_PACK:
        err_console.print(f"note: {t.country} has no policy pack: its requests go only to "
                          f"upstreams in {t.country} (fail closed) unless gateway.yaml sets "
                          f"residency.{t.country}", highlight=False)


@keys_app.command("list")
def keys_list(
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant's keys"),
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    as_json: bool = _JSON,
) -> None:
    """List keys (id, tenant, country, created, revoked) — never the secrets."""
    _, store = _open(config, store_url, data_dir, schema)
    countries = {t.name: t for t in store.tenants()}
    rows = [{"id": k.id, "tenant": k.tenant, "country": countries[k.tenant].country
             if k.tenant in countries else None, "created": _iso(k.created_at),
             "revoked": _iso(k.revoked_at) or None, "label": k.label}
            for k in store.keys(tenant)]

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("id", "tenant", "country", "created", "revoked", "label")
        for r in rows:
            table.add_row(r["id"], r["tenant"], r["country"] or "", r["created"],
                          r["revoked"] or "", r["label"] or "")
        console.print(table)

    emit(rows, as_json, render)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="the key id shown by `daulat keys list`"),
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
) -> None:
    """Revoke a key: it stops working within limits.key_cache_s seconds in every worker."""
    _, store = _open(config, store_url, data_dir, schema)
    before = next((k for k in store.keys() if k.id == key_id), None)
    if before is not None and before.revoked_at is not None:
        console.print(f"Key {key_id} of tenant {before.tenant} was already revoked on "
                      f"{_iso(before.revoked_at)}; nothing changed.")
        return
    key = store.revoke_key(key_id)
    console.print(f"Revoked key {key.id} of tenant {key.tenant}.")


audit_app = typer.Typer(help="The hash-chained audit log: verify it, anchor it, read its tail.",
                        no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    as_json: bool = _JSON,
    anchor_file: Path | None = typer.Option(
        None, "--anchor", dir_okay=False,
        help="a JSON file written by `daulat audit anchor --json`: also check that the chain "
        "still holds that record with that hash (detects a rewrite of the whole chain)"),
) -> None:
    """Check every link of the audit chain; exit 1 if any record was edited, deleted or moved."""
    mark = None
    if anchor_file is not None:
        try:
            mark = json.loads(anchor_file.read_text(encoding="utf-8"))
            int(mark["seq"]), str(mark["hash"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"--anchor {anchor_file}: not an anchor written by `daulat audit "
                            f"anchor --json` ({{\"seq\": N, \"hash\": \"…\"}}): {exc}") from exc
    _, store = _open(config, store_url, data_dir, schema, migrate=False)
    report = verify_chain(store.engine, anchor=mark)

    def render(r: Any) -> None:
        if r.ok:
            console.print(f"[green]audit chain OK[/]: {r.records} records, head at {r.head_seq}")
            return
        err_console.print(f"[bold red]audit chain BROKEN[/]: {r.records} records, head at "
                          f"{r.head_seq}")
        for p in r.problems:
            err_console.print(f"  record {p['seq']}: {p['kind']} — {p['detail']}")

    emit(report, as_json, render)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    as_json: bool = _JSON,
) -> None:
    """Print the chain head (sequence, hash, time) to publish outside the database."""
    _, store = _open(config, store_url, data_dir, schema, migrate=False)
    mark = anchor(store.engine)
    emit(mark, as_json, lambda m: console.print(
        f"audit chain head: record {m['seq']} hash {m['hash']} at {m['ts']}\n"
        "Publish it outside the database; check later with "
        "`daulat audit verify --anchor FILE` (FILE: this command's --json output).",
        highlight=False))


@audit_app.command("tail")
def audit_tail(
    n: int = typer.Option(20, "-n", "--lines", min=1, help="how many records"),
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    as_json: bool = _JSON,
) -> None:
    """Print the last records of the audit log."""
    _, store = _open(config, store_url, data_dir, schema, migrate=False)
    rows = tail(store.engine, n)

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("seq", "time", "tenant", "country", "upstream", "jurisdiction", "status",
                      "tokens", "policy")
        for r in rows:
            pol = r.get("policy") or {}
            bits = [f"pii:{pol.get('pii_in_count', 0)}"] if pol else []
            bits += [f"rule:{x}" for x in pol.get("content", [])]
            table.add_row(str(r["seq"]), _iso(r["ts"]), r.get("tenant") or "-",
                          r.get("country") or "-", r.get("upstream") or "-",
                          r.get("jurisdiction") or "-", f"{r['status']} {r['http_status']}",
                          str(r.get("prompt_tokens", 0) + r.get("completion_tokens", 0)),
                          " ".join(bits))
        console.print(table)

    emit(rows, as_json, render)


store_app = typer.Typer(help="The gateway's store: migrate its schema, purge expired bodies.",
                        no_args_is_help=True)


@store_app.command("migrate")
def store_migrate(
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
) -> None:
    """Create or upgrade the store's tables (alembic) to this version of daulat."""
    _, store = _open(config, store_url, data_dir, schema, migrate=False)
    rev = store.migrate()
    console.print(f"store {store.url} at revision {rev}")


@store_app.command("purge")
def store_purge(
    config: Path | None = _CONFIG,
    store_url: str | None = _STORE,
    data_dir: Path | None = _DATA_DIR,
    schema: str | None = _SCHEMA,
    now: str | None = typer.Option(None, "--now", help="purge as of this UTC time "
                                   "(ISO 8601, e.g. 2027-01-31T00:00:00); default: now"),
    as_json: bool = _JSON,
) -> None:
    """Delete request/response bodies older than their country pack's retention days."""
    _, store = _open(config, store_url, data_dir, schema)
    ts = None
    if now is not None:
        try:
            parsed = dt.datetime.fromisoformat(now)
        except ValueError as exc:
            raise UserError(f"--now {now!r} is not an ISO 8601 time (e.g. 2027-01-31T00:00:00)"
                            ) from exc
        ts = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()
    n = store.purge(ts)
    result = {"purged": n, "kept": len(store.bodies())}
    emit(result, as_json, lambda r: console.print(
        f"purged {r['purged']} expired bodies; {r['kept']} kept within retention"))


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``keys``, ``audit`` and ``store`` to ``app``."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
    app.add_typer(store_app, name="store")


