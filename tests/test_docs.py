"""Checks on the documentation; the exact CLI reference check is tests/test_cli_reference.py.

Every `daulat …` call in a shell block of README.md or docs/*.md must name a real command
with real options (a renamed option breaks this test, not a reader), and the README tour's
commands that need no plan, server or store are run as a reader would run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_commands import blocks, check_call, daulat_calls, shell_lines

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SHELL = {"sh", "bash", "console", "shell"}
#: Unlabelled and text fences hold commands too (beside their output): their lines that start
#: with `daulat` count.
TEXT = {"text", ""}
#: Tour commands that need a plan directory, a running server or a store first; the stage's
#: own tests run them (tests/plan, tests/finance, tests/report, tests/gateway, tests/web).
NEEDS_STATE = ("plan", "finance", "risk", "report", "serve", "keys", "audit", "web", "store")


def _calls(page: Path) -> list[tuple[str, list[str]]]:
    text = page.read_text(encoding="utf-8")
    lines = [line for _, lang, body in blocks(text) if lang in SHELL | TEXT
             for line in shell_lines(body)
             if lang in SHELL or line.startswith(("daulat ", ".venv/bin/daulat "))]
    return [(line, args) for line in lines for args in daulat_calls(line)]


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_daulat_command_in_the_docs_exists(page: Path) -> None:
    problems = [f"{page.name}: `{line}`: {p}" for line, args in _calls(page)
                for p in check_call(args)]
    assert not problems, "\n".join(problems)


def test_the_docs_show_commands_at_all() -> None:
    # the checker above must have something to check: a page set without examples is a bug
    assert sum(len(_calls(p)) for p in PAGES) >= 60


def test_the_checker_refuses_a_wrong_option_and_a_wrong_command() -> None:
    assert check_call(["size", "country", "--country", "IDN", "--yeer", "2027"])
    assert check_call(["sise", "country"])
    assert not check_call(["size", "country", "--country", "IDN", "--year", "2027"])


def _tour_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    out = []
    for _, lang, body in blocks(tour):
        for line in shell_lines(body) if lang in SHELL else []:
            calls = list(daulat_calls(line))
            if calls and not any(c and c[0] in NEEDS_STATE for c in calls):
                out.append(line.split("  #", 1)[0].strip())
    return out


TOUR = _tour_lines()


def test_the_tour_has_runnable_commands() -> None:
    assert len(TOUR) >= 8, TOUR


@pytest.mark.parametrize("line", TOUR)
def test_readme_tour_command_runs(line: str) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert done.stdout.strip(), f"{line} printed nothing"
