"""Errors a user can act on, as one documented tree (as httpx's ``_exceptions.py``).

Raise :class:`UserError` (or one of its subclasses) for bad input anywhere in the package:
the CLI prints its message (which must name the file, line or field, the bad value and
what is valid) and exits with status 2, never with a traceback. Catch the subclass you
can handle, never ``Exception``.

::

    UserError                 bad input: a file, a field, an option
    ├── ScenarioError         a scenario file that does not validate
    ├── PackError             a country policy pack that is missing or does not validate
    ├── PlanDirectoryError    not a plan directory, a foreign one, or an older format
    ├── StoreError            the gateway's store cannot be reached or opened
    └── CountryCodeError      not an ISO 3166-1 alpha-3 country code
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CountryCodeError", "PackError", "PlanDirectoryError", "ScenarioError", "StoreError",
           "UserError"]


class UserError(Exception):
    """Bad input from the user: a file, a field, an option. Exit status 2 in the CLI."""

    exit_code = 2


class ScenarioError(UserError):
    """A scenario file that does not validate (every problem listed, with file:line:col)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        #: One ``file:line:col: field.path: bad value — what is valid`` line per problem.
        self.problems: list[str] = list(problems) or [message]


class PackError(UserError):
    """A country policy pack that does not validate; its country is served nowhere new."""


class StoreError(UserError):
    """The gateway's store (SQLite file, PostgreSQL server) cannot be reached or opened;
    the message names the URL (password hidden) and the driver's own reason."""


class PlanDirectoryError(UserError):
    """Not a plan directory written by ``daulat plan``, a foreign one or an older format."""


class CountryCodeError(UserError, ValueError):
    """Not an ISO 3166-1 alpha-3 country code (the message suggests close codes)."""
