"""Language identification for the gateway: lingua vs py3langid on user-style messages.

    .venv/bin/python benchmarks/language_id.py

Both are restricted to the packs' languages plus English. The messages are short, the
way users write to an assistant (hand-written here: six questions and two one- or
two-word replies per language). py3langid is imported from .venv-bench
(pip install py3langid there) so the main venv stays clean.
Prints accuracy, mean and p99 latency per message, and load time.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MESSAGES: dict[str, list[str]] = {
    "id": [
        "terima kasih banyak",
        "tolong cek invoice saya",
        "Berapa biaya membuat KTP elektronik baru di Jakarta?",
        "Tolong jelaskan cara membayar pajak kendaraan secara online",
        "Apa syarat mendaftar BPJS Kesehatan untuk keluarga saya?",
        "Jadwal kereta dari Bandung ke Yogyakarta besok pagi",
        "bagaimana cara mengurus paspor kalau hilang",
        "Saya ingin tahu prakiraan cuaca di Surabaya minggu ini",
    ],
    "en": [
        "thanks a lot",
        "ok sounds good",
        "How do I renew my passport before travelling?",
        "What documents do I need to register a small business?",
        "Can you summarise the new data protection rules for me?",
        "When is the next train from Manchester to Leeds?",
        "my tax refund hasn't arrived yet, what should I do",
        "Explain how the national pension scheme works",
    ],
    "hi": [
        "धन्यवाद",
        "ठीक है",
        "आधार कार्ड में पता कैसे बदलें?",
        "मुझे राशन कार्ड के लिए आवेदन करना है, क्या करना होगा?",
        "कल दिल्ली में मौसम कैसा रहेगा?",
        "पैन कार्ड खो गया है, नया कैसे बनवाएँ",
        "किसान सम्मान निधि की किस्त कब आएगी?",
        "बच्चों के स्कूल में दाखिले के नियम बताइए",
    ],
    "ar": [
        "شكرا جزيلا",
        "حسنا",
        "كيف أجدد بطاقة الهوية الإماراتية عبر الإنترنت؟",
        "ما هي شروط الحصول على رخصة تجارية في دبي؟",
        "أريد معرفة مواعيد عمل مراكز الخدمة الحكومية",
        "كم رسوم تجديد رخصة القيادة؟",
        "اشرح لي قانون حماية البيانات الشخصية",
        "ما حالة الطقس في أبوظبي غداً؟",
    ],
    "nb": [
        "tusen takk",
        "ja, det stemmer",
        "Hvordan søker jeg om nytt pass hos politiet?",
        "Når må jeg levere skattemeldingen i år?",
        "Hva koster det å registrere et nytt firma?",
        "Kan du forklare reglene for foreldrepermisjon?",
        "jeg har mistet bankkortet mitt, hva gjør jeg nå",
        "Hvordan blir været i Bergen i morgen?",
    ],
    "de": [
        "danke schön",
        "alles klar",
        "Wie beantrage ich einen neuen Reisepass beim Bürgeramt?",
        "Welche Unterlagen brauche ich für die Steuererklärung?",
        "Wann fährt der nächste Zug von Berlin nach Hamburg?",
        "Kannst du mir die neuen Datenschutzregeln erklären?",
        "mein Kindergeld ist diesen Monat nicht gekommen",
        "Wie wird das Wetter morgen in München?",
    ],
    "ja": [
        "ありがとう",
        "了解です",
        "パスポートの申請方法を教えてください",
        "マイナンバーカードの更新はどこでできますか",
        "明日の東京の天気はどうですか",
        "確定申告の期限はいつまでですか",
        "引っ越しのときに必要な手続きを教えて",
        "子どもの保育園の申し込み方法",
    ],
    "ko": [
        "감사합니다",
        "알겠어요",
        "여권은 어디에서 어떻게 신청하나요?",
        "주민등록증을 잃어버렸어요. 재발급 방법을 알려주세요",
        "내일 서울 날씨 어때요?",
        "연말정산 서류는 언제까지 제출해야 하나요",
        "국민연금 수령 나이가 궁금합니다",
        "운전면허 갱신 절차를 알려줘",
    ],
    "es": [
        "muchas gracias",
        "dale, perfecto",
        "¿Cómo saco el DNI en Buenos Aires si perdí el anterior?",
        "¿Qué necesito para inscribirme como monotributista?",
        "¿Cuándo cobro la asignación universal por hijo?",
        "Explicame cómo funciona la ley de protección de datos",
        "quiero sacar turno para renovar el pasaporte",
        "¿Qué tiempo va a hacer mañana en Córdoba?",
    ],
}


# The pack whose languages the gateway would pass for a message in each language.
PACK_OF = {
    "id": "IDN",
    "en": "GBR",
    "hi": "IND",
    "ar": "ARE",
    "nb": "NOR",
    "de": "DEU",
    "ja": "JPN",
    "ko": "KOR",
    "es": "ARG",
}


def _bench(
    name: str, load: Callable[[], Callable[..., str | None]], per_pack: bool = False
) -> tuple[str, ...]:
    t0 = time.perf_counter()
    detect = load()
    detect("warm up")
    load_s = time.perf_counter() - t0
    correct = total = 0
    lat = []
    packs = {}
    if per_pack:
        from daulat.policy import load_pack

        packs = {c: [*load_pack(p).languages, "en"] for c, p in PACK_OF.items()}
    for code, texts in MESSAGES.items():
        for text in texts:
            t1 = time.perf_counter()
            got = detect(text, packs[code]) if per_pack else detect(text)
            lat.append(time.perf_counter() - t1)
            total += 1
            correct += got == code or (code == "nb" and got in ("nb", "nn", "no"))
    lat.sort()
    return (
        name,
        f"{correct / total:.3f}",
        f"{statistics.mean(lat) * 1e3:.3f}",
        f"{lat[int(0.99 * (len(lat) - 1))] * 1e3:.3f}",
        f"{load_s:.2f}",
    )


def _lingua(low: bool) -> Callable[[], Callable[[str], str | None]]:
    def load() -> Callable[[str], str | None]:
        sys.path.insert(0, str(ROOT))
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        from daulat.policy.language import detect_language, supported_languages

        if not low:
            return detect_language
        langs = [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper()))
            for c in supported_languages()
        ]
        det = (
            LanguageDetectorBuilder.from_languages(*langs)
            .with_low_accuracy_mode()
            .with_preloaded_language_models()
            .build()
        )

        def detect(text: str) -> str | None:
            lang = det.detect_language_of(text)
            return None if lang is None else lang.iso_code_639_1.name.lower()

        return detect

    return load


def _langid() -> Callable[[str], str | None]:
    site = next((ROOT / ".venv-bench" / "lib").glob("python3*/site-packages"), None)
    if site is not None:
        sys.path.append(str(site))
    from py3langid.langid import (  # type: ignore[import-not-found]
        MODEL_FILE,
        LanguageIdentifier,
    )

    sys.path.insert(0, str(ROOT))
    from daulat.policy.language import supported_languages

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # py3langid knows Norwegian as 'no' (and 'nb'/'nn' are not in its model)
    codes = {c if c not in ("nb", "nn") else "no" for c in supported_languages()}
    ident.set_languages(sorted(codes & set(ident.nb_classes)))

    def detect(text: str) -> str | None:
        code, _ = ident.classify(text)
        return str(code)

    return detect


def main() -> None:
    rows = [("detector", "accuracy", "mean ms", "p99 ms", "load s")]
    rows.append(_bench("lingua (all pack languages, high accuracy)", _lingua(False)))
    rows.append(_bench("lingua (the tenant pack's languages + en)", _lingua(False), per_pack=True))
    rows.append(_bench("lingua (all pack languages, low-accuracy mode)", _lingua(True)))
    try:
        rows.append(_bench("py3langid (all pack languages)", _langid))
    except Exception as exc:  # noqa: BLE001 - report and keep the table
        rows.append((f"py3langid unavailable: {exc}", "", "", "", ""))
    n = sum(len(v) for v in MESSAGES.values())
    print(f"{n} messages in {len(MESSAGES)} languages (nb also accepts nn/no)")
    for row in rows:
        print(f"{row[0]:52s} " + " ".join(f"{c:>9s}" for c in row[1:]))


if __name__ == "__main__":
    main()
