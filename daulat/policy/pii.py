"""The PII engine: find and redact personal identifiers in one pass over the text.

All candidate patterns of the enabled recognizers (see
:mod:`daulat.policy.recognizers`) are compiled into a single alternation; one ``re``
scan finds candidates left to right and validators (python-stdnum, phonenumbers,
ipaddress, hand-written checks) run only on those. When the first alternative that
matched at a position is rejected, the others are tried at that same position before the
scan moves on.

:class:`StreamRedactor` applies the same scan to text arriving in chunks (e.g. SSE deltas
from an upstream model). It holds back only the tail that could still be the start of an
identifier, so its concatenated output equals :meth:`PiiEngine.redact` of the whole text.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import phonenumbers
import pycountry

from daulat.errors import UserError
from daulat.policy.pack import list_packs
from daulat.policy.recognizers import (
    CONSUMABLE,
    CONTEXT_CHARS,
    ENTITY_TYPES,
    LABEL_CHARS,
    MAX_MATCH,
    Recognizer,
    labels_of,
    left_boundary,
    recognizers_for,
    right_boundary,
)

__all__ = [
    "Entity",
    "Redaction",
    "PiiEngine",
    "StreamRedactor",
    "Style",
    "STYLES",
    "KEY_ENV",
    "ENTITY_TYPES",
]

Style = Literal["tag", "mask", "hash"]
STYLES: tuple[str, ...] = ("tag", "mask", "hash")

#: Environment variable holding the HMAC key for ``style='hash'``.
KEY_ENV = "DAULAT_PII_KEY"

#: Hex digits of the HMAC-SHA256 kept in a hash tag: 48 bits, enough that two different
#: identifiers in one deployment collide with negligible probability, short enough to read.
HASH_HEX_DIGITS = 12

#: The character a masked identifier's letters and digits become.
MASK_CHAR = "*"

# E.164 allows at most 15 digits; no country's subscriber numbers are shorter than 7
# digits with their area code (ITU-T E.164 §6, libphonenumber metadata).
_PHONE_MIN_DIGITS = 7
_PHONE_MAX_DIGITS = 15
# North American numbers are written without a trunk prefix: 415-555-2671, 415.555.2671.
_NANP_SHAPE = re.compile(r"\d{3}[\-. ]\d{3}[\-. ]\d{4}")
_ALNUM = re.compile(r"[A-Za-z0-9]")
_NON_DIGITS = re.compile(r"\D")
# Formats that identify themselves: a label of another identifier does not override them.
_SELF_EVIDENT = frozenset({"EMAIL", "IBAN", "IP_ADDRESS"})
_AMOUNT_SHAPE = re.compile(r"\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
# After a space, only these can continue a candidate (see the recognizers' rules).
_AFTER_SPACE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789(")
# Characters past a decided position the scan may inspect: the longest match plus the
# one-character look-ahead of the right boundary.
_LOOKAHEAD = MAX_MATCH + 2


@dataclass(frozen=True)
class Entity:
    """One identifier found: ``text[start:end]`` (offsets in characters)."""

    type: str
    start: int
    end: int
    text: str
    subtype: str

    def as_dict(self) -> dict[str, object]:
        """The JSON form used by ``daulat pii scan``."""
        return {
            "type": self.type,
            "subtype": self.subtype,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


@dataclass(frozen=True)
class Redaction:
    """The redacted text and the entities that were replaced (offsets into the input)."""

    text: str
    entities: list[Entity]


def _regions_for(countries: Iterable[str]) -> tuple[str, ...]:
    regions: list[str] = []
    for iso3 in countries:
        found = pycountry.countries.get(alpha_3=iso3)
        if found is not None:
            regions.append(found.alpha_2)
    return tuple(regions)


class _PhoneRegion:
    """One pack country's phone metadata, prepared once per engine: region and calling
    code, trunk prefix, national number lengths and pattern (cheap prefilters before the
    full check), and for regions whose national-prefix rule rewrites the number
    (Argentina's ``0 11 15-…`` mobiles, Japan, Brazil) the regular expressions that say
    when libphonenumber's full parser can reach a different national number."""

    __slots__ = ("region", "code", "prefix", "lengths", "general", "parse_gate", "idd")

    def __init__(self, meta: phonenumbers.PhoneMetadata, region: str) -> None:
        desc = meta.general_desc
        self.region = region
        self.code = int(meta.country_code or 0)
        self.prefix = meta.national_prefix or ""
        self.lengths = frozenset(desc.possible_length or ()) if desc is not None else frozenset()
        pattern = desc.national_number_pattern if desc is not None else None
        self.general = re.compile(pattern) if pattern else None
        complex_prefix = meta.national_prefix_transform_rule is not None
        self.parse_gate = (
            re.compile(meta.national_prefix_for_parsing)
            if complex_prefix and meta.national_prefix_for_parsing
            else None
        )
        self.idd = (
            re.compile(meta.international_prefix)
            if complex_prefix and meta.international_prefix
            else None
        )

    def needs_parser(self, digits: str) -> bool:
        """Whether libphonenumber's parser could read ``digits`` differently from "strip
        the trunk prefix": its prefix rule rewrites them (a capture group matched, or it
        strips more than the trunk prefix), the parser may keep them whole (they match the
        national pattern with the prefix), a zero follows the trunk prefix (the parser keeps
        leading zeros, the quick path drops them), they start with the international call
        prefix or with the country's calling code."""
        if self.parse_gate is None:
            return False
        found = self.parse_gate.match(digits)
        if found is not None and (found.lastindex or found.group() not in ("", self.prefix)):
            return True
        if self.general is not None and self.general.fullmatch(digits):
            return True
        if digits.startswith(self.prefix + "0"):
            return True
        if self.idd is not None and self.idd.match(digits):
            return True
        return digits.startswith(str(self.code))


def _phone_metadata(regions: Iterable[str]) -> tuple[_PhoneRegion, ...]:
    """The prepared phone metadata of each region that libphonenumber knows."""
    out = []
    for region in regions:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is not None:
            out.append(_PhoneRegion(meta, region))
            _type_check(out[-1].code, region)  # compile its checks now, not on a request
    return tuple(out)


class _TypeCheck:
    """libphonenumber's "valid for this region" test with the region's patterns compiled
    once: the national significant number must match the general description and at least
    one number type (fixed line, mobile, toll free, ...), each with its possible lengths —
    what ``phonenumbers.is_valid_number_for_region`` computes, without re-looking-up and
    re-compiling the metadata on every call (a test checks both agree)."""

    __slots__ = ("general", "general_lengths", "by_length", "any_length", "leading")

    def __init__(self, meta: phonenumbers.PhoneMetadata) -> None:
        desc = meta.general_desc
        pattern = desc.national_number_pattern if desc is not None else None
        self.general = re.compile(pattern) if pattern else None
        self.general_lengths = (
            frozenset(desc.possible_length or ()) if desc is not None else frozenset()
        )
        types = (
            meta.premium_rate, meta.toll_free, meta.shared_cost, meta.voip,
            meta.personal_number, meta.pager, meta.uan, meta.voicemail,
            meta.fixed_line, meta.mobile,
        )
        by_length: dict[int, list[str]] = {}
        any_length: list[str] = []
        for t in types:
            if t is None or not t.national_number_pattern:
                continue
            if t.possible_length:
                for size in t.possible_length:
                    by_length.setdefault(size, []).append(t.national_number_pattern)
            else:
                any_length.append(t.national_number_pattern)

        def union(patterns: list[str]) -> re.Pattern[str] | None:
            return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

        self.any_length = union(any_length)
        self.by_length = {n: union(p + any_length) for n, p in by_length.items()}
        self.leading = re.compile(meta.leading_digits) if meta.leading_digits else None

    def valid(self, nsn: str) -> bool:
        """Whether the national significant number ``nsn`` is valid here."""
        if self.general is None:
            return False
        if self.general_lengths and len(nsn) not in self.general_lengths:
            return False
        if self.general.fullmatch(nsn) is None:
            return False
        check = self.by_length.get(len(nsn), self.any_length)
        return check is not None and check.fullmatch(nsn) is not None


_TYPE_CHECKS: dict[tuple[int, str], _TypeCheck | None] = {}


def _type_check(code: int, region: str) -> _TypeCheck | None:
    """The compiled check of ``region`` (or of calling code ``code``'s non-geographic
    entity, region "001"), built once per process."""
    key = (code, region)
    if key not in _TYPE_CHECKS:
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            meta = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code)
        else:
            meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        _TYPE_CHECKS[key] = _TypeCheck(meta) if meta is not None else None
    return _TYPE_CHECKS[key]


