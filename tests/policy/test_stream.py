"""Streaming redaction: any split of the input gives exactly the whole-text redaction."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daulat.policy.pii import PiiEngine
from daulat.policy.recognizers import MAX_MATCH
from tests.policy.samples import DECOYS, PHONES, STRUCTURAL, VALID

ENGINE = PiiEngine(style="tag")
MASK = PiiEngine(style="mask")

TEXTS = (
    [f"{ctx}: {text}, terima kasih." for _, _, text, ctx in VALID]
    + [f"see {text}\n" for _, _, text in STRUCTURAL]
    + [f"call {p}" for p in PHONES]
    + DECOYS
    + [
        "NIK 3171011708450001 dan email siti@example.co.id, telp +62 812 3456 7890.",
        "4111 1111 1111 1111 4111 1111 1111 1111",
        "x" * 300 + "a@b.co" + " 1" * 200,
        "SSN 536904399 at the end 03-1234-5678",
        "",
    ]
)

# Text built from the characters identifiers are made of, to find boundary cases.
ALPHABET = st.sampled_from(list("0123456789 -.+()@:/abcxyzABDEW\n,") + ["NIK ", "SSN ", "é"])
FUZZ = st.lists(ALPHABET, max_size=80).map("".join)


def _chunks(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(text[last:p])
        last = p
    pieces.append(text[last:])
    return pieces


def _streamed(engine: PiiEngine, pieces: list[str]) -> str:
    stream = engine.stream()
    return "".join(stream.feed(p) for p in pieces) + stream.flush()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.sampled_from(TEXTS), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_of_a_sample_equals_whole(text: str, cuts: list[int]) -> None:
    pieces = _chunks(text, cuts)
    assert _streamed(ENGINE, pieces) == ENGINE.redact(text).text
    assert _streamed(MASK, pieces) == MASK.redact(text).text


@settings(max_examples=300, deadline=None)
@given(text=FUZZ, cuts=st.lists(st.integers(0, 200), max_size=10))
def test_any_split_of_fuzzed_text_equals_whole(text: str, cuts: list[int]) -> None:
    assert _streamed(ENGINE, _chunks(text, cuts)) == ENGINE.redact(text).text


def test_every_single_character_split_of_every_sample() -> None:
    for text in TEXTS:
        assert _streamed(ENGINE, list(text)) == ENGINE.redact(text).text, text


def test_stream_entities_have_offsets_into_the_whole_stream() -> None:
    text = "x" * 500 + " mail siti@example.co.id and NIK 3171011708450001"
    stream = ENGINE.stream()
    for i in range(0, len(text), 7):
        stream.feed(text[i : i + 7])
    stream.flush()
    assert [(e.type, text[e.start : e.end]) for e in stream.entities] == [
        ("EMAIL", "siti@example.co.id"),
        ("NATIONAL_ID", "3171011708450001"),
    ]


def test_prose_is_released_with_little_delay() -> None:
    stream = ENGINE.stream()
    out = stream.feed("Selamat pagi, apa kabar hari ini? Saya ingin bertanya tentang pajak ")
    # only what could still start an identifier is held back: here nothing but the tail
    assert stream.pending <= len("pajak ")
    assert out.startswith("Selamat pagi, apa kabar")


def test_look_ahead_is_bounded() -> None:
    stream = ENGINE.stream()
    released = stream.feed("1" * 5000)  # one endless digit run: no identifier can end
    assert stream.pending <= MAX_MATCH + 2
    assert released + stream.flush() == "1" * 5000


def test_never_releases_a_prefix_of_an_identifier() -> None:
    stream = ENGINE.stream()
    out = stream.feed("call me on +62 812 34")
    assert "+62" not in out and "812" not in out
    out += stream.feed("56 7890 please")
    out += stream.flush()
    assert out == "call me on <PHONE> please"


@settings(max_examples=150, deadline=None)
@given(text=st.sampled_from(TEXTS), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_streamed_entities_equal_whole_text_entities(text: str, cuts: list[int]) -> None:
    stream = ENGINE.stream()
    for piece in _chunks(text, cuts):
        stream.feed(piece)
    stream.flush()
    assert stream.entities == ENGINE.scan(text)
