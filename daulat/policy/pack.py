"""Localisation packs: each country's language, culture and law as data.

A pack is a YAML file in ``daulat/policy/packs/`` named by ISO 3166 alpha-3
(``IDN.yaml``) on top of ``base.yaml``: the country file overrides the base field by field,
content rules are merged by ``id`` and laws by ``id``. Every rule cites a law and an
article (:class:`Citation`); ``verified: false`` marks a citation the authors could not
check against the text of the law.

Loading uses ruamel.yaml so that every validation error names ``file:line:column``, the
field, the bad value and what is valid; all errors are reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pycountry
from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from daulat.errors import CountryCodeError, PackError, UserError
from daulat.iso3 import ISO3, check_iso3
from daulat.policy.recognizers import ENTITY_TYPES
from daulat.yamlio import plain, problems, read_yaml

__all__ = [
    "Audit",
    "Citation",
    "ContentRule",
    "Law",
    "Pack",
    "Residency",
    "PACKS_DIR",
    "BASE",
    "list_packs",
    "load_pack",
    "load_pack_file",
    "validate_pack_file",
]

#: Directory of the shipped packs.
PACKS_DIR = Path(__file__).with_name("packs")
#: Name of the base pack every country pack extends.
BASE = "base"

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Law(_Model):
    """A law a pack's rules cite."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str = Field(min_length=1)
    citation: str = Field(min_length=1, description="official number, e.g. 'UU No. 27 Tahun 2022'")
    url: str | None = None


class Citation(_Model):
    """Where a rule comes from: a law (``laws[].id``) and its article or section."""

    law: str
    article: str = Field(min_length=1)
    verified: bool = Field(description="checked against the law's text by the pack's authors")
    note: str | None = None


class Residency(_Model):
    """Where this country's prompts and completions may be processed and stored.

    ``mode``: ``in_country`` (only the pack's own country), ``jurisdictions`` (the listed
    ISO alpha-3 codes) or ``any``. ``basis``: ``law`` when a statute mandates it,
    ``programme_policy`` when the law permits transfers and the programme chooses to keep
    the data in the listed places anyway.
    """

    mode: Literal["in_country", "jurisdictions", "any"]
    jurisdictions: list[ISO3] = Field(default_factory=list)
    basis: Literal["law", "programme_policy"]
    note: str = Field(min_length=1)
    law: Citation

    @model_validator(mode="after")
    def _consistent(self) -> Residency:
        if self.mode == "jurisdictions" and not self.jurisdictions:
            raise ValueError("mode 'jurisdictions' needs a non-empty 'jurisdictions' list")
        if self.mode == "any" and self.jurisdictions:
            raise ValueError("mode 'any' takes no 'jurisdictions' list")
        return self

    def allows(self, iso3: str) -> bool:
        """Whether data may be processed in country ``iso3`` (alpha-3)."""
        return self.mode == "any" or iso3.upper() in self.jurisdictions


