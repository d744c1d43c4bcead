"""``daulat policy`` (localisation packs) and ``daulat pii`` (PII scanning) commands."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from daulat.console import console, emit, err_console
from daulat.errors import UserError
from daulat.policy.pack import Pack, list_packs, load_pack, validate_pack_file
from daulat.policy.pii import KEY_ENV, PiiEngine
from daulat.policy.residency import resolve_residency

__all__ = ["register"]

policy_app = typer.Typer(
    name="policy",
    help="Localisation packs: each country's language, culture and law.",
    no_args_is_help=True,
)
pii_app = typer.Typer(
    name="pii",
    help="Find and redact personal identifiers (national IDs, phones, e-mails, cards, IBANs, IPs).",
    no_args_is_help=True,
)


class Style(StrEnum):
    tag = "tag"
    mask = "mask"
    hash = "hash"


class Format(StrEnum):
    jsonl = "jsonl"
    text = "text"


def _fail(exc: UserError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(exc.exit_code)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@policy_app.command("list")
def policy_list(as_json: JsonOpt = False) -> None:
    """List the shipped country packs."""
    packs = [load_pack(code) for code in list_packs()]
    rows = [
        {
            "iso3": p.iso3,
            "name": p.name,
            "languages": p.languages,
            "residency": p.residency.mode,
            "jurisdictions": p.residency.jurisdictions,
            "retention_days": p.retention_days,
            "min_age": p.min_age,
        }
        for p in packs
    ]

    def render(_rows: list[dict[str, object]]) -> None:
        table = Table(title="Policy packs")
        for col in ("ISO3", "Name", "Languages", "Residency", "Retention (days)", "Min age"):
            table.add_column(col)
        for p in packs:
            where: str = p.residency.mode
            if p.residency.mode == "jurisdictions":
                where += f" ({len(p.residency.jurisdictions)})"
            table.add_row(
                p.iso3, p.name, ", ".join(p.languages), where, str(p.retention_days), str(p.min_age)
            )
        console.print(table)

    emit(rows, as_json, render)


def _render_pack(pack: Pack) -> None:
    console.print(f"[bold]{pack.name}[/] ({pack.iso3}) · languages {', '.join(pack.languages)}"
                  f" · locale {pack.default_locale}")
    if pack.iso3 != "BASE":
        # what the planner and the gateway apply (a country without a pack: in country only)
        console.print("[bold]Residency applied[/] " + resolve_residency(pack.iso3).describe(),
                      highlight=False)
    console.print("[bold]System prompt[/]\n" + " ".join(pack.system_prompt.split()))
    console.print("[bold]Cultural guidance[/]\n" + " ".join(pack.cultural_guidance.split()))
    table = Table(title="Rules and the law each rests on")
    for col in ("Rule", "Value", "Law", "Article", "Verified"):
        table.add_column(col)
    res = pack.residency
    values = {
        "residency": f"{res.mode} ({res.basis})"
        + (f": {', '.join(res.jurisdictions)}" if res.jurisdictions else ""),
        "retention_days": str(pack.retention_days),
        "pii_categories": ", ".join(pack.pii_categories),
        "min_age": str(pack.min_age),
        "audit": f"log {pack.audit.log_retention_days} d"
        + (f", breach {pack.audit.breach_notification_hours} h"
           if pack.audit.breach_notification_hours else ""),
    }
    for rule, cite in pack.rules():
        name = rule.split(" ")[0]
        if name.startswith("content_rules"):
            cr = next(r for r in pack.content_rules if r.id in rule)
            value = f"{cr.action}: {cr.id}"
        else:
            value = values.get(name, "")
        law = pack.law(cite.law)
        table.add_row(rule, value, law.citation, cite.article, "yes" if cite.verified else "no")
    console.print(table)
    console.print(f"[dim]Residency note: {res.note}[/]")


@policy_app.command("show")
def policy_show(
    iso3: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-3 country code, e.g. IDN.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one country's pack (base merged in) with the law behind every rule."""
    try:
        pack = load_pack(iso3)
    except UserError as exc:
        raise _fail(exc) from exc
    emit(pack, as_json, _render_pack)


@policy_app.command("validate")
def policy_validate(
    file: Annotated[Path, typer.Argument(help="Pack YAML file to check.")],
    as_json: JsonOpt = False,
) -> None:
    """Check a pack file; report every error with file:line:column and field. Exit 2 if any."""
    errors = validate_pack_file(file)
    if as_json:
        emit({"file": str(file), "valid": not errors, "errors": errors}, True)
    elif errors:
        for line in errors:
            err_console.print(line, highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(f"{file}: valid", highlight=False)
    if errors:
        raise typer.Exit(2)


@pii_app.command("scan")
def pii_scan(
    country: Annotated[
        list[str] | None,
        typer.Option(
            "--country",
            help="ISO alpha-3 country whose recognizers run (repeatable). Default: all.",
        ),
    ] = None,
    redact: Annotated[
        bool, typer.Option("--redact", help="Include the redacted line ('redacted' field).")
    ] = False,
    style: Annotated[
        Style,
        typer.Option("--style", help=f"Redaction style; 'hash' needs the {KEY_ENV} variable."),
    ] = Style.tag,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="jsonl: one JSON object per input line; text: the redacted lines only.",
        ),
    ] = Format.jsonl,
) -> None:
    """Read lines on stdin; write one JSON object per line: entities (character offsets into
    that line) and, with --redact, the redacted line."""
    try:
        countries = None
        if country:
            countries = [load_pack(c).iso3 for c in country]
        engine = PiiEngine(countries=countries, style=style.value)
    except UserError as exc:
        raise _fail(exc) from exc
    out = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(
                UserError(f"stdin line {number}: not UTF-8 ({exc.reason} at byte {exc.start})")
            ) from exc
        line = line.rstrip("\r\n")
        result = engine.redact(line)
        if fmt is Format.text:
            out.write(result.text + "\n")
            continue
        obj = {
            "entities": [e.as_dict() for e in result.entities],
            "redacted": result.text if redact else None,
        }
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def register(app: typer.Typer) -> None:
    """Add the ``policy`` and ``pii`` command groups to ``app``."""
    app.add_typer(policy_app, name="policy")
    app.add_typer(pii_app, name="pii")
