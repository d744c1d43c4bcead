"""The residency rule: where a country's prompts, completions and workloads may go.

One rule serves the planner (which (country, site-country) pairs exist in the model) and
the gateway (which upstream jurisdictions a tenant may be routed to):

1. an explicit override wins — a scenario's ``rules.residency`` entry or the gateway
   config's ``residency`` entry;
2. else the country's own policy pack (``daulat/policy/packs/XXX.yaml``);
3. else, no pack: **in country only** (basis ``no_pack``) — fail closed, never abroad.

The home country is always allowed. A pack that exists but does not validate raises
:class:`~daulat.errors.PackError` (the planner exits 2 naming the file; the gateway
answers 503 for that country) — it never silently falls back to another rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from daulat.errors import PackError, UserError
from daulat.iso3 import check_iso3
from daulat.policy.pack import PACKS_DIR, Pack, load_pack, load_pack_file

__all__ = ["ResidencyBasis", "ResidencyDecision", "ResidencyMode", "resolve_residency"]


class ResidencyMode(StrEnum):
    """Where data may go: only home, home plus listed jurisdictions, or anywhere."""

    IN_COUNTRY = "in_country"
    JURISDICTIONS = "jurisdictions"
    ANY = "any"


class ResidencyBasis(StrEnum):
    """Why: a statute, the programme's own policy, a scenario or config override, no pack."""

    LAW = "law"
    PROGRAMME_POLICY = "programme_policy"
    SCENARIO = "scenario"
    CONFIG = "config"
    NO_PACK = "no_pack"


@dataclass(frozen=True)
class ResidencyDecision:
    """The resolved residency of one country.

    ``jurisdictions`` always includes ``country`` (home); for ``mode == ANY`` it is just
    the home country and :meth:`allows` answers True for every jurisdiction.
    ``source`` says where the rule comes from: a law citation, ``scenario
    rules.residency.NGA``, ``gateway config residency.NGA`` or the missing pack's path.
    """

    country: str
    mode: ResidencyMode
    jurisdictions: frozenset[str]
    basis: ResidencyBasis
    source: str

    def allows(self, jurisdiction: str) -> bool:
        """Whether data of :attr:`country` may be processed in ``jurisdiction`` (alpha-3)."""
        code = jurisdiction.strip().upper()
        return code == self.country or self.mode is ResidencyMode.ANY or code in self.jurisdictions

    def describe(self) -> str:
        """One line for people: ``IDN: in IDN only (programme_policy; PP No. 71 …)``."""
        if self.mode is ResidencyMode.ANY:
            where = "any jurisdiction"
        elif self.mode is ResidencyMode.IN_COUNTRY:
            where = f"in {self.country} only"
        else:
            where = "in " + ", ".join(sorted(self.jurisdictions))
        return f"{self.country}: {where} ({self.basis.value}; {self.source})"


Override = str | Sequence[str] | None


def _from_override(country: str, override: str | Sequence[str], basis: ResidencyBasis,
                   source: str) -> ResidencyDecision:
    where = source or f"{basis.value} override for {country}"
    if isinstance(override, str):
        value = override.strip().lower()
        if value == ResidencyMode.IN_COUNTRY:
            return ResidencyDecision(country, ResidencyMode.IN_COUNTRY, frozenset({country}),
                                     basis, where)
        if value == ResidencyMode.ANY:
            return ResidencyDecision(country, ResidencyMode.ANY, frozenset({country}), basis, where)
        raise UserError(
            f"{where}: residency {override!r} is not valid; valid: 'in_country', 'any' or a "
            "list of ISO 3166-1 alpha-3 codes such as [IDN, SGP]"
        )
    codes = frozenset(check_iso3(c) for c in override) | {country}
    mode = ResidencyMode.IN_COUNTRY if codes == {country} else ResidencyMode.JURISDICTIONS
    return ResidencyDecision(country, mode, codes, basis, where)


def _from_pack(country: str, pack: Pack, path: Path) -> ResidencyDecision:
    if pack.iso3 != country:
        raise PackError(f"{path}: iso3 {pack.iso3!r} does not match the file name; "
                        f"valid: {country!r}")
    res = pack.residency
    cited = pack.law(res.law.law)
    article = res.law.article
    source = f"{path.name}: " + (article if article.startswith(cited.citation)
                                 else f"{cited.citation}, {article}")
    basis = ResidencyBasis(res.basis)
    mode = ResidencyMode(res.mode)
    codes = frozenset({country} | {c.upper() for c in res.jurisdictions})
    if mode is ResidencyMode.ANY:
        codes = frozenset({country})
    elif codes == {country}:
        mode = ResidencyMode.IN_COUNTRY
    return ResidencyDecision(country, mode, codes, basis, source)


def resolve_residency(country: str, override: Override = None, *,
                      override_basis: ResidencyBasis = ResidencyBasis.SCENARIO,
                      override_source: str = "",
                      packs_dir: Path | None = None) -> ResidencyDecision:
    """The residency decision of ``country`` (ISO 3166-1 alpha-3).

    ``override`` — ``"in_country"``, ``"any"`` or a list of alpha-3 codes — wins when given
    (``override_basis``/``override_source`` say whose it is). Else the country's own pack
    in ``packs_dir`` (default: the shipped packs); else in-country, basis ``NO_PACK``.
    Raises :class:`~daulat.errors.CountryCodeError` for a bad code and
    :class:`~daulat.errors.PackError` for a pack file that does not validate.
    """
    code = check_iso3(country)
    if override is not None:
        return _from_override(code, override, override_basis, override_source)
    directory = PACKS_DIR if packs_dir is None else packs_dir
    path = directory / f"{code}.yaml"
    if not path.is_file():
        return ResidencyDecision(
            code, ResidencyMode.IN_COUNTRY, frozenset({code}), ResidencyBasis.NO_PACK,
            f"no policy pack {path} — in country only (fail closed)",
        )
    pack = load_pack(code) if packs_dir is None else load_pack_file(path)
    return _from_pack(code, pack, path)
