"""Packs load, every rule cites a law, and bad pack files are reported with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from daulat.errors import UserError
from daulat.policy import list_packs, load_pack, validate_pack_file
from daulat.policy.pack import PACKS_DIR, load_pack_file
from daulat.policy.recognizers import ENTITY_TYPES

REQUIRED = {"IDN", "IND", "ARE", "NOR", "GBR", "DEU", "JPN", "KOR", "ARG", "AUS", "USA"}


EXTRA = {"MYS", "SGP", "SAU", "BRA", "FRA"}


def test_required_packs_ship() -> None:
    assert REQUIRED | EXTRA <= set(list_packs())


@pytest.mark.parametrize("iso3", sorted(REQUIRED | EXTRA))
def test_pack_loads_and_every_rule_cites_a_law(iso3: str) -> None:
    pack = load_pack(iso3)
    assert pack.iso3 == iso3
    assert pack.system_prompt.strip() and pack.cultural_guidance.strip()
    known = {law.id for law in pack.laws}
    rules = list(pack.rules())
    assert len(rules) >= 6
    for field, cite in rules:
        assert cite.law in known, field
        assert cite.article.strip(), field
    assert set(pack.pii_categories) <= set(ENTITY_TYPES)
    # a country's own laws are cited, not only the base pack's international instruments
    own = {c.law for _, c in rules} - {"oecd-privacy-2013", "un-crc-1989", "un-opsc-2000"}
    assert own


@pytest.mark.parametrize("iso3", sorted((REQUIRED | EXTRA) - {"USA", "GBR", "AUS", "SGP"}))
def test_system_prompt_is_in_the_local_language(iso3: str) -> None:
    from daulat.policy.language import detect_language

    pack = load_pack(iso3)
    # Bokmål and Nynorsk are hard to tell apart: either is the NOR pack
    local = [c for c in pack.languages if c != "en"]
    assert detect_language(pack.system_prompt, pack.languages) in local


def test_residency() -> None:
    idn = load_pack("IDN")
    assert idn.residency.mode == "in_country"
    assert idn.residency.allows("IDN") and not idn.residency.allows("SGP")
    nor = load_pack("NOR")
    assert nor.residency.allows("SWE") and not nor.residency.allows("USA")
    assert load_pack("USA").residency.allows("IDN")
    # a programme choice is labelled as such, never passed off as a legal mandate
    assert idn.residency.basis == "programme_policy"


def test_country_without_pack_gets_base_with_its_code() -> None:
    chl = load_pack("chl")
    assert chl.iso3 == "CHL" and chl.residency.mode == "any"
    with pytest.raises(UserError, match="alpha-3"):
        load_pack("XXX")


def test_content_rules_merge_base_and_country() -> None:
    idn = load_pack("IDN")
    ids = [r.id for r in idn.content_rules]
    assert "csam" in ids and "online-gambling" in ids
    assert [r.id for r in idn.blocked_by("cari link judi terbaru")] == ["online-gambling"]


def test_shipped_pack_files_validate() -> None:
    for path in sorted(PACKS_DIR.glob("*.yaml")):
        assert validate_pack_file(path) == [], path


BAD = """\
iso3: IDN
name: Indonesia
languages: [id, xx]
default_locale: id_ID
residency:
  mode: in_space
  basis: programme_policy
  note: nowhere
  law: {law: uu-27-2022, article: "Pasal 56", verified: true}
retention_days: -5
min_age: 18
colour: blue
laws:
  - id: uu-27-2022
    title: UU PDP
    citation: UU No. 27 Tahun 2022
"""


def test_every_error_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "IDN.yaml"
    path.write_text(BAD, encoding="utf-8")
    errors = validate_pack_file(path)
    joined = "\n".join(errors)
    assert f"{path}:3:" in joined and "languages" in joined and "'xx'" in joined
    assert f"{path}:6:" in joined and "residency.mode" in joined and "in_space" in joined
    assert f"{path}:10:" in joined and "retention_days" in joined
    assert f"{path}:12:" in joined and "colour" in joined
    with pytest.raises(UserError, match="error"):
        load_pack_file(path)


def test_citation_of_an_unknown_law_is_an_error(tmp_path: Path) -> None:
    text = (PACKS_DIR / "IDN.yaml").read_text(encoding="utf-8")
    path = tmp_path / "IDN.yaml"
    path.write_text(text.replace("law: uu-ite,", "law: uu-itee,", 1), encoding="utf-8")
    errors = validate_pack_file(path)
    assert len(errors) == 1 and "'uu-itee' is not in 'laws'" in errors[0]
    assert errors[0].startswith(str(path))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("iso3: IDN\nname: [unclosed\n", encoding="utf-8")
    errors = validate_pack_file(path)
    assert len(errors) == 1 and f"{path}:" in errors[0] and "not valid YAML" in errors[0]


def test_missing_file() -> None:
    assert "no such pack file" in validate_pack_file("/nonexistent/pack.yaml")[0]
