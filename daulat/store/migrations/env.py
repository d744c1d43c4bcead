"""Alembic environment for daulat's store; run through :func:`daulat.store.db.migrate`."""

from __future__ import annotations

from alembic import context

from daulat.store.models import metadata

config = context.config
engine = config.attributes["engine"]
version_table = config.attributes.get("version_table", "daulat_alembic_version")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
