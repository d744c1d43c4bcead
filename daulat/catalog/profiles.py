"""Usage profiles, fleet factors and model mixes from public disclosures (issue 10).

Three sourced tables in ``data/``:

* ``usage_profiles.csv`` — one row per figure: ``profile, segment, mode, figure, year,
  value, low, high, unit, kind, source, url``. ``kind`` is ``published`` (a disclosed
  figure), ``derived`` (arithmetic on disclosed figures, shown in ``source``) or
  ``ASSUMPTION`` (no source; ``low``/``high`` give the range ``daulat risk`` samples).
  A figure given for several years is interpolated geometrically between them and held
  flat outside them.
* ``fleet_factors.csv`` — the factors a fleet adds to a benchmark (diurnal peak, latency
  per user, prefix-cache hits, headroom, failover, research share …), same columns less
  profile/segment/mode/year.
* ``model_mix.csv`` — which model classes serve which share of output tokens.

Per user-day load of a profile (:func:`daily_load`): for each *mode* (chat, reasoning,
agentic, voice, image) ``prompts × prompt_share × (steps_per_task for agentic)`` model
calls, each reading ``context_tokens`` (of which ``new_input_tokens`` are uncached) and
writing ``output_tokens``; enterprise, API and government segments add
``tokens_share_of_consumer`` × the consumer load.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, make_dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from daulat.errors import UserError

__all__ = [
    "KINDS",
    "MODES",
    "SEGMENTS",
    "FleetFactor",
    "ModeLoad",
    "ProfileFigure",
    "UserDayLoad",
    "daily_load",
    "fleet_factor",
    "fleet_factors",
    "get_fleet_factor",
    "get_profile",
    "list_profiles",
    "load_profiles",
    "model_mix",
    "model_mixes",
    "profile_figure",
    "profile_record",
    "profile_records",
    "profile_sources",
]

KINDS = ("published", "derived", "ASSUMPTION")
MODES = ("chat", "reasoning", "agentic", "voice", "image")
SEGMENTS = ("consumer", "enterprise", "api", "government")
_PROFILE_COLUMNS = (
    "profile", "segment", "mode", "figure", "year", "value", "low", "high", "unit", "kind",
    "source", "url",
)


@dataclass(frozen=True)
class ProfileFigure:
    """One sourced figure of a usage profile (``low``/``high``: the range risk samples)."""

    profile: str
    segment: str
    mode: str
    figure: str
    year: int
    value: float
    low: float
    high: float
    unit: str
    kind: str
    source: str
    url: str


@dataclass(frozen=True)
class FleetFactor:
    """One sourced fleet factor (``low``/``high``: the range risk samples)."""

    name: str
    value: float
    low: float
    high: float
    unit: str
    kind: str
    source: str
    url: str


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("daulat.catalog").joinpath("data", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _num(row: dict[str, str], col: str, where: str) -> float:
    try:
        return float(row[col])
    except (KeyError, ValueError):
        raise UserError(
            f"{where}: column {col!r} = {row.get(col)!r} is not a number; valid: a decimal"
        ) from None


def _check_range(where: str, value: float, low: float, high: float, kind: str) -> None:
    if kind not in KINDS:
        raise UserError(f"{where}: kind {kind!r} invalid; valid values: {', '.join(KINDS)}")
    if not low <= value <= high:
        raise UserError(
            f"{where}: value {value:g} outside its range [{low:g}, {high:g}]; valid: "
            "low <= value <= high"
        )


@lru_cache(maxsize=1)
def load_profiles() -> tuple[ProfileFigure, ...]:
    """Every figure of ``usage_profiles.csv`` (validated: kind, range, segment, mode)."""
    out = []
    for i, row in enumerate(_read("usage_profiles.csv"), start=2):
        where = f"daulat/catalog/data/usage_profiles.csv line {i}"
        missing = [c for c in _PROFILE_COLUMNS if c not in row]
        if missing:
            raise UserError(f"{where}: missing columns {', '.join(missing)}")
        value, low, high = (_num(row, c, where) for c in ("value", "low", "high"))
        _check_range(where, value, low, high, row["kind"])
        if row["segment"] not in SEGMENTS:
            raise UserError(f"{where}: segment {row['segment']!r} invalid; valid values: "
                            f"{', '.join(SEGMENTS)}")
        if row["mode"] not in (*MODES, "all"):
            raise UserError(f"{where}: mode {row['mode']!r} invalid; valid values: all, "
                            f"{', '.join(MODES)}")
        out.append(ProfileFigure(
            row["profile"], row["segment"], row["mode"], row["figure"], int(row["year"]),
            value, low, high, row["unit"], row["kind"], row["source"], row["url"],
        ))
    return tuple(out)


def list_profiles() -> list[str]:
    """Profile ids in file order."""
    return list(dict.fromkeys(f.profile for f in load_profiles()))


def get_profile(profile: str) -> list[ProfileFigure]:
    """All figures of ``profile``; UserError names the valid ids."""
    rows = [f for f in load_profiles() if f.profile == profile]
    if not rows:
        raise UserError(
            f"profile: unknown value {profile!r}; valid values: {', '.join(list_profiles())}"
        )
    return rows


def profile_figure(
    profile: str, segment: str, mode: str, figure: str, year: int, *, bound: str = "value"
) -> float | None:
    """The figure for ``year`` (geometric interpolation between the years given, flat
    outside them); ``bound`` picks ``value``, ``low`` or ``high``; None when absent."""
    pts = sorted(
        (f.year, getattr(f, bound))
        for f in get_profile(profile)
        if f.segment == segment and f.mode == mode and f.figure == figure
    )
    if not pts:
        return None
    if year <= pts[0][0]:
        return float(pts[0][1])
    if year >= pts[-1][0]:
        return float(pts[-1][1])
    for (y0, v0), (y1, v1) in zip(pts, pts[1:], strict=False):
        if y0 <= year <= y1:
            t = (year - y0) / (y1 - y0)
            if v0 > 0 and v1 > 0:
                return float(math.exp(math.log(v0) + t * (math.log(v1) - math.log(v0))))
            return float(v0 + t * (v1 - v0))
    return float(pts[-1][1])  # pragma: no cover - the loop covers every year in range


@lru_cache(maxsize=1)
def fleet_factors() -> dict[str, FleetFactor]:
    """Every fleet factor of ``fleet_factors.csv`` keyed by name (validated)."""
    out: dict[str, FleetFactor] = {}
    for i, row in enumerate(_read("fleet_factors.csv"), start=2):
        where = f"daulat/catalog/data/fleet_factors.csv line {i}"
        value, low, high = (_num(row, c, where) for c in ("value", "low", "high"))
        _check_range(where, value, low, high, row["kind"])
        out[row["name"]] = FleetFactor(row["name"], value, low, high, row["unit"],
                                       row["kind"], row["source"], row["url"])
    return out


def fleet_factor(name: str) -> float:
    """The value of fleet factor ``name``; UserError lists the valid names."""
    table = fleet_factors()
    if name not in table:
        raise UserError(f"fleet factor: unknown name {name!r}; valid: {', '.join(table)}")
    return table[name].value


@lru_cache(maxsize=1)
def model_mixes() -> dict[str, tuple[tuple[str, float, str], ...]]:
    """Model mixes: id → ((model id, share of output tokens, source), …); shares sum to 1."""
    mixes: dict[str, list[tuple[str, float, str]]] = {}
    for i, row in enumerate(_read("model_mix.csv"), start=2):
        where = f"daulat/catalog/data/model_mix.csv line {i}"
        share = _num(row, "share_of_output_tokens", where)
        mixes.setdefault(row["mix"], []).append((row["model"], share, row["source"]))
    for mix, rows in mixes.items():
        total = sum(s for _, s, _ in rows)
        if abs(total - 1.0) > 1e-6:
            raise UserError(f"daulat/catalog/data/model_mix.csv: mix {mix!r} shares sum to "
                            f"{total:g}; valid: shares summing to 1")
    return {k: tuple(v) for k, v in mixes.items()}


def model_mix(mix: str) -> tuple[tuple[str, float, str], ...]:
    """The rows of model mix ``mix``; UserError lists the valid ids."""
    table = model_mixes()
    if mix not in table:
        raise UserError(f"model mix: unknown value {mix!r}; valid values: {', '.join(table)}")
    return table[mix]


@dataclass(frozen=True)
class ModeLoad:
    """One mode's load per user-day: model calls and tokens (read, new input, output)."""

    mode: str
    calls: float
    context_tokens: float
    input_tokens: float
    output_tokens: float


