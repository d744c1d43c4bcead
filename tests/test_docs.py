"""Checks on the documentation; the exact CLI reference check is tests/test_cli_reference.py."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


# The CLI reference (every command and option with its help) is docs/cli.md, generated
# from the app and compared exactly in tests/test_cli_reference.py.


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
