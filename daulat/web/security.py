"""Who may do what: argon2 passwords, roles, login throttling, CSRF tokens.

Roles (checked on the server for every route, see :mod:`daulat.web.app`):

- ``provider``: the provider's programme office — reads and edits everything;
- ``government``: a partner government's team — reads and edits its own country only;
- ``auditor``: reads everything, edits nothing.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, insert, select

from daulat.errors import UserError
from daulat.iso3 import check_iso3
from daulat.web import models as m

__all__ = [
    "Principal",
    "Role",
    "authenticate",
    "check_country",
    "create_user",
    "csrf_ok",
    "new_csrf_token",
]

_hasher = PasswordHasher()  # argon2id, the library's (RFC 9106) default parameters
MIN_PASSWORD_CHARS = 10


class Role(StrEnum):
    PROVIDER = "provider"
    GOVERNMENT = "government"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Principal:
    """The user behind a request."""

    username: str
    role: Role
    country: str | None = None

    def reads(self, country: str | None) -> bool:
        """May read data of ``country`` (None: programme-wide data)."""
        if self.role is Role.GOVERNMENT:
            return country is not None and country == self.country
        return True

    def edits(self, country: str | None) -> bool:
        """May change data of ``country`` (None: programme-wide data such as partners)."""
        if self.role is Role.PROVIDER:
            return True
        if self.role is Role.GOVERNMENT:
            return country is not None and country == self.country
        return False

    def reads_all(self, countries: list[str]) -> bool:
        """May read something that spans ``countries`` (a plan): every one of them."""
        return all(self.reads(c) for c in countries) if countries else self.reads(None)


def check_country(code: str, field: str = "country") -> str:
    """``code`` as an upper-case ISO 3166-1 alpha-3 code; the error names ``field``."""
    try:
        return check_iso3(code)
    except UserError as exc:
        raise type(exc)(f"{field}: {exc}") from None


def create_user(engine: Engine, username: str, password: str, role: str,
                country: str | None = None) -> Principal:
    """Add a user (argon2id hash of ``password``); a government user needs its country."""
    try:
        r = Role(role)
    except ValueError:
        raise UserError(f"--role {role!r}: valid roles are provider, government, auditor") from None
    if not username or len(username) > 64 or not username.replace("-", "").replace(
            "_", "").replace(".", "").replace("@", "").isalnum():
        raise UserError(f"username {username!r}: 1–64 letters, digits, - _ . @")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password: at least {MIN_PASSWORD_CHARS} characters")
    iso3 = check_country(country, "--country") if country else None
    if r is Role.GOVERNMENT and iso3 is None:
        raise UserError("--role government needs --country ISO3 (the government's country)")
    if r is not Role.GOVERNMENT and iso3 is not None:
        raise UserError(f"--country is only for --role government (a {r} user sees every "
                        "country)")
    with engine.begin() as conn:
        if conn.execute(select(m.users.c.username).where(m.users.c.username == username)).first():
            raise UserError(f"user {username!r} exists already")
        conn.execute(insert(m.users).values(username=username,
                                            password_hash=_hasher.hash(password), role=r.value,
                                            country=iso3, created_at=time.time(),
                                            disabled=False))
    return Principal(username, r, iso3)


class Throttled(UserError):
    """Too many failed logins for this user or address; try again later."""


def authenticate(engine: Engine, username: str, password: str, ip: str, *,
                 max_failures: int, window_s: float,
                 max_failures_per_address: int | None = None) -> Principal | None:
    """The user when ``password`` is right; None when wrong; :class:`Throttled` when the
    user has failed ``max_failures`` times within ``window_s``, or the address
    ``max_failures_per_address`` times (default 10 × ``max_failures``: many users share
    an address behind a proxy, so one user's mistakes do not lock the others out).

    A wrong password for an unknown user costs the same argon2 work as for a known one,
    so timing does not tell which usernames exist."""
    per_address = max_failures_per_address or 10 * max_failures
    now = time.time()
    f = m.login_failures.c
    with engine.begin() as conn:
        conn.execute(delete(m.login_failures).where(f.ts < now - window_s))
        by_user = conn.execute(select(func.count()).select_from(m.login_failures)
                               .where(f.username == username)).scalar_one()
        by_address = conn.execute(select(func.count()).select_from(m.login_failures)
                                  .where(f.ip == ip)).scalar_one()
    if by_user >= max_failures or by_address >= per_address:
        raise Throttled(f"too many failed logins; try again in {window_s / 60:.0f} minutes")
    with engine.connect() as conn:
        row = conn.execute(select(m.users).where(m.users.c.username == username)).first()
    stored = row.password_hash if row is not None and not row.disabled else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password) and row is not None and not row.disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None:
        with engine.begin() as conn:
            conn.execute(insert(m.login_failures).values(username=username[:64], ip=ip[:64],
                                                         ts=now))
        return None
    with engine.begin() as conn:
        conn.execute(delete(m.login_failures).where(m.login_failures.c.username == username))
    return Principal(row.username, Role(row.role), row.country)


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def new_csrf_token() -> str:
    """A fresh per-session token for forms and htmx calls."""
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token on either side fails."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
