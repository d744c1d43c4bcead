"""`daulat catalog list|show`: JSON parses; bad KIND/ID/option exits 2 and says what is valid."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from daulat.catalog.cli import catalog_app, show_record
from daulat.errors import UserError

runner = CliRunner()


def _json(*args: str) -> object:
    result = runner.invoke(catalog_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", ["countries", "sites", "accelerators", "models", "constants"])
def test_list_json_parses_for_every_kind(kind: str) -> None:
    data = _json("list", kind)
    assert isinstance(data, list) and data


def test_list_countries_region_and_income_filters() -> None:
    data = _json("list", "countries", "--region", "South-eastern Asia")
    assert {c["iso3"] for c in data} >= {"IDN", "MYS", "VNM"}
    assert all(c["subregion"] == "South-eastern Asia" for c in data)
    lic = _json("list", "countries", "--income", "LIC")
    assert lic and all(c["income_group"] == "LIC" for c in lic)


def test_list_sites_with_candidates_for_one_country() -> None:
    data = _json("list", "sites", "--country", "IDN", "--candidates", "2")
    ids = [s["id"] for s in data]
    assert "idn-jakarta" in ids and all(s["country"] == "IDN" for s in data)


def test_show_country_prints_every_field_with_its_source() -> None:
    data = _json("show", "countries", "IDN")
    assert isinstance(data, dict)
    fields = data["fields"]
    assert fields["population"]["value"] > 2e8
    assert "WDI" in fields["population"]["source"]
    assert all(item["source"] for name, item in fields.items() if name != "power_price_source")


def test_show_site_and_candidate_site() -> None:
    data = _json("show", "sites", "stargate-norway")
    assert isinstance(data, dict) and data["fields"]["country"]["value"] == "NOR"
    cand = _json("show", "sites", "idn-bandung")
    assert isinstance(cand, dict) and cand["fields"]["status"]["value"] == "candidate"


def test_show_renders_a_table_for_people() -> None:
    result = runner.invoke(catalog_app, ["show", "countries", "IDN"])
    assert result.exit_code == 0
    assert "Indonesia" in result.stdout and "[1]" in result.stdout


def test_unknown_kind_exits_2_listing_the_kinds() -> None:
    result = runner.invoke(catalog_app, ["list", "planets"])
    assert result.exit_code == 2
    assert "'countries', 'sites', 'accelerators', 'models', 'constants'" in result.output


def test_unknown_id_or_option_raises_user_error_naming_valid_values() -> None:
    with pytest.raises(UserError, match="stargate-abilene"):
        runner.invoke(catalog_app, ["show", "sites", "nowhere"], catch_exceptions=False)
    with pytest.raises(UserError, match="did you mean H100-SXM"):
        runner.invoke(catalog_app, ["show", "accelerators", "H100-SMX"], catch_exceptions=False)
    with pytest.raises(UserError, match="--country: 'IDX'.*did you mean.*IDN"):
        runner.invoke(catalog_app, ["list", "sites", "--country", "IDX"], catch_exceptions=False)
    with pytest.raises(UserError, match="does not apply"):
        runner.invoke(catalog_app, ["list", "models", "--region", "Asia"],
                      catch_exceptions=False)
    with pytest.raises(UserError, match="South-eastern Asia"):
        runner.invoke(catalog_app, ["list", "countries", "--region", "Atlantis"],
                      catch_exceptions=False)


def _console_script(*argv: str) -> subprocess.CompletedProcess[str]:
    code = (f"import sys; sys.argv = ['daulat', *{list(argv)!r}]; "
            "from daulat.cli import main; main()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_console_script_exits_2_with_the_message() -> None:
    proc = _console_script("catalog", "show", "sites", "nowhere")
    assert proc.returncode == 2
    assert "unknown sites id 'nowhere'" in proc.stderr and "stargate-abilene" in proc.stderr


def test_show_an_unknown_country_code_suggests_close_codes() -> None:
    proc = _console_script("catalog", "show", "countries", "IDX")
    assert proc.returncode == 2, proc.stderr
    message = " ".join(proc.stderr.split())
    assert "'IDX'" in message and "did you mean" in message and "IDN" in message
    assert "Traceback" not in proc.stderr


def test_tables_print_years_as_years_and_prices_in_dollars() -> None:
    result = runner.invoke(catalog_app, ["list", "constants"], terminal_width=200)
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines()
               if "frontier_training_base_year" in line)
    assert " 2025 " in row and "2,025" not in row
    show = runner.invoke(catalog_app, ["show", "accelerators", "H100-SXM"], terminal_width=200)
    year_row = next(line for line in show.stdout.splitlines() if "first_year" in line)
    assert " 2022 " in year_row
    price_row = next(line for line in show.stdout.splitlines() if "price_usd " in line)
    assert " $33,750 " in price_row, price_row


def test_the_default_model_mix_is_listed_with_its_shares_and_sources() -> None:
    """Issue 10: the assistant's model mix is something a reader can see (and then change
    with --mix/--model): every mix lists its models, shares summing to 100 %, and show
    names each model's source."""
    mixes = {m["id"]: m["models"] for m in _json("list", "mixes")}  # type: ignore[union-attr]
    assert "national-assistant" in mixes
    for models in mixes.values():
        shares = [float(part.rsplit(" ", 1)[1].rstrip("%")) for part in models.split(", ")]
        assert sum(shares) == pytest.approx(100, abs=1)
    shown = _json("show", "mixes", "national-assistant")
    fields = shown["fields"]  # type: ignore[index]
    assert "gpt-oss-120b" in fields["models"]["value"]
    assert "gpt-oss-120b:" in fields["models"]["source"]
    with pytest.raises(UserError, match="national-assistant"):
        show_record("mixes", "nat")
