"""Applying a country's policy pack to a conversation: prompt, language, PII, content, retention.

Everything here is compiled once per country (:func:`country_policy` caches it) and reused
by every request: the pack, its PII engine and its content rules. The pack itself comes
from :mod:`daulat.policy` (``load_pack``, ``PiiEngine``, ``detect_language``).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from babel import Locale, UnknownLocaleError

from daulat.errors import UserError
from daulat.gateway.config import PolicyConfig
from daulat.policy.language import detect_language
from daulat.policy.pack import Pack, load_pack, load_pack_file
from daulat.policy.pii import PiiEngine
from daulat.policy.residency import ResidencyBasis, ResidencyDecision, resolve_residency

__all__ = [
    "CountryPolicy",
    "ContentDecision",
    "Classifier",
    "PolicyRegistry",
    "load_classifier",
    "SECONDS_PER_DAY",
]

SECONDS_PER_DAY = 86_400

# A classifier hook: (text, country iso3) -> decisions; plugged in with policy.classifier.
Classifier = Callable[[str, str], "list[ContentDecision]"]


@dataclass(frozen=True)
class ContentDecision:
    """A content rule that matched: ``action`` 'block' refuses the request, 'flag' records it."""

    rule: str
    action: Literal["block", "flag"]
    message: str
    law: str | None = None


@dataclass
class _Rule:
    id: str
    action: Literal["block", "flag"]
    regex: re.Pattern[str]
    message: str
    law: str | None


def _law_text(pack: Pack, citation: Any) -> str | None:
    """'UU No. 27 Tahun 2022, Pasal 4' for a rule's citation, as far as the pack says."""
    if citation is None:
        return None
    law_id = getattr(citation, "law", None)
    article = getattr(citation, "article", None)
    laws = {law.id: law.citation for law in pack.laws}
    name = str(laws.get(str(law_id), law_id or citation))
    return f"{name}, {article}" if article else name


def _compile_rule(rule: Any, law: str | None) -> _Rule | None:
    """One regex per rule: keywords (case-insensitive substrings, as the pack defines them)
    or patterns; compiled once."""
    pats: list[str] = [str(p) for p in (getattr(rule, "patterns", None) or [])]
    pats += [re.escape(str(k)) for k in (getattr(rule, "keywords", None) or [])]
    if not pats:
        return None
    action = str(getattr(rule, "action", "flag"))
    return _Rule(
        id=str(getattr(rule, "id", "rule")),
        action="block" if action == "block" else "flag",
        regex=re.compile("|".join(f"(?:{p})" for p in pats), re.IGNORECASE),
        message=str(getattr(rule, "message", "") or "blocked by policy"),
        law=law,
    )


def load_classifier(spec: str) -> Classifier:
    """Import ``module:function`` as a content classifier; UserError if it is not there."""
    mod_name, _, attr = spec.partition(":")
    if not mod_name or not attr:
        raise UserError(f"policy.classifier = {spec!r}: use 'package.module:function'")
    try:
        fn = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"policy.classifier = {spec!r}: cannot import it ({exc})") from exc
    if not callable(fn):
        raise UserError(f"policy.classifier = {spec!r} is not callable")
    return fn  # type: ignore[no-any-return]


def _language_name(code: str, locale: str) -> str:
    """The name of language ``code`` in ``locale`` (``en`` in ``id_ID`` → ``Inggris``)."""
    try:
        names = Locale.parse(locale).languages
    except (ValueError, UnknownLocaleError):
        names = Locale("en").languages
    return str(names.get(code) or Locale("en").languages.get(code) or code)


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")


def unfold(text: str) -> str:
    """Prose from a YAML block: the line breaks inside a paragraph become spaces; blank
    lines (paragraphs) and list items keep theirs."""
    paragraphs = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        out = ""
        for ln in lines:
            if not out:
                out = ln
            elif _LIST_ITEM.match(ln):
                out += "\n" + ln
            else:
                out += " " + ln
        paragraphs.append(out)
    return "\n\n".join(paragraphs)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content
                        if isinstance(p, dict) and p.get("type") == "text")
    return ""