def _valid_for_region(code: int, region: str, nsn: str) -> bool:
    """``phonenumbers.is_valid_number_for_region`` of ``+code nsn`` for ``region``."""
    check = _type_check(code, region)
    return check is not None and check.valid(nsn)


def _valid_international(code: int, nsn: str) -> bool:
    """``phonenumbers.is_valid_number`` of ``+code nsn``: the region is the only one of the
    calling code, else the first whose leading digits match or whose patterns accept."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return False
    if len(regions) == 1:
        return _valid_for_region(code, regions[0], nsn)
    for region in regions:
        check = _type_check(code, region)
        if check is None:
            continue
        if check.leading is not None:
            if check.leading.match(nsn):
                return check.valid(nsn)
        elif check.valid(nsn):
            return True
    return False


def _grouped_alternation(recognizers: Sequence[Recognizer], first: int = 0) -> str:
    """``(?P<r0>p0)|(?P<r1>p1)|…`` in priority order (group names count from ``first``),
    with consecutive alternatives that start with the same character class behind one
    look-ahead: at a position where the class fails, ``re`` skips the whole group in one
    test instead of trying each pattern.
    """
    groups: list[tuple[str, list[str]]] = []
    for i, rec in enumerate(recognizers, start=first):
        alt = f"(?P<r{i}>{rec.pattern})"
        if groups and groups[-1][0] == rec.starts:
            groups[-1][1].append(alt)
        else:
            groups.append((rec.starts, [alt]))
    return "|".join(f"(?={starts})(?:{'|'.join(alts)})" for starts, alts in groups)


def _compile_alternation(recognizers: Sequence[Recognizer], first: int = 0) -> re.Pattern[str]:
    """The boundaries around :func:`_grouped_alternation`, compiled."""
    alternatives = _grouped_alternation(recognizers, first)
    return re.compile(left_boundary() + "(?:" + (alternatives or "(?!)") + ")" + right_boundary())


_WORD = re.compile(r"\w+")


def _any_of(words: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern finding any of ``words`` as a substring (None for no words)."""
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return re.compile("|".join(re.escape(w) for w in ordered)) if ordered else None


