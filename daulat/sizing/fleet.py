"""The fleet for a service: from a daily load (or users) to accelerators, MW and money.

One engine (issue 10): ``daulat size service``, ``daulat size country`` and the planner's
demand go through :func:`size_service`. A benchmark's tokens/s per accelerator is only
the kernel; a fleet adds (each factor sourced or an ASSUMPTION with a range, in
``daulat/catalog/data/fleet_factors.csv``):

1. the request shape of the real load — context read per request (prefix/KV-cache hits
   are read, not recomputed), new input prefilled, output per request;
2. latency per user: ``output_tokens_per_s_per_user`` sets the mean step time
   (TPOT = 1/speed) and so the batch; TTFT bound; the serving stack's fixed time per
   step (``stack``, default :data:`DEFAULT_STACK`: a 2026 latency-tuned stack whose step
   overhead is fitted on a published throughput-vs-interactivity run) sets the fastest
   speed a model can be served at;
3. expert parallelism at scale and speculative decoding as production stacks run them
   (:func:`daulat.sizing.inference.inference_throughput`);
4. a model mix (frontier MoE plus a small model, ``model_mix.csv``);
5. serving-stack efficiency (stock stacks vs MLPerf closed) and the fleet utilisation —
   the share of its roofline throughput a production fleet sustains on average (load
   variance within the hour, scheduling, prefill/decode balance), FITTED on the one fleet
   whose daily load and GPU count are both published (DeepSeek, Feb 2025);
6. the diurnal peak over the mean (``peak_to_average``), headroom, N+1 and cross-site
   failover, and the evaluation/development/research share of the fleet.

``accelerators_average`` serves the mean load; ``accelerators_peak`` the diurnal peak;
``accelerators`` is the fleet to build: ``peak × (1 + headroom) × (1 + failover) /
(1 − research_share)``, in whole replicas per model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from daulat.catalog.accelerators import get_accelerator
from daulat.catalog.constants import constant
from daulat.catalog.models import get_model
from daulat.catalog.profiles import daily_load, fleet_factor, model_mix, profile_figure
from daulat.errors import UserError
from daulat.sizing.facility import facility
from daulat.sizing.inference import inference_throughput
from daulat.sizing.prefill import prefill_throughput

__all__ = [
    "DEFAULT_STACK",
    "FleetAssumptions",
    "ModelFleet",
    "ServiceLoad",
    "ServiceSizing",
    "load_from_users",
    "size_service",
]


DEFAULT_STACK = "production-2026"
"""The serving stack a fleet runs unless told otherwise (``daulat/sizing/data/stacks.csv``):
its step overhead is fitted on SemiAnalysis InferenceX runs of 2026 stacks; ``None`` runs
the MLPerf-fitted constants (``t_fixed_s`` and the DeepEP all-to-all round trips), as
DeepSeek's own 2025 service is checked."""


