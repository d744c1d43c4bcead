"""The one YAML loader: every problem at once, with file:line:col, field, value, what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from daulat.errors import CountryCodeError, PackError, UserError
from daulat.iso3 import ISO3, check_iso3
from daulat.yamlio import load_model, parse_yaml


class Site(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    country: ISO3
    power_mw: float = Field(gt=0)


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    sites: list[Site]
    by_country: dict[str, Site] = Field(default_factory=dict)


TEXT = """\
title: t
sites:
  - name: a
    country: Indonesia
    power_mw: -3
  - name: b
    country: MYS
    power_mw: 10
    colour: red
by_country:
  SGP: {name: c, country: SGP, powr_mw: 1}
"""


def test_every_problem_positioned_with_value_and_what_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_model(path, Doc)
    lines = info.value.problems  # type: ignore[attr-defined]
    text = "\n".join(lines)
    assert f"{path}:4:14: sites[0].country: 'Indonesia' — " in text and "did you mean IDN" in text
    assert f"{path}:5:15: sites[0].power_mw: -3 — Input should be greater than 0" in text
    assert f"{path}:9:5: sites[1].colour: unknown field" in text
    assert "valid fields here: country, name, power_mw" in text
    assert "by_country.SGP.powr_mw: unknown field (did you mean 'power_mw'?)" in text
    assert "by_country.SGP.power_mw: missing — this field is required" in text
    assert len(lines) == 5


def test_syntax_error_and_missing_file_use_the_callers_error_class(tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"x\.yaml:3:1: not valid YAML — expected the node content"):
        parse_yaml("a: 1\nb: [1,\n", "x.yaml", error=PackError)
    with pytest.raises(UserError, match="no such gateway config"):
        load_model(tmp_path / "nope.yaml", Doc, what="gateway config")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"list\.yaml:1:1: \(top level\).*expected a YAML mapping"):
        load_model(tmp_path / "list.yaml", Doc)


def test_iso3_normalises_and_suggests() -> None:
    assert check_iso3(" idn ") == "IDN"
    with pytest.raises(CountryCodeError, match="did you mean IDN"):
        check_iso3("ID")
    with pytest.raises(CountryCodeError, match="'XYZ' is not an ISO 3166-1 alpha-3"):
        check_iso3("XYZ")