class _Labels:
    """A set of label words, matched fast: one-token ASCII labels as whole words (a set
    lookup: "pan" is not in "company"), other labels (CJK, several words) as substrings."""

    def __init__(self, words: Iterable[str]) -> None:
        words = {w.lower() for w in words}
        self.tokens = frozenset(w for w in words if w.isascii() and _WORD.fullmatch(w))
        self.phrases = tuple(sorted(words - self.tokens))
        self._phrase = _any_of(self.phrases)

    def __bool__(self) -> bool:
        return bool(self.tokens or self.phrases)

    def found_in(self, window: str, tokens: set[str]) -> bool:
        """Whether a label occurs in ``window`` (lower case) with word ``tokens``."""
        if not self.tokens.isdisjoint(tokens):
            return True
        return self._phrase is not None and self._phrase.search(window) is not None


def _default_countries() -> tuple[str, ...]:
    return tuple(list_packs())


class PiiEngine:
    """Find and redact PII.

    ``countries``: ISO alpha-3 codes whose recognizers run (national IDs, national phone
    formats); None runs every recognizer and every pack country's phone formats.
    ``categories``: entity types to report (default all of :data:`ENTITY_TYPES`).
    ``style``: ``'tag'`` (``<EMAIL>``), ``'mask'`` (letters and digits become ``*``) or
    ``'hash'`` (``<EMAIL:1f2e3d4c5b6a>``, HMAC-SHA256 of the identifier's letters and digits
    under ``key``, or the :data:`KEY_ENV` environment variable).
    """

    def __init__(
        self,
        countries: Sequence[str] | None = None,
        style: str = "tag",
        key: str | bytes | None = None,
        categories: Sequence[str] | None = None,
    ) -> None:
        if style not in STYLES:
            raise UserError(
                f"style: {style!r} is not a redaction style; valid: {', '.join(STYLES)}"
            )
        if categories is not None:
            bad = [c for c in categories if c not in ENTITY_TYPES]
            if bad:
                raise UserError(
                    f"categories: {bad!r} are not PII types; valid: {', '.join(ENTITY_TYPES)}"
                )
        self.countries = None if countries is None else tuple(c.upper() for c in countries)
        self.style = style
        if style == "hash":
            raw = key if key is not None else os.environ.get(KEY_ENV)
            if not raw:
                raise UserError(
                    f"style 'hash' needs a key: pass key= or set the {KEY_ENV} environment variable"
                )
            self._key = raw.encode() if isinstance(raw, str) else raw
        else:
            self._key = b""
        wanted = set(categories) if categories is not None else set(ENTITY_TYPES)
        self.recognizers: tuple[Recognizer, ...] = tuple(
            r for r in recognizers_for(self.countries) if r.type in wanted
        )
        self._regions = _regions_for(
            self.countries if self.countries is not None else _default_countries()
        )
        self._phone_meta = _phone_metadata(self._regions)
        self._phone_meta_unprefixed = tuple(m for m in self._phone_meta if not m.prefix)
        self._combined = _compile_alternation(self.recognizers)
        # _rest[i]: the alternation of recognizers i.., which finds the next one that
        # matches where an earlier one's validator said no (compiled here, not on first
        # use, so that early requests do not pay for it: ~45 ms with every country)
        self._rest: dict[int, re.Pattern[str]] = {0: self._combined}
        for i in range(1, len(self.recognizers)):
            self._rest_from(i)
        self._context = tuple(_any_of(r.context) for r in self.recognizers)
        self._own_labels = tuple(_Labels(labels_of(r)) for r in self.recognizers)
        self._foreign_labels = tuple(
            _Labels(
                [
                    word
                    for other in self.recognizers
                    if other.subtype != r.subtype
                    for word in labels_of(other)
                    if word not in labels_of(r)
                ]
            )
            for r in self.recognizers
        )

    # -- validation ---------------------------------------------------------------------

    def _phone_valid(self, text: str, start: int, candidate: str) -> bool:
        international = candidate.startswith("+")
        # National formats: a trunk prefix, an area code in brackets, or NANP grouping;
        # a bare digit run is an order number as often as a phone number. Countries
        # without a trunk prefix (Norway: "412 34 567") need digit groups split by spaces.
        # (Checked first: it rejects most dates, versions and order numbers at once.)
        regions = self._phone_meta
        if not international:
            if candidate.startswith(("0", "(")) or _NANP_SHAPE.fullmatch(candidate) is not None:
                pass
            elif " " in candidate and "." not in candidate:
                regions = self._phone_meta_unprefixed
            else:
                return False
        digits = _NON_DIGITS.sub("", candidate)
        if not _PHONE_MIN_DIGITS <= len(digits) <= _PHONE_MAX_DIGITS:
            return False
        if _AMOUNT_SHAPE.fullmatch(candidate):
            return False  # 1.500.000 / 1,250,000: an amount, not a phone number
        if "." in candidate and ("-" in candidate or " " in candidate):
            return False  # 01.234.567.8-901: dotted codes mix separators, phones do not
        if international:
            for size in (1, 2, 3):
                code = int(digits[:size])
                if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                    return _valid_international(code, str(int(digits[size:] or "0")))
            return False
        # A national number right after another digit group ("3502 6128 4851 3908") is a
        # fragment of a longer number that failed its own check, not a phone.
        if start >= 2 and text[start - 1] in " -." and text[start - 2].isdigit():
            return False
        # Valid in any of the regions: the precompiled checks first, libphonenumber's
        # parser (slow) only after all of them said no.
        for meta in regions:
            prefix = meta.prefix
            national = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
            if (
                len(national) in meta.lengths
                and (meta.general is None or meta.general.fullmatch(national))
                and _valid_for_region(meta.code, meta.region, str(int(national)))
            ):
                return True
        for meta in regions:
            if meta.needs_parser(digits):  # e.g. Argentina's 0 11 15-xxxx-xxxx mobile form
                try:
                    parsed = phonenumbers.parse(candidate, meta.region)
                except phonenumbers.NumberParseException:
                    continue
                if phonenumbers.is_valid_number_for_region(parsed, meta.region):
                    return True
        return False

    def _rest_from(self, i: int) -> re.Pattern[str]:
        """The alternation of recognizers ``i`` onwards (group names keep their index)."""
        found = self._rest.get(i)
        if found is None:
            found = self._rest[i] = _compile_alternation(self.recognizers[i:], i)
        return found

    def _decide_at(self, text: str, match: re.Match[str]) -> Entity | None:
        """The entity starting where ``match`` does: the first recognizer, in priority
        order, whose pattern matches there and whose checks accept; or None."""
        start = match.start()
        recognizers = self.recognizers
        last = len(recognizers) - 1
        near: str | None = None  # the label window before ``start``, computed once
        window: str | None = None  # the context window, likewise
        tokens: set[str] = set()
        while True:
            i = int((match.lastgroup or "r0")[1:])
            rec = recognizers[i]
            candidate = match.group()
            ok = True
            context = self._context[i]
            if context is not None:
                if window is None:
                    window = text[max(0, start - CONTEXT_CHARS) : start].lower()
                ok = context.search(window) is not None
            if ok:
                if rec.type == "PHONE":
                    ok = self._phone_valid(text, start, candidate)
                else:
                    ok = rec.validator(candidate)
            if ok:
                foreign = self._foreign_labels[i]
                if foreign and rec.type not in _SELF_EVIDENT:
                    # right after another identifier's label, and none of its own: that one's
                    if near is None:
                        near = text[max(0, start - LABEL_CHARS) : start].lower()
                        tokens = set(_WORD.findall(near))
                    if foreign.found_in(near, tokens) and not self._own_labels[i].found_in(
                        near, tokens
                    ):
                        ok = False
            if ok:
                return Entity(rec.type, start, match.end(), candidate, rec.subtype)
            if i == last:
                return None
            following = self._rest_from(i + 1).match(text, start)
            if following is None:
                return None
            match = following

    def _decide(self, text: str, pos: int, limit: int) -> tuple[list[Entity], int]:
        """Entities starting in ``[pos, limit)``; returns them and where scanning resumes."""
        entities: list[Entity] = []
        search = self._combined.search
        while pos < limit:
            match = search(text, pos)
            if match is None or match.start() >= limit:
                return entities, limit
            entity = self._decide_at(text, match)
            if entity is None:
                pos = match.start() + 1
            else:
                entities.append(entity)
                pos = entity.end
        return entities, max(pos, limit)

    # -- public API ---------------------------------------------------------------------

    def scan(self, text: str) -> list[Entity]:
        """Every identifier in ``text``, left to right, non-overlapping."""
        return self._decide(text, 0, len(text))[0]

    def replacement(self, entity: Entity) -> str:
        """What ``entity`` becomes in redacted text under this engine's style."""
        if self.style == "mask":
            return _ALNUM.sub(MASK_CHAR, entity.text)
        if self.style == "hash":
            normal = _NON_ALNUM.sub("", entity.text).lower().encode()
            digest = hmac.new(self._key, normal, hashlib.sha256).hexdigest()
            return f"<{entity.type}:{digest[:HASH_HEX_DIGITS]}>"
        return f"<{entity.type}>"

    def _render(self, text: str, start: int, end: int, entities: list[Entity]) -> str:
        parts: list[str] = []
        pos = start
        for e in entities:
            parts.append(text[pos : e.start])
            parts.append(self.replacement(e))
            pos = e.end
        parts.append(text[pos:end])
        return "".join(parts)

    def redact(self, text: str) -> Redaction:
        """``text`` with every identifier replaced; entities carry offsets into ``text``."""
        entities = self.scan(text)
        return Redaction(self._render(text, 0, len(text), entities), entities)

    def stream(self) -> StreamRedactor:
        """A redactor for text that arrives in chunks."""
        return StreamRedactor(self)


