"""Every `daulat …` command line in docs/sizing.md and docs/validation.md runs and exits 0."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daulat.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs"
runner = CliRunner()


def _commands() -> list[str]:
    out = []
    for name in ("sizing.md", "validation.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
            out += [ln.strip() for ln in block.splitlines() if ln.strip().startswith("daulat ")]
    return out


def test_the_pages_have_command_examples() -> None:
    cmds = _commands()
    assert any(c.startswith("daulat size service") for c in cmds)
    assert any(c.startswith("daulat size country") for c in cmds)


@pytest.mark.parametrize("command", _commands())
def test_doc_command_runs(command: str) -> None:
    args = shlex.split(command)[1:]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{command}\n{result.output}"
