"""Connecting to the store and migrating it: SQLite (WAL) by default, PostgreSQL by URL.

``sqlite:///path/daulat.db`` (the default, under the data directory) or
``postgresql+psycopg://user@host:5432/db``; a plain ``postgresql://`` URL is read as psycopg 3.
An optional PostgreSQL *schema* keeps several deployments (or test runs) apart in one
database.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from daulat.errors import StoreError, UserError

__all__ = [
    "DATA_DIR_ENV",
    "Migrations",
    "STORE_MIGRATIONS",
    "default_data_dir",
    "default_url",
    "make_engine",
    "migrate",
    "current_revision",
    "head_revision",
    "normalise_url",
]

DATA_DIR_ENV = "DAULAT_DATA_DIR"
_MIGRATIONS = Path(__file__).with_name("migrations")
_VERSION_TABLE = "daulat_alembic_version"
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# How long a SQLite writer waits for another worker's transaction before failing, in ms.
_SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_data_dir() -> Path:
    """Directory of the default SQLite store: ``$DAULAT_DATA_DIR`` or ``~/.local/share/daulat``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "daulat"


def default_url(data_dir: Path | None = None) -> str:
    """SQLite URL of ``daulat.db`` under ``data_dir`` (created when missing)."""
    directory = data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'daulat.db'}"


def normalise_url(url: str) -> str:
    """Map ``postgresql://`` and ``postgres://`` to the psycopg 3 driver; validate the scheme."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # sqlalchemy's message is terse
        raise UserError(
            f"store url {url!r} is not a database URL; use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB"
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise UserError(
        f"store url {url!r}: backend {backend!r} is not supported; use sqlite or postgresql"
    )


def make_engine(url: str | None = None, *, schema: str | None = None) -> Engine:
    """An engine for ``url`` (default SQLite store) with the pragmas and schema applied.

    SQLite gets WAL journaling, ``synchronous=NORMAL`` (durable across a process crash,
    which is what a ``kill -9`` is), a busy timeout so several workers queue rather than fail,
    and ``BEGIN IMMEDIATE`` so a transaction that writes holds the write lock from its start
    (no read-then-upgrade deadlocks). PostgreSQL gets ``search_path`` set to ``schema``.
    """
    url = normalise_url(url or default_url())
    if schema is not None and not _SCHEMA_RE.match(schema):
        raise UserError(f"store schema {schema!r} is not a valid name; use [a-z_][a-z0-9_]*")
    backend = make_url(url).get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False,
                                  "timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if schema is not None:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if schema is not None:
        try:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        except OperationalError as exc:
            raise unreachable(engine, exc) from None
    return engine


def unreachable(engine: Engine, exc: OperationalError) -> StoreError:
    """A :class:`StoreError` naming the store (password hidden) and the driver's reason."""
    reason = str(exc.orig or exc).strip().splitlines()
    where = engine.url.render_as_string(hide_password=True)
    return StoreError(f"store {where}: cannot open it — {reason[0] if reason else exc}"
                      + (f" ({'; '.join(r.strip() for r in reason[1:3])})"
                         if len(reason) > 1 else ""))


def check_reachable(engine: Engine) -> None:
    """Connect once (``SELECT 1``); :class:`StoreError` when the store cannot be opened."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise unreachable(engine, exc) from None


@dataclass(frozen=True)
class Migrations:
    """One alembic history: its script directory and the version table it keeps its place in.

    The gateway's store and the programme office's tables share a database but not a
    history; each is one of these (the office's in :mod:`daulat.web.db`)."""

    script_location: Path
    version_table: str

    def config(self, engine: Engine) -> Any:
        """An alembic Config whose ``env.py`` runs on ``engine``."""
        cfg = Config()
        cfg.set_main_option("script_location", str(self.script_location))
        cfg.attributes["engine"] = engine
        cfg.attributes["version_table"] = self.version_table
        return cfg

    def upgrade(self, engine: Engine, revision: str = "head") -> str:
        """Upgrade to ``revision`` (default the newest) and return the revision reached."""
        command.upgrade(self.config(engine), revision)
        return self.current(engine) or ""

    def current(self, engine: Engine) -> str | None:
        """The revision in this database, or None before the first migration."""
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": self.version_table})
            return ctx.get_current_revision()

    def head(self) -> str:
        """The newest revision shipped with this version of daulat."""
        head = ScriptDirectory(str(self.script_location)).get_current_head()
        assert head is not None
        return head


#: The gateway's store.
STORE_MIGRATIONS = Migrations(_MIGRATIONS, _VERSION_TABLE)


def migrate(engine: Engine, revision: str = "head") -> str:
    """Upgrade the store to ``revision`` (default the newest) and return the revision reached."""
    return STORE_MIGRATIONS.upgrade(engine, revision)


def current_revision(engine: Engine) -> str | None:
    """The store's alembic revision, or None for an empty database."""
    return STORE_MIGRATIONS.current(engine)


def head_revision() -> str:
    """The newest revision of the store shipped with this version of daulat."""
    return STORE_MIGRATIONS.head()
