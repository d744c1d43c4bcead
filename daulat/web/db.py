"""The office's database: the gateway's store engine, the office's own migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from daulat.store.db import default_data_dir, make_engine

__all__ = ["VERSION_TABLE", "current_revision", "head_revision", "migrate", "open_engine"]

VERSION_TABLE = "alembic_version_web"
_MIGRATIONS = Path(__file__).with_name("migrations")


def open_engine(url: str | None, *, schema: str | None = None,
                data_dir: Path | None = None) -> Engine:
    """An engine on ``url`` (default: the gateway's SQLite store under ``data_dir``)."""
    if url is None:
        directory = data_dir or default_data_dir()
        directory.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{directory / 'daulat.db'}"
    return make_engine(url, schema=schema)


def _config(engine: Engine) -> Any:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    cfg.attributes["version_table"] = VERSION_TABLE
    return cfg


def migrate(engine: Engine, revision: str = "head") -> str:
    """Upgrade the office's tables to ``revision``; return the revision reached."""
    command.upgrade(_config(engine), revision)
    return current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    """The office's alembic revision in this database, or None before the first migration."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this version of daulat."""
    head = ScriptDirectory(str(_MIGRATIONS)).get_current_head()
    assert head is not None
    return head
