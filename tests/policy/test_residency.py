"""The one residency rule: override wins, else the country's pack, else in country (fail closed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daulat.errors import CountryCodeError, PackError, UserError
from daulat.policy.pack import PACKS_DIR, list_packs, load_pack
from daulat.policy.residency import (
    ResidencyBasis,
    ResidencyDecision,
    ResidencyMode,
    resolve_residency,
)


def test_country_without_pack_stays_home() -> None:
    assert not (PACKS_DIR / "NGA.yaml").exists()  # the premise: Nigeria ships no pack
    d = resolve_residency("NGA")
    assert d.mode is ResidencyMode.IN_COUNTRY
    assert d.basis is ResidencyBasis.NO_PACK
    assert d.allows("NGA") and not d.allows("GHA") and not d.allows("USA")
    assert "fail closed" in d.describe()


@pytest.mark.parametrize("iso3", list_packs())
def test_every_shipped_pack_decides_as_its_file_says(iso3: str) -> None:
    pack = load_pack(iso3)
    d = resolve_residency(iso3)
    assert d.country == iso3 and d.allows(iso3)  # home always allowed
    assert d.basis.value == pack.residency.basis
    assert f"{iso3}.yaml" in d.source and pack.residency.law.article in d.source
    for other in ("USA", "IDN", "DEU", "NGA", "SGP"):
        expected = other == iso3 or pack.residency.allows(other)
        assert d.allows(other) is expected, (iso3, other)


def test_indonesia_in_country_by_its_pack() -> None:
    d = resolve_residency("idn")
    assert (d.country, d.mode, d.jurisdictions) == ("IDN", ResidencyMode.IN_COUNTRY,
                                                   frozenset({"IDN"}))
    assert "PP No. 71 Tahun 2019" in d.source
    assert not d.allows("SGP")


def test_override_wins_over_pack_and_no_pack() -> None:
    d = resolve_residency("IDN", ["sgp"], override_source="scenario rules.residency.IDN")
    assert d.mode is ResidencyMode.JURISDICTIONS and d.basis is ResidencyBasis.SCENARIO
    assert d.jurisdictions == {"IDN", "SGP"}  # home added
    assert d.allows("SGP") and d.allows("IDN") and not d.allows("MYS")
    assert d.source == "scenario rules.residency.IDN"
    anywhere = resolve_residency("NGA", "any", override_basis=ResidencyBasis.CONFIG,
                                 override_source="gateway.yaml residency.NGA")
    assert anywhere.basis is ResidencyBasis.CONFIG and anywhere.allows("USA")
    home = resolve_residency("USA", "in_country")
    assert home.mode is ResidencyMode.IN_COUNTRY and not home.allows("CAN")
    assert resolve_residency("NGA", []).mode is ResidencyMode.IN_COUNTRY


def test_bad_override_and_bad_codes_are_user_errors() -> None:
    with pytest.raises(UserError, match="'anywhere'.*valid: 'in_country', 'any'"):
        resolve_residency("IDN", "anywhere")
    with pytest.raises(CountryCodeError, match="'XYZ'"):
        resolve_residency("IDN", ["XYZ"])
    with pytest.raises(CountryCodeError, match="did you mean IDN"):
        resolve_residency("ID")


def test_broken_pack_raises_pack_error_naming_the_file(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    shutil.copy(PACKS_DIR / "base.yaml", packs / "base.yaml")
    text = (PACKS_DIR / "IDN.yaml").read_text(encoding="utf-8")
    (packs / "IDN.yaml").write_text(text.replace("mode: in_country", "mode: in_contry"),
                                    encoding="utf-8")
    with pytest.raises(PackError, match=r"IDN\.yaml:\d+:\d+: residency\.mode"):
        resolve_residency("IDN", packs_dir=packs)
    # an override does not read the pack at all
    assert resolve_residency("IDN", "in_country", packs_dir=packs).basis is ResidencyBasis.SCENARIO
    # a pack for another country under this name is broken too
    (packs / "MYS.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackError, match="does not match the file name"):
        resolve_residency("MYS", packs_dir=packs)


def test_the_residency_example_in_docs_policy_runs_as_shown() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text("utf-8")
    section = docs.split("\n## Residency\n", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code, "docs/policy.md", "exec"), namespace)  # noqa: S102 - the doc's own code
    d = namespace["d"]
    assert isinstance(d, ResidencyDecision)
    shown = [ln.split("#", 1)[1].strip() for ln in code.splitlines() if "#" in ln]
    assert shown[0] == f"{d.mode.value}, {d.basis.value}, {d.allows('SGP')}"
    assert shown[1].strip("'") == d.describe()
    assert shown[2].startswith(resolve_residency("NGA").basis.value)
