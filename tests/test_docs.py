"""Every command and every option of the CLI is documented in docs/ (as datasette does)."""

from __future__ import annotations

from pathlib import Path

import click
import typer.main

from daulat.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _walk(cmd: click.Command, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            found += _walk(sub, (*path, name))
    return found


def _all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md")))


def test_every_command_and_option_is_documented() -> None:
    root = typer.main.get_command(app)
    docs = _all_docs()
    missing: list[str] = []
    for path, cmd in _walk(root, ("daulat",)):
        if len(path) > 1 and " ".join(path) not in docs:
            missing.append(f"command `{' '.join(path)}`")
        for param in cmd.params:
            if not isinstance(param, click.Option):
                continue
            names = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
            if names and names[0] != "--help" and not any(n in docs for n in names):
                missing.append(f"option {names[0]} of `{' '.join(path)}`")
    assert not missing, "undocumented in docs/*.md:\n" + "\n".join(missing)


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
