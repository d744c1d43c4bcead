"""The registry: partners, country projects, sites, milestones and the funding ledger.

Every change goes through here and leaves an entry in the append-only trail (who, when,
what, before and after) in the same transaction. The ledger is append-only: a correction
is a new entry naming the entry it corrects. Rows arriving from forms and CSV files are
checked by the same pydantic models, so a bad CSV line reads like a bad form field.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import time
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, CursorResult, Engine, Table, func, insert, select, update

from daulat.errors import UserError
from daulat.finance.ownership import ownership_by_year
from daulat.web import models as m
from daulat.web.security import Principal, check_country

__all__ = [
    "CSV_TABLES",
    "LedgerIn",
    "MilestoneIn",
    "MilestoneKind",
    "PartnerIn",
    "SiteIn",
    "add_ledger_entry",
    "add_milestone",
    "add_partner",
    "add_project",
    "add_site",
    "correct_ledger_entry",
    "export_csv",
    "import_csv",
    "inserted_id",
    "ledger_count",
    "ledger_rows",
    "milestone_rows",
    "ownership",
    "partners",
    "projects",
    "record_trail",
    "site_rows",
    "trail_rows",
    "update_milestone",
]


class MilestoneKind(StrEnum):
    LAND = "land"
    GRID_CONNECTION = "grid_connection"
    CONSTRUCTION = "construction"
    MW_ENERGISED = "mw_energised"
    ACCELERATORS_DELIVERED = "accelerators_delivered"
    ASSISTANT_LAUNCHED = "assistant_launched"


#: Milestones that carry a quantity, and its unit.
QUANTITY_UNIT = {MilestoneKind.MW_ENERGISED: "MW", MilestoneKind.ACCELERATORS_DELIVERED:
                 "accelerators"}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and v.strip() == "" else v


class PartnerIn(_In):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern=r"^(government|provider|development_bank)$")
    country: str | None = None

    @field_validator("country")
    @classmethod
    def _iso3(cls, v: str | None) -> str | None:
        return None if v is None else check_country(v)


class SiteIn(_In):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    country: str
    name: str = Field(min_length=1, max_length=200)
    planned_mw: float | None = Field(default=None, ge=0)
    plan_site: str | None = None

    @field_validator("country")
    @classmethod
    def _iso3(cls, v: str) -> str:
        return check_country(v)


class MilestoneIn(_In):
    country: str
    site: str | None = None
    kind: MilestoneKind
    due: dt.date | None = None
    done: dt.date | None = None
    quantity: float | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("country")
    @classmethod
    def _iso3(cls, v: str) -> str:
        return check_country(v)

    @field_validator("done")
    @classmethod
    def _not_future(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v > dt.date.today():
            raise ValueError(f"{v} is in the future; record a milestone when it is done "
                             "(a plan for it is its due date)")
        return v


class LedgerIn(_In):
    kind: str = Field(pattern=r"^(commitment|disbursement)$")
    partner: str
    country: str
    site: str | None = None
    asset: str = Field(default="facility", pattern=r"^(facility|accelerators|other)$")
    year: int = Field(ge=2000, le=2100)
    dated: dt.date
    usd: float
    corrects: int | None = None
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("country")
    @classmethod
    def _iso3(cls, v: str) -> str:
        return check_country(v)

    @field_validator("usd")
    @classmethod
    def _finite(cls, v: float) -> float:
        if v != v or abs(v) == float("inf"):
            raise ValueError("must be a finite amount in USD")
        return v


def validation_message(exc: ValidationError, where: str = "") -> str:
    """One line per problem: ``where field: value — what is wrong``."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(row)"
        value = err.get("input")
        msg = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}{field}: {value!r} — {msg}")
    return "\n".join(lines)


