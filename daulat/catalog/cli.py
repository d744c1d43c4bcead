"""``daulat catalog list KIND`` and ``daulat catalog show KIND ID``.

Kinds: countries, sites, accelerators, models, constants — each with this package's
loader. The catalog is the bottom layer: this module imports nothing above it.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import typer
from rich.markup import escape
from rich.table import Table

from daulat.catalog.accelerators import get_accelerator, load_accelerators
from daulat.catalog.constants import constants
from daulat.catalog.countries import INCOME_GROUPS, get_country, load_countries
from daulat.catalog.models import get_model, load_models
from daulat.catalog.profiles import (
    fleet_factors,
    get_fleet_factor,
    model_mix,
    model_mixes,
    profile_record,
    profile_records,
    profile_sources,
)
from daulat.catalog.sites import SITE_STATUSES, candidate_sites, get_site, load_sites, site_rows
from daulat.console import console, emit, format_cell, to_jsonable
from daulat.errors import CountryCodeError, UserError
from daulat.iso3 import check_iso3

__all__ = ["register", "catalog_app", "KINDS", "list_records", "show_record"]

catalog_app = typer.Typer(
    help="Reference data: countries, sites, accelerators, models, constants, usage profiles, "
    "fleet factors, model mixes.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help, as `daulat` itself (daulat/cli.py)
)


@dataclass(frozen=True)
class _Kind:
    """How to list and show one kind of catalog record."""

    name: str
    load: Callable[[], list[Any]]
    key: Callable[[Any], str]
    get: Callable[[str], Any]
    columns: tuple[str, ...]
    sources: Callable[[Any], Mapping[str, str]]


def _load_countries() -> list[Any]:
    return list(load_countries().values())


def _country_sources(c: Any) -> Mapping[str, str]:
    return dict(c.sources)


def _load_sites() -> list[Any]:
    return list(load_sites())


def _site_sources(s: Any) -> Mapping[str, str]:
    row = next((r for r in site_rows() if r["id"] == s.id), None)
    if row is None:  # a generated candidate site: one source line covers every field
        return {f.name: s.source for f in dataclasses.fields(s) if f.name != "source"}
    out = {f.name: s.source for f in dataclasses.fields(s) if f.name != "source"}
    out["lat"] = out["lon"] = row["location_basis"]
    out["power_mw"] = f"{row['power_basis']} — {s.source}"
    out["earliest_year"] = f"{row['earliest_year_basis']} — {s.source}"
    out["programme_share"] = row["programme_share_basis"]
    return out


def _load_accelerators() -> list[Any]:
    return list(load_accelerators().values())


def _accelerator_sources(a: Any) -> Mapping[str, str]:
    out = {f.name: a.source for f in dataclasses.fields(a) if f.name != "source"}
    power = getattr(a, "power_source", "") or a.source
    price = getattr(a, "price_source", "") or a.source
    out["system_power_kw"] = power
    for name in ("price_usd", "price_low_usd", "price_high_usd"):
        out[name] = price
    return out


def _load_models() -> list[Any]:
    return list(load_models().values())


def _single_source(r: Any) -> Mapping[str, str]:
    return {f.name: r.source for f in dataclasses.fields(r) if f.name != "source"}


@dataclass(frozen=True)
class _Mix:
    """One model mix as a record: the models and their shares of output tokens."""

    id: str
    models: str


def _mix_record(mix: str) -> _Mix:
    return _Mix(mix, ", ".join(f"{m} {share:.0%}" for m, share, _ in model_mix(mix)))


def _mix_sources(m: _Mix) -> Mapping[str, str]:
    return {"id": "daulat/catalog/data/model_mix.csv (the fleet's default: national-assistant;"
                  " `daulat size service --mix ID`, or a scenario's demand.model_mix)",
            "models": "; ".join(f"{model}: {src}" for model, _, src in model_mix(m.id))}


def _load_constants() -> list[Any]:
    return list(constants().values())


def _get_constant(name: str) -> Any:
    table = constants()
    if name not in table:
        raise UserError(f"constant: unknown name {name!r}")
    return table[name]


KINDS: dict[str, _Kind] = {
    k.name: k
    for k in (
        _Kind("countries", _load_countries, lambda c: c.iso3, get_country,
              ("iso3", "name", "region", "subregion", "population", "internet_share",
               "income_group", "power_price_usd_per_mwh"), _country_sources),
        _Kind("sites", _load_sites, lambda s: s.id, get_site,
              ("id", "name", "country", "status", "power_mw", "earliest_year",
               "programme_share"), _site_sources),
        _Kind("accelerators", _load_accelerators, lambda a: a.id, get_accelerator,
              ("id", "vendor", "origin", "hbm_gb", "hbm_tbps", "system_form", "price_usd",
               "first_year"), _accelerator_sources),
        _Kind("models", _load_models, lambda m: m.id, get_model,
              ("id", "params_b", "active_params_b", "layers", "kv_bytes_per_token",
               "default_context"), _single_source),
        _Kind("constants", _load_constants, lambda c: c.name, _get_constant,
              ("name", "value", "unit"), _single_source),
        # usage profiles and fleet factors (issue 10; data and loader owned by sizing)
        _Kind("profiles", profile_records, lambda p: p.id, profile_record,
              ("id", "figures", "published", "derived", "assumptions",
               "output_tokens_per_user_day_2027"), profile_sources),
        _Kind("fleet", lambda: list(fleet_factors().values()), lambda f: f.name,
              get_fleet_factor, ("name", "value", "low", "high", "unit", "kind"),
              _single_source),
        # the model mixes a fleet serves (share of output tokens per model class)
        _Kind("mixes", lambda: [_mix_record(m) for m in model_mixes()], lambda m: m.id,
              _mix_record, ("id", "models"), _mix_sources),
    )
}


def _kind(kind: str) -> _Kind:
    k = KINDS.get(kind.strip().lower())
    if k is None:
        raise UserError(f"KIND: unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    return k


def _records(k: _Kind) -> list[Any]:
    return k.load()


def list_records(
    kind: str,
    *,
    region: str | None = None,
    country: str | None = None,
    income: str | None = None,
    status: str | None = None,
    candidates: int = 0,
) -> list[Any]:
    """Records of ``kind`` after the filters (see ``docs/catalog.md``)."""
    k = _kind(kind)
    sensible = {
        "region": ("countries", "sites"),
        "country": ("countries", "sites", "accelerators"),
        "income": ("countries",),
        "status": ("sites",),
        "candidates": ("sites",),
    }
    given = {"region": region, "country": country, "income": income, "status": status,
             "candidates": candidates or None}
    for opt, value in given.items():
        if value is not None and k.name not in sensible[opt]:
            raise UserError(
                f"--{opt}: does not apply to {k.name}; it applies to {', '.join(sensible[opt])}"
            )
    if candidates < 0:
        raise UserError(f"--candidates: must be >= 0, got {candidates}")
    records = _records(k)

    countries: dict[str, Any] = {}
    if k.name in ("countries", "sites") or country:
        countries = dict(load_countries())
    iso3 = _country_option(country) if country else None

    if k.name == "sites" and candidates:
        pool = [iso3] if iso3 else sorted(countries)
        records = records + [s for c in pool for s in candidate_sites(c, candidates)]

    def in_region(code: str) -> bool:
        c = countries.get(code)
        want = (region or "").casefold()
        return c is not None and want in (
            c.region.casefold(), c.subregion.casefold(), c.intermediate_region.casefold()
        )

    if region is not None:
        valid = sorted({v for c in countries.values()
                        for v in (c.region, c.subregion, c.intermediate_region) if v})
        if region.casefold() not in {v.casefold() for v in valid}:
            raise UserError(f"--region: unknown region {region!r}; valid: {', '.join(valid)}")
        field_ = "iso3" if k.name == "countries" else "country"
        records = [r for r in records if in_region(getattr(r, field_))]
    if iso3 is not None:
        field_ = {"countries": "iso3", "sites": "country", "accelerators": "origin"}[k.name]
        records = [r for r in records if getattr(r, field_) == iso3]
    if income is not None:
        if income.upper() not in INCOME_GROUPS:
            raise UserError(f"--income: unknown group {income!r}; valid: "
                            f"{', '.join(INCOME_GROUPS)}")
        records = [r for r in records if r.income_group == income.upper()]
    if status is not None:
        if status not in SITE_STATUSES:
            raise UserError(f"--status: unknown status {status!r}; valid: "
                            f"{', '.join(SITE_STATUSES)}")
        records = [r for r in records if r.status == status]
    return records


def _country_option(code: str) -> str:
    """The alpha-3 code ``--country`` names (alpha-2 and English names work too)."""
    try:
        return get_country(code).iso3
    except UserError as exc:
        try:
            check_iso3(code)
        except CountryCodeError as bad:  # suggests close codes
            raise UserError(f"--country: {bad}") from exc
        raise UserError(f"--country: {code!r} is not in the catalog; "
                        "`daulat catalog list countries` lists them") from exc


def show_record(kind: str, record_id: str) -> dict[str, Any]:
    """``{kind, id, fields: {name: {value, source}}}`` for one record."""
    k = _kind(kind)
    records = _records(k)
    try:
        rec = k.get(record_id)
    except UserError as exc:
        raise UserError(_unknown_id(k, record_id, [k.key(r) for r in records])) from exc
    sources = k.sources(rec)
    fields: dict[str, dict[str, Any]] = {}
    for f in dataclasses.fields(rec):
        if f.name in ("sources",):
            continue
        fields[f.name] = {"value": getattr(rec, f.name), "source": sources.get(f.name, "")}
    return {"kind": k.name, "id": k.key(rec), "fields": fields}


#: Above this many ids an unknown-id error points at ``catalog list`` instead of listing them.
_LIST_AT_MOST = 20


def _unknown_id(k: _Kind, record_id: str, valid: list[str]) -> str:
    """``ID: unknown countries id 'IDX'; did you mean IDN, IND, ...?`` and what is valid."""
    if k.name == "countries":
        try:
            check_iso3(record_id)
        except CountryCodeError as exc:  # not a code at all: its message suggests close codes
            return f"ID: {exc}"
    near = difflib.get_close_matches(record_id, valid, n=3, cutoff=0.5)
    near += [v for v in valid if v.casefold() == record_id.casefold() and v not in near]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    listing = (", ".join(valid) if len(valid) <= _LIST_AT_MOST
               else f"{len(valid)} ids, `daulat catalog list {k.name}` lists them")
    extra = (" (or a candidate id '<iso3>-<city>' such as idn-jakarta)"
             if k.name == "sites" else "")
    return f"ID: unknown {k.name} id {record_id!r}{hint} (valid: {listing}{extra})"


def _cell(record: Any, column: str) -> str:
    """A table cell: a constant whose unit is ``year`` prints as a year, ``USD…`` as money."""
    value = getattr(record, column, "")
    unit = str(getattr(record, "unit", "")) if column == "value" else ""
    name = "year" if unit == "year" else ("value_usd" if unit.startswith("USD") else column)
    return format_cell(value, name)


def _render_list(kind: str, records: Iterable[Any]) -> None:
    k = KINDS[kind]
    rows = list(records)
    table = Table(title=f"{k.name} ({len(rows)})", show_lines=False)
    for col in k.columns:
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*(escape(_cell(r, c)) for c in k.columns))
    console.print(table)


def _render_show(result: dict[str, Any]) -> None:
    """Fields with a numbered source reference each, then the numbered sources."""
    refs: dict[str, int] = {}
    table = Table(title=f"{result['kind']} {result['id']}", show_lines=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    table.add_column("source", justify="right")
    for name, item in result["fields"].items():
        src = item["source"]
        if name == "source" and src == "":
            continue  # the record's own source line is listed below
        ref = refs.setdefault(src, len(refs) + 1) if src else None
        table.add_row(name, escape(format_cell(item["value"], name)),
                      escape(f"[{ref}]") if ref else "—")
    console.print(table)
    for src, ref in refs.items():
        console.print(f"[{ref}] {src}", markup=False, highlight=False, soft_wrap=True)


if TYPE_CHECKING:
    KindName: TypeAlias = str
    IncomeGroup: TypeAlias = str
    SiteStatus: TypeAlias = str
else:  # choices built from the catalog's own lists, so --help shows them and stays true
    KindName = Literal[tuple(KINDS)]
    IncomeGroup = Literal[INCOME_GROUPS]
    SiteStatus = Literal[SITE_STATUSES]


@catalog_app.command("list")
def list_command(
    kind: KindName = typer.Argument(..., metavar="KIND", help="Kind of record to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON."),
    region: str | None = typer.Option(
        None, "--region",
        help="UN M49 region, subregion or intermediate region (countries, sites).",
    ),
    country: str | None = typer.Option(
        None, "--country",
        help="ISO 3166-1 code: that country (countries), its sites (sites), "
        "accelerators from it (accelerators).",
    ),
    income: IncomeGroup | None = typer.Option(
        None, "--income", help="World Bank income group (countries)."
    ),
    status: SiteStatus | None = typer.Option(
        None, "--status", help="Development status (sites)."
    ),
    candidates: int = typer.Option(
        0, "--candidates", help="Add the N largest cities per country as candidate sites (sites)."
    ),
) -> None:
    """List the records of one KIND of catalog data."""
    records = list_records(kind, region=region, country=country, income=income,
                           status=status, candidates=candidates)
    name = _kind(kind).name
    emit(records, as_json, lambda r: _render_list(name, r))


@catalog_app.command("show")
def show_command(
    kind: KindName = typer.Argument(..., metavar="KIND", help="Kind of record to show."),
    record_id: str = typer.Argument(..., metavar="ID", help="Id of the record, e.g. IDN."),
    as_json: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Show every field of one record with its source."""
    result = show_record(kind, record_id)
    emit(to_jsonable(result), as_json, _render_show)


def register(app: typer.Typer) -> None:
    """Add ``catalog list`` and ``catalog show`` to ``app``."""
    app.add_typer(catalog_app, name="catalog")
