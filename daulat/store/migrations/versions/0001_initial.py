"""Initial store: tenants, keys, usage, allocations, audit chain, bodies.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daulat_tenants",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("tokens_per_day", sa.BigInteger, nullable=True),
        sa.Column("requests_per_s", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "daulat_api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(128), nullable=False, index=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("label", sa.String(256), nullable=True),
    )
    op.create_table(
        "daulat_usage",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("country", sa.String(3), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("prompt_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rejected", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "daulat_allocations",
        sa.Column("country", sa.String(3), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("tokens_per_s", sa.Float, nullable=False),
        sa.Column("tokens_per_day", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
    )
    op.create_table(
        "daulat_audit",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("request_id", name="uq_daulat_audit_request"),
    )
    op.create_index("ix_daulat_audit_ts", "daulat_audit", ["ts"])
    head = op.create_table(
        "daulat_audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    # The chain starts from the all-zero genesis hash; appenders lock this row.
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "daulat_bodies",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("request", sa.Text, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("kept", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_daulat_bodies_expires", "daulat_bodies", ["expires_at"])


def downgrade() -> None:
    for table in (
        "daulat_bodies",
        "daulat_audit_head",
        "daulat_audit",
        "daulat_allocations",
        "daulat_usage",
        "daulat_api_keys",
        "daulat_tenants",
    ):
        op.drop_table(table)
