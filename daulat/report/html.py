"""``report.html``: one self-contained file that works offline.

plotly.js is inlined from the installed plotly package (``plotly.offline.get_plotlyjs``)
and the world map the geo chart draws on is inlined too (``assets/world_110m.json``,
see ``assets/SOURCE.md``), so the file opens with no network at all.
"""

from __future__ import annotations

from importlib import resources
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

import jinja2
from plotly.offline import get_plotlyjs

from daulat.report.charts import Chart
from daulat.report.content import Content

__all__ = ["CHART_CONFIG", "render_html", "write_html"]

#: plotly config of every chart: no logo, no network (the topojson is embedded).
CHART_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("daulat.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def render_html(content: Content, charts: list[Chart], toc: str, paper: bool = False) -> str:
    """The report as one HTML string (plotly.js, map data and charts inline); ``paper``: the
    layout printed to PDF (a contents page, the narrow width of an A4 page)."""
    try:
        version = package_version("daulat")
    except PackageNotFoundError:  # running from a source tree that is not installed
        version = "dev"

    by_section: dict[str, list[dict[str, str]]] = {}
    for ch in charts:
        html = ch.figure.to_html(full_html=False, include_plotlyjs=False, div_id=ch.id,
                                 config=CHART_CONFIG)
        by_section.setdefault(ch.section, []).append(
            {"id": ch.id, "html": html, "note": ch.note, "wide": "1" if ch.wide else ""})
    chart_sections = [k for k in content.sections if k in by_section]
    present = {"summary", "assumptions", *chart_sections}
    if content.binding or content.unmet or content.rounding:
        present.add("binding")
    topojson = resources.files("daulat.report").joinpath("assets", "world_110m.json").read_text(
        encoding="utf-8")
    return _env().get_template("report.html.j2").render(
        c=content, charts=by_section, chart_sections=chart_sections, present=present,
        plotly_js=get_plotlyjs(), topojson=topojson, toc=toc, version=version, paper=paper,
    )


def write_html(path: Path, content: Content, charts: list[Chart], toc: str,
               paper: bool = False) -> Path:
    """Write the report to ``path`` (UTF-8) and return it."""
    path.write_text(render_html(content, charts, toc, paper), encoding="utf-8")
    return path
