"""The programme office: users, registry, append-only ledger and trail, plans, adoptions.

Revision ID: web0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY = ("web_ledger", "web_trail", "web_adoptions")


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("country", sa.String(3), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "web_partners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("country", sa.String(3), nullable=True),
    )
    op.create_table(
        "web_projects",
        sa.Column("country", sa.String(3), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "web_sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("country", sa.String(3), sa.ForeignKey("web_projects.country"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("planned_mw", sa.Float, nullable=True),
        sa.Column("plan_site", sa.String(64), nullable=True),
    )
    op.create_table(
        "web_milestones",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("country", sa.String(3), sa.ForeignKey("web_projects.country"),
                  nullable=False, index=True),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due", sa.Date, nullable=True),
        sa.Column("done", sa.Date, nullable=True),
        sa.Column("quantity", sa.Float, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_table(
        "web_ledger",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("partner", sa.String(64), sa.ForeignKey("web_partners.id"), nullable=False),
        sa.Column("country", sa.String(3), sa.ForeignKey("web_projects.country"),
                  nullable=False),
        sa.Column("site", sa.String(64), nullable=True),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("dated", sa.Date, nullable=False),
        sa.Column("usd", sa.Float, nullable=False),
        sa.Column("corrects", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_index("ix_web_ledger_country_year", "web_ledger", ["country", "year"])
    op.create_table(
        "web_plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("countries", sa.String(2000), nullable=False),
        sa.Column("scenario_yaml", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Text, nullable=False, server_default=""),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("backend", sa.String(16), nullable=False, server_default="local"),
        sa.Column("out_dir", sa.Text, nullable=True),
        sa.Column("summary_json", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
    )
    op.create_table(
        "web_adoptions",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("web_plans.id"), nullable=False),
        sa.Column("adopted_by", sa.String(64), nullable=False),
        sa.Column("adopted_at", sa.Float, nullable=False),
    )
    op.create_table(
        "web_trail",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("country", sa.String(3), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object", sa.String(128), nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
    )
    op.create_index("ix_web_trail_ts", "web_trail", ["ts"])
    op.create_table(
        "web_login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
    )
    op.create_index("ix_web_login_failures_user_ts", "web_login_failures", ["username", "ts"])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """The database itself refuses UPDATE and DELETE on the append-only tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION web_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only: record a correcting entry instead', "
            "TG_TABLE_NAME; END; $$ LANGUAGE plpgsql")
        for table in _APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION web_append_only()")
        return
    for table in _APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} is append-only: record a correcting entry "
                "instead'); END")


def downgrade() -> None:
    for table in ("web_login_failures", "web_trail", "web_adoptions", "web_plans", "web_ledger",
                  "web_milestones", "web_sites", "web_projects", "web_partners", "web_users"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS web_append_only()")
