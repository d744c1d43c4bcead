"""``daulat report DIR [--lang id|en]``: the plan as a self-contained HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from daulat.console import console, emit
from daulat.report import write_report
from daulat.report.compare import write_comparison
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


def compare(
    plan_dirs: list[Path] = typer.Argument(..., help="Two or more plan result directories"
                                                     " (daulat plan --out DIR)."),
    out: Path = typer.Option(Path("compare.html"), "--out", help="The HTML file to write"
                                                                 " (its .md twin beside it)."),
    lang: str = typer.Option("en", "--lang", help="Language: en (English) or id"
                                                  " (Bahasa Indonesia)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print the comparison as PDF with"
                                                  " headless Chromium."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write one page with the plans side by side: cost, people served, sovereignty, MW,
    accelerators by origin, each funder's capital, NPV and share, chosen countries, and
    what differs in their scenarios."""
    files = write_comparison(plan_dirs, out, lang, pdf=pdf)

    def render(r: dict[str, str]) -> None:
        console.print("wrote " + " and ".join(r.values()))

    emit(files, as_json, render)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``compare`` to ``app``."""
    app.command("report")(report)
    app.command("compare")(compare)