@dataclass
class CountryPolicy:
    """One country's compiled policy."""

    iso3: str
    pack: Pack
    residency: ResidencyDecision
    pii: PiiEngine | None
    rules: list[_Rule]
    system_prompt: str | None
    retention_s: float
    match_language: bool
    detect: Callable[[str], str | None] | None
    classifier: Classifier | None = None
    language_instruction: str = "Answer in {language} ({code}), the language of the user's " \
        "last message."
    locale: str = "en"
    _lang_cache: dict[str, str] = field(default_factory=dict)

    def allows(self, jurisdiction: str) -> bool:
        """Whether this country's residency rule permits an upstream in ``jurisdiction``
        (:mod:`daulat.policy.residency`, the rule the planner uses too)."""
        return self.residency.allows(jurisdiction)

    def redact_tool_calls(self, calls: Any) -> tuple[Any, list[str]]:
        """Tool calls with PII redacted in each function's ``arguments`` (and their types)."""
        if not isinstance(calls, list) or self.pii is None:
            return calls, []
        found: list[str] = []
        out = []
        for call in calls:
            fn = call.get("function") if isinstance(call, Mapping) else None
            args = fn.get("arguments") if isinstance(fn, Mapping) else None
            if isinstance(args, str) and args:
                text, types = self.redact(args)
                if types:
                    found += types
                    call = {**call, "function": {**fn, "arguments": text}}  # type: ignore[dict-item]
            out.append(call)
        return out, found

    # --- requests --------------------------------------------------------------------------
    def redact(self, text: str) -> tuple[str, list[str]]:
        """``text`` with PII replaced, and the entity types found."""
        if self.pii is None or not text:
            return text, []
        red = self.pii.redact(text)
        return red.text, [str(e.type) for e in red.entities]

    def check_content(self, text: str) -> list[ContentDecision]:
        """Content rules (and the classifier hook) that match ``text``."""
        found = [ContentDecision(r.id, r.action, r.message, r.law)
                 for r in self.rules if r.regex.search(text)]
        if self.classifier is not None:
            found.extend(self.classifier(text, self.iso3) or [])
        return found

    def prepare(self, messages: list[dict[str, Any]]
                ) -> tuple[list[dict[str, Any]], dict[str, Any], list[ContentDecision]]:
        """Redact, check and prefix the conversation.

        Returns (messages to send upstream, policy actions for the audit, content decisions).
        """
        out: list[dict[str, Any]] = []
        pii_types: list[str] = []
        last_user = ""
        user_text: list[str] = []
        for msg in messages:
            content = msg.get("content")
            new = msg
            if isinstance(content, str):
                text, types = self.redact(content)
                pii_types += types
                new = {**msg, "content": text} if types else msg
            elif isinstance(content, list):
                parts = []
                for part in content:
                    if isinstance(part, dict) and part.get("type") == "text":
                        text, types = self.redact(str(part.get("text", "")))
                        pii_types += types
                        parts.append({**part, "text": text})
                    else:
                        parts.append(part)
                new = {**msg, "content": parts}
            # a participant's name and a tool call's arguments carry PII as often as content
            if isinstance(msg.get("name"), str) and msg["name"]:
                text, types = self.redact(msg["name"])
                if types:
                    pii_types += types
                    new = {**new, "name": text}
            if msg.get("tool_calls"):
                calls, types = self.redact_tool_calls(msg["tool_calls"])
                if types:
                    pii_types += types
                    new = {**new, "tool_calls": calls}
            if msg.get("role") == "user":
                last_user = _text_of(content)
                user_text.append(last_user)
            out.append(new)
        decisions = (self.check_content("\n".join(user_text))
                     if self.rules or self.classifier else [])
        prefix: list[str] = []
        if self.system_prompt:
            prefix.append(self.system_prompt)
        language = None
        if self.match_language and self.detect is not None and last_user:
            language = self.detect(last_user)
            if language:
                line = self._lang_cache.get(language)
                if line is None:
                    line = self._lang_cache[language] = self.language_instruction.format(
                        language=_language_name(language, self.locale), code=language)
                prefix.append(line)
        if prefix:
            out = [{"role": "system", "content": "\n\n".join(prefix)}, *out]
        actions: dict[str, Any] = {
            "system_prompt": bool(self.system_prompt),
            "language": language,
            "pii_in": sorted(set(pii_types)),
            "pii_in_count": len(pii_types),
            "content": [d.rule for d in decisions],
        }
        return out, actions, decisions

    def stream_redactor(self) -> Any | None:
        """A fresh streaming redactor (``feed``/``flush``), or None when PII is off."""
        return None if self.pii is None else self.pii.stream()