@dataclass(frozen=True)
class UserDayLoad:
    """What one weekly active user (with the segments on top) asks per day, in tokens.

    ``input_tokens`` are all tokens read (context), ``new_input_tokens`` the uncached ones
    (prefill); ``segment_factor`` = 1 + enterprise + API + government shares of consumer.
    """

    profile: str
    year: int
    prompts: float
    calls: float
    context_tokens: float
    new_input_tokens: float
    output_tokens: float
    segment_factor: float
    modes: tuple[ModeLoad, ...]
    segments: dict[str, float]

    @property
    def cached_input_share(self) -> float:
        """Share of tokens read that hit the prefix/KV cache."""
        if self.context_tokens <= 0:
            return 0.0
        return max(0.0, 1.0 - self.new_input_tokens / self.context_tokens)

    @property
    def context_per_call(self) -> float:
        """Mean tokens read per model call."""
        return self.context_tokens / self.calls if self.calls else 0.0


@lru_cache(maxsize=4096)
def daily_load(profile: str, year: int, *, bound: str = "value",
               overrides: tuple[tuple[str, str, str, float], ...] = ()) -> UserDayLoad:
    """Tokens per weekly active user per day of ``profile`` in ``year`` (all segments).

    ``overrides``: ``(segment, mode, figure, value)`` replacing one figure (risk's demand
    ranges move one figure at a time, :func:`daulat.sizing.demand.demand_ranges`)."""
    get_profile(profile)
    given_values = {(s, m, f): v for s, m, f, v in overrides}

    def one(segment: str, mode: str, figure: str, b: str = bound) -> float | None:
        if (segment, mode, figure) in given_values:
            return given_values[(segment, mode, figure)]
        return profile_figure(profile, segment, mode, figure, year, bound=b)

    def fig(segment: str, mode: str, figure: str, default: float | None = None) -> float:
        v = one(segment, mode, figure)
        if v is None:
            if default is None:
                raise UserError(f"profile {profile!r}: figure {segment}/{mode}/{figure} "
                                "missing in daulat/catalog/data/usage_profiles.csv")
            return default
        return v

    prompts = fig("consumer", "all", "prompts_per_user_day")
    shares = {m: one("consumer", m, "prompt_share", "value") for m in MODES}
    given = {m: s for m, s in shares.items() if s is not None}
    total_share = sum(given.values()) or 1.0  # interpolated shares are renormalised to 1
    given = {m: s / total_share for m, s in given.items()}
    modes = []
    for mode, share in given.items():
        steps = fig("consumer", mode, "steps_per_task", 1.0)
        calls = prompts * share * steps
        ctx = fig("consumer", mode, "context_tokens")
        new = min(fig("consumer", mode, "new_input_tokens"), ctx)
        out = fig("consumer", mode, "output_tokens")
        modes.append(ModeLoad(mode, calls, calls * ctx, calls * new, calls * out))
    segments = {s: one(s, "all", "tokens_share_of_consumer") or 0.0
                for s in SEGMENTS if s != "consumer"}
    factor = 1.0 + sum(segments.values())
    return UserDayLoad(
        profile=profile,
        year=year,
        prompts=prompts,
        calls=sum(m.calls for m in modes) * factor,
        context_tokens=sum(m.context_tokens for m in modes) * factor,
        new_input_tokens=sum(m.input_tokens for m in modes) * factor,
        output_tokens=sum(m.output_tokens for m in modes) * factor,
        segment_factor=factor,
        modes=tuple(modes),
        segments=segments,
    )