@dataclass(frozen=True)
class ServiceLoad:
    """A service's daily load. Tokens per day; ``context_tokens`` per request (None: the
    input per request); ``users``: weekly active users behind it (0 when unknown)."""

    input_tokens_per_day: float
    output_tokens_per_day: float
    cached_input_share: float = 0.0
    context_tokens: float | None = None
    output_tokens_per_request: float | None = None
    users: float = 0.0
    basis: str = "given load"
    daily_users: float = 0.0

    def __post_init__(self) -> None:
        for name in ("input_tokens_per_day", "output_tokens_per_day", "users"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise UserError(f"{name}: {v!r} invalid; valid: a number >= 0 (tokens per day"
                                " or people)")
        if not 0 <= self.cached_input_share < 1:
            raise UserError(f"cached_input_share: {self.cached_input_share!r} out of range; "
                            "valid: 0 <= share < 1")
        if self.context_tokens is not None and not 0 < self.context_tokens <= 2_000_000:
            raise UserError(f"context_tokens: {self.context_tokens!r} out of range; valid: "
                            "tokens per request, 1..2,000,000")
        if self.output_tokens_per_request is not None and self.output_tokens_per_request < 1:
            raise UserError(f"output_tokens_per_request: {self.output_tokens_per_request!r} "
                            "invalid; valid: tokens >= 1")

    def __add__(self, other: ServiceLoad) -> ServiceLoad:
        """Two loads on the same fleet: tokens add, shapes are token-weighted."""
        inp = self.input_tokens_per_day + other.input_tokens_per_day
        out = self.output_tokens_per_day + other.output_tokens_per_day
        cached = (
            (self.input_tokens_per_day * self.cached_input_share
             + other.input_tokens_per_day * other.cached_input_share) / inp if inp else 0.0
        )
        req = self._requests() + other._requests()
        ctx = None
        if self.context_tokens is not None or other.context_tokens is not None:
            ctx = sum(x._requests() * (x.context_tokens or x._input_per_request())
                      for x in (self, other)) / req if req else None
        return ServiceLoad(inp, out, cached, ctx, out / req if req else None,
                           self.users + other.users, f"{self.basis} + {other.basis}",
                           self.daily_users + other.daily_users)

    def _output_per_request(self) -> float:
        return self.output_tokens_per_request or fleet_factor("default_output_tokens_per_request")

    def _requests(self) -> float:
        return self.output_tokens_per_day / self._output_per_request()

    def _input_per_request(self) -> float:
        req = self._requests()
        return self.input_tokens_per_day / req if req else 0.0


def load_from_users(users: float, profile: str = "assistant", year: int = 2027,
                    overrides: tuple[tuple[str, str, str, float], ...] = ()) -> ServiceLoad:
    """The daily load of ``users`` weekly active users of ``profile`` in ``year``
    (consumer modes plus the enterprise, API and government segments); ``overrides``
    replace single figures (``(segment, mode, figure, value)``, as
    :func:`daulat.catalog.profiles.daily_load`)."""
    if not math.isfinite(users) or users < 0:
        raise UserError(f"users: {users!r} invalid; valid: weekly active users >= 0")
    d = daily_load(profile, year, overrides=overrides)
    dau_share = profile_figure(profile, "consumer", "all", "daily_per_weekly_users", year)
    return ServiceLoad(
        input_tokens_per_day=users * d.context_tokens,
        output_tokens_per_day=users * d.output_tokens,
        cached_input_share=d.cached_input_share,
        context_tokens=d.context_per_call,
        output_tokens_per_request=d.output_tokens / d.calls if d.calls else None,
        users=users,
        basis=f"{users:,.0f} weekly users x profile {profile} {year}",
        daily_users=users * dau_share if dau_share is not None else 0.0,
    )


@dataclass(frozen=True)
class FleetAssumptions:
    """How the fleet is built (defaults: ``fleet_factors.csv``, ``model_mix.csv``).

    ``models`` overrides ``mix`` with explicit ``(model id, share of output tokens)``.
    ``disaggregate``: prefill and decode on separate pools (None: for every MoE model, as
    production stacks serve MoEs at scale; False: prompts chunked into the decode steps).
    ``stack``: the serving stack (``stacks.csv`` id; None: the MLPerf-fitted constants).
    """

    accelerator: str = "GB200"
    precision: str | None = None
    mix: str = "national-assistant"
    models: tuple[tuple[str, float], ...] | None = None
    output_tokens_per_s_per_user: float | None = None
    ttft_s: float | None = None
    peak_to_average: float | None = None
    headroom: float | None = None
    failover_reserve: float | None = None
    research_share: float | None = None
    serving_efficiency: float | None = None
    fleet_utilisation: float | None = None
    speculative: bool = True
    pue: float | None = None
    country: str | None = None
    disaggregate: bool | None = None
    stack: str | None = DEFAULT_STACK

    def resolved(self) -> dict[str, float]:
        """Every factor with its value (given, else the catalog's)."""
        out = {
            "output_tokens_per_s_per_user": self.output_tokens_per_s_per_user
            or fleet_factor("output_tokens_per_s_per_user"),
            "ttft_s": self.ttft_s or fleet_factor("ttft_s"),
            "peak_to_average": self.peak_to_average or fleet_factor("peak_to_average_national"),
            "headroom": fleet_factor("headroom") if self.headroom is None else self.headroom,
            "failover_reserve": fleet_factor("failover_reserve")
            if self.failover_reserve is None else self.failover_reserve,
            "research_share": fleet_factor("research_share")
            if self.research_share is None else self.research_share,
            "serving_efficiency": self.serving_efficiency
            or constant("stock_stack_efficiency"),
            "fleet_utilisation": self.fleet_utilisation or fleet_factor("fleet_utilisation"),
        }
        checks = {
            "output_tokens_per_s_per_user": (1.0, 1000.0, "tokens/s per user"),
            "ttft_s": (0.05, 60.0, "seconds"),
            "peak_to_average": (1.0, 10.0, "peak / mean load"),
            "headroom": (0.0, 2.0, "share above peak"),
            "failover_reserve": (0.0, 2.0, "share above peak"),
            "research_share": (0.0, 0.9, "share of the fleet"),
            "serving_efficiency": (0.01, 1.0, "share of MLPerf-closed throughput"),
            "fleet_utilisation": (0.01, 1.0, "share of the roofline a fleet sustains"),
        }
        for k, (lo, hi, unit) in checks.items():
            if not lo <= out[k] <= hi:
                raise UserError(f"{k}: {out[k]!r} out of range; valid: {lo:g}..{hi:g} {unit}")
        return out

    def model_shares(self) -> tuple[tuple[str, float], ...]:
        """(model id, share of output tokens), shares summing to 1."""
        rows = self.models or tuple((m, s) for m, s, _ in model_mix(self.mix))
        total = sum(s for _, s in rows)
        if total <= 0 or any(s < 0 for _, s in rows):
            raise UserError(f"models: shares {rows!r} invalid; valid: shares >= 0, sum > 0")
        for m, _ in rows:
            get_model(m)
        return tuple((m, s / total) for m, s in rows)


@dataclass(frozen=True)
class ModelFleet:
    """One model of the mix: its share of output tokens and its accelerators.

    ``tokens_per_s_per_accelerator`` is output tokens/s per accelerator of the model's whole
    fleet (after fleet utilisation); ``replica_size``/``batch``/``binding`` are the decode
    replica's. When prefill runs on its own pool, ``prefill_accelerators`` (of
    ``accelerators``) are that pool's and ``prefill_replica_size`` its unit.
    """

    model: str
    share: float
    tokens_per_s_per_accelerator: float
    replica_size: int
    batch: int
    binding: str
    accelerators_average: int
    accelerators_peak: int
    accelerators: int
    prefill_accelerators: int = 0
    prefill_replica_size: int = 0


@dataclass(frozen=True)
class ServiceSizing:
    """The fleet for a load. Units: accelerators, MW, USD (price year 2025), W, tokens.

    ``accelerators`` is the fleet to build (peak + headroom + failover + research share);
    ``watts_per_weekly_user`` = facility W / weekly active users (0 when no users);
    ``stack`` the serving stack it runs (None: the MLPerf-fitted step constants).
    """

    accelerator: str
    accelerators_average: int
    accelerators_peak: int
    accelerators: int
    it_mw: float
    facility_mw: float
    annual_energy_mwh: float
    annual_emissions_tco2: float | None
    capex_usd: float
    annual_opex_usd: float
    cost_per_million_output_tokens_usd: float
    input_tokens_per_day: float
    cached_input_share: float
    output_tokens_per_day: float
    context_tokens: float
    mean_output_tokens_per_s: float
    peak_output_tokens_per_s: float
    users: float
    daily_active_users: float
    watts_per_weekly_user: float
    models: list[ModelFleet]
    factors: dict[str, float]
    basis: str
    notes: list[str] = field(default_factory=list)
    stack: str | None = None


def _whole(acc: float, replica: int) -> int:
    return int(math.ceil(acc / replica - 1e-9)) * replica if acc > 0 else 0


def size_service(load: ServiceLoad, fleet: FleetAssumptions | None = None) -> ServiceSizing:
    """Accelerators, facility and money for ``load`` on ``fleet``."""
    fl = fleet or FleetAssumptions()
    f = fl.resolved()
    acc = get_accelerator(fl.accelerator)
    seconds = constant("seconds_per_day")
    out_req = load._output_per_request()
    in_req = load._input_per_request()
    ctx = load.context_tokens or in_req
    new_req = max(in_req * (1.0 - load.cached_input_share), 0.0)
    mean_tps = load.output_tokens_per_day / seconds
    overhead = (1.0 + f["headroom"]) * (1.0 + f["failover_reserve"]) / (1.0 - f["research_share"])
    models: list[ModelFleet] = []
    notes: list[str] = []
    for model, share in fl.model_shares():
        if share <= 0 or mean_tps <= 0:
            continue
        split = (fl.disaggregate if fl.disaggregate is not None
                 else get_model(model).experts > 0) and new_req >= 1
        inf = inference_throughput(
            model, acc, fl.precision, "server", f["serving_efficiency"],
            input_tokens=1 if split else max(int(round(new_req)), 1),
            output_tokens=max(int(round(out_req)), 1),
            context_tokens=max(int(round(ctx)), 1), ttft_s=f["ttft_s"],
            tpot_s=1.0 / f["output_tokens_per_s_per_user"], tpot_mean=True,
            speculative=fl.speculative, stack=fl.stack,
        )
        if inf.tokens_per_s_per_accelerator <= 0:
            raise UserError(
                f"output_tokens_per_s_per_user: {f['output_tokens_per_s_per_user']:g} cannot be "
                f"met by {model} on {acc.id} with "
                f"{'stack ' + fl.stack if fl.stack else 'the MLPerf-fitted step constants'}; "
                "valid: a lower speed, another accelerator, model or stack"
            )
        notes += [f"{model}: {n}" for n in inf.notes]
        out_tps = mean_tps * share
        dec_rate = inf.tokens_per_s_per_accelerator * f["fleet_utilisation"]
        scale = {"average": 1.0, "peak": f["peak_to_average"],
                 "build": f["peak_to_average"] * overhead}
        dec = {k: _whole(out_tps * v / dec_rate, inf.replica_size) for k, v in scale.items()}
        pre = {k: 0 for k in scale}
        pre_n = 0
        rate = dec_rate
        if split:
            p = prefill_throughput(model, acc, inf.precision, f["serving_efficiency"],
                                   new_tokens=new_req, context_tokens=max(ctx, new_req),
                                   ttft_s=f["ttft_s"])
            pre_rate = p.tokens_per_s_per_accelerator * f["fleet_utilisation"]
            in_tps = out_tps * new_req / out_req
            pre = {k: _whole(in_tps * v / pre_rate, p.replica_size) for k, v in scale.items()}
            pre_n = p.replica_size
            rate = out_tps / (out_tps / dec_rate + in_tps / pre_rate)
            if not p.meets_ttft:
                notes.append(f"{model}: prefill of {new_req:,.0f} new tokens takes "
                             f"{p.request_prefill_s:.1f} s on one {p.replica_size}-accelerator "
                             f"prefill replica, above the TTFT target {f['ttft_s']:g} s")
        models.append(ModelFleet(
            model, share, rate, inf.replica_size, inf.batch, inf.binding,
            dec["average"] + pre["average"], dec["peak"] + pre["peak"],
            dec["build"] + pre["build"], pre["build"], pre_n))
    count = sum(m.accelerators for m in models)
    fac = facility(acc, count, fl.pue, country=fl.country)
    annual_cost = fac.annual_depreciation_usd + fac.annual_opex_usd
    out_year = load.output_tokens_per_day * 365.0
    return ServiceSizing(
        accelerator=acc.id,
        accelerators_average=sum(m.accelerators_average for m in models),
        accelerators_peak=sum(m.accelerators_peak for m in models),
        accelerators=count,
        it_mw=fac.it_mw,
        facility_mw=fac.facility_mw,
        annual_energy_mwh=fac.annual_energy_mwh,
        annual_emissions_tco2=fac.annual_emissions_tco2,
        capex_usd=fac.capex_usd,
        annual_opex_usd=fac.annual_opex_usd,
        cost_per_million_output_tokens_usd=annual_cost / (out_year / 1e6) if out_year else 0.0,
        input_tokens_per_day=load.input_tokens_per_day,
        cached_input_share=load.cached_input_share,
        output_tokens_per_day=load.output_tokens_per_day,
        context_tokens=ctx,
        mean_output_tokens_per_s=mean_tps,
        peak_output_tokens_per_s=mean_tps * f["peak_to_average"],
        users=load.users,
        daily_active_users=load.daily_users,
        watts_per_weekly_user=fac.facility_mw * 1e6 / load.users if load.users else 0.0,
        models=models,
        factors={**f, "fleet_overhead": overhead},
        basis=load.basis,
        notes=notes,
        stack=fl.stack,
    )
