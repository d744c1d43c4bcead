"""The programme office's tables (SQLAlchemy Core), its own metadata beside the gateway's.

Every table is prefixed ``web_`` and migrated by ``daulat/web/migrations`` with its own
version table (``alembic_version_web``), so the office and the gateway share one database
without sharing migrations. Keep this module and the migrations in step.

Append-only tables: ``web_ledger`` (commitments and disbursements; a correction is a new
entry that names the one it corrects), ``web_trail`` (who changed what, before and after)
and ``web_adoptions`` (the baseline's history). The migration adds database triggers that
refuse UPDATE and DELETE on them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "APPEND_ONLY",
    "adoptions",
    "ledger",
    "login_failures",
    "metadata",
    "milestones",
    "partners",
    "plans",
    "projects",
    "sites",
    "trail",
    "users",
]

metadata = MetaData()

users = Table(
    "web_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(256), nullable=False),  # argon2id, encoded with its params
    Column("role", String(16), nullable=False),  # provider | government | auditor
    Column("country", String(3), nullable=True),  # ISO3; required for government
    Column("created_at", Float, nullable=False),  # unix seconds
    Column("disabled", Boolean, nullable=False, default=False),
)

partners = Table(
    "web_partners",
    metadata,
    Column("id", String(64), primary_key=True),  # e.g. gov-idn, provider, adb
    Column("name", String(200), nullable=False),
    Column("kind", String(24), nullable=False),  # government | provider | development_bank
    Column("country", String(3), nullable=True),  # a government's country
)

projects = Table(
    "web_projects",
    metadata,
    Column("country", String(3), primary_key=True),  # one country project per country
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)

sites = Table(
    "web_sites",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("country", String(3), ForeignKey("web_projects.country"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("planned_mw", Float, nullable=True),  # facility MW the partners intend
    Column("plan_site", String(64), nullable=True),  # the plan's site id, when it is one
)

milestones = Table(
    "web_milestones",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("country", String(3), ForeignKey("web_projects.country"), nullable=False, index=True),
    Column("site", String(64), nullable=True),
    # land | grid_connection | construction | mw_energised | accelerators_delivered |
    # assistant_launched
    Column("kind", String(32), nullable=False),
    Column("due", Date, nullable=True),  # when the partners agreed it would be done
    Column("done", Date, nullable=True),  # when it was done; NULL = not yet
    Column("quantity", Float, nullable=True),  # MW (mw_energised), count (accelerators)
    Column("note", Text, nullable=True),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", Float, nullable=False),
)

ledger = Table(
    "web_ledger",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # commitment | disbursement
    Column("partner", String(64), ForeignKey("web_partners.id"), nullable=False),
    Column("country", String(3), ForeignKey("web_projects.country"), nullable=False),
    Column("site", String(64), nullable=True),
    Column("asset", String(16), nullable=False),  # facility | accelerators | other
    Column("year", Integer, nullable=False),  # the programme year the money is for
    Column("dated", Date, nullable=False),  # the date of the commitment or payment
    Column("usd", Float, nullable=False),  # negative in a correction that takes money back
    Column("corrects", Integer, nullable=True),  # seq of the entry this one corrects
    Column("note", Text, nullable=True),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", Float, nullable=False),
)

plans = Table(
    "web_plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("countries", String(2000), nullable=False),  # the scenario's ISO3 codes, "IDN,MYS"
    Column("scenario_yaml", Text, nullable=False),
    # queued | running | done | failed — the background job's state
    Column("state", String(16), nullable=False),
    Column("progress", Text, nullable=False, default=""),  # planner's phase lines, \n-joined
    Column("error", Text, nullable=True),
    Column("backend", String(16), nullable=False, default="local"),  # local | ray
    Column("out_dir", Text, nullable=True),
    Column("summary_json", Text, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
)

adoptions = Table(
    "web_adoptions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("web_plans.id"), nullable=False),
    Column("adopted_by", String(64), nullable=False),
    Column("adopted_at", Float, nullable=False),
)

trail = Table(
    "web_trail",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("country", String(3), nullable=True),  # the country the change touches
    Column("action", String(64), nullable=False),  # e.g. milestone.create, ledger.append
    Column("object", String(128), nullable=False),  # e.g. milestone:12
    Column("before", Text, nullable=True),  # JSON
    Column("after", Text, nullable=True),  # JSON
)

login_failures = Table(
    "web_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("ts", Float, nullable=False),
)

Index("ix_web_ledger_country_year", ledger.c.country, ledger.c.year)
Index("ix_web_trail_ts", trail.c.ts)
Index("ix_web_login_failures_user_ts", login_failures.c.username, login_failures.c.ts)

#: Tables whose rows are never updated or deleted (the migration installs triggers).
APPEND_ONLY = ("web_ledger", "web_trail", "web_adoptions")
