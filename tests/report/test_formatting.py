"""daulat.formatting: one way to print money, numbers, percentages and years."""

from __future__ import annotations

import doctest
import math

import pytest

from daulat import formatting
from daulat.errors import UserError
from daulat.formatting import (
    format_compact,
    format_money,
    format_mw,
    format_number,
    format_percent,
    format_price,
    format_signed_money,
    format_year,
    plotly_separators,
)
from daulat.report.text import Formatter


@pytest.mark.parametrize(("usd", "locale", "text"), [
    (1.234e9, "en", "$1.2B"),
    (1.234e9, "id", "US$1,2\u00a0M"),        # M = miliar (a billion) in Indonesian
    (332.6e6, "en", "$332.6M"),
    (332.6e6, "id", "US$332,6\u00a0jt"),      # jt = juta (a million)
    (-8.5e9, "en", "-$8.5B"),
    (0.21, "en", "$0.21"),               # cents kept under a thousand, never "$0.2"
    (0.21, "id", "US$0,21"),
])
def test_money_reads_the_same_everywhere(usd: float, locale: str, text: str) -> None:
    assert format_money(usd, locale) == text


def test_money_to_the_unit_and_signed() -> None:
    assert format_money(1_234_567.4, "en", compact=False) == "$1,234,567"
    assert format_money(1_234_567.4, "id", compact=False) == "US$1.234.567"
    assert format_signed_money(1.5e6) == "+$1.5M"
    assert format_signed_money(-1.5e6) == "-$1.5M"
    assert format_price(2450, "en") == "$2,450.00"


def test_numbers_percent_and_power_follow_the_locale() -> None:
    assert format_number(1234567.891, "en", 1) == "1,234,567.9"
    assert format_number(1234567.891, "id", 1) == "1.234.567,9"
    assert format_compact(51.7e6, "id") == "51,7\u00a0jt"
    assert format_compact(950, "en") == "950"
    assert format_percent(0.125, "en") == "12.5%"
    assert format_percent(0.125, "id") == "12,5%"
    assert format_mw(1388, "en") == "1,388.0 MW"
    assert plotly_separators("id") == ",."


@pytest.mark.parametrize("year", [2027, 2027.0, "2027", 2026.9999])
def test_a_year_is_a_label_not_a_quantity(year: float | int | str) -> None:
    assert format_year(year) == "2027"


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
def test_missing_values_print_as_a_dash_not_nan(missing: float | None) -> None:
    for text in (format_money(missing), format_number(missing), format_percent(missing),
                 format_year(missing)):
        assert text == "—"


def test_unknown_locale_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="'xx_YY'.*en, id"):
        format_money(1.0, "xx_YY")


def test_report_formatter_delegates_to_the_one_formatter() -> None:
    f = Formatter("id_ID")
    assert f.money(332.6e6) == format_money(332.6e6, "id")
    assert f.year(2027) == "2027"
    assert f.pct(0.5, 0) == "50%"


def test_the_module_examples_hold() -> None:
    result = doctest.testmod(formatting)
    assert result.attempted >= 5 and result.failed == 0
