"""The audit log: every request's decision, append-only and hash-chained.

Record *n* stores ``hash_n = sha256(hash_{n-1} + "\\n" + canonical_json(record_n))`` where
``record_n`` includes its own ``seq`` and ``ts``; the chain head (last seq and hash) lives in
its own row, updated in the same transaction. Editing, deleting (inside or at the tail) or
reordering records therefore breaks a link that :func:`verify_chain` reports.

The :class:`Recorder` writes audit records, usage counters and kept bodies together, in one
transaction per batch (group commit on a writer thread), and only then releases the waiting
requests — a request is acknowledged to its client after its record is durable, so a
``kill -9`` loses no acknowledged request and never leaves half a batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from daulat.store import models as m
from daulat.store.store import utc_day

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditStoreError",
    "Recorder",
    "VerifyReport",
    "anchor",
    "canonical_json",
    "chain_hash",
    "verify_chain",
    "tail",
]

GENESIS = "0" * 64
_VERIFY_PAGE = 5000


class AuditStoreError(Exception):
    """An audit record (with its usage and bodies) could not be written to the store.

    Raised to the request that owns the record only: a batch whose write fails is written
    again record by record, so one bad row never loses the others.
    """


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the bytes the hash covers."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, record_json: str) -> str:
    """The hash of a record given the previous record's hash."""
    return hashlib.sha256(f"{prev_hash}\n{record_json}".encode()).hexdigest()


@dataclass
class AuditEntry:
    """One request's decision, plus what it adds to usage and the bodies it may keep."""

    request_id: str
    record: dict[str, Any]  # tenant, country, model, upstream, jurisdiction, status, ...
    tenant: str | None = None
    country: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rejected: bool = False
    body_request: str | None = None  # redacted; kept only if retention allows
    body_response: str | None = None
    retention_s: float = 0.0
    ts: float = field(default_factory=time.time)


# The hot path's statements as plain SQL (portable between SQLite ≥ 3.24 and PostgreSQL):
# building SQLAlchemy constructs per batch costs more than the database work itself.
_SQL = {
    "head": "SELECT seq, hash FROM daulat_audit_head WHERE id = 1",
    "audit": "INSERT INTO daulat_audit (seq, ts, request_id, record, prev_hash, hash) "
             "VALUES (?, ?, ?, ?, ?, ?)",
    "usage": "INSERT INTO daulat_usage (tenant, country, day, requests, prompt_tokens, "
             "completion_tokens, rejected) VALUES (?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (tenant, country, day) DO UPDATE SET "
             "requests = daulat_usage.requests + excluded.requests, "
             "prompt_tokens = daulat_usage.prompt_tokens + excluded.prompt_tokens, "
             "completion_tokens = daulat_usage.completion_tokens + excluded.completion_tokens, "
             "rejected = daulat_usage.rejected + excluded.rejected",
    "bodies": "INSERT INTO daulat_bodies (request_id, tenant, country, ts, expires_at, request, "
              "response, kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "move": "UPDATE daulat_audit_head SET seq = ?, hash = ? WHERE id = 1",
}
_SQL_PG = {k: v.replace("?", "%s") + (" FOR UPDATE" if k == "head" else "")
           for k, v in _SQL.items()}


def _text(value: str | None, postgres: bool) -> str | None:
    """A kept body as the store can hold it: PostgreSQL text cannot contain NUL (U+0000),
    which a client may send; it is kept as U+FFFD, the replacement character."""
    if value is None or not postgres or "\x00" not in value:
        return value
    return value.replace("\x00", "\ufffd")


def _write_batch(engine: Engine, entries: list[AuditEntry]) -> None:
    """Append ``entries`` to the chain, add their usage and kept bodies: one transaction."""
    usage_rows: dict[tuple[str, str, str], list[Any]] = {}
    body_rows: list[tuple[Any, ...]] = []
    audit_rows: list[tuple[Any, ...]] = []
    # A raw DB-API connection from the pool: this runs once per batch on the hot path, and
    # SQLAlchemy's per-statement machinery would cost more than the database work.
    postgres = engine.dialect.name == "postgresql"
    sql = _SQL_PG if postgres else _SQL
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if not postgres:
            cur.execute("BEGIN IMMEDIATE")  # take the write lock before reading the head
        cur.execute(sql["head"])
        head = cur.fetchone()
        if head is None:
            raise AuditStoreError("the audit chain head row is missing; run `daulat store migrate`")
        seq, prev = int(head[0]), str(head[1])
        for e in entries:
            seq += 1
            rec = {**e.record, "seq": seq, "ts": round(e.ts, 6), "request_id": e.request_id}
            text = canonical_json(rec)
            digest = chain_hash(prev, text)
            audit_rows.append((seq, e.ts, e.request_id, text, prev, digest))
            prev = digest
            if e.tenant and e.country:
                key = (e.tenant, e.country, utc_day(e.ts))
                row = usage_rows.setdefault(key, [*key, 0, 0, 0, 0])
                if e.rejected:
                    row[6] += 1
                else:
                    row[3] += 1
                    row[4] += e.prompt_tokens
                    row[5] += e.completion_tokens
            if e.retention_s > 0 and e.tenant and e.country and (e.body_request or e.body_response):
                body_rows.append((e.request_id, e.tenant, e.country, e.ts, e.ts + e.retention_s,
                                  _text(e.body_request, postgres),
                                  _text(e.body_response, postgres), True))
        cur.executemany(sql["audit"], audit_rows)
        if usage_rows:
            cur.executemany(sql["usage"], [tuple(r) for r in usage_rows.values()])
        if body_rows:
            cur.executemany(sql["bodies"], body_rows)
        cur.execute(sql["move"], (seq, prev))
        cur.close()
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()  # back to the pool


