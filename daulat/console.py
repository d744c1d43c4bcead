"""Shared output helpers: rich for people, JSON for machines."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from rich.console import Console

from daulat.formatting import MISSING, format_money, format_number, format_year

__all__ = ["console", "err_console", "emit", "format_cell", "is_money_field", "is_year_field",
           "to_jsonable"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def to_jsonable(obj: Any) -> Any:
    """Convert dataclasses, pydantic models, numpy scalars and NaN into plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if hasattr(obj, "model_dump"):
        return to_jsonable(obj.model_dump(mode="json"))
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def emit(obj: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``obj`` as JSON on stdout when ``as_json``, else with ``render`` (rich)."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")
        return
    render(obj)


#: From this many dollars up a table shows money compact (``$919.4M``), below it in full.
_COMPACT_MONEY_FROM = 1e6


def is_year_field(name: str) -> bool:
    """Whether a field or column called ``name`` holds a calendar year (``year``,
    ``earliest_year``, ``year_from``, ``deadline year``; not ``hours_per_year``)."""
    words = name.lower().replace("-", "_").replace(" ", "_").split("_")
    return any(w == "year" and (i == 0 or words[i - 1] not in ("per", "a", "each"))
               for i, w in enumerate(words))


def is_money_field(name: str) -> bool:
    """Whether ``name`` says its value is in US dollars (``price_usd``, ``capex USD``,
    ``power_price_usd_per_mwh``)."""
    return "usd" in name.lower().replace("-", "_").replace(" ", "_").split("_")


def format_cell(value: Any, name: str = "", locale: str = "en") -> str:
    """One value of a CLI table as text, through :mod:`daulat.formatting`.

    A year (``name`` per :func:`is_year_field`) prints as ``2027``, never ``2,027``;
    money (``name`` per :func:`is_money_field`) as ``$33,750``, ``$919.4M`` from a million
    up, ``$0.92`` under a thousand;
    other numbers are grouped (``48,271,586``), floats under ten thousand keep four
    significant digits without trailing zeros (``0.72``, ``3,481``), very large or small
    ones are scientific (``1.5e+26``); a missing value is ``—``; lists and mappings are
    joined with commas.
    """
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and is_year_field(name) and 1000 <= value <= 9999:
        return format_year(value)
    if isinstance(value, int | float) and is_money_field(name):
        return format_money(value, locale, compact=abs(value) >= _COMPACT_MONEY_FROM)
    if isinstance(value, int):
        return format_number(value, locale)
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        if value != 0 and not 1e-3 <= abs(value) < 1e15:  # FLOP counts, tiny rates
            return f"{value:.3g}"
        if abs(value) >= 1e4:
            return format_number(value, locale)
        rounded = Decimal(f"{value:.4g}")
        exponent = rounded.as_tuple().exponent
        digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return format_number(float(rounded), locale, digits=digits)
    if isinstance(value, tuple | list):
        if value and isinstance(value[0], tuple | list):
            return ", ".join(f"{a} {format_cell(b)}" for a, b in value)
        return ", ".join(format_cell(v, name, locale) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={format_cell(v, str(k), locale)}" for k, v in value.items())
    return str(value)
