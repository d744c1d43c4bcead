"""Validators for identifiers python-stdnum does not cover (or covers differently).

Each function takes the matched text (separators included) and returns ``True`` when the
identifier is structurally valid. They run only on candidates found by the one-pass scan.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable

from stdnum import iban as std_iban
from stdnum import numdb
from stdnum.es import ccc as es_ccc
from stdnum.exceptions import ValidationError
from stdnum.no import kontonr as no_kontonr
from stdnum.util import get_cc_module

__all__ = [
    "emirates_id",
    "gb_nino",
    "sg_nric",
    "au_medicare",
    "sa_national_id",
    "kr_rrn_structure",
    "payment_card",
    "ip_address",
    "iban",
    "nik_date_plausible",
    "digits",
    "luhn_ok",
]

_NON_DIGITS = re.compile(r"\D")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def digits(text: str) -> str:
    """The digits of ``text``, separators removed."""
    return _NON_DIGITS.sub("", text)


_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_ok(number: str) -> bool:
    """ISO/IEC 7812-1 Luhn check of a digit string (what stdnum.luhn.is_valid computes,
    without its Unicode clean-up: these candidates are ASCII digits already)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        total += _LUHN_DOUBLE[d] if i % 2 else d
    return total % 10 == 0


def emirates_id(text: str) -> bool:
    """UAE Emirates ID: ``784-YYYY-NNNNNNN-C``; 784 is the ISO 3166 numeric code of the UAE,
    YYYY the holder's birth year and C a Luhn check digit over the 15 digits (ICP format)."""
    number = digits(text)
    if len(number) != 15 or not number.startswith("784"):
        return False
    year = int(number[3:7])
    if not 1900 <= year <= datetime.date.today().year:
        return False
    return luhn_ok(number)


# HMRC National Insurance Manual NIM39110: prefixes never issued; D, F, I, Q, U, V never
# used as either letter; O never the second letter; suffix A-D.
_NINO_BAD_FIRST = frozenset("DFIQUV")
_NINO_BAD_SECOND = frozenset("DFIQUVO")
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def gb_nino(text: str) -> bool:
    """UK National Insurance number ``AB 12 34 56 C`` (HMRC NIM39110 allocation rules)."""
    number = _NON_ALNUM.sub("", text).upper()
    if len(number) != 9 or not (number[:2].isalpha() and number[2:8].isdigit()):
        return False
    if number[0] in _NINO_BAD_FIRST or number[1] in _NINO_BAD_SECOND:
        return False
    if number[:2] in _NINO_BAD_PREFIX:
        return False
    return number[8] in "ABCD"


_SG_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)
_SG_LETTERS = {
    "ST": "JZIHGFEDCBA",
    "FG": "XWUTRQPNMLK",
    "M": "XWUTRQPNJLK",
}
_SG_OFFSET = {"S": 0, "T": 4, "F": 0, "G": 4, "M": 3}


def sg_nric(text: str) -> bool:
    """Singapore NRIC/FIN ``S1234567D``: weighted mod-11 check letter (ICA algorithm)."""
    number = text.upper()
    if len(number) != 9 or number[0] not in _SG_OFFSET or not number[1:8].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[1:8], _SG_WEIGHTS, strict=True))
    total += _SG_OFFSET[number[0]]
    table = next(v for k, v in _SG_LETTERS.items() if number[0] in k)
    return table[total % 11] == number[8]


_MEDICARE_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9)


def au_medicare(text: str) -> bool:
    """Australian Medicare card number: 10 digits (+ optional IRN), first digit 2-6, the
    ninth a weighted check digit over the first eight (Services Australia format)."""
    number = digits(text)
    if len(number) not in (10, 11) or number[0] not in "23456":
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], _MEDICARE_WEIGHTS, strict=True))
    return total % 10 == int(number[8])


def sa_national_id(text: str) -> bool:
    """Saudi national ID / Iqama: 10 digits, first 1 (citizen) or 2 (resident), Luhn."""
    number = digits(text)
    return len(number) == 10 and number[0] in "12" and luhn_ok(number)


def kr_rrn_structure(text: str) -> bool:
    """Korean resident registration number ``YYMMDD-GNNNNNN``.

    Since October 2020 the last six digits are assigned at random (no check digit), so a
    dashed number is accepted on its date and its gender/century digit alone; undashed
    numbers go through stdnum's check-digit validator instead (see the recognizer table).
    """
    number = digits(text)
    if len(number) != 13:
        return False
    century = {"1": 1900, "2": 1900, "3": 2000, "4": 2000, "5": 1900, "6": 1900,
               "7": 2000, "8": 2000, "9": 1800, "0": 1800}[number[6]]
    try:
        datetime.date(century + int(number[0:2]), int(number[2:4]), int(number[4:6]))
    except ValueError:
        return False
    return True