class Recorder:
    """Group-commit writer of audit entries.

    ``await recorder.record(entry)`` returns once the entry is committed. Entries that
    arrive in the same event-loop iteration are written in one transaction; the write runs
    on a dedicated thread (``threaded=True``, so a busy database never stalls the event
    loop) or directly on the loop (lowest latency: no thread hand-off per request).
    """

    def __init__(self, engine: Engine, batch: int = 256, *, threaded: bool = False) -> None:
        self.engine = engine
        self.batch = batch
        self.threaded = threaded
        self.written = 0
        self.failed = 0
        self._pending: list[tuple[AuditEntry, asyncio.Future[None]]] = []
        self._scheduled = False
        self._q: queue.Queue[list[tuple[AuditEntry, asyncio.Future[None],
                                        asyncio.AbstractEventLoop]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="daulat-audit", daemon=True)
            self._thread.start()

    async def record(self, entry: AuditEntry) -> None:
        """Queue ``entry`` and wait until it is durable (raises if the write failed)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._pending.append((entry, fut))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush, loop)
        await fut

    def record_sync(self, entry: AuditEntry) -> None:
        """Write ``entry`` now from a non-async caller (CLI, tests)."""
        _write_batch(self.engine, [entry])

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        while self._pending:
            items = self._pending[: self.batch]
            del self._pending[: self.batch]
            if self.threaded:
                self._q.put([(e, f, loop) for e, f in items])
                continue
            errors = self._write([e for e, _ in items])
            for (_, fut), error in zip(items, errors, strict=True):
                _resolve(fut, error)

    def _write(self, entries: list[AuditEntry]) -> list[BaseException | None]:
        """Write ``entries`` in one transaction; if it fails, each on its own, so only the
        records that cannot be written fail (each error goes to its own request)."""
        errors: list[BaseException | None]
        try:
            _write_batch(self.engine, entries)
            errors = [None] * len(entries)
        except self._db_errors as exc:
            if len(entries) == 1:
                errors = [_store_error(exc)]
            else:
                errors = []
                for e in entries:
                    try:
                        _write_batch(self.engine, [e])
                        errors.append(None)
                    except self._db_errors as one:
                        errors.append(_store_error(one))
        failed = sum(err is not None for err in errors)
        self.failed += failed
        self.written += len(entries) - failed
        return errors

    @property
    def _db_errors(self) -> tuple[type[BaseException], ...]:
        # The DB-API module's own Error (sqlite3.Error, psycopg.Error) and SQLAlchemy's.
        dbapi = self.engine.dialect.loaded_dbapi
        return (dbapi.Error, SQLAlchemyError, AuditStoreError)

    def _run(self) -> None:
        while True:
            items = self._q.get()
            if items is None:
                return
            while len(items) < self.batch:  # merge batches queued meanwhile
                try:
                    more = self._q.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._q.put(None)
                    break
                items.extend(more)
            errors = self._write([e for e, _, _ in items])
            for (_, fut, loop), error in zip(items, errors, strict=True):
                loop.call_soon_threadsafe(_resolve, fut, error)

    def close(self) -> None:
        """Finish queued writes and stop the writer thread (if any)."""
        if self._thread is not None:
            self._q.put(None)
            self._thread.join(timeout=30)


def _store_error(exc: BaseException) -> AuditStoreError:
    if isinstance(exc, AuditStoreError):
        return exc
    err = AuditStoreError(f"the audit record could not be written: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}")
    err.__cause__ = exc
    return err


def _resolve(fut: asyncio.Future[None], error: BaseException | None) -> None:
    if fut.done():
        return
    if error is None:
        fut.set_result(None)
    else:
        fut.set_exception(error)


@dataclass
class VerifyReport:
    """What :func:`verify_chain` found."""

    ok: bool
    records: int
    head_seq: int
    problems: list[dict[str, Any]]  # {seq, kind: edited|deleted|reordered|truncated, detail}


def _rows(engine: Engine) -> Iterator[Any]:
    last = -1
    while True:
        with engine.begin() as conn:
            page = conn.execute(select(m.audit_log).where(m.audit_log.c.seq > last)
                                .order_by(m.audit_log.c.seq).limit(_VERIFY_PAGE)).all()
        if not page:
            return
        yield from page
        last = int(page[-1].seq)


def anchor(engine: Engine) -> dict[str, Any]:
    """The chain head to publish outside the database: ``{seq, hash, ts}`` (ts: UTC ISO 8601).

    A copy kept elsewhere (a ticket, a signed e-mail, a transparency log) lets
    ``verify_chain(anchor=...)`` detect even a rewrite of the whole chain.
    """
    with engine.begin() as conn:
        head = conn.execute(select(m.audit_head).where(m.audit_head.c.id == 1)).one()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"seq": int(head.seq), "hash": str(head.hash), "ts": now}


def _check_anchor(engine: Engine, mark: dict[str, Any]) -> dict[str, Any] | None:
    seq, digest = int(mark["seq"]), str(mark["hash"])
    if seq == 0:
        return None
    with engine.begin() as conn:
        row = conn.execute(select(m.audit_log.c.hash).where(m.audit_log.c.seq == seq)).first()
    if row is None:
        return {"seq": seq, "kind": "deleted",
                "detail": f"the anchored record {seq} (hash {digest[:12]}…) is gone"}
    if row.hash != digest:
        return {"seq": seq, "kind": "edited",
                "detail": f"the chain was rewritten: record {seq} has hash {row.hash[:12]}…, "
                          f"the anchor published {digest[:12]}…"}
    return None


def verify_chain(engine: Engine, max_problems: int = 20,
                 anchor: dict[str, Any] | None = None) -> VerifyReport:
    """Walk the whole chain; report every broken link (up to ``max_problems``).

    ``edited``: a record's content, or a column the record also holds (``ts``,
    ``request_id``), no longer matches its hash — or it was changed and its hash recomputed,
    which the next record's link (or the chain head) still exposes. ``deleted``: records
    missing inside the chain or at its end. ``reordered``: a record stored at another
    position than the one it was hashed at.
    """
    problems: list[dict[str, Any]] = []
    prev, expected_seq, count = GENESIS, 1, 0

    def problem(seq: int, kind: str, detail: str) -> None:
        if len(problems) < max_problems:
            problems.append({"seq": seq, "kind": kind, "detail": detail})

    for row in _rows(engine):
        count += 1
        seq = int(row.seq)
        try:
            rec = json.loads(row.record)
        except ValueError:
            rec = {}
        if chain_hash(row.prev_hash, row.record) != row.hash:
            problem(seq, "edited", "record content does not match its hash")
        elif rec.get("seq") != seq:
            problem(seq, "reordered", f"record {rec.get('seq')} is stored at position {seq}")
        elif rec.get("request_id") != row.request_id:
            problem(seq, "edited", f"column request_id is {row.request_id!r} but the hashed "
                    f"record says {rec.get('request_id')!r}")
        elif not isinstance(rec.get("ts"), int | float) or abs(float(rec["ts"]) - row.ts) > 1e-5:
            problem(seq, "edited", f"column ts is {row.ts!r} but the hashed record says "
                    f"{rec.get('ts')!r}")
        elif seq != expected_seq:
            problem(seq, "deleted", f"records {expected_seq}..{seq - 1} are missing")
        elif row.prev_hash != prev:
            problem(seq - 1, "edited", f"record {seq - 1} was changed and its hash recomputed: "
                    f"record {seq} still links to its original hash")
        prev, expected_seq = row.hash, seq + 1
    with engine.begin() as conn:
        head = conn.execute(select(m.audit_head).where(m.audit_head.c.id == 1)).one()
    if int(head.seq) != expected_seq - 1:
        problem(int(head.seq), "deleted",
                f"chain head says {head.seq} records but the log ends at {expected_seq - 1}")
    elif count and head.hash != prev:
        problem(int(head.seq), "edited", f"record {head.seq} was changed and its hash "
                "recomputed: the chain head still holds its original hash")
    if anchor is not None:
        found = _check_anchor(engine, anchor)
        if found is not None and len(problems) < max_problems:
            problems.append(found)
    return VerifyReport(ok=not problems, records=count, head_seq=int(head.seq), problems=problems)


def tail(engine: Engine, n: int = 20) -> list[dict[str, Any]]:
    """The last ``n`` audit records (decoded), oldest first."""
    with engine.begin() as conn:
        rows = conn.execute(select(m.audit_log).order_by(m.audit_log.c.seq.desc()).limit(n)).all()
    return [{**json.loads(r.record), "hash": r.hash} for r in reversed(rows)]
