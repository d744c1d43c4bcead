"""The recognizer table: one row per identifier the PII engine finds.

A :class:`Recognizer` is data: an entity type, a subtype naming the country and
identifier, the countries whose packs enable it (empty = every country), a regular
expression for *candidates* and a validator that decides. The engine compiles all the
candidate patterns of the enabled recognizers into one alternation (one pass over the
text) and runs validators only on what that pass finds.

Patterns are written under three rules the streaming redactor relies on (see
:mod:`daulat.policy.pii`): they are bounded (no match longer than :data:`MAX_MATCH`
characters), they consume only characters in :data:`CONSUMABLE`, and their look-arounds
look at most one character beyond the match and fail at any character outside
:data:`CONSUMABLE`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from stdnum.ar import cuit as ar_cuit
from stdnum.au import abn as au_abn
from stdnum.au import tfn as au_tfn
from stdnum.br import cpf as br_cpf
from stdnum.de import idnr as de_idnr
from stdnum.fr import nir as fr_nir
from stdnum.gb import nhs as gb_nhs
from stdnum.id import nik as id_nik
from stdnum.id import npwp as id_npwp
from stdnum.in_ import aadhaar as in_aadhaar
from stdnum.in_ import pan as in_pan
from stdnum.jp import in_ as jp_in
from stdnum.kr import rrn as kr_rrn
from stdnum.my import nric as my_nric
from stdnum.no import fodselsnummer as no_fnr
from stdnum.us import itin as us_itin
from stdnum.us import ssn as us_ssn

from daulat.policy.recognizers import validators as v

__all__ = [
    "ENTITY_TYPES",
    "Recognizer",
    "RECOGNIZERS",
    "MAX_MATCH",
    "CONSUMABLE",
    "CONTEXT_CHARS",
    "LABEL_CHARS",
    "LABELS",
    "labels_of",
    "recognizers_for",
]

#: The entity types the engine reports (the ``type`` of an entity).
ENTITY_TYPES = (
    "NATIONAL_ID",
    "TAX_ID",
    "PHONE",
    "EMAIL",
    "CREDIT_CARD",
    "IBAN",
    "IP_ADDRESS",
)

#: Longest candidate any pattern can match, in characters (the e-mail pattern's bound:
#: 64-character local part + '@' + four 40-character labels + an 18-letter TLD).
MAX_MATCH = 250

#: Characters a candidate may contain. Any other character ends every candidate, which
#: is what lets the streaming redactor release text early.
CONSUMABLE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-+()@_%:/"
)

#: How far before a candidate the engine looks for context keywords, in characters.
CONTEXT_CHARS = 40

#: How far before a candidate a label of another identifier overrides it, in characters
#: (a label sits right before its value: "NIK: 3171…", "マイナンバー 1234 …").
LABEL_CHARS = 16

_EIGHT_DIGITS = r"\d(?:[ \-.]?\d){7}"

# Left boundary: not inside a word, a number, a dotted or dashed code.
_L = r"(?<![\w.+\-/])"
# Right boundary: no word character or '@' follows, nor a separator followed by a digit.
_R = r"(?![\w@])(?![.\-/]\d)"


def _stdnum(module: object) -> Callable[[str], bool]:
    is_valid = module.is_valid  # type: ignore[attr-defined]

    def check(text: str) -> bool:
        return bool(is_valid(text))

    return check


def _both(quick: Callable[[str], bool], full: Callable[[str], bool]) -> Callable[[str], bool]:
    """``full``, skipped when ``quick`` (a necessary condition of it) already fails."""

    def check(text: str) -> bool:
        return quick(text) and full(text)

    return check


@dataclass(frozen=True)
class Recognizer:
    """One identifier: candidates by ``pattern``, decided by ``validator``.

    ``context`` (lower-case keywords): when given, a candidate counts only if one of them
    occurs within :data:`CONTEXT_CHARS` characters before it. Used for bare digit runs
    whose check digit alone passes one random number in ten.
    """

    subtype: str
    type: str
    pattern: str
    validator: Callable[[str], bool]
    countries: tuple[str, ...] = ()
    context: tuple[str, ...] = field(default=())
    source: str = ""
    #: Look-ahead every match satisfies (its first characters); the engine groups
    #: consecutive recognizers with the same one so the scan skips them in one test. The
    #: default: at least 8 digits, single separators allowed (every numeric ID is longer).
    starts: str = _EIGHT_DIGITS
    #: Words that name this identifier (any language). A candidate right after another
    #: identifier's label and none of its own is taken to be that other identifier.
    labels: tuple[str, ...] = ()

    def enabled_for(self, countries: Iterable[str] | None) -> bool:
        """Whether an engine restricted to ``countries`` (None = all) runs this one."""
        if countries is None or not self.countries:
            return True
        wanted = set(countries)
        return any(c in wanted for c in self.countries)


def _d(n: int) -> str:
    return rf"\d{{{n}}}"


# Order is priority: when several recognizers match at the same position, the first
# whose validator accepts wins. Specific shapes first, phone numbers last.
RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        "EMAIL", "EMAIL",
        # possessive local part: a word without '@' fails in one sweep, no backtracking
        r"[A-Za-z0-9._%+\-]{1,64}+@(?:[A-Za-z0-9\-]{1,40}\.){1,4}[A-Za-z]{2,18}",
        lambda s: ".." not in s and not s.startswith("."),
        source="RFC 5322 addr-spec (common subset)",
        starts=r"[A-Za-z0-9._%+\-]",
    ),
    Recognizer(
        "IBAN", "IBAN",
        r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?",
        v.iban,
        source="ISO 13616 via python-stdnum (stdnum.iban: length per country, mod-97)",
        starts="[A-Z]",
    ),
    Recognizer(
        "GBR_NINO", "NATIONAL_ID",
        r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]",
        v.gb_nino, ("GBR",),
        source="HMRC National Insurance Manual NIM39110",
        starts="[A-Z]",
    ),
    Recognizer(
        "IND_PAN", "TAX_ID", r"[A-Z]{3}[ABCFGHLJPTK][A-Z]\d{4}[A-Z]",
        _stdnum(in_pan), ("IND",),
        source="python-stdnum stdnum.in_.pan (Income Tax Dept. PAN structure)",
        starts="[A-Z]",
    ),
    Recognizer(
        "SGP_NRIC", "NATIONAL_ID", r"[STFGM]\d{7}[A-Z]", v.sg_nric, ("SGP",),
        source="ICA NRIC/FIN check letter",
        starts="[A-Z]",
    ),
    Recognizer(
        "ARE_EMIRATES_ID", "NATIONAL_ID", r"784-?\d{4}-?\d{7}-?\d",
        v.emirates_id, ("ARE",),
        source="ICP Emirates ID layout 784-YYYY-NNNNNNN-C, Luhn",
    ),
    Recognizer(
        "KOR_RRN", "NATIONAL_ID", r"\d{6}-[0-9]\d{6}", v.kr_rrn_structure, ("KOR",),
        source="PIPA Art. 24-2; date + gender digit (random serial since Oct 2020)",
    ),
    Recognizer(
        "KOR_RRN", "NATIONAL_ID", _d(13), _stdnum(kr_rrn), ("KOR",),
        context=("주민등록", "주민번호", "rrn", "resident registration"),
        source="python-stdnum stdnum.kr.rrn (pre-2020 check digit)",
    ),
    Recognizer(
        "USA_SSN", "NATIONAL_ID", r"\d{3}-\d{2}-\d{4}", _stdnum(us_ssn), ("USA",),
        source="python-stdnum stdnum.us.ssn (SSA area/group/serial rules)",
    ),
    Recognizer(
        "USA_ITIN", "TAX_ID", r"9\d{2}-\d{2}-\d{4}", _stdnum(us_itin), ("USA",),
        source="python-stdnum stdnum.us.itin",
    ),
    Recognizer(
        "USA_SSN", "NATIONAL_ID", _d(9), _stdnum(us_ssn), ("USA",),
        context=("ssn", "social security"),
        source="python-stdnum stdnum.us.ssn",
    ),
    Recognizer(
        "ARG_CUIT", "TAX_ID", r"(?:20|2[3-7]|30|3[34])-\d{8}-\d", _stdnum(ar_cuit), ("ARG",),
        source="python-stdnum stdnum.ar.cuit (AFIP mod-11)",
    ),
    Recognizer(
        "ARG_CUIT", "TAX_ID", r"(?:20|2[3-7]|30|3[34])\d{9}", _stdnum(ar_cuit), ("ARG",),
        context=("cuit", "cuil"),
        source="python-stdnum stdnum.ar.cuit",
    ),
    Recognizer(
        "MYS_NRIC", "NATIONAL_ID", r"\d{6}-\d{2}-\d{4}", _stdnum(my_nric), ("MYS",),
        source="python-stdnum stdnum.my.nric (JPN birth date + place code)",
    ),
    Recognizer(
        "BRA_CPF", "TAX_ID", r"\d{3}\.\d{3}\.\d{3}-\d{2}", _stdnum(br_cpf), ("BRA",),
        source="python-stdnum stdnum.br.cpf",
    ),
    Recognizer(
        "IDN_NPWP", "TAX_ID", r"\d{2}\.\d{3}\.\d{3}\.\d-\d{3}\.\d{3}", _stdnum(id_npwp), ("IDN",),
        source="python-stdnum stdnum.id.npwp (15-digit, Luhn on the first 9)",
    ),
    Recognizer(
        "IDN_NIK", "NATIONAL_ID", _d(16), _both(v.nik_date_plausible, _stdnum(id_nik)), ("IDN",),
        source="python-stdnum stdnum.id.nik (region code + DDMMYY, women +40)",
    ),
    Recognizer(
        "IDN_NPWP", "TAX_ID", r"\d{15,16}", _stdnum(id_npwp), ("IDN",),
        context=("npwp",),
        source="python-stdnum stdnum.id.npwp (15 and 16 digits)",
    ),
    Recognizer(
        "CREDIT_CARD", "CREDIT_CARD", r"\d{4}(?:[ \-]?\d{4}){2}[ \-]?\d{1,4}(?:[ \-]?\d{3})?",
        v.payment_card,
        source="ISO/IEC 7812 issuer prefixes and lengths, Luhn",
    ),
    Recognizer(
        "CREDIT_CARD", "CREDIT_CARD", r"3[47]\d{2}[ \-]?\d{6}[ \-]?\d{5}", v.payment_card,
        source="American Express 4-6-5 grouping, Luhn",
    ),
    Recognizer(
        "NOR_FODSELSNUMMER", "NATIONAL_ID", r"\d{6} ?\d{5}", _stdnum(no_fnr), ("NOR",),
        source="python-stdnum stdnum.no.fodselsnummer (two mod-11 check digits)",
    ),
    Recognizer(
        "IND_AADHAAR", "NATIONAL_ID", r"[2-9]\d{3} \d{4} \d{4}", _stdnum(in_aadhaar), ("IND",),
        source="python-stdnum stdnum.in_.aadhaar (Verhoeff)",
    ),
    Recognizer(
        "JPN_MY_NUMBER", "NATIONAL_ID", r"\d{4}[ \-]\d{4}[ \-]\d{4}", _stdnum(jp_in), ("JPN",),
        source="python-stdnum stdnum.jp.in_ (My Number check digit)",
    ),
    Recognizer(
        "IND_AADHAAR", "NATIONAL_ID", r"[2-9]\d{11}", _stdnum(in_aadhaar), ("IND",),
        context=("aadhaar", "aadhar", "आधार", "uid"),
        source="python-stdnum stdnum.in_.aadhaar",
    ),
    Recognizer(
        "JPN_MY_NUMBER", "NATIONAL_ID", _d(12), _stdnum(jp_in), ("JPN",),
        context=("マイナンバー", "個人番号", "my number", "mynumber"),
        source="python-stdnum stdnum.jp.in_",
    ),
    Recognizer(
        "DEU_IDNR", "TAX_ID", r"\d{2} ?\d{3} ?\d{3} ?\d{3}", _stdnum(de_idnr), ("DEU",),
        context=("steuer", "idnr", "identifikationsnummer", "tin", "tax id"),
        source="python-stdnum stdnum.de.idnr (ISO 7064 mod 11,10)",
    ),
    Recognizer(
        "GBR_NHS", "NATIONAL_ID", r"\d{3}[ \-]?\d{3}[ \-]?\d{4}", _stdnum(gb_nhs), ("GBR",),
        context=("nhs",),
        source="python-stdnum stdnum.gb.nhs (mod 11)",
    ),
    Recognizer(
        "AUS_TFN", "TAX_ID", r"\d{3} \d{3} \d{2,3}", _stdnum(au_tfn), ("AUS",),
        source="python-stdnum stdnum.au.tfn (weighted mod 11)",
    ),
    Recognizer(
        "AUS_TFN", "TAX_ID", r"\d{8,9}", _stdnum(au_tfn), ("AUS",),
        context=("tfn", "tax file"),
        source="python-stdnum stdnum.au.tfn",
    ),
    Recognizer(
        "AUS_ABN", "TAX_ID", r"\d{2} \d{3} \d{3} \d{3}", _stdnum(au_abn), ("AUS",),
        source="python-stdnum stdnum.au.abn (weighted mod 89)",
    ),
    Recognizer(
        "AUS_MEDICARE", "NATIONAL_ID", r"[2-6]\d{3} ?\d{5} ?\d(?:-?\d)?", v.au_medicare, ("AUS",),
        context=("medicare",),
        source="Services Australia Medicare card number check digit",
    ),
    Recognizer(
        "SAU_NATIONAL_ID", "NATIONAL_ID", r"[12]\d{9}", v.sa_national_id, ("SAU",),
        context=("هوية", "الهوية", "iqama", "national id", "إقامة"),
        source="Saudi national ID/Iqama: leading 1/2 + Luhn",
    ),
    Recognizer(
        "FRA_NIR", "NATIONAL_ID", r"[12] ?\d{2} ?\d{2} ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}",
        _stdnum(fr_nir), ("FRA",),
        source="python-stdnum stdnum.fr.nir (mod-97 key)",
        starts=r"[12]",  # Corsican department codes 2A/2B break the 8-digit gate
    ),
    Recognizer(
        "IPV4", "IP_ADDRESS", r"(?:\d{1,3}\.){3}\d{1,3}", v.ip_address,
        source="Python ipaddress",
        starts=r"\d{1,3}\.",
    ),
    Recognizer(
        "IPV6", "IP_ADDRESS",
        r"(?:[0-9A-Fa-f]{1,4}:|:){1,7}(?::|[0-9A-Fa-f]{1,4})(?:(?::[0-9A-Fa-f]{1,4}){1,6})?",
        v.ip_address,
        source="Python ipaddress (RFC 4291 text forms)",
        starts="[0-9A-Fa-f:]",
    ),
    # Phone numbers last: a candidate is any run of 7+ digits in phone punctuation; the
    # engine's phone validator (phonenumbers, per country) decides.
    Recognizer(
        "PHONE", "PHONE",
        r"(?=[+(]?\d(?:[\d\-.()]| (?=[\d(])){6})"  # 7+ phone characters ahead
        r"\+?\d{0,4}[ \-.]?(?:\(\d{1,5}\)[ \-.]?)?\d{1,14}(?:[ \-.]\d{1,14}){0,6}",
        lambda s: True,
        source="libphonenumber metadata via phonenumbers",
        starts=r"[+(\d]",
    ),
)


#: Labels per subtype (lower case), merged with each recognizer's ``context`` words.
LABELS: dict[str, tuple[str, ...]] = {
    "IDN_NIK": ("nik", "ktp", "nomor induk kependudukan"),
    "IDN_NPWP": ("npwp",),
    "IND_PAN": ("pan",),
    "ARE_EMIRATES_ID": ("emirates id", "رقم الهوية"),
    "NOR_FODSELSNUMMER": ("fødselsnummer", "fnr", "personnummer"),
    "GBR_NINO": ("national insurance", "ni number", "nino"),
    "GBR_NHS": ("nhs",),
    "USA_SSN": ("ssn", "social security"),
    "USA_ITIN": ("itin",),
    "ARG_CUIT": ("cuit", "cuil"),
    "AUS_TFN": ("tfn", "tax file"),
    "AUS_ABN": ("abn",),
    "MYS_NRIC": ("mykad", "nric"),
    "BRA_CPF": ("cpf",),
    "PHONE": ("tel", "telp", "telepon", "phone", "mobile", "hp", "whatsapp", "wa", "call",
              "telefon", "電話", "전화", "teléfono", "celular", "هاتف", "फ़ोन", "फोन"),
    "CREDIT_CARD": ("card", "kartu", "visa", "mastercard", "amex", "kort", "karte",
                    "tarjeta", "カード", "카드", "कार्ड", "بطاقة"),
}


def labels_of(rec: Recognizer) -> tuple[str, ...]:
    """Every word that names ``rec``'s identifier."""
    return tuple(dict.fromkeys(rec.labels + rec.context + LABELS.get(rec.subtype, ())))


def recognizers_for(countries: Iterable[str] | None) -> tuple[Recognizer, ...]:
    """The recognizers an engine for ``countries`` (ISO alpha-3; None = all) runs."""
    chosen = None if countries is None else tuple(countries)
    return tuple(r for r in RECOGNIZERS if r.enabled_for(chosen))


def left_boundary() -> str:
    """The look-behind every pattern is wrapped in."""
    return _L


def right_boundary() -> str:
    """The look-ahead every pattern is wrapped in."""
    return _R


def compile_one(rec: Recognizer) -> re.Pattern[str]:
    """``rec``'s pattern with the boundaries, compiled."""
    return re.compile(_L + "(?:" + rec.pattern + ")" + _R)