def _field_name(f: ProfileFigure) -> str:
    return f"{f.segment}_{f.mode}_{f.figure}_{f.year}"


@cache
def profile_record(profile: str) -> Any:
    """One profile as a flat record for ``daulat catalog show profiles ID``: a summary
    (figure counts by kind, output tokens per user-day in 2027) then every figure as a
    field ``<segment>_<mode>_<figure>_<year>``; sources from :func:`profile_sources`."""
    rows = get_profile(profile)
    load = daily_load(profile, 2027)
    counts = {k: sum(f.kind == k for f in rows) for k in KINDS}
    summary: list[tuple[str, type, Any]] = [
        ("id", str, profile),
        ("figures", int, len(rows)),
        ("published", int, counts["published"]),
        ("derived", int, counts["derived"]),
        ("assumptions", int, counts["ASSUMPTION"]),
        ("output_tokens_per_user_day_2027", float, round(load.output_tokens)),
        ("tokens_read_per_user_day_2027", float, round(load.context_tokens)),
    ]
    figs = [(_field_name(f), float, f.value) for f in rows]
    cls = make_dataclass("UsageProfile", [(n, t) for n, t, _ in summary + figs], frozen=True)
    return cls(*(v for _, _, v in summary + figs))


def profile_records() -> list[Any]:
    """Every profile as a record (:func:`profile_record`)."""
    return [profile_record(p) for p in list_profiles()]


def profile_sources(record: Any) -> dict[str, str]:
    """Field → 'kind [low–high unit]: source url' of a :func:`profile_record`."""
    out: dict[str, str] = {}
    for f in get_profile(record.id):
        out[_field_name(f)] = (f"{f.kind} [{f.low:g}–{f.high:g} {f.unit}]: {f.source}"
                               + (f" {f.url}" if f.url else ""))
    derived = "computed from this profile's figures (daulat.catalog.profiles.daily_load)"
    for name in ("figures", "published", "derived", "assumptions",
                 "output_tokens_per_user_day_2027", "tokens_read_per_user_day_2027"):
        out[name] = derived
    return out


def get_fleet_factor(name: str) -> FleetFactor:
    """Fleet factor ``name`` as a record; UserError lists the valid names."""
    table = fleet_factors()
    if name not in table:
        raise UserError(f"fleet factor: unknown name {name!r}; valid: {', '.join(table)}")
    return table[name]
