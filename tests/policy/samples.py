"""Valid identifiers (real check digits) and their broken twins, shared by the tests."""

from __future__ import annotations

from stdnum import luhn

_NPWP9 = "01234567" + luhn.calc_check_digit("01234567")
_EID14 = "78419851234567"
_EID = _EID14 + luhn.calc_check_digit(_EID14)


def _break(value: str) -> str:
    """Change the last digit so a checksum fails."""
    for i in range(len(value) - 1, -1, -1):
        if value[i].isdigit():
            return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]
    raise ValueError(value)


# (subtype, type, valid text, context prefix); broken twins via _break.
VALID: list[tuple[str, str, str, str]] = [
    ("IDN_NIK", "NATIONAL_ID", "3171011708450001", "NIK saya"),
    ("IDN_NPWP", "TAX_ID", f"{_NPWP9[:2]}.{_NPWP9[2:5]}.{_NPWP9[5:8]}.{_NPWP9[8]}-901.000", "NPWP"),
    ("IND_AADHAAR", "NATIONAL_ID", "2341 2341 2346", "Aadhaar"),
    ("IND_PAN", "TAX_ID", "ACUPA7085R", "PAN"),
    ("ARE_EMIRATES_ID", "NATIONAL_ID", f"784-{_EID[3:7]}-{_EID[7:14]}-{_EID[14]}", "Emirates ID"),
    ("NOR_FODSELSNUMMER", "NATIONAL_ID", "15108695088", "fødselsnummer"),
    ("USA_SSN", "NATIONAL_ID", "536-90-4399", "SSN"),
    ("JPN_MY_NUMBER", "NATIONAL_ID", "6214 9832 0257", "マイナンバー"),
    ("ARG_CUIT", "TAX_ID", "20-26756539-3", "CUIT"),
    ("AUS_TFN", "TAX_ID", "123 456 782", "TFN"),
    ("DEU_IDNR", "TAX_ID", "36 574 261 809", "Steuer-ID"),
    ("CREDIT_CARD", "CREDIT_CARD", "4111 1111 1111 1111", "card"),
    ("CREDIT_CARD", "CREDIT_CARD", "3782 822463 10005", "Amex"),
    ("IBAN", "IBAN", "DE89 3704 0044 0532 0130 00", "IBAN"),
    ("IBAN", "IBAN", "GB82 WEST 1234 5698 7654 32", "IBAN"),
    ("MYS_NRIC", "NATIONAL_ID", "770418-10-6027", "MyKad"),
    ("BRA_CPF", "TAX_ID", "390.533.447-05", "CPF"),
]

# Valid without a check digit to break: tested separately.
STRUCTURAL: list[tuple[str, str, str]] = [
    ("GBR_NINO", "NATIONAL_ID", "AB 12 34 56 C"),
    ("KOR_RRN", "NATIONAL_ID", "971013-9019902"),
    ("SGP_NRIC", "NATIONAL_ID", "S1234567D"),
    ("IPV4", "IP_ADDRESS", "192.168.10.20"),
    ("IPV6", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("EMAIL", "EMAIL", "siti.rahayu@example.co.id"),
]

PHONES = [
    "+62 812 3456 7890",
    "0812-3456-7890",
    "+91 98765 43210",
    "+971 50 123 4567",
    "+47 412 34 567",
    "020 7946 0958",
    "+49 30 901820",
    "03-1234-5678",
    "010-1234-5678",
    "+54 9 11 2345-6789",
    "0412 345 678",
    "(415) 555-2671",
]

# Things that look like identifiers and must not be flagged.
DECOYS = [
    "Order #100234876 shipped on 2024-03-15",
    "Total: Rp 1.500.000 or USD 1,250,000.00",
    "Booking code PNR X7K2QZ, flight GA 881",
    "Invoice INV-2024-000187 due 15/04/2025",
    "Version 2.4.1 released; build 20240315",
    "Meeting at 10:30, room 4B, ext. 2231",
    "Tracking 1Z999AA10123456784",
    "Population 277,534,122 in 2023",
    "ISBN 978-3-16-148410-0",
]

# NIK and MyKad carry no check digit: their broken twins have an impossible birth date.
# PAN and SSN have none either: an impossible entity letter / a never-issued area number.
_NO_CHECK_DIGIT = {
    "3171011708450001": "3171011713450001",
    "770418-10-6027": "771318-10-6027",
    "ACUPA7085R": "ACUXA7085R",
    "536-90-4399": "666-90-4399",
    VALID[1][2]: VALID[1][2][:11] + str((int(VALID[1][2][11]) + 1) % 10) + VALID[1][2][12:],
}

BROKEN = [
    (sub, typ, _NO_CHECK_DIGIT.get(text) or _break(text), ctx) for sub, typ, text, ctx in VALID
]
