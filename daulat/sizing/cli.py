"""``daulat size …``: inference, facility, training and country sizing (docs/sizing.md)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from daulat.console import console, emit, err_console, format_cell, to_jsonable
from daulat.errors import UserError
from daulat.sizing.demand import DemandAssumptions, country_assistant
from daulat.sizing.facility import facility
from daulat.sizing.fleet import (
    DEFAULT_STACK,
    FleetAssumptions,
    ServiceLoad,
    load_from_users,
    size_service,
)
from daulat.sizing.inference import inference_throughput
from daulat.sizing.stacks import get_stack
from daulat.sizing.training import training

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
            t.add_row(k, format_cell(v, k))  # one formatter: a year prints as 2027
        console.print(t)

    return render


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

    @size.command("service")
    def size_service_cmd(
        input_tokens_per_day: float | None = typer.Option(
            None, "--input-tokens-per-day", help="Input tokens read per day (incl. cached)."
        ),
        cached_input_share: float | None = typer.Option(
            None, "--cached-input-share",
            help="Share of input tokens that hit the prefix cache (default 0).",
        ),
        output_tokens_per_day: float | None = typer.Option(
            None, "--output-tokens-per-day", help="Output tokens per day (incl. reasoning)."
        ),
        context_tokens: float | None = typer.Option(
            None, "--context-tokens", help="Tokens each request attends to (default: its input)."
        ),
        output_tokens_per_request: float | None = typer.Option(
            None, "--output-tokens-per-request", help="Output tokens per request (default 600)."
        ),
        users: float | None = typer.Option(
            None, "--users", help="Weekly active users (their load is added to any tokens given)."
        ),
        profile: str = typer.Option(
            "assistant", "--profile", help="Usage profile (`daulat catalog list profiles`)."
        ),
        year: int = typer.Option(
            datetime.date.today().year + 1, "--year", min=2020, max=2100,
            help="Year of the profile's figures (held flat outside the years given).",
        ),
        model: str | None = typer.Option(
            None, "--model", help="One model class for all tokens (default: the model mix)."
        ),
        mix: str = typer.Option(
            "national-assistant", "--mix", help="Model mix (daulat/catalog/data/model_mix.csv)."
        ),
        accelerator: str = typer.Option("GB200", "--accelerator", help="Accelerator id."),
        precision: str | None = typer.Option(
            None, "--precision", help="bf16, fp8 or fp4 (default: narrowest native)."
        ),
        output_tokens_per_s_per_user: float | None = typer.Option(
            None, "--output-tokens-per-s-per-user",
            help="Output speed per user, tokens/s (default 80: ChatGPT's; 20: DeepSeek's).",
        ),
        stack: str = typer.Option(
            DEFAULT_STACK, "--stack",
            help="Serving stack (daulat/sizing/data/stacks.csv); 'mlperf' for the "
            "MLPerf-fitted step constants.",
        ),
        peak_to_average: float | None = typer.Option(
            None, "--peak-to-average", help="Diurnal peak over mean load (default 1.75)."
        ),
        headroom: float | None = typer.Option(None, "--headroom", help="Share above peak."),
        failover_reserve: float | None = typer.Option(
            None, "--failover-reserve", help="N+1 / cross-site reserve, share above peak."
        ),
        research_share: float | None = typer.Option(
            None, "--research-share", help="Evaluation/research share of the fleet."
        ),
        efficiency: float | None = typer.Option(
            None, "--efficiency", help="Serving-stack efficiency vs MLPerf closed (default 0.73)."
        ),
        country: str | None = typer.Option(
            None, "--country", help="ISO3 of the site: grid carbon and power price."
        ),
        pue: float | None = typer.Option(None, "--pue", help="PUE (default by cooling)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """The fleet for a service from a daily load and/or users: accelerators, MW, money."""

        try:
            loads = []
            shape = {"--cached-input-share": cached_input_share,
                     "--context-tokens": context_tokens,
                     "--output-tokens-per-request": output_tokens_per_request}
            given_shape = [k for k, v in shape.items() if v is not None]
            if (given_shape and input_tokens_per_day is None
                    and output_tokens_per_day is None):
                # they shape a token load; the users' load takes its shape from the profile
                raise UserError(
                    f"{', '.join(given_shape)}: given without a token load; valid: with "
                    "--output-tokens-per-day (and --input-tokens-per-day); --users take "
                    "their request shape from --profile"
                )
            if input_tokens_per_day is not None or output_tokens_per_day is not None:
                if output_tokens_per_day is None:
                    raise UserError(
                        "--output-tokens-per-day: missing; valid: output tokens per day > 0 "
                        "(with --input-tokens-per-day)"
                    )
                loads.append(ServiceLoad(
                    input_tokens_per_day or 0.0, output_tokens_per_day, cached_input_share or 0.0,
                    context_tokens, output_tokens_per_request, basis="given tokens/day",
                ))
            if users is not None:
                loads.append(load_from_users(users, profile, year))
            if not loads:
                raise UserError(
                    "size service: no load; valid: --output-tokens-per-day (and "
                    "--input-tokens-per-day) and/or --users"
                )
            load = loads[0] if len(loads) == 1 else loads[0] + loads[1]
            fleet = FleetAssumptions(
                accelerator=accelerator, precision=precision, mix=mix,
                models=((model, 1.0),) if model else None,
                output_tokens_per_s_per_user=output_tokens_per_s_per_user,
                peak_to_average=peak_to_average, headroom=headroom,
                failover_reserve=failover_reserve, research_share=research_share,
                serving_efficiency=efficiency, pue=pue, country=country,
                stack=None if stack.lower() == "mlperf" else get_stack(stack).id,
            )
            r = size_service(load, fleet)
        except UserError as exc:
            raise _fail(exc) from None
        rows: list[tuple[str, Any]] = [
            ("load", r.basis),
            ("output tokens/day", r.output_tokens_per_day),
            ("input tokens/day (cached share)",
             f"{r.input_tokens_per_day:,.0f} ({r.cached_input_share:.0%})"),
            ("context tokens per request", r.context_tokens),
            ("mean / peak output tokens/s",
             f"{r.mean_output_tokens_per_s:,.0f} / {r.peak_output_tokens_per_s:,.0f}"),
        ]
        for m in r.models:
            rows.append((f"  {m.model} ({m.share:.0%} of output)",
                         f"{m.tokens_per_s_per_accelerator:,.0f} tok/s/acc, replica "
                         f"{m.replica_size}, batch {m.batch}, {m.binding}"))
        rows += [
            ("accelerators at mean load", r.accelerators_average),
            ("accelerators at peak", r.accelerators_peak),
            ("accelerators (fleet to build)", r.accelerators),
            ("fleet factors", ", ".join(f"{k} {v:g}" for k, v in r.factors.items())),
            ("serving stack", r.stack or "MLPerf-fitted step constants"),
            ("IT MW", r.it_mw),
            ("facility MW", r.facility_mw),
            ("capex USD", r.capex_usd),
            ("annual opex USD", r.annual_opex_usd),
            ("cost per million output tokens USD", r.cost_per_million_output_tokens_usd),
        ]
        if r.users:
            rows.append(("weekly / daily active users",
                         f"{r.users:,.0f} / {r.daily_active_users:,.0f}"))
            rows.append(("facility W per weekly user", r.watts_per_weekly_user))
        emit(r, as_json, _table(f"Service fleet on {r.accelerator}", rows))

    @size.command("country")
    def size_country(
        country: str = typer.Option(..., "--country", help="ISO 3166 alpha-3, e.g. IDN."),
        year: int = typer.Option(
            datetime.date.today().year + 1, "--year", min=2020, max=2100,
            help="Year of demand (default: next year).",
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
        profile: str | None = typer.Option(
            None, "--profile", help="Usage profile (default: assistant)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """A localised assistant for a country on documented default assumptions."""

        overrides: dict[str, Any] = {
            k: v
            for k, v in {
                "model": model,
                "accelerator": accelerator,
                "scenario": scenario,
                "pue": pue,
                "adoption_factor": adoption_factor,
                "usage_profile": profile,
            }.items()
            if v is not None
        }
        if model is not None:
            overrides["model_mix"] = None  # one model serves everything
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
            ("year", str(r.year)),
            ("weekly active users", round(r.users)),
            ("output tokens/day", r.output_tokens_per_day),
            ("peak output tokens/s", r.peak_tokens_per_s),
            ("accelerators at mean load", r.accelerators_average),
            ("accelerators at peak", r.accelerators_peak),
            ("accelerators (fleet to build)", r.accelerators),
            ("models / accelerator",
             f"{', '.join(f'{m.model} {m.share:.0%}' for m in r.models) or r.assumptions.model}"
             f" / {r.assumptions.accelerator}"),
            ("tokens/s per accelerator", r.tokens_per_s_per_accelerator),
            ("IT MW", r.it_mw),
            ("facility MW", r.facility_mw),
            ("capex USD", r.capex_usd),
            ("annual opex USD", r.annual_opex_usd),
            ("cost per million output tokens USD", r.cost_per_million_output_tokens_usd),
            ("facility W per weekly user", r.watts_per_weekly_user),
            ("binding", r.binding),
        ]
        # JSON: the assumptions the sizing read (not the older per-query fields it ignores)
        payload = {**to_jsonable(r), "assumptions": r.assumptions.in_effect()}
        emit(payload if as_json else r, as_json,
             _table(f"Localised assistant: {r.country} {r.year}", rows))

    app.add_typer(size, name="size")
