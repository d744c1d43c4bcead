"""Localisation packs (language, culture, law) and the PII engine.

``load_pack(iso3)`` gives a country's :class:`Pack` (base merged in);
``PiiEngine`` finds and redacts identifiers (also streaming);
``detect_language`` identifies a text's language among the packs' languages.
"""

from __future__ import annotations

from collections.abc import Sequence

from daulat.policy.language import detect_language as _detect
from daulat.policy.pack import (
    Audit,
    Citation,
    ContentRule,
    Law,
    Pack,
    Residency,
    list_packs,
    load_pack,
    load_pack_file,
    validate_pack_file,
)
from daulat.policy.pii import Entity, PiiEngine, Redaction, StreamRedactor

__all__ = [
    "Audit",
    "Citation",
    "ContentRule",
    "Entity",
    "Law",
    "Pack",
    "PiiEngine",
    "Redaction",
    "Residency",
    "StreamRedactor",
    "detect_language",
    "list_packs",
    "load_pack",
    "load_pack_file",
    "validate_pack_file",
]


def detect_language(text: str, languages: Sequence[str] | None = None) -> str | None:
    """ISO 639-1 code of ``text``'s language or None (see :mod:`daulat.policy.language`)."""
    return _detect(text, languages)
