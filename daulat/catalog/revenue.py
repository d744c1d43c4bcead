"""Who pays for the assistant, and at what price: ``data/revenue.csv``.

Each row is one figure of one revenue *line* (subscriptions, a government licence for
public servants, API and enterprise use by the token) with its payer, range and source.
``applies_to`` is a country (ISO3), a World Bank income group (HIC, UMC, LMC, LIC) or
``*``; the most specific row wins. :func:`revenue_inputs` resolves them per country for the
planner, which writes them into the plan directory (``inputs_revenue``) for finance.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from daulat.errors import UserError

__all__ = ["REVENUE_CSV", "REVENUE_LINES", "RevenueFigure", "find_revenue", "load_revenue",
           "revenue_inputs"]

REVENUE_CSV = Path(__file__).resolve().parent / "data" / "revenue.csv"

#: The figures every country gets (one row each in :func:`revenue_inputs`).
REVENUE_LINES = (
    "subscription_price_usd_per_month",
    "paying_share",
    "public_servant_share",
    "government_seat_usd_per_month",
    "api_usd_per_million_output_tokens",
    "api_token_share",
    "already_served_share",
    # what the site owners keep of each line (daulat.finance.revenue.DEDUCTIONS)
    "consumer_vat_rate",
    "store_payment_fee_share",
    "model_development_share",
    "sales_support_share",
)


@dataclass(frozen=True)
class RevenueFigure:
    """One sourced figure: ``value`` in ``unit`` (range ``low``..``high``) for ``applies_to``."""

    line: str
    applies_to: str
    value: float
    low: float
    high: float
    unit: str
    payer: str
    kind: str
    source: str


@functools.lru_cache(maxsize=1)
def load_revenue() -> tuple[RevenueFigure, ...]:
    """Every row of ``data/revenue.csv``."""
    out = []
    with REVENUE_CSV.open(newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            try:
                fig = RevenueFigure(r["line"], r["applies_to"], float(r["value"]),
                                    float(r["low"]), float(r["high"]), r["unit"], r["payer"],
                                    r["kind"], r["source"])
            except (KeyError, ValueError) as exc:
                raise UserError(f"{REVENUE_CSV}:{i}: {exc}") from exc
            if not fig.low <= fig.value <= fig.high:
                raise UserError(f"{REVENUE_CSV}:{i}: {fig.line} value {fig.value} is outside "
                                f"its range {fig.low}..{fig.high}")
            out.append(fig)
    return tuple(out)


def find_revenue(line: str, iso3: str, income_group: str) -> RevenueFigure | None:
    """``line``'s most specific row for a country: its own, its income group's, else ``*``
    (None when the catalog has none)."""
    rows = [f for f in load_revenue() if f.line == line]
    for key in (iso3, income_group, "*"):
        for f in rows:
            if f.applies_to == key:
                return f
    return None


def _pick(line: str, iso3: str, income_group: str) -> RevenueFigure:
    found = find_revenue(line, iso3, income_group)
    if found is None:
        raise UserError(f"{REVENUE_CSV}: no {line} row for {iso3} ({income_group}) and no "
                        "'*' row; add one")
    return found


def revenue_inputs(countries: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """The revenue figures of each ``(iso3, income_group)``: columns country, line, payer,
    value, unit, low, high, source (one row per country and :data:`REVENUE_LINES` entry)."""
    rows = []
    for iso3, group in countries:
        for line in REVENUE_LINES:
            f = _pick(line, iso3, group or "")
            rows.append({"country": iso3, "line": line, "payer": f.payer, "value": f.value,
                         "unit": f.unit, "low": f.low, "high": f.high,
                         "source": f"{f.kind}: {f.source}"})
    return pd.DataFrame(rows, columns=["country", "line", "payer", "value", "unit", "low",
                                       "high", "source"])
