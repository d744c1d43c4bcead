r"""One way to print numbers, money, percentages and years, in the reader's language.

Every figure daulat shows — CLI tables, the demo, diagnostics, the report — goes through
these functions, so a billion dollars reads the same everywhere: ``$1.2B`` in English,
``US$1,2 M`` in Indonesian (``M`` is *miliar*, a billion; ``jt`` is *juta*, a million).
babel (CLDR data) does the work; this module only fixes the choices:

- ``locale`` is a language (``"en"``, ``"id"``) or a babel locale (``"en_US"``, ``"id_ID"``).
- A missing value (``None``, NaN, infinity) prints as ``—``, never ``nan``.
- A year is a label, not a quantity: ``format_year(2027)`` is ``2027``, never ``2,027``.
- Compact money and numbers join the unit with a no-break space (``US$1,2\u00a0M``).
- Money under a thousand keeps its cents (``$0.21``); above, compact money keeps one
  decimal (``$332.6M``).

>>> format_money(1.234e9)
'$1.2B'
>>> format_money(332.6e6, "id")
'US$332,6\xa0jt'
>>> format_number(1234567.891, "id", digits=1)
'1.234.567,9'
>>> format_percent(0.125)
'12.5%'
>>> format_year(2027.0)
'2027'
"""

from __future__ import annotations

import datetime as dt
import math

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
)
from babel.numbers import format_percent as _babel_percent

from daulat.errors import UserError

__all__ = [
    "MISSING",
    "babel_locale",
    "format_compact",
    "format_date",
    "format_money",
    "format_mw",
    "format_number",
    "format_percent",
    "format_price",
    "format_signed_money",
    "format_year",
    "plotly_separators",
]

#: What a missing or non-finite value prints as.
MISSING = "—"

#: The babel locale for each short language code daulat speaks.
_LOCALES = {"en": "en_US", "id": "id_ID"}

#: Below this many currency units money keeps its cents (``$0.21``, ``$950.00``).
_CENTS_BELOW = 1_000.0


def babel_locale(locale: str) -> str:
    """``"en"`` → ``"en_US"``; a babel locale is returned as it is (UserError if unknown)."""
    name = _LOCALES.get(locale, locale)
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError) as exc:
        raise UserError(f"locale {locale!r} is not known to babel; use one of"
                        f" {', '.join(sorted(_LOCALES))} or a locale such as en_GB") from exc
    return name


def _finite(x: float | int | None) -> float | None:
    if x is None or isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def format_money(usd: float | None, locale: str = "en", compact: bool = True, *,
                 currency: str = "USD", digits: int = 1) -> str:
    """Money in ``currency``: ``$1.2B`` / ``US$1,2 M`` when ``compact`` (``digits`` decimals),
    ``$1,234,567`` / ``US$1.234.567`` to the unit otherwise; cents under a thousand."""
    v = _finite(usd)
    if v is None:
        return MISSING
    loc = babel_locale(locale)
    if abs(v) < _CENTS_BELOW:
        return format_currency(v, currency, locale=loc)
    if compact:
        return format_compact_currency(v, currency, locale=loc, fraction_digits=digits)
    return format_currency(v, currency, locale=loc, format="¤#,##0", currency_digits=False)


def format_signed_money(usd: float | None, locale: str = "en", compact: bool = True, *,
                        currency: str = "USD") -> str:
    """Money with an explicit sign for a change: ``+$1.2B``, ``-$300.0M``."""
    v = _finite(usd)
    text = format_money(v, locale, compact, currency=currency)
    return ("+" + text) if v is not None and v > 0 else text


def format_price(usd: float | None, locale: str = "en", *, currency: str = "USD") -> str:
    """A unit price with cents at any size: ``$1.00``, ``$2,450.00`` / ``US$1,00``."""
    v = _finite(usd)
    if v is None:
        return MISSING
    return format_currency(v, currency, locale=babel_locale(locale))


def format_number(x: float | None, locale: str = "en", digits: int = 0) -> str:
    """A grouped number with ``digits`` decimals: ``1,234,568`` / ``1.234.567,9``."""
    v = _finite(x)
    if v is None:
        return MISSING
    return format_decimal(v, format=_pattern(digits), locale=babel_locale(locale))


def format_compact(x: float | None, locale: str = "en", digits: int = 1) -> str:
    """A compact count: ``51.7M`` / ``51,7 jt``; under a thousand, the whole number."""
    v = _finite(x)
    if v is None:
        return MISSING
    loc = babel_locale(locale)
    if abs(v) < 1_000:
        return format_decimal(v, format=_pattern(0), locale=loc)
    return format_compact_decimal(v, locale=loc, fraction_digits=digits)


def format_percent(x: float | None, locale: str = "en", digits: int = 1) -> str:
    """A fraction as a percentage: ``0.125`` → ``12.5%`` / ``12,5%``."""
    v = _finite(x)
    if v is None:
        return MISSING
    return _babel_percent(v, format=_pattern(digits) + "%", locale=babel_locale(locale))


def format_mw(x: float | None, locale: str = "en", digits: int = 1) -> str:
    """Facility power in megawatts: ``1,388.0 MW`` / ``1.388,0 MW``."""
    return f"{format_number(x, locale, digits)} MW"


def format_year(y: float | int | str | None) -> str:
    """A calendar year as a label: ``2027`` (never ``2,027`` or ``2027.0``)."""
    if isinstance(y, str):
        y = float(y) if y.strip() else None
    v = _finite(y)
    return MISSING if v is None else str(int(round(v)))


def format_date(d: dt.date, locale: str = "en") -> str:
    """A long date: ``November 27, 2026`` / ``27 November 2026``."""
    return _babel_date(d, format="long", locale=babel_locale(locale))


def plotly_separators(locale: str = "en") -> str:
    """Plotly's ``layout.separators`` for the locale: decimal then group symbol."""
    loc = babel_locale(locale)
    return get_decimal_symbol(loc) + get_group_symbol(loc)
