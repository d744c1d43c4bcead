"""Language identification for routing a request to its pack's language.

lingua-language-detector restricted to the languages of the shipped packs plus English
(fewer candidates: faster and more accurate), built once per process with its models
preloaded. ``benchmarks/language_id.py`` compares it with py3langid on the same texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from daulat.policy.pack import list_packs, load_pack

__all__ = ["detect_language", "supported_languages", "MIN_CONFIDENCE"]

#: Below this lingua confidence (0..1) the answer is None rather than a guess.
MIN_CONFIDENCE = 0.5


@cache
def supported_languages() -> tuple[str, ...]:
    """ISO 639-1 codes :func:`detect_language` can return: every pack language + English."""
    codes = {"en"}
    for iso3 in list_packs():
        codes.update(load_pack(iso3).languages)
    usable = []
    for code in sorted(codes):
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is not None:
            usable.append(code)
    return tuple(usable)


@cache
def _detector() -> LanguageDetector:
    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper()))
        for c in supported_languages()
    ]
    return (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_preloaded_language_models()
        .build()
    )


def detect_language(text: str, languages: Sequence[str] | None = None) -> str | None:
    """The ISO 639-1 code of ``text``'s language ('id', 'en', 'ja', …), or None when the
    text has no letters or no candidate reaches :data:`MIN_CONFIDENCE`.

    ``languages`` restricts the answer to those codes (e.g. a tenant pack's
    ``languages`` plus ``'en'``). Pass it when you know the country: close pairs such as
    Indonesian/Malay or Bokmål/Nynorsk are hard to tell apart in a short message, and
    the pack's list removes the wrong half of the pair.
    """
    if not any(ch.isalpha() for ch in text):
        return None
    values = _detector().compute_language_confidence_values(text)
    wanted = None if languages is None else {c.lower() for c in languages}
    best_code, best_value = None, 0.0
    total = 0.0
    for value in values:
        code = value.language.iso_code_639_1.name.lower()
        if wanted is not None and code not in wanted:
            continue
        total += value.value
        if value.value > best_value:
            best_code, best_value = code, value.value
    if best_code is None or total <= 0 or best_value / total < MIN_CONFIDENCE:
        return None
    return best_code
