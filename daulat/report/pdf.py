"""``report.pdf``: the report on paper, printed by headless Chromium (Debian's package).

The report's HTML is written once more for paper (:data:`PRINT_WIDTH_PX` wide, a contents
page first) and printed with Chromium's ``--print-to-pdf``: A4, page numbers in the footer
(CSS ``@page`` margin boxes), charts laid out at the printable width so none runs off the page.

Chromium is found as ``$DAULAT_CHROMIUM``, else ``chromium`` on the ``PATH``, else
``/usr/bin/chromium``; install it with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from daulat.errors import UserError
from daulat.formatting import babel_locale
from daulat.report.charts import all_charts
from daulat.report.content import build_content
from daulat.report.data import gather
from daulat.report.html import write_html
from daulat.report.text import Formatter, load_strings

__all__ = ["PRINT_WIDTH_PX", "chromium_path", "print_pdf", "write_pdf"]

#: Width in CSS px the report is laid out at for paper: A4 (210 mm) less 2 × 12 mm margins at
#: 96 px per inch is 703 px; a little less so no chart touches the margin.
PRINT_WIDTH_PX = 690
#: Seconds Chromium may take to print; a run that hangs is killed and tried once more.
TIMEOUT_S = 120
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--no-pdf-header-footer", "--hide-scrollbars")


def chromium_path() -> str:
    """The Chromium to print with (UserError naming how to install it when there is none)."""
    candidate = os.environ.get("DAULAT_CHROMIUM") or shutil.which("chromium") or \
        "/usr/bin/chromium"
    if not Path(candidate).exists():
        raise UserError(f"--pdf: Chromium not found ({candidate}); install Debian's package"
                        " with `apt-get install -y chromium` or set DAULAT_CHROMIUM")
    return candidate


def print_pdf(html: Path, pdf: Path) -> Path:
    """Print ``html`` (the paper layout of the report) to ``pdf`` with headless Chromium."""
    chromium = chromium_path()
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="daulat-chromium-") as profile:
        cmd = [chromium, *_FLAGS, f"--user-data-dir={profile}",
               f"--window-size={PRINT_WIDTH_PX},1000", f"--print-to-pdf={pdf}",
               html.resolve().as_uri()]
        for _ in range(2):
            # its own process group, so a hung browser is ended with all its helpers
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True)
            try:
                _, err = proc.communicate(timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                continue
            if proc.returncode == 0 and pdf.exists() and pdf.stat().st_size > 0:
                return pdf
            raise UserError(f"--pdf: Chromium could not print {html} (exit {proc.returncode}):"
                            f" {err.strip()[-500:]}")
    raise UserError(f"--pdf: Chromium did not finish printing {html} in {TIMEOUT_S} s, twice")


def write_pdf(plan_dir: str | Path, lang: str = "en", *, today: dt.date | None = None,
              name: str = "report.pdf") -> Path:
    """Write ``report.pdf`` for the plan in ``plan_dir`` in ``lang`` and return its path.

    The paper layout is written beside it as ``report-print.html`` (what was printed)."""
    strings = load_strings(lang)
    data = gather(plan_dir)
    fmt = Formatter(babel_locale(lang), data.tables.currency)
    content = build_content(data, strings, fmt, today=today)
    charts = all_charts(data, strings, fmt)
    html = write_html(data.tables.path / "report-print.html", content, charts,
                      strings.t("toc"), paper=True)
    return print_pdf(html, data.tables.path / name)
