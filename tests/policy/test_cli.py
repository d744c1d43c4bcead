"""`daulat policy` and `daulat pii` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from daulat.cli import app

runner = CliRunner()


def test_policy_list_json() -> None:
    result = runner.invoke(app, ["policy", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by_code = {r["iso3"]: r for r in rows}
    assert by_code["IDN"]["residency"] == "in_country" and by_code["IDN"]["languages"][0] == "id"


def test_policy_show_json_and_table() -> None:
    result = runner.invoke(app, ["policy", "show", "idn", "--json"])
    assert result.exit_code == 0
    pack = json.loads(result.stdout)
    assert pack["iso3"] == "IDN" and pack["residency"]["jurisdictions"] == ["IDN"]
    table = runner.invoke(app, ["policy", "show", "KOR"])
    assert table.exit_code == 0 and "Art. 22-2" in table.stdout


def test_policy_show_unknown_country_exits_2() -> None:
    result = runner.invoke(app, ["policy", "show", "ZZZ"])
    assert result.exit_code == 2 and "alpha-3" in result.output


def test_policy_validate(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["policy", "validate", "daulat/policy/packs/NOR.yaml"])
    assert ok.exit_code == 0 and "valid" in ok.stdout
    bad = tmp_path / "NOR.yaml"
    bad.write_text("iso3: NOR\nmin_age: -1\nretention_days: x\n", encoding="utf-8")
    result = runner.invoke(app, ["policy", "validate", str(bad), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert not report["valid"]
    assert any(e.startswith(f"{bad}:2:") and "min_age" in e for e in report["errors"])
    assert any(e.startswith(f"{bad}:3:") and "retention_days" in e for e in report["errors"])


def test_pii_scan_jsonl_offsets_per_line() -> None:
    lines = "NIK saya 3171011708450001\nno pii here\nmail: siti@example.co.id\n"
    result = runner.invoke(app, ["pii", "scan", "--redact"], input=lines)
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 3
    first = out[0]["entities"][0]
    assert first["type"] == "NATIONAL_ID" and (first["start"], first["end"]) == (9, 25)
    assert out[0]["redacted"] == "NIK saya <NATIONAL_ID>"
    assert out[1] == {"entities": [], "redacted": "no pii here"}
    assert out[2]["entities"][0]["text"] == "siti@example.co.id"


def test_pii_scan_without_redact_and_country_filter() -> None:
    result = runner.invoke(
        app,
        ["pii", "scan", "--country", "NOR", "--format", "jsonl"],
        input="NIK 3171011708450001\n",
    )
    assert json.loads(result.stdout) == {"entities": [], "redacted": None}


def test_pii_scan_text_format_and_styles() -> None:
    result = runner.invoke(
        app,
        ["pii", "scan", "--format", "text", "--style", "mask"],
        input="kartu 4111 1111 1111 1111\n",
    )
    assert result.stdout == "kartu **** **** **** ****\n"
    hashed = runner.invoke(
        app,
        ["pii", "scan", "--format", "text", "--style", "hash"],
        input="a@b.co\n",
        env={"DAULAT_PII_KEY": "k"},
    )
    assert hashed.stdout.startswith("<EMAIL:")


def test_pii_scan_bad_input_exits_2() -> None:
    assert runner.invoke(app, ["pii", "scan", "--country", "XYZ"], input="").exit_code == 2
    assert runner.invoke(app, ["pii", "scan", "--style", "blur"], input="").exit_code == 2
    nokey = runner.invoke(
        app, ["pii", "scan", "--style", "hash"], input="a@b.co\n", env={"DAULAT_PII_KEY": ""}
    )
    assert nokey.exit_code == 2 and "DAULAT_PII_KEY" in nokey.output
    binary = runner.invoke(app, ["pii", "scan"], input=b"ok\n\xff\xfe\n")
    assert binary.exit_code == 2 and "line 2" in binary.output


def test_installed_command_streams_stdin() -> None:
    exe = Path(sys.executable).with_name("daulat")
    proc = subprocess.run(
        [str(exe), "pii", "scan", "--redact"],
        input="call +62 812 3456 7890\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["redacted"] == "call <PHONE>"
