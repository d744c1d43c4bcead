"""The engine's precompiled phone checks give libphonenumber's answers exactly."""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from daulat.policy import pii
from daulat.policy.pii import PiiEngine

_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)


def _numbers(rng: random.Random) -> list[phonenumbers.PhoneNumber]:
    """Example numbers of every region with random last digits (valid and invalid)."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex is None:
                continue
            for _ in range(3):
                head = str(ex.national_number)[:-3]
                national = int(head + f"{rng.randint(0, 999):03d}")
                out.append(
                    phonenumbers.PhoneNumber(
                        country_code=ex.country_code,
                        national_number=national,
                        italian_leading_zero=ex.italian_leading_zero,
                    )
                )
    return out


def test_region_and_international_checks_equal_libphonenumber() -> None:
    rng = random.Random(3)
    for number in _numbers(rng):
        code = number.country_code or 0
        nsn = phonenumbers.national_significant_number(number)
        assert pii._valid_international(code, str(int(nsn))) == phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn))
        ), nsn
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
            if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
                continue
            plain = phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn))
            assert pii._valid_for_region(code, region, str(int(nsn))) == (
                phonenumbers.is_valid_number_for_region(plain, region)
            ), (region, nsn)


def _reference_phone_valid(engine: PiiEngine, candidate: str) -> bool:
    """The national-format decision made with libphonenumber's own calls throughout."""
    digits = "".join(c for c in candidate if c.isdigit())
    for meta in engine._phone_meta:
        prefix = meta.prefix
        national = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
        if len(national) in meta.lengths and (
            meta.general is None or meta.general.fullmatch(national)
        ):
            number = phonenumbers.PhoneNumber(country_code=meta.code, national_number=int(national))
            if phonenumbers.is_valid_number_for_region(number, meta.region):
                return True
        if meta.parse_gate is not None:  # every complex-prefix region goes to the parser
            try:
                parsed = phonenumbers.parse(candidate, meta.region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number_for_region(parsed, meta.region):
                return True
    return False


def test_parser_is_skipped_only_where_it_cannot_change_the_answer() -> None:
    """National-format candidates starting with the trunk prefix (where Argentina's,
    Japan's and Brazil's prefix rules apply), formatted from every region's examples and
    at random: the engine's gated parser use decides like calling the parser always."""
    engine = PiiEngine()
    rng = random.Random(5)
    candidates = []
    for number in _numbers(rng):
        for region in ("AR", "JP", "BR"):
            candidates.append(phonenumbers.format_out_of_country_calling_number(number, region))
        candidates.append(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    for _ in range(3000):
        body = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 13)))
        lead = rng.choice(["0", "00", "000", "0", "011 15", "010"])
        cut = rng.randint(1, len(body) - 1)
        candidates.append(f"{lead} {body[:cut]}{rng.choice([' ', '-', ''])}{body[cut:]}")
    shaped = [c for c in candidates if c.startswith("0")]
    assert len(shaped) > 3000
    for c in shaped:
        assert engine._phone_valid("tel " + c, 4, c) == _reference_phone_valid(engine, c), c
