"""Validators re-implemented for speed decide exactly as python-stdnum does."""

from __future__ import annotations

import random
import re

from stdnum import iban as std_iban
from stdnum import numdb

from daulat.policy.recognizers import validators as v

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FILL = {"n": "0123456789", "a": _LETTERS, "c": "0123456789" + _LETTERS}


def _ibans(rng: random.Random) -> list[str]:
    """For every country in stdnum's IBAN registry: numbers with correct check digits,
    one character changed, a wrong length, and a country code that does not exist."""
    out = []
    db = numdb.get("iban")
    countries = sorted(
        {cc for cc in (a + b for a in _FILL["a"] for b in _FILL["a"]) if db.info(cc)[0][1]}
    )
    assert len(countries) > 70
    for cc in countries:
        spec = db.info(cc)[0][1]["bban"]
        for _ in range(6):
            bban = "".join(
                "".join(rng.choice(_FILL[kind]) for _ in range(int(n)))
                for n, kind in re.findall(r"(\d+)!([nac])", spec)
            )
            number = cc + std_iban.calc_check_digits(cc + "00" + bban) + bban
            out.append(number)
            out.append(" ".join(number[i : i + 4] for i in range(0, len(number), 4)))
            i = rng.randrange(4, len(number))
            out.append(number[:i] + rng.choice(_FILL["c"]) + number[i + 1 :])
            out.append(number + "1")
            out.append("QX" + number[2:])
    return out


def test_iban_equals_stdnum() -> None:
    cases = _ibans(random.Random(11))
    assert sum(std_iban.is_valid(c) for c in cases) > len(cases) // 4  # valid ones included
    for case in cases:
        assert v.iban(case) == std_iban.is_valid(case), case


def test_nik_quick_check_never_rejects_a_valid_nik() -> None:
    from stdnum.id import nik

    rng = random.Random(2)
    numbers = ["".join(rng.choice("0123456789") for _ in range(16)) for _ in range(20000)]
    # plus real-looking ones: a known region code, a date, women's day + 40
    for _ in range(2000):
        day = rng.randint(1, 31) + rng.choice([0, 40])
        numbers.append(f"3171{rng.randint(0, 99):02d}{day:02d}{rng.randint(1, 12):02d}"
                       f"{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}")
    valid = [n for n in numbers if nik.is_valid(n)]
    assert len(valid) > 500
    assert all(v.nik_date_plausible(n) for n in valid)


def test_ip_address_equals_ipaddress_module() -> None:
    import ipaddress

    rng = random.Random(4)
    cases = ["10:30", "::", "::1", "fe80::1%eth0", "1.2.3.4", "256.1.1.1", "1.2.3"]
    cases.append("::ffff:1.2.3.4")
    for _ in range(3000):
        if rng.random() < 0.5:
            parts = rng.choice((3, 4, 4, 5))
            cases.append(".".join(str(rng.randint(0, 300)) for _ in range(parts)))
        else:
            parts = rng.choice((2, 3, 6, 7, 8, 8, 9))
            groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(parts)]
            if rng.random() < 0.4:
                groups[rng.randrange(len(groups))] = ""
            cases.append(":".join(groups))
    for case in cases:
        try:
            ipaddress.ip_address(case)
            want = case.count(":") != 1
        except ValueError:
            want = False
        assert v.ip_address(case) == want, case