# ISO/IEC 7812 issuer prefixes of the networks in circulation, with their lengths.
_CARD_PREFIXES: tuple[tuple[tuple[int, int], tuple[int, ...]], ...] = (
    ((4, 4), (13, 16, 19)),  # Visa
    ((51, 55), (16,)),  # Mastercard
    ((2221, 2720), (16,)),  # Mastercard 2-series
    ((34, 34), (15,)),  # American Express
    ((37, 37), (15,)),  # American Express
    ((6011, 6011), (16, 19)),  # Discover
    ((644, 649), (16, 19)),  # Discover
    ((65, 65), (16, 19)),  # Discover / RuPay
    ((3528, 3589), (16, 19)),  # JCB
    ((62, 62), (16, 17, 18, 19)),  # UnionPay
    ((36, 36), (14,)),  # Diners
    ((300, 305), (14,)),  # Diners
    ((60, 60), (16,)),  # RuPay
    ((508, 508), (16,)),  # RuPay
    ((9792, 9792), (16,)),  # Troy
)


def payment_card(text: str) -> bool:
    """Payment card number: a known issuer prefix with its length, and the Luhn check."""
    number = digits(text)
    for (low, high), lengths in _CARD_PREFIXES:
        width = len(str(low))
        if len(number) in lengths and low <= int(number[:width]) <= high:
            return luhn_ok(number)
    return False


def ip_address(text: str) -> bool:
    """IPv4 or IPv6 address as parsed by :mod:`ipaddress`; IPv6 needs at least two colons
    so that times (``10:30``) and ratios never qualify."""
    colons = text.count(":")
    if colons == 1:
        return False
    # what ipaddress.ip_address does, without first trying (and failing) the other version:
    # an IPv4 address never contains ':' and an IPv6 address always does
    try:
        if colons:
            ipaddress.IPv6Address(text)
        else:
            ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


# IBAN: python-stdnum's own data and country modules, looked up once per country code
# instead of on every call (stdnum.iban.validate re-reads its database and recompiles the
# BBAN structure each time). ``iban(text) == stdnum.iban.is_valid(text)``; a test checks.
_IBAN_DB = numdb.get("iban")
_IBAN_STRUCT = re.compile(r"([1-9][0-9]*)!([nac])")
_IBAN_CHARS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
_IBAN_SEPARATORS = str.maketrans("", "", " -.")
# ISO 7064 mod 97-10 reads letters as two digits: A = 10 ... Z = 35
_BASE36 = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})
_IbanCountry = tuple["re.Pattern[str] | None", "Callable[[str], object] | None"]
_IBAN_COUNTRIES: dict[str, _IbanCountry] = {}
# Where stdnum's country IBAN module is "the generic check again, then the national
# account number's own check" (stdnum.no.iban, stdnum.es.iban), call that national check
# directly on the BBAN; other country modules are called whole.
_IBAN_NATIONAL: dict[str, Callable[[str], object]] = {
    "NO": lambda n: no_kontonr.validate(n[4:]),
    "ES": lambda n: es_ccc.validate(n[4:]),
}


def _iban_country(cc: str) -> _IbanCountry:
    found = _IBAN_COUNTRIES.get(cc)
    if found is None:
        props = _IBAN_DB.info(cc)[0][1]
        struct = None
        if props:
            bban = _IBAN_STRUCT.sub(
                lambda m: f"{_IBAN_CHARS[m.group(2)]}{{{m.group(1)}}}", props.get("bban", "")
            )
            struct = re.compile(f"^{bban}$")
        module = get_cc_module(cc.lower(), "iban") if props else None
        national = _IBAN_NATIONAL.get(cc) or (module.validate if module else None)
        found = _IBAN_COUNTRIES[cc] = (struct, national if props else None)
    return found


def iban(text: str) -> bool:
    """IBAN (ISO 13616) as python-stdnum's ``stdnum.iban.is_valid`` decides it: mod 97-10
    over the rearranged number, the country's BBAN structure from stdnum's IBAN registry
    copy, and the country's own check where stdnum has one (e.g. Norway, Spain, Belgium)."""
    number = text.translate(_IBAN_SEPARATORS).strip().upper()
    if not number.isascii() or not number.isalnum():
        return std_iban.is_valid(text)  # anything unusual: stdnum's own path
    moved = (number[4:] + number[:4]).translate(_BASE36)
    if not moved or int(moved) % 97 != 1:
        return False
    struct, national = _iban_country(number[:2])
    if struct is None or not struct.match(number[4:]):
        return False
    if national is not None:
        try:
            national(number)
        except ValidationError:
            return False
    return True


def nik_date_plausible(text: str) -> bool:
    """A necessary condition of python-stdnum's NIK check, cheap enough to run first:
    16 digits whose DDMMYY part has a day 1-31 (women: +40) and a month 1-12
    (``stdnum.id.nik.get_birth_date``). Most 16-digit card numbers fail it."""
    number = digits(text)
    return (
        len(number) == 16
        and 1 <= int(number[6:8]) % 40 <= 31
        and 1 <= int(number[8:10]) <= 12
    )
