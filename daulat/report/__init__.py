"""daulat.report: the plan as a report a minister can read, in English or Bahasa Indonesia.

``write_report(plan_dir, lang)`` writes ``report.html`` (one self-contained file that works
offline: plotly.js and the map inline) and ``report.md`` into the plan result directory.
See ``docs/report.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from daulat.report.charts import all_charts
from daulat.report.content import build_content
from daulat.report.data import gather
from daulat.report.html import write_html
from daulat.report.markdown import render_markdown
from daulat.report.text import Formatter, Strings, languages, load_strings

__all__ = ["Formatter", "ReportFiles", "Strings", "languages", "load_strings", "write_report"]

#: babel locale used for each report language.
LOCALES = {"en": "en_US", "id": "id_ID"}


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    markdown: Path
    lang: str
    charts: list[str]


def write_report(plan_dir: str | Path, lang: str = "en", *, today: dt.date | None = None,
                 html_name: str = "report.html", markdown_name: str = "report.md"
                 ) -> ReportFiles:
    """Write ``report.html`` and ``report.md`` for the plan in ``plan_dir`` in ``lang``."""
    strings = load_strings(lang)
    data = gather(plan_dir)
    fmt = Formatter(LOCALES.get(lang, lang), data.tables.currency)
    content = build_content(data, strings, fmt, today=today)
    charts = all_charts(data, strings, fmt)
    path = data.tables.path
    html = write_html(path / html_name, content, charts, strings.t("toc"))
    md = path / markdown_name
    md.write_text(render_markdown(content), encoding="utf-8")
    return ReportFiles(html=html, markdown=md, lang=lang, charts=[c.id for c in charts])
