"""``daulat web``: the programme office; ``daulat web users create``: its accounts."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import typer
import uvicorn

from daulat.console import console
from daulat.errors import UserError
from daulat.store.db import migrate as migrate_gateway_store
from daulat.web.app import Office, create_app, data_dir_of
from daulat.web.config import WebConfig, load_config
from daulat.web.db import migrate, open_engine
from daulat.web.jobs import JobRunner, interrupted
from daulat.web.registry import record_trail
from daulat.web.security import Principal, Role, create_user
from daulat.web.seed import is_empty, seed_demo

__all__ = ["open_office", "register", "web_app"]

web_app = typer.Typer(help="The programme office: registry, plans, plan against actual "
                      "(docs/web.md).", invoke_without_command=True, no_args_is_help=False)
users_app = typer.Typer(help="Accounts of the programme office.", no_args_is_help=True)
web_app.add_typer(users_app, name="users")

_CONFIG = typer.Option(None, "--config", "-c", help="web.yaml (see docs/web.md); default: "
                       "SQLite under the data dir and the Indonesian demo programme",
                       dir_okay=False)


def open_office(cfg: WebConfig) -> Office:
    """Connect, migrate the office's tables (and the gateway's, same store) and return it."""
    data_dir = data_dir_of(cfg)
    engine = open_engine(cfg.store.url, schema=cfg.store.db_schema, data_dir=data_dir)
    migrate_gateway_store(engine)  # the same store: the gateway's metering is read here
    migrate(engine)
    url = engine.url.render_as_string(hide_password=False)
    runner = JobRunner(cfg.jobs.backend, cfg.jobs.workers, cfg.jobs.ray_address)
    return Office(cfg, engine, url, data_dir, runner)


@web_app.callback()
def web(
    ctx: typer.Context,
    config: Path | None = _CONFIG,
    host: str | None = typer.Option(None, "--host", help="interface to bind (default "
                                    "127.0.0.1; the config's server.host)"),
    port: int | None = typer.Option(None, "--port", help="port (default 8600; the config's "
                                    "server.port)"),
) -> None:
    """Run the programme office (Starlette under uvicorn) on the store."""
    ctx.obj = config
    if ctx.invoked_subcommand is not None:
        return
    cfg = load_config(config)
    if host is not None:
        cfg.server.host = host
    if port is not None:
        cfg.server.port = port
    office = open_office(cfg)
    failed = interrupted(office.engine)
    if failed:
        console.print(f"{failed} plan job(s) left running by a previous start marked failed")
    if cfg.demo and is_empty(office):
        console.print("Seeding the Indonesian demo programme (plans examples/indonesia.yaml, "
                      "under a minute)…")
        passwords = seed_demo(office)
        console.print("Demo accounts, passwords shown [bold]once[/]:")
        for name, pw in passwords.items():
            console.print(f"  {name:8} {pw}", highlight=False)
    office.runner.warm()
    console.print(f"Programme office on [bold]http://{cfg.server.host}:{cfg.server.port}/[/] "
                  f"· store {office.engine.url.render_as_string(hide_password=True)}",
                  highlight=False)
    uvicorn.run(create_app(office), host=cfg.server.host, port=cfg.server.port,
                log_level="warning")


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="the new user's name"),
    role: Role = typer.Option(..., "--role", help="what the user may do (docs/web.md)"),
    country: str | None = typer.Option(None, "--country", help="ISO3 of a government user's "
                                       "country"),
    password_env: str | None = typer.Option(None, "--password-env", help="read the password "
                                            "from this environment variable (else prompt)"),
) -> None:
    """Create an account (argon2id password hash)."""
    cfg = load_config(ctx.obj)
    if password_env is not None:
        password = os.environ.get(password_env, "")
        if not password:
            raise UserError(f"--password-env {password_env}: the variable is empty or unset")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UserError("the two passwords differ")
    office = open_office(cfg)
    who = create_user(office.engine, username, password, role, country)
    # the account itself is a change: the trail names the operating-system user who made it
    operator = Principal(f"cli:{getpass.getuser()}", Role.PROVIDER)
    with office.engine.begin() as conn:
        record_trail(conn, operator, "user.create", f"user:{who.username}", who.country, None,
                     {"username": who.username, "role": who.role.value, "country": who.country})
    console.print(f"user [bold]{who.username}[/] ({who.role.value}"
                  f"{', ' + who.country if who.country else ''}) created", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``daulat web`` to ``app``."""
    app.add_typer(web_app, name="web")