class ContentRule(_Model):
    """A content rule: ``block`` refuses, ``flag`` lets through and records in the audit log.

    Matches when any keyword occurs (case-insensitive) or any regular expression matches.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    action: Literal["block", "flag"]
    keywords: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)
    message: str = Field(min_length=1)
    law: Citation

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for p in value:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"pattern {p!r} is not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _has_matcher(self) -> ContentRule:
        if not self.keywords and not self.patterns:
            raise ValueError("a content rule needs 'keywords' or 'patterns'")
        return self

    def matches(self, text: str) -> bool:
        """Whether ``text`` triggers this rule."""
        lower = text.lower()
        if any(k.lower() in lower for k in self.keywords):
            return True
        return any(re.search(p, text, re.IGNORECASE) for p in self.patterns)


class Audit(_Model):
    """Audit and accountability duties."""

    log_decisions: bool = Field(description="record every routing/PII/content decision")
    log_retention_days: int = Field(ge=1, description="how long audit records are kept, days")
    breach_notification_hours: int | None = Field(
        default=None, ge=1, description="deadline to notify the regulator of a breach, hours"
    )
    record_of_processing: bool
    dpo_required: bool
    law: Citation


class Pack(_Model):
    """A country's localisation pack (base merged with the country file)."""

    iso3: str
    name: str = Field(min_length=1)
    languages: list[str] = Field(min_length=1, description="ISO 639-1, most used first")
    default_locale: str
    system_prompt: str = Field(min_length=1)
    cultural_guidance: str = Field(min_length=1)
    language_instruction: str = Field(
        min_length=1,
        description="the line telling the model which language to answer in, in the pack's "
        "language; {language} is the language's name in default_locale, {code} its ISO 639-1",
    )
    residency: Residency
    retention_days: int = Field(ge=0, description="days prompts and completions are kept")
    retention_law: Citation
    pii_categories: list[str]
    pii_law: Citation
    content_rules: list[ContentRule] = Field(default_factory=list)
    min_age: int = Field(ge=0, le=21, description="youngest user without guardian consent, years")
    min_age_law: Citation
    audit: Audit
    laws: list[Law] = Field(min_length=1)

    @field_validator("iso3")
    @classmethod
    def _iso3(cls, value: str) -> str:
        if value == BASE.upper():
            return value
        return check_iso3(value)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
                raise ValueError(f"{code!r} is not an ISO 639-1 language code (e.g. 'id', 'en')")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (ValueError, UnknownLocaleError) as exc:
            raise ValueError(f"{value!r} is not a CLDR locale (e.g. 'id_ID', 'en_GB')") from exc
        return value

    @field_validator("language_instruction")
    @classmethod
    def _instruction(cls, value: str) -> str:
        if "{language}" not in value:
            raise ValueError("must contain '{language}' (the language's name is put there)")
        try:
            value.format(language="x", code="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{language}} and {{code}} may be used: {exc}") from exc
        return value

    @field_validator("pii_categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        for c in value:
            if c not in ENTITY_TYPES:
                raise ValueError(f"{c!r} is not a PII type; valid: {', '.join(ENTITY_TYPES)}")
        return value

    @model_validator(mode="after")
    def _citations_resolve(self) -> Pack:
        known = {law.id for law in self.laws}
        for where, cite in self.rules():
            if cite.law not in known:
                raise ValueError(
                    f"{where}.law: {cite.law!r} is not in 'laws'; known: {', '.join(sorted(known))}"
                )
        if self.residency.mode == "in_country" and self.iso3 != BASE.upper():
            if self.residency.jurisdictions not in ([], [self.iso3]):
                raise ValueError("residency: mode 'in_country' takes no other jurisdictions")
        ids = [r.id for r in self.content_rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"content_rules: duplicate ids {dupes}")
        return self

    def model_post_init(self, __context: Any) -> None:
        if self.residency.mode == "in_country" and not self.residency.jurisdictions:
            # in_country means exactly the pack's own country.
            object.__setattr__(
                self, "residency", self.residency.model_copy(update={"jurisdictions": [self.iso3]})
            )

    def rules(self) -> Iterator[tuple[str, Citation]]:
        """Every rule of the pack with the citation it rests on: ``(field, citation)``."""
        yield "residency", self.residency.law
        yield "retention_days", self.retention_law
        yield "pii_categories", self.pii_law
        yield "min_age", self.min_age_law
        yield "audit", self.audit.law
        for i, rule in enumerate(self.content_rules):
            yield f"content_rules[{i}] ({rule.id})", rule.law

    def law(self, law_id: str) -> Law:
        """The law with id ``law_id``."""
        for law in self.laws:
            if law.id == law_id:
                return law
        raise UserError(f"law {law_id!r} is not cited by pack {self.iso3}")

    def blocked_by(self, text: str) -> list[ContentRule]:
        """The content rules ``text`` triggers (block and flag)."""
        return [r for r in self.content_rules if r.matches(text)]


# ---------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> CommentedMap:
    data = read_yaml(path, error=PackError, what="pack file")
    if not isinstance(data, CommentedMap):
        raise PackError(f"{path}:1:1: a pack file must be a YAML mapping of fields")
    return data


class _Tree:
    """Where each node of a (possibly merged) YAML tree came from, for error positions."""

    def __init__(self) -> None:
        self.origin: dict[int, Path] = {}  # id(map or seq) -> file
        self.key_src: dict[int, dict[str, CommentedMap]] = {}  # merged map -> key -> source
        self.item_src: dict[int, list[tuple[CommentedSeq, int]]] = {}  # merged seq -> items

    def tag(self, node: Any, path: Path) -> None:
        if isinstance(node, CommentedMap):
            self.origin[id(node)] = path
            for value in node.values():
                self.tag(value, path)
        elif isinstance(node, CommentedSeq):
            self.origin[id(node)] = path
            for value in node:
                self.tag(value, path)

    def merge(self, base: CommentedMap, country: CommentedMap) -> dict[str, Any]:
        """Country fields override base fields; content rules and laws merge by ``id``."""
        merged: dict[str, Any] = {}
        sources: dict[str, CommentedMap] = {}
        for key, value in base.items():
            merged[key], sources[key] = value, base
        for key, value in country.items():
            sources[key] = country
            old = base.get(key)
            if key in ("content_rules", "laws") and isinstance(value, CommentedSeq) and isinstance(
                old, CommentedSeq
            ):
                own = {item.get("id") for item in value if isinstance(item, Mapping)}
                items = [
                    (old, i)
                    for i, item in enumerate(old)
                    if not (isinstance(item, Mapping) and item.get("id") in own)
                ] + [(value, i) for i in range(len(value))]
                seq = [src[i] for src, i in items]
                self.item_src[id(seq)] = items
                merged[key] = seq
            else:
                merged[key] = value
        self.key_src[id(merged)] = sources
        return merged

    def position(self, root: Any, loc: tuple[Any, ...], fallback: Path) -> str:
        """``file:line:col`` of the deepest node of ``loc`` that exists in the tree."""
        node = root
        best = f"{fallback}:1:1"
        for key in loc:
            if isinstance(node, Mapping) and key in node:
                src = self.key_src.get(id(node), {}).get(key, node)
                if isinstance(src, CommentedMap):
                    line, col = src.lc.key(key)
                    best = f"{self.origin.get(id(src), fallback)}:{line + 1}:{col + 1}"
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                seq, index = self.item_src.get(id(node), [(node, i) for i in range(len(node))])[key]
                if isinstance(seq, CommentedSeq):
                    line, col = seq.lc.item(index)
                    best = f"{self.origin.get(id(seq), fallback)}:{line + 1}:{col + 1}"
                node = node[key]
            else:
                break
        return best


def _build(path: Path) -> tuple[Pack | None, list[str]]:
    """Validate ``path`` (merged onto the base pack unless it is the base)."""
    data = _read_yaml(path)
    tree = _Tree()
    tree.tag(data, path)
    root: Any = data
    base_path = PACKS_DIR / f"{BASE}.yaml"
    if str(data.get("iso3", "")).lower() != BASE and path.resolve() != base_path.resolve():
        base = _read_yaml(base_path)
        tree.tag(base, base_path)
        root = tree.merge(base, data)
    try:
        return Pack.model_validate(plain(root)), []
    except ValidationError as exc:
        return None, problems(exc, root, str(path), Pack,
                              locate=lambda loc, key: tree.position(root, loc, path))


def validate_pack_file(path: str | Path) -> list[str]:
    """All problems of pack file ``path``, each ``file:line:col: field: message``; [] if valid."""
    try:
        _, errors = _build(Path(path))
    except UserError as exc:
        return [str(exc)]
    return errors


def load_pack_file(path: str | Path) -> Pack:
    """Load and validate a pack file (merged onto the base pack); UserError lists every error."""
    pack, errors = _build(Path(path))
    if pack is None:
        raise PackError(f"{path}: {len(errors)} error(s) in pack:\n  " + "\n  ".join(errors))
    return pack


def list_packs() -> list[str]:
    """ISO alpha-3 codes of the shipped country packs, sorted."""
    return sorted(p.stem for p in PACKS_DIR.glob("*.yaml") if p.stem != BASE)


@cache
def load_pack(iso3: str) -> Pack:
    """The shipped pack of country ``iso3`` (alpha-3, case-insensitive), base merged in.

    A country without its own pack gets the base pack with its ISO code; raise
    :class:`UserError` for a code that is not an ISO 3166-1 alpha-3 country.
    """
    code = iso3.strip().upper()
    path = PACKS_DIR / f"{code}.yaml"
    if path.exists():
        return load_pack_file(path)
    try:
        check_iso3(code)
    except CountryCodeError as exc:
        raise CountryCodeError(f"pack: {exc}; shipped packs: {', '.join(list_packs())}") from exc
    base = load_pack_file(PACKS_DIR / f"{BASE}.yaml")
    country = pycountry.countries.get(alpha_3=code)
    name = getattr(country, "common_name", None) or country.name  # type: ignore[union-attr]
    return base.model_copy(update={"iso3": code, "name": name})