class StreamRedactor:
    """Redact a text stream chunk by chunk with bounded look-ahead.

    ``feed(chunk)`` returns the text that is now safe to release; ``flush()`` returns the
    rest at the end of the stream. Text is held back only from the earliest position where
    an identifier could still begin and continue into text not yet received: at most
    ``MAX_MATCH + 2`` characters, usually just the last word or number. The concatenation
    of all outputs equals ``engine.redact(whole_text).text``. ``entities`` lists what was
    redacted, with offsets into the whole stream.
    """

    def __init__(self, engine: PiiEngine) -> None:
        self._engine = engine
        self._buf = ""
        self._pos = 0  # index into _buf: everything before it is decided and released
        self._base = 0  # offset of _buf[0] in the whole stream
        self.entities: list[Entity] = []

    @property
    def pending(self) -> int:
        """Characters received but not yet released."""
        return len(self._buf) - self._pos

    def _horizon(self) -> int:
        """Every position before this index of the buffer is decidable now."""
        buf = self._buf
        n = len(buf)
        horizon = max(self._pos, n - _LOOKAHEAD)
        # A barrier is a character no candidate can span; candidates starting at or before
        # the last barrier are already fully visible.
        for i in range(n - 1, horizon - 1, -1):
            ch = buf[i]
            if ch not in CONSUMABLE or (ch == " " and i + 1 < n and buf[i + 1] not in _AFTER_SPACE):
                return i + 1
        return horizon

    def _advance(self, limit: int) -> str:
        buf = self._buf
        found, resume = self._engine._decide(buf, self._pos, limit)
        out = self._engine._render(buf, self._pos, resume, found)
        base = self._base
        self.entities.extend(
            Entity(e.type, e.start + base, e.end + base, e.text, e.subtype) for e in found
        )
        self._pos = resume
        # Keep the context the scan may look back at (look-behind, context keywords).
        drop = max(0, resume - CONTEXT_CHARS)
        if drop:
            self._buf = buf[drop:]
            self._pos -= drop
            self._base += drop
        return out

    def feed(self, chunk: str) -> str:
        """Add ``chunk``; return the text that can be released (possibly empty)."""
        if not chunk:
            return ""
        self._buf += chunk
        return self._advance(self._horizon())

    def flush(self) -> str:
        """End of stream: return everything still held back, redacted."""
        out = self._advance(len(self._buf))
        self._buf = ""
        self._base += self._pos
        self._pos = 0
        return out