def parse(model: type[_In], data: dict[str, Any], where: str = "") -> Any:
    """``data`` validated as ``model``; UserError naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UserError(validation_message(exc, where)) from None


def _jsonable(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in out.items()
            if k != "password_hash"}


def record_trail(conn: Connection, who: Principal, action: str, obj: str,
                 country: str | None, before: Any = None, after: Any = None) -> None:
    """Append one change to the trail (in the caller's transaction)."""
    conn.execute(insert(m.trail).values(
        ts=time.time(), username=who.username, role=who.role.value, country=country,
        action=action, object=obj,
        before=None if before is None else json.dumps(_jsonable(before), sort_keys=True),
        after=None if after is None else json.dumps(_jsonable(after), sort_keys=True)))


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just added."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _exists(conn: Connection, table: Table, **where: Any) -> bool:
    stmt = select(table)
    for key, value in where.items():
        stmt = stmt.where(table.c[key] == value)
    return conn.execute(stmt.limit(1)).first() is not None


# ---- partners and projects ------------------------------------------------------------


def partners(engine: Engine, who: Principal) -> list[dict[str, Any]]:
    """The partners ``who`` may see: a government sees the programme-wide partners (the
    provider, banks) and its own government, not other governments."""
    with engine.connect() as conn:
        rows = conn.execute(select(m.partners).order_by(m.partners.c.id)).all()
    return [dict(r._mapping) for r in rows if r.country is None or who.reads(r.country)]


def add_partner(engine: Engine, who: Principal, data: dict[str, Any]) -> dict[str, Any]:
    p = parse(PartnerIn, data)
    if p.kind == "government" and p.country is None:
        raise UserError("country: a government partner needs its ISO3 country")
    with engine.begin() as conn:
        if _exists(conn, m.partners, id=p.id):
            raise UserError(f"id: partner {p.id!r} exists already")
        row = p.model_dump()
        conn.execute(insert(m.partners).values(**row))
        record_trail(conn, who, "partner.create", f"partner:{p.id}", p.country, None, row)
    return dict(row)


def projects(engine: Engine, who: Principal) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.projects).order_by(m.projects.c.country)).all()
    return [dict(r._mapping) for r in rows if who.reads(r.country)]


def add_project(engine: Engine, who: Principal, country: str, name: str, where: str = "",
                conn: Connection | None = None) -> None:
    iso3 = check_country(country)
    with _tx(engine, conn) as c:
        if _exists(c, m.projects, country=iso3):
            raise UserError(f"{where}country: the {iso3} country project exists already")
        row = {"country": iso3, "name": name, "created_at": time.time()}
        c.execute(insert(m.projects).values(**row))
        record_trail(c, who, "project.create", f"project:{iso3}", iso3, None, row)


def _need_project(conn: Connection, country: str) -> None:
    if not _exists(conn, m.projects, country=country):
        raise UserError(f"country: {country} has no country project in the registry")


# ---- sites and milestones ------------------------------------------------------------


def site_rows(engine: Engine, country: str | None = None) -> list[dict[str, Any]]:
    stmt = select(m.sites).order_by(m.sites.c.country, m.sites.c.id)
    if country is not None:
        stmt = stmt.where(m.sites.c.country == country)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def add_site(engine: Engine, who: Principal, data: dict[str, Any], where: str = "",
             conn: Connection | None = None) -> dict[str, Any]:
    s = parse(SiteIn, data, where)
    if not who.edits(s.country):
        raise PermissionError(s.country)
    with _tx(engine, conn) as c:
        _need_project(c, s.country)
        if _exists(c, m.sites, id=s.id):
            raise UserError(f"{where}id: site {s.id!r} exists already")
        row = s.model_dump()
        c.execute(insert(m.sites).values(**row))
        record_trail(c, who, "site.create", f"site:{s.id}", s.country, None, row)
    return row


