"""`daulat report DIR --pdf`: the report on paper, printed by headless Debian Chromium and
read back with poppler (``pdfinfo``, ``pdftotext``, ``pdftoppm``) as a reader would see it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from daulat.cli import app
from daulat.report import load_strings
from daulat.report.pdf import write_pdf

pytestmark = pytest.mark.browser
TODAY = dt.date(2026, 11, 27)
A4_PT = (595.0, 842.0)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `apt-get install -y poppler-utils`")
    return path


def _pages_text(pdf: Path) -> list[str]:
    out = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def _gray_pages(pdf: Path, tmp: Path, dpi: int = 30) -> list[tuple[int, int, bytes]]:
    """Each page as (width, height, 8-bit grey pixels), from pdftoppm's PGM output."""
    subprocess.run([_tool("pdftoppm"), "-r", str(dpi), "-gray", str(pdf), str(tmp / "p")],
                   check=True)
    pages = []
    for path in sorted(tmp.glob("p-*.pgm")):
        data = path.read_bytes()
        m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
        assert m, path
        w, h = int(m.group(1)), int(m.group(2))
        pages.append((w, h, data[m.end():m.end() + w * h]))
    return pages


@pytest.mark.parametrize("lang", ["en", "id"])
def test_pdf_is_a4_with_contents_page_numbers_and_charts_inside_the_page(
        risky_plan: Path, tmp_path: Path, lang: str) -> None:
    pdf = write_pdf(risky_plan, lang, today=TODAY)
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert size and abs(float(size.group(1)) - A4_PT[0]) < 2 \
        and abs(float(size.group(2)) - A4_PT[1]) < 2, info
    pages = _pages_text(pdf)
    n = len(pages)
    assert n >= 6, n
    s = load_strings(lang)
    first = pages[0]
    assert s.t("toc") in first  # the contents page
    for key in ("summary", "map", "risk", "binding", "assumptions"):
        assert s.t(f"sections.{key}") in first, key
    for i, page in enumerate(pages, start=1):
        assert re.search(rf"\b{i} / {n}\b", page), f"page {i} has no page number"
    assert s.t("sections.summary") in pages[1]
    # nothing printed in the side margins: every chart and table fits the page's width
    for number, (w, h, pixels) in enumerate(_gray_pages(pdf, tmp_path), start=1):
        margin = max(2, w // 40)  # 5 mm of the 12 mm margin
        for y in range(h):
            row = pixels[y * w:(y + 1) * w]
            assert min(row[:margin]) > 235 and min(row[-margin:]) > 235, \
                f"page {number}: something runs into the margin at row {y}"


def test_report_command_prints_the_pdf(risky_plan: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(risky_plan), "--lang", "id", "--pdf",
                                      "--json"])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(result.stdout)
    assert Path(written["pdf"]).name == "report.pdf" and Path(written["pdf"]).stat().st_size
