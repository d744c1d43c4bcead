"""``report.md``: the report's words and tables as plain Markdown (no charts)."""

from __future__ import annotations

from daulat.report.content import Content, Table

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(t: Table) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in t.header) + " |",
             "|" + "---|" * len(t.header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in t.rows]
    return lines + [""]


def render_markdown(c: Content) -> str:
    """The report as Markdown."""
    out = [f"# {c.title}", "", f"*{c.subtitle}*", "", f"## {c.sections['summary']}", ""]
    out += [f"- {line}" for line in c.headline] + [""]
    out += [line for note in c.notes for line in (note, "")]
    if c.chosen:
        out += [f"### {c.chosen_heading}", ""] + [line for x in c.chosen for line in (x, "")]
    if c.countries:
        out += _table(c.countries) + [c.countries_note, ""]
    if c.training:
        out += [f"### {c.training_heading}", ""] + [f"- {line}" for line in c.training] + [""]
    out += [f"### {c.where_heading}", ""] + [f"- {line}" for line in c.where] + [""]
    out += [f"### {c.pays_heading}", ""] + _table(c.funders)
    if c.unfunded:
        out += [c.unfunded, ""]
    out += _table(c.ownership)
    out += [c.returns_note, "", f"## {c.sections['risk']}", "", c.risk_text, ""]
    if c.risk_table:
        out += _table(c.risk_table)
    if c.binding or c.unmet or c.rounding:
        out += [f"## {c.sections['binding']}", ""]
    if c.binding:
        out += _table(c.binding)
    if c.unmet:
        out += [f"### {c.unmet_heading}", ""] + [f"- {line}" for line in c.unmet] + [""]
    if c.rounding:
        out += [c.rounding, ""]
    out += [f"## {c.sections['assumptions']}", "", c.assumptions_intro, ""]
    out += _table(c.assumptions)
    out += ["---", "", c.footer, ""]
    return "\n".join(out)
