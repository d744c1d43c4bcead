"""The report's words and numbers in the reader's language.

Strings live in ``locales/<lang>.yaml`` (one file per language, the same keys in each);
numbers, money, percentages and dates are formatted by babel for the language's locale
(``1.234.567`` and ``US$1,2 M`` in Indonesian, ``1,234,567`` and ``$1.2B`` in English).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from daulat import formatting
from daulat.errors import UserError

__all__ = ["LANGUAGES", "Formatter", "Strings", "languages", "load_strings"]


def languages() -> list[str]:
    """Languages with a locale file, e.g. ``['en', 'id']``."""
    folder = resources.files("daulat.report").joinpath("locales")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


LANGUAGES: tuple[str, ...] = ("en", "id")


@dataclass(frozen=True)
class Strings:
    """The strings of one language; ``t('summary.build', n=...)`` looks up and fills one."""

    lang: str
    data: dict[str, Any]

    def t(self, key: str, **values: Any) -> str:
        """The string at dotted ``key``, with ``{placeholders}`` filled from ``values``."""
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"locales/{self.lang}.yaml: no string {key!r}")
            node = node[part]
        return str(node).format(**values) if values else str(node)

    def input_label(self, name: str, label: str | None = None) -> str:
        """The words for a risk input: its locale string (``inputs.<name>``), for a revenue
        figure (``revenue:<figure>``) "Revenue: " and its name (``revenue_figures.<figure>``),
        or for a demand or fleet figure (``demand:<id>``, its ``label`` from the risk
        tables) "Demand: …"."""
        if name.startswith("revenue:"):
            figure = self.t(f"revenue_figures.{name.removeprefix('revenue:')}")
            return self.t("inputs.revenue_figure", figure=figure)
        try:
            return self.t(f"inputs.{name}")
        except KeyError:
            if not name.startswith("demand:"):
                raise
        what = label if label and label == label else name.removeprefix("demand:")
        return self.t("inputs.demand_factor", factor=what)


@lru_cache(maxsize=8)
def load_strings(lang: str) -> Strings:
    """Load ``locales/<lang>.yaml`` (UserError naming the valid languages if there is none)."""
    valid = languages()
    if lang not in valid:
        raise UserError(f"--lang: {lang!r} is not a report language; use one of"
                        f" {', '.join(valid)}")
    text = resources.files("daulat.report").joinpath("locales", f"{lang}.yaml").read_text(
        encoding="utf-8")
    return Strings(lang, yaml.safe_load(text))


@dataclass(frozen=True)
class Formatter:
    """Numbers, money and dates for one babel ``locale`` in one ``currency``.

    A thin binding of :mod:`daulat.formatting` (the one formatter of the whole toolkit) to a
    locale and currency, so report code writes ``f.money(x)``.
    """

    locale: str
    currency: str = "USD"

    def money(self, x: float | None) -> str:
        """Compact money, e.g. ``$332.6M`` / ``US$332,6 jt``; cents under a thousand."""
        return formatting.format_money(x, self.locale, currency=self.currency)

    def signed_money(self, x: float | None) -> str:
        """Compact money with a sign for a change, e.g. ``+$1.2B``."""
        return formatting.format_signed_money(x, self.locale, currency=self.currency)

    def money_full(self, x: float | None) -> str:
        """Money to the unit, e.g. ``$1,234,567`` / ``US$1.234.567``."""
        return formatting.format_money(x, self.locale, compact=False, currency=self.currency)

    def price(self, x: float | None) -> str:
        """A unit price with cents, e.g. ``$1.00`` / ``US$1,00``."""
        return formatting.format_price(x, self.locale, currency=self.currency)

    def number(self, x: float | None, digits: int = 0) -> str:
        """A grouped number with ``digits`` decimals."""
        return formatting.format_number(x, self.locale, digits)

    def compact(self, x: float | None) -> str:
        """A compact number, e.g. ``51.7M`` / ``51,7 jt``."""
        return formatting.format_compact(x, self.locale)

    def pct(self, x: float | None, digits: int = 1) -> str:
        """A percentage with ``digits`` decimals, from a fraction."""
        return formatting.format_percent(x, self.locale, digits)

    def mw(self, x: float | None) -> str:
        """Megawatts with one decimal."""
        return formatting.format_mw(x, self.locale)

    def year(self, y: float | int | None) -> str:
        """A year as a label: ``2027``."""
        return formatting.format_year(y)

    def date(self, d: dt.date) -> str:
        """A long date, e.g. ``November 27, 2026`` / ``27 November 2026``."""
        return formatting.format_date(d, self.locale)

    @property
    def separators(self) -> str:
        """Plotly's ``layout.separators``: decimal then group symbol of the locale."""
        return formatting.plotly_separators(self.locale)
