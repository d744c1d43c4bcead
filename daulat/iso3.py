"""ISO 3166-1 alpha-3 country codes: one check, one pydantic type, for every module.

``check_iso3("idn") == "IDN"``; a code that is not an ISO 3166-1 alpha-3 country raises
:class:`~daulat.errors.CountryCodeError` whose message names the bad value and suggests
close codes (an alpha-2 code or a country name is mapped to its alpha-3 code). In a
pydantic model annotate the field with :data:`ISO3`; the error then carries the same
message (``CountryCodeError`` is a ``ValueError``, which pydantic reports as a field error).
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import Annotated

import pycountry
from pydantic import BeforeValidator

from daulat.errors import CountryCodeError

__all__ = ["ISO3", "check_iso3", "country_name", "iso3_codes"]


@cache
def iso3_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-3 code pycountry knows (249 countries and territories)."""
    return frozenset(c.alpha_3 for c in pycountry.countries)


def _suggestions(raw: str) -> list[str]:
    """Close alpha-3 codes for ``raw``: its alpha-2/name lookup first, then spelling."""
    found: list[str] = []
    try:
        hit = pycountry.countries.lookup(raw.strip())
    except LookupError:
        hit = None
    if hit is not None:
        found.append(hit.alpha_3)
    found += difflib.get_close_matches(raw.strip().upper(), sorted(iso3_codes()), n=3, cutoff=0.6)
    return list(dict.fromkeys(found))[:3]


def check_iso3(code: object) -> str:
    """``code`` as an upper-case ISO 3166-1 alpha-3 code, or :class:`CountryCodeError`.

    Surrounding spaces and case are forgiven (``" idn "`` → ``"IDN"``); anything else is
    an error that suggests close codes (``"ID"`` → ``IDN``, ``"INDO"`` → ``IND``, …).
    """
    if not isinstance(code, str):
        raise CountryCodeError(
            f"{code!r} is not an ISO 3166-1 alpha-3 country code: give three letters, e.g. 'IDN'"
        )
    norm = code.strip().upper()
    if norm in iso3_codes():
        return norm
    near = _suggestions(code)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise CountryCodeError(
        f"{code!r} is not an ISO 3166-1 alpha-3 country code{hint} "
        "(valid: three letters such as IDN, MYS, ARE; `daulat catalog list countries`)"
    )


def country_name(code: str) -> str:
    """The common English name of alpha-3 ``code`` (``IDN`` → ``Indonesia``)."""
    country = pycountry.countries.get(alpha_3=check_iso3(code))
    return str(getattr(country, "common_name", None) or country.name)  # type: ignore[union-attr]


#: A pydantic field type: an ISO 3166-1 alpha-3 code, normalised to upper case.
ISO3 = Annotated[str, BeforeValidator(check_iso3)]