def milestone_rows(engine: Engine, country: str | None = None) -> list[dict[str, Any]]:
    stmt = select(m.milestones).order_by(m.milestones.c.country, m.milestones.c.due,
                                         m.milestones.c.id)
    if country is not None:
        stmt = stmt.where(m.milestones.c.country == country)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _check_milestone(c: Connection, ms: MilestoneIn, where: str) -> None:
    _need_project(c, ms.country)
    if ms.site is not None and not _exists(c, m.sites, id=ms.site, country=ms.country):
        raise UserError(f"{where}site: {ms.site!r} is not a site of the {ms.country} project")
    unit = QUANTITY_UNIT.get(ms.kind)
    if unit is not None and ms.done is not None and ms.quantity is None:
        raise UserError(f"{where}quantity: a done {ms.kind.value} milestone needs its "
                        f"quantity in {unit}")
    if unit is None and ms.quantity is not None:
        raise UserError(f"{where}quantity: {ms.quantity!r} — a {ms.kind.value} milestone has "
                        "no quantity (only mw_energised and accelerators_delivered do)")
    if ms.due is None and ms.done is None:
        raise UserError(f"{where}due: a milestone needs a due date, a done date or both")


def add_milestone(engine: Engine, who: Principal, data: dict[str, Any], where: str = "",
                  conn: Connection | None = None) -> dict[str, Any]:
    ms = parse(MilestoneIn, data, where)
    if not who.edits(ms.country):
        raise PermissionError(ms.country)
    with _tx(engine, conn) as c:
        _check_milestone(c, ms, where)
        row = {**ms.model_dump(), "kind": ms.kind.value, "recorded_by": who.username,
               "recorded_at": time.time()}
        new_id = inserted_id(c.execute(insert(m.milestones).values(**row)))
        row["id"] = new_id
        record_trail(c, who, "milestone.create", f"milestone:{new_id}", ms.country, None, row)
    return row


def update_milestone(engine: Engine, who: Principal, milestone_id: int,
                     data: dict[str, Any]) -> dict[str, Any]:
    """Change a milestone's due date, done date, quantity or note (trail keeps before/after)."""
    with engine.begin() as c:
        before = c.execute(select(m.milestones).where(m.milestones.c.id == milestone_id)).first()
        if before is None or not who.reads(before.country):
            raise LookupError(milestone_id)
        if not who.edits(before.country):
            raise PermissionError(before.country)
        merged = {k: v for k, v in before._mapping.items()
                  if k in MilestoneIn.model_fields}
        merged.update({k: v for k, v in data.items() if k in ("due", "done", "quantity", "note")})
        merged["kind"] = before.kind
        ms = parse(MilestoneIn, merged)
        _check_milestone(c, ms, "")
        values = {"due": ms.due, "done": ms.done, "quantity": ms.quantity, "note": ms.note,
                  "recorded_by": who.username, "recorded_at": time.time()}
        c.execute(update(m.milestones).where(m.milestones.c.id == milestone_id).values(**values))
        after = c.execute(select(m.milestones).where(m.milestones.c.id == milestone_id)).one()
        record_trail(c, who, "milestone.update", f"milestone:{milestone_id}", before.country,
                     before, after)
    return dict(after._mapping)


# ---- the ledger ----------------------------------------------------------------------


def ledger_rows(engine: Engine, country: str | None = None, *,
                newest: int | None = None) -> list[dict[str, Any]]:
    """Ledger entries in the order recorded (``newest``: only the last N, newest first)."""
    stmt = select(m.ledger)
    if country is not None:
        stmt = stmt.where(m.ledger.c.country == country)
    stmt = stmt.order_by(m.ledger.c.seq) if newest is None else \
        stmt.order_by(m.ledger.c.seq.desc()).limit(newest)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def ledger_count(engine: Engine, country: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(m.ledger).where(
            m.ledger.c.country == country)).scalar_one())


