"""Language identification picks the pack language of a user's message."""

from __future__ import annotations

import pytest

from daulat.policy.language import detect_language, supported_languages

SAMPLES = [
    ("Berapa biaya membuat KTP elektronik baru di Jakarta?", "id"),
    ("How do I renew my passport before travelling?", "en"),
    ("आधार कार्ड में पता कैसे बदलें?", "hi"),
    ("كيف أجدد بطاقة الهوية الإماراتية عبر الإنترنت؟", "ar"),
    ("Hvordan søker jeg om nytt pass hos politiet?", "nb"),
    ("Wie beantrage ich einen neuen Reisepass beim Bürgeramt?", "de"),
    ("パスポートの申請方法を教えてください", "ja"),
    ("여권은 어디에서 어떻게 신청하나요?", "ko"),
    ("¿Cómo saco el DNI en Buenos Aires si perdí el anterior?", "es"),
]


@pytest.mark.parametrize(("text", "code"), SAMPLES)
def test_detects_pack_languages(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_no_letters_no_language() -> None:
    assert detect_language("12345 +62 812") is None
    assert detect_language("") is None


def test_supported_languages_cover_the_packs() -> None:
    assert {"id", "en", "hi", "ar", "nb", "de", "ja", "ko", "es"} <= set(supported_languages())


def test_pack_languages_resolve_close_pairs() -> None:
    # Indonesian and Malay are close: a short message can go either way on its own,
    # the tenant pack's languages settle it
    from daulat.policy import load_pack

    text = "bagaimana cara mengurus paspor kalau hilang"
    assert detect_language(text) in {"id", "ms"}
    assert detect_language(text, [*load_pack("IDN").languages, "en"]) == "id"
    assert detect_language(text, [*load_pack("MYS").languages, "en"]) == "ms"
    assert detect_language("terima kasih banyak", ["nb", "nn", "en"]) in {None, "en", "nb", "nn"}