class PolicyRegistry:
    """Builds and caches :class:`CountryPolicy` per country (compiled engines reused)."""

    def __init__(self, cfg: PolicyConfig,
                 residency: Mapping[str, str | Sequence[str]] | None = None) -> None:
        self.cfg = cfg
        self.residency = dict(residency or {})
        self._cache: dict[str, CountryPolicy] = {}
        self._classifier = load_classifier(cfg.classifier) if cfg.classifier else None

    def get(self, iso3: str) -> CountryPolicy:
        """The compiled policy of ``iso3``; PackError when its pack does not validate."""
        found = self._cache.get(iso3)
        if found is None:
            found = self._cache[iso3] = self._build(iso3)
        return found

    def residency_of(self, iso3: str) -> ResidencyDecision:
        """The residency decision of ``iso3``: the config's explicit entry, else its pack,
        else in country only (:func:`daulat.policy.residency.resolve_residency`)."""
        return resolve_residency(iso3, self.residency.get(iso3),
                                 override_basis=ResidencyBasis.CONFIG,
                                 override_source=f"gateway config residency.{iso3}",
                                 packs_dir=self._own_packs(iso3))

    def _own_packs(self, iso3: str) -> Path | None:
        """``policy.packs_dir`` when it holds a pack for ``iso3``, else None (shipped packs)."""
        own = self.cfg.packs_dir
        return own if own is not None and (own / f"{iso3}.yaml").is_file() else None

    def _build(self, iso3: str) -> CountryPolicy:
        residency = self.residency_of(iso3)
        own = self._own_packs(iso3)
        pack = load_pack(iso3) if own is None else load_pack_file(own / f"{iso3}.yaml")
        pii = None
        if self.cfg.pii:
            key = os.environ.get(self.cfg.pii_key_env) if self.cfg.pii_key_env else None
            categories = list(pack.pii_categories or []) or None
            pii = PiiEngine(countries=[iso3], style=self.cfg.pii_style, key=key,
                            categories=categories)
        detect = detect_language if self.cfg.match_language else None
        rules = []
        if self.cfg.content_rules:
            compiled = (_compile_rule(x, _law_text(pack, x.law)) for x in pack.content_rules)
            rules = [r for r in compiled if r is not None]
        prompt = unfold(pack.system_prompt) if self.cfg.system_prompt else None
        if prompt and pack.cultural_guidance:
            prompt = f"{prompt}\n\n{unfold(pack.cultural_guidance)}"
        return CountryPolicy(
            iso3=iso3, pack=pack, residency=residency, pii=pii, rules=rules,
            system_prompt=prompt or None,
            retention_s=pack.retention_days * SECONDS_PER_DAY if self.cfg.store_bodies else 0.0,
            match_language=self.cfg.match_language, detect=detect, classifier=self._classifier,
            language_instruction=pack.language_instruction, locale=pack.default_locale,
        )