def add_ledger_entry(engine: Engine, who: Principal, data: dict[str, Any], where: str = "",
                     conn: Connection | None = None) -> dict[str, Any]:
    e = parse(LedgerIn, data, where)
    if not who.edits(e.country):
        raise PermissionError(e.country)
    with _tx(engine, conn) as c:
        _need_project(c, e.country)
        if not _exists(c, m.partners, id=e.partner):
            raise UserError(f"{where}partner: {e.partner!r} is not a partner in the registry")
        if e.site is not None and not _exists(c, m.sites, id=e.site, country=e.country):
            raise UserError(f"{where}site: {e.site!r} is not a site of the {e.country} project")
        if e.corrects is not None:
            orig = c.execute(select(m.ledger).where(m.ledger.c.seq == e.corrects)).first()
            if orig is None or orig.country != e.country:
                raise UserError(f"{where}corrects: entry {e.corrects} is not in the "
                                f"{e.country} ledger")
            if orig.kind != e.kind:
                raise UserError(f"{where}kind: a correction of a {orig.kind} is a {orig.kind}")
        elif e.usd <= 0:
            raise UserError(f"{where}usd: {e.usd!r} — an entry is a positive amount; a "
                            "negative one is a correction (give the entry it corrects)")
        row = {**e.model_dump(), "recorded_by": who.username, "recorded_at": time.time()}
        seq = inserted_id(c.execute(insert(m.ledger).values(**row)))
        row["seq"] = seq
        record_trail(c, who, "ledger.append", f"ledger:{seq}", e.country, None, row)
    return row


def correct_ledger_entry(engine: Engine, who: Principal, seq: int, usd_delta: float,
                         note: str) -> dict[str, Any]:
    """A new entry that changes entry ``seq``'s amount by ``usd_delta`` (the original stays)."""
    with engine.connect() as conn:
        orig = conn.execute(select(m.ledger).where(m.ledger.c.seq == seq)).first()
    if orig is None or not who.reads(orig.country):
        raise LookupError(seq)
    return add_ledger_entry(engine, who, {
        "kind": orig.kind, "partner": orig.partner, "country": orig.country, "site": orig.site,
        "asset": orig.asset, "year": orig.year, "dated": dt.date.today(), "usd": usd_delta,
        "corrects": seq, "note": note or f"correction of entry {seq}"})


def ownership(engine: Engine, country: str) -> pd.DataFrame:
    """Each partner's share of each site of ``country`` by year, from what it paid in
    (disbursements, corrections included): the finance stage's vintage rule
    (:func:`daulat.finance.ownership.ownership_by_year`) on the actual ledger. The ledger
    is append-only, so the answer is kept until an entry is added."""
    with engine.connect() as conn:
        last = conn.execute(select(func.max(m.ledger.c.seq))).scalar()
    return _ownership(engine, country, last).copy()


@functools.lru_cache(maxsize=64)
def _ownership(engine: Engine, country: str, last_seq: int | None) -> pd.DataFrame:
    led = m.ledger.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(led.partner, led.site, led.year, func.sum(led.usd))
            .where(led.country == country, led.kind == "disbursement", led.site.is_not(None))
            .group_by(led.partner, led.site, led.year)).all()
    if not rows:
        return pd.DataFrame(columns=["funder", "site", "year", "capital_usd", "share"])
    paid = pd.DataFrame([{"funder": p, "site": s, "year": int(y), "usd": float(usd)}
                         for p, s, y, usd in rows])
    years = list(range(int(paid["year"].min()), int(paid["year"].max()) + 1))
    return ownership_by_year(paid, years)


def trail_rows(engine: Engine, who: Principal, limit: int = 200) -> list[dict[str, Any]]:
    stmt = select(m.trail).order_by(m.trail.c.seq.desc()).limit(limit)
    if who.country is not None and not who.reads(None):
        stmt = stmt.where(m.trail.c.country == who.country)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


# ---- CSV -----------------------------------------------------------------------------

