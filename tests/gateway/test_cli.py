"""The commands: serve with no config, keys, store migrate, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daulat.cli import app as cli_app
from daulat.errors import UserError
from daulat.gateway.config import load_config
from daulat.gateway.local_model import local_available

runner = CliRunner()


@pytest.mark.skipif(local_available(), reason="with daulat[local] installed serve would start")
def test_serve_without_config_or_local_model_says_how_to_fix_it(tmp_path: Path) -> None:
    res = runner.invoke(cli_app, ["serve", "--data-dir", str(tmp_path)])
    assert res.exit_code != 0
    assert isinstance(res.exception, UserError)
    msg = str(res.exception)
    assert "llama-cpp-python" in msg and "gateway.yaml" in msg


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'k.db'}"]
    res = runner.invoke(cli_app, ["keys", "create", "--tenant", "kominfo", "--country", "idn",
                                  "--tokens-per-day", "100000", "--json", *store])
    assert res.exit_code == 0, res.output
    created = json.loads(res.stdout)
    assert created["key"].startswith("dk-") and created["country"] == "IDN"
    res = runner.invoke(cli_app, ["keys", "list", "--json", *store])
    (row,) = json.loads(res.stdout)
    assert row["id"] == created["id"] and row["revoked"] is None
    assert created["key"] not in res.stdout  # the secret is never listed
    res = runner.invoke(cli_app, ["keys", "revoke", created["id"], *store])
    assert res.exit_code == 0
    (row,) = json.loads(runner.invoke(cli_app, ["keys", "list", "--json", *store]).stdout)
    assert row["revoked"] is not None


def test_new_tenant_needs_a_country(tmp_path: Path) -> None:
    res = runner.invoke(cli_app, ["keys", "create", "--tenant", "x", "--store",
                                  f"sqlite:///{tmp_path / 'k.db'}"])
    assert isinstance(res.exception, UserError) and "--country" in str(res.exception)


def test_store_migrate_reports_the_revision(tmp_path: Path) -> None:
    res = runner.invoke(cli_app, ["store", "migrate", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0 and "revision 0001" in res.stdout
    assert (tmp_path / "daulat.db").exists()


def test_config_errors_name_file_line_field_and_value(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("server:\n  port: 8080\nupstreams:\n  - name: a\n    url: ftp://x\n"
                    "    jurisdiction: Indonesia\n")
    with pytest.raises(UserError) as info:
        load_config(path)
    msg = str(info.value)
    assert f"{path}:5:10: upstreams[0].url: 'ftp://x' — " in msg and "http(s) URL" in msg
    assert f"{path}:6:19: upstreams[0].jurisdiction: 'Indonesia' — " in msg
    assert "alpha-3" in msg and "did you mean IDN" in msg


def test_example_config_is_valid() -> None:
    cfg = load_config(Path(__file__).parents[2] / "examples" / "gateway.yaml")
    assert cfg.upstreams and all(len(u.jurisdiction) == 3 for u in cfg.upstreams)


@pytest.mark.skipif(local_available(), reason="the extra is installed here")
def test_local_model_enabled_but_missing_is_a_clear_error(tmp_path: Path) -> None:
    from daulat.gateway.app import create_app
    from daulat.gateway.config import GatewayConfig
    from daulat.store import Store

    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    store.migrate()
    cfg = GatewayConfig.model_validate({"local_model": {"enabled": True, "jurisdiction": "IDN"}})
    with pytest.raises(UserError, match="llama-cpp-python"):
        create_app(cfg, store)
