"""Errors a user can act on.

Raise :class:`UserError` for bad input anywhere in the package: the CLI prints its
message (which must name the file, line or field, the bad value and what is valid) and
exits with status 2, never with a traceback.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Bad input from the user: a file, a field, an option. Exit status 2 in the CLI."""

    exit_code = 2
