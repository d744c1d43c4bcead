"""Alembic environment of the programme office; run through :func:`daulat.web.db.migrate`.

Its own version table (``alembic_version_web``) and metadata, so the office's migrations
never meet the gateway store's in the same database.
"""

from __future__ import annotations

from alembic import context

from daulat.web.models import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
