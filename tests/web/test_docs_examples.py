"""The examples in docs/web.md run: its web.yaml loads, its CSV files import, its
``daulat web users create`` commands create the users they say."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daulat.cli import app
from daulat.web import registry as reg
from daulat.web.cli import open_office
from daulat.web.config import WebConfig, load_config
from daulat.web.security import Principal, Role, authenticate

DOC = (Path(__file__).resolve().parents[2] / "docs" / "web.md").read_text(encoding="utf-8")
OFFICE = Principal("ana", Role.PROVIDER)


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_the_documented_web_yaml_loads(tmp_path: Path) -> None:
    (block,) = _blocks("yaml")
    path = tmp_path / "web.yaml"
    path.write_text(block, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.store.url and cfg.store.url.startswith("postgresql://")
    # every other value shown is the default
    defaults = WebConfig().model_dump()
    shown = cfg.model_dump()
    shown["store"]["url"] = None
    shown["store"]["data_dir"] = None
    assert shown == defaults


def test_the_documented_csv_files_import(tmp_path: Path) -> None:
    office = open_office(WebConfig.model_validate({"store": {"data_dir": str(tmp_path)}}))
    e = office.engine
    reg.add_partner(e, OFFICE, {"id": "provider", "name": "Provider", "kind": "provider"})
    reg.add_project(e, OFFICE, "IDN", "Indonesia")
    reg.add_site(e, OFFICE, {"id": "idn-batam-nongsa", "country": "IDN", "name": "Batam"})
    blocks = _blocks("csv")
    assert len(blocks) == 2
    assert reg.import_csv(e, OFFICE, "milestones", blocks[0], "milestones.csv") == 2
    assert reg.import_csv(e, OFFICE, "ledger", blocks[1], "ledger.csv") == 1
    kinds = [r["kind"] for r in reg.milestone_rows(e, "IDN")]
    assert kinds == ["construction", "mw_energised"]
    e.dispose()


def test_the_documented_users_create_commands(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAULAT_DATA_DIR", str(tmp_path))
    lines = [line for block in _blocks("sh") for line in block.splitlines()
             if "users create" in line]
    assert len(lines) == 3
    runner = CliRunner()
    for line in lines:
        words = shlex.split(line)
        env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
        argv = words[words.index("daulat") + 1:]
        result = runner.invoke(app, argv, env=env)
        assert result.exit_code == 0, result.output
        assert "created" in result.output
    office = open_office(load_config(None))
    budi = authenticate(office.engine, "budi", "a long passphrase", "127.0.0.1",
                        max_failures=5, window_s=60)
    assert budi is not None and (budi.role, budi.country) == (Role.GOVERNMENT, "IDN")
    created = [r for r in reg.trail_rows(office.engine, OFFICE) if r["action"] == "user.create"]
    assert [r["object"] for r in created] == ["user:siti", "user:budi", "user:ana"]
    assert all(r["username"].startswith("cli:") and "password" not in (r["after"] or "")
               for r in created)
    office.engine.dispose()


def test_the_documented_benchmark_command_exists(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = _blocks("text")
    argv = shlex.split(block.strip())
    assert argv[:2] == [".venv/bin/python", "benchmarks/web.py"]
    path = Path(__file__).resolve().parents[2] / argv[1]
    spec = importlib.util.spec_from_file_location("bench_web", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(sys, "argv", [str(path), "--help"])
    with pytest.raises(SystemExit) as done:
        bench.main()
    assert done.value.code == 0
    out = capsys.readouterr().out
    for option in argv[2::2]:
        assert option in out
