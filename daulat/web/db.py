"""The office's database: the gateway's store engine, the office's own migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from daulat.store.db import Migrations, default_url, make_engine

__all__ = ["VERSION_TABLE", "current_revision", "head_revision", "migrate", "open_engine"]

VERSION_TABLE = "alembic_version_web"
#: The office's own history, kept apart from the store's in the same database.
OFFICE_MIGRATIONS = Migrations(Path(__file__).with_name("migrations"), VERSION_TABLE)


def open_engine(url: str | None, *, schema: str | None = None,
                data_dir: Path | None = None) -> Engine:
    """An engine on ``url`` (default: the gateway's SQLite store under ``data_dir``)."""
    return make_engine(url or default_url(data_dir), schema=schema)


def migrate(engine: Engine, revision: str = "head") -> str:
    """Upgrade the office's tables to ``revision``; return the revision reached."""
    return OFFICE_MIGRATIONS.upgrade(engine, revision)


def current_revision(engine: Engine) -> str | None:
    """The office's alembic revision in this database, or None before the first migration."""
    return OFFICE_MIGRATIONS.current(engine)


def head_revision() -> str:
    """The newest revision of the office's tables shipped with this version of daulat."""
    return OFFICE_MIGRATIONS.head()