#: table name → (SQLAlchemy table, columns written and read, the row model, the adder)
CSV_TABLES: dict[str, tuple[Table, tuple[str, ...]]] = {
    "partners": (m.partners, ("id", "name", "kind", "country")),
    "projects": (m.projects, ("country", "name")),
    "sites": (m.sites, ("id", "country", "name", "planned_mw", "plan_site")),
    "milestones": (m.milestones, ("id", "country", "site", "kind", "due", "done", "quantity",
                                  "note", "recorded_by", "recorded_at")),
    "ledger": (m.ledger, ("seq", "kind", "partner", "country", "site", "asset", "year", "dated",
                          "usd", "corrects", "note", "recorded_by", "recorded_at")),
}
#: Columns an import reads (the rest are written by the office).
_IMPORT_COLUMNS = {
    "projects": ("country", "name"),
    "partners": ("id", "name", "kind", "country"),
    "sites": ("id", "country", "name", "planned_mw", "plan_site"),
    "milestones": ("country", "site", "kind", "due", "done", "quantity", "note"),
    "ledger": ("kind", "partner", "country", "site", "asset", "year", "dated", "usd", "corrects",
               "note"),
}


def _table_name(name: str) -> str:
    if name not in CSV_TABLES:
        raise LookupError(name)
    return name


def export_csv(engine: Engine, who: Principal, name: str) -> str:
    """The table as CSV, only the rows ``who`` may read (partners: the programme-wide ones
    and those of the countries ``who`` reads)."""
    table, columns = CSV_TABLES[_table_name(name)]
    with engine.connect() as conn:
        rows = conn.execute(select(*[table.c[c] for c in columns], table.c.country)).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    readable: dict[str | None, bool] = {}
    for *values, country in rows:
        if country not in readable:
            readable[country] = who.reads(country) or (name == "partners" and country is None)
        if readable[country]:
            writer.writerow(values)  # csv writes None as "" and a date as YYYY-MM-DD
    return out.getvalue()


def import_csv(engine: Engine, who: Principal, name: str, text: str,
               filename: str = "upload.csv") -> int:
    """Add every row of ``text`` to table ``name`` in one transaction (all or nothing);
    returns the number of rows. Errors name the file, line and field."""
    _table_name(name)
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or [])
    required = set(_IMPORT_COLUMNS[name]) - {"site", "planned_mw", "plan_site", "note",
                                              "corrects", "due", "done", "quantity", "country"}
    if name != "partners":
        required.add("country")
    missing = required - header
    if missing:
        raise UserError(f"{filename}:1: missing column(s) {', '.join(sorted(missing))}; "
                        f"{name}.csv has {', '.join(_IMPORT_COLUMNS[name])}")
    count = 0
    with engine.begin() as conn:
        for lineno, raw in enumerate(reader, start=2):
            data = {k: raw.get(k) for k in _IMPORT_COLUMNS[name] if k in raw}
            where = f"{filename}:{lineno}: "
            if name == "partners":
                if not who.edits(None):
                    raise PermissionError(None)
                p = parse(PartnerIn, data, where)
                if _exists(conn, m.partners, id=p.id):
                    raise UserError(f"{where}id: partner {p.id!r} exists already")
                row = p.model_dump()
                conn.execute(insert(m.partners).values(**row))
                record_trail(conn, who, "partner.import", f"partner:{p.id}", p.country, None, row)
            elif name == "projects":
                if not who.edits(None):
                    raise PermissionError(None)
                add_project(engine, who, str(data.get("country") or ""),
                            str(data.get("name") or "").strip() or "country project", where, conn)
            elif name == "sites":
                add_site(engine, who, data, where, conn)
            elif name == "milestones":
                add_milestone(engine, who, data, where, conn)
            else:
                add_ledger_entry(engine, who, data, where, conn)
            count += 1
    return count


class _tx:
    """The caller's connection (already in a transaction) or a new transaction."""

    def __init__(self, engine: Engine, conn: Connection | None) -> None:
        self.engine, self.conn = engine, conn
        self._ctx: Any = None

    def __enter__(self) -> Connection:
        if self.conn is not None:
            return self.conn
        self._ctx = self.engine.begin()
        return self._ctx.__enter__()  # type: ignore[no-any-return]

    def __exit__(self, *exc: Any) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(*exc)


def countries_of(rows: Iterable[dict[str, Any]]) -> list[str]:
    return sorted({r["country"] for r in rows if r.get("country")})
