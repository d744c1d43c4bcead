"""``daulat report DIR [--lang id|en]``: the plan as a self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from daulat.console import console, emit
from daulat.report import write_report
from daulat.report.pdf import write_pdf

__all__ = ["register"]


def report(
    plan_dir: Path = typer.Argument(..., help="Plan result directory (daulat plan --out DIR)."),
    lang: str = typer.Option("en", "--lang", help="Report language: en (English) or id"
                                                  " (Bahasa Indonesia)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print PLAN_DIR/report.pdf (A4, page"
                                                  " numbers, a contents page) with headless"
                                                  " Chromium."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write PLAN_DIR/report.html (one offline file with charts and map) and report.md."""
    files = write_report(plan_dir, lang)
    result: dict[str, Any] = {"html": str(files.html), "markdown": str(files.markdown),
                              "lang": files.lang, "charts": files.charts}
    if pdf:
        result["pdf"] = str(write_pdf(plan_dir, lang))

    def render(r: dict[str, Any]) -> None:
        console.print(f"wrote {r['html']} ({len(r['charts'])} charts, {r['lang']}) and"
                      f" {r['markdown']}" + (f" and {r['pdf']}" if "pdf" in r else ""))

    emit(result, as_json, render)


def register(app: typer.Typer) -> None:
    """Add ``report`` to ``app``."""
    app.command("report")(report)
