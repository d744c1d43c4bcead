"""``daulat size …``: inference, facility, training and country sizing (docs/sizing.md)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import typer
from rich.table import Table

from daulat.console import console, emit, err_console
from daulat.errors import UserError

__all__ = ["register"]


def _fail(exc: UserError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
    return typer.Exit(code=exc.exit_code)


def _table(title: str, rows: list[tuple[str, Any]]) -> Callable[[Any], None]:
    def render(_: Any) -> None:
        t = Table(title=title, show_header=False)
        t.add_column("field", style="bold")
        t.add_column("value", justify="right")
        for k, v in rows:
            t.add_row(k, _fmt(v))
        console.print(t)

    return render


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if v != 0 and abs(v) < 1e-2:
            return f"{v:.4g}"
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def register(app: typer.Typer) -> None:
    """Add the ``size`` group to ``app``."""
    size = typer.Typer(
        name="size",
        help="Size serving, facilities, training runs and a country's assistant.",
        no_args_is_help=True,
    )

    @size.command("inference")
    def size_inference(
        model: str = typer.Option(..., "--model", help="Model class id, e.g. llama-3.1-70b."),
        accelerator: str = typer.Option(
            ..., "--accelerator", help="Accelerator id, e.g. H100-SXM."
        ),
        precision: str | None = typer.Option(
            None, "--precision", help="bf16, fp8 or fp4 (default: narrowest native)."
        ),
        scenario: str = typer.Option(
            "server", "--scenario", help="offline, server or interactive (latency targets)."
        ),
        efficiency: float = typer.Option(
            1.0, "--efficiency", help="Serving-stack efficiency vs MLPerf closed, 0-1."
        ),
        input_tokens: int | None = typer.Option(
            None, "--input-tokens", help="Prompt tokens per request."
        ),
        output_tokens: int | None = typer.Option(
            None, "--output-tokens", help="Generated tokens per request."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Tokens/s per accelerator, batch, replica size and the binding limit."""
        from daulat.sizing.inference import inference_throughput

        try:
            r = inference_throughput(
                model,
                accelerator,
                precision,
                scenario,
                efficiency,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
            )
        except UserError as exc:
            raise _fail(exc) from None
        rows = [
            ("model", r.model),
            ("accelerator", r.accelerator),
            ("precision", r.precision),
            ("scenario", r.scenario),
            ("tokens/s per accelerator", r.tokens_per_s_per_accelerator),
            ("tokens/s per replica", r.tokens_per_s_per_replica),
            ("batch", r.batch),
            ("replica size", r.replica_size),
            ("binding", r.binding),
            ("step bound", r.step_bound),
            ("TPOT s", r.tpot_s),
            ("TTFT s", r.ttft_s),
        ]
        if r.notes:
            rows.append(("notes", "; ".join(r.notes)))
        emit(r, as_json, _table("Inference sizing", rows))

    @size.command("facility")
    def size_facility(
        accelerator: str = typer.Option(..., "--accelerator", help="Accelerator id."),
        count: int = typer.Option(..., "--count", help="Number of accelerators."),
        pue: float | None = typer.Option(None, "--pue", help="PUE (default by cooling)."),
        country: str | None = typer.Option(
            None, "--country", help="ISO3 of the site: grid carbon and power price."
        ),
        power_price: float | None = typer.Option(
            None, "--power-price", help="Power price USD/MWh (overrides the country's)."
        ),
        load_factor: float | None = typer.Option(
            None, "--load-factor", help="Average draw / nameplate, 0-1."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """IT and facility MW, energy, carbon, capex and opex of N accelerators."""
        from daulat.sizing.facility import facility

        try:
            f = facility(
                accelerator,
                count,
                pue,
                country=country,
                power_price_usd_per_mwh=power_price,
                load_factor=load_factor,
            )
        except UserError as exc:
            raise _fail(exc) from None
        rows: list[tuple[str, Any]] = [
            ("accelerator", f.accelerator),
            ("count", f.count),
            ("PUE", f.pue),
            ("IT MW", f.it_mw),
            ("facility MW", f.facility_mw),
            ("annual energy MWh", f.annual_energy_mwh),
            (
                "annual emissions tCO2",
                f.annual_emissions_tco2 if f.annual_emissions_tco2 is not None else "n/a",
            ),
            ("capex USD", f.capex_usd),
        ]
        rows += [(f"  {k} USD", v) for k, v in f.capex_breakdown_usd.items()]
        rows.append(("annual opex USD", f.annual_opex_usd))
        rows += [(f"  {k} USD", v) for k, v in f.annual_opex_breakdown_usd.items()]
        emit(f, as_json, _table("Facility sizing", rows))

    @size.command("training")
    def size_training(
        tokens: float = typer.Option(..., "--tokens", help="Training tokens, e.g. 15.6e12."),
        accelerator: str = typer.Option(..., "--accelerator", help="Accelerator id."),
        model: str | None = typer.Option(None, "--model", help="Model class id."),
        params: float | None = typer.Option(None, "--params", help="Total parameters, billions."),
        active_params: float | None = typer.Option(
            None, "--active-params", help="Active parameters per token, billions (MoE)."
        ),
        count: int | None = typer.Option(None, "--count", help="Accelerators in the cluster."),
        mfu: float | None = typer.Option(None, "--mfu", help="Model FLOPs utilisation, 0-1."),
        precision: str = typer.Option("bf16", "--precision", help="Training precision."),
        deadline_days: float | None = typer.Option(
            None, "--deadline-days", help="Days allowed: returns the accelerators needed."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """FLOPs, accelerator-hours and days of a training run."""
        from daulat.sizing.training import training

        if model is not None and params is not None:
            raise _fail(UserError("--model/--params: give one of them, not both"))
        try:
            t = training(
                tokens=tokens,
                accelerator=accelerator,
                model=model,
                params_b=params,
                active_params_b=active_params,
                count=count,
                mfu=mfu,
                precision=precision,
                deadline_days=deadline_days,
            )
        except UserError as exc:
            raise _fail(exc) from None
        rows: list[tuple[str, Any]] = [
            ("accelerator", t.accelerator),
            ("active params (B)", t.active_params_b),
            ("tokens", t.tokens),
            ("MFU", t.mfu),
            ("FLOPs", t.flops),
            ("accelerator-hours", t.accelerator_hours),
        ]
        if t.days is not None:
            rows.append(("days", t.days))
        if t.accelerators_for_deadline is not None:
            rows.append(("accelerators for deadline", t.accelerators_for_deadline))
        emit(t, as_json, _table("Training sizing", rows))

    @size.command("country")
    def size_country(
        country: str = typer.Option(..., "--country", help="ISO 3166 alpha-3, e.g. IDN."),
        year: int = typer.Option(
            datetime.date.today().year + 1, "--year", help="Year of demand (default: next year)."
        ),
        model: str | None = typer.Option(
            None, "--model", help="Model class serving the assistant."
        ),
        accelerator: str | None = typer.Option(None, "--accelerator", help="Accelerator id."),
        scenario: str | None = typer.Option(
            None, "--scenario", help="offline, server or interactive."
        ),
        pue: float | None = typer.Option(None, "--pue", help="PUE (default by cooling)."),
        adoption_factor: float | None = typer.Option(
            None, "--adoption-factor", help="Multiplier on the adoption curve."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """A localised assistant for a country on documented default assumptions."""
        from pydantic import ValidationError

        from daulat.sizing.demand import DemandAssumptions, country_assistant

        overrides: dict[str, Any] = {
            k: v
            for k, v in {
                "model": model,
                "accelerator": accelerator,
                "scenario": scenario,
                "pue": pue,
                "adoption_factor": adoption_factor,
            }.items()
            if v is not None
        }
        try:
            a = DemandAssumptions(**overrides)
            r = country_assistant(country, year, a)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise _fail(
                UserError(
                    f"--{str(err['loc'][0]).replace('_', '-')}: {err.get('input')!r} "
                    f"invalid; {err['msg']}"
                )
            ) from None
        except UserError as exc:
            raise _fail(exc) from None
        rows: list[tuple[str, Any]] = [
            ("country", r.country),
            ("year", r.year),
            ("users", round(r.users)),
            ("peak tokens/s", r.peak_tokens_per_s),
            ("accelerators", r.accelerators),
            ("model / accelerator", f"{r.assumptions.model} / {r.assumptions.accelerator}"),
            ("tokens/s per accelerator", r.tokens_per_s_per_accelerator),
            ("IT MW", r.it_mw),
            ("facility MW", r.facility_mw),
            ("capex USD", r.capex_usd),
            ("annual opex USD", r.annual_opex_usd),
            ("binding", r.binding),
        ]
        emit(r, as_json, _table(f"Localised assistant: {r.country} {r.year}", rows))

    app.add_typer(size, name="size")
