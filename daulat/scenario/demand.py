"""The demand assumptions of a country's assistant: a pure pydantic model of the scenario
format (``countries[].demand``, ``workloads[].demand``) that sizing computes with.

It lives in the scenario layer (below sizing) so that scenario validation needs no
physics; :mod:`daulat.sizing.demand` re-exports it. Defaults come from the catalog:
constants (``constants.csv``) and the older per-query usage profiles
(``daulat/catalog/data/demand_profiles.csv``); the issue-10 usage profiles by year are in
``usage_profiles.csv`` (``daulat.catalog.profiles``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from daulat.catalog.constants import constant

__all__ = ["PROFILES", "DemandAssumptions", "DemandProfile"]


@dataclass(frozen=True)
class DemandProfile:
    """What one active user asks of the assistant per day, and each request's shape.

    A *query* is one model call: a chat turn, a reasoning answer, or one step of an agent
    task (an agent task is many steps, each re-reading its growing context).
    """

    id: str
    queries_per_user_day: float
    input_tokens_per_query: int | None  # None: the catalog's default_input_tokens
    output_tokens_per_query: int | None  # None: the catalog's default_output_tokens
    basis: str


PROFILES_FILE = "demand_profiles.csv"
_PER_QUERY_FIELDS = ("profile", "queries_per_user_day", "input_tokens_per_query",
                     "output_tokens_per_query", "institutional_share")


def _load_profiles() -> dict[str, DemandProfile]:
    """Usage profiles from ``data/demand_profiles.csv`` (each row with its source)."""
    text = resources.files("daulat.catalog").joinpath("data", PROFILES_FILE).read_text("utf-8")
    out: dict[str, DemandProfile] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["id"]] = DemandProfile(
            row["id"],
            float(row["queries_per_user_day"]),
            int(row["input_tokens_per_query"]) if row["input_tokens_per_query"] else None,
            int(row["output_tokens_per_query"]) if row["output_tokens_per_query"] else None,
            row["source"],
        )
    return out


#: Usage profiles (docs/sizing.md "Demand profiles"), from ``data/demand_profiles.csv``:
#: every figure is cited there or labelled an assumption.
PROFILES: dict[str, DemandProfile] = _load_profiles()


class DemandAssumptions(BaseModel):
    """Assumptions of a country's assistant demand (all overridable).

    Adoption is a logistic curve of the share of internet users who use the assistant:
    ``adoption_cap / (1 + exp(-adoption_rate · (year - adoption_midpoint_year)))``.
    """

    model_config = ConfigDict(extra="forbid")

    profile: Literal["chat", "reasoning", "agentic"] = Field(
        default="chat",
        description="usage profile (PROFILES): sets queries_per_user_day and input/output "
        "tokens per query unless given; chat is the documented conservative default",
    )
    institutional_share: float = Field(
        default=0.0,
        ge=0,
        description=(
            "public-sector and enterprise demand on top of consumer demand, as a share of it "
            "(0: consumer only, the conservative default). Anchor: 27 % of consumer ChatGPT "
            "messages were work-related in Jun 2025 (NBER w34255), and enterprise/API use "
            "comes on top of consumer plans; examples use an ASSUMPTION of 0.5"
        ),
    )
    adoption_cap: float = Field(
        default=0.7, gt=0, le=1, description="ASSUMPTION: long-run share of internet users"
    )
    adoption_midpoint_year: float = Field(
        default=2027.5,
        description=(
            "FITTED (cap and rate held): the curve passes through 12.7 % of internet users in "
            "2025 = ChatGPT's ~700 M weekly users in Jul 2025 (NBER w34255, Chatterji et al. "
            "2025) / ~5.5 B people online (ITU Facts and Figures 2024). Was 2028 (10 % in "
            "2025), anchored on ~10 % of the world's *adults*, applied to internet users"
        ),
    )
    adoption_rate: float = Field(
        default=0.6,
        gt=0,
        description=(
            "ASSUMPTION: logistic steepness per year (with the fitted midpoint: 12.7 % of "
            "internet users in 2025, 20 % 2026, 30 % 2027, 57 % 2030)"
        ),
    )
    queries_per_user_day: float = Field(
        default=3.5,
        gt=0,
        description="DERIVED: ChatGPT 2.5B prompts/day (Axios, 22 Jul 2025) / ~700M weekly users",
    )
    input_tokens_per_query: int = Field(
        default_factory=lambda: int(constant("default_input_tokens")),
        ge=0,
        description="ASSUMPTION: prompt incl. system prompt, policy pack and history",
    )
    output_tokens_per_query: int = Field(
        default_factory=lambda: int(constant("default_output_tokens")),
        ge=1,
        description="ASSUMPTION: answer length (MLPerf chat sets average ~150-300)",
    )
    peak_factor: float = Field(
        default=1.75,
        ge=1,
        description=(
            "../shared/data/reference/infra_constants.md: 1.5-2x headroom over mean load "
            "for diurnal peaks (DERIVED mid)"
        ),
    )
    model: str = Field(
        default="assistant-medium",
        description="model class id serving the assistant when model_mix is None (and the "
        "planner's per-workload model)",
    )
    usage_profile: str | None = Field(
        default="assistant",
        description="usage profile of daulat/catalog/data/usage_profiles.csv (`daulat catalog "
        "list profiles`): tokens per weekly active user-day by mode and segment, by year; "
        "None: the older queries_per_user_day x tokens-per-query arithmetic",
    )
    model_mix: str | None = Field(
        default="national-assistant",
        description="model mix of daulat/catalog/data/model_mix.csv serving the country "
        "assistant (size country); None: `model` alone",
    )
    output_tokens_per_s_per_user: float | None = Field(
        default=None, gt=0,
        description="output speed per user, tokens/s (fleet_factors.csv default 80)",
    )
    headroom: float | None = Field(
        default=None, ge=0, description="capacity above peak (fleet_factors.csv, ASSUMPTION)"
    )
    failover_reserve: float | None = Field(
        default=None, ge=0, description="N+1 / cross-site reserve (fleet_factors.csv, ASSUMPTION)"
    )
    research_share: float | None = Field(
        default=None, ge=0, lt=1, description="evaluation/research share of the fleet "
        "(fleet_factors.csv, ASSUMPTION)"
    )
    accelerator: str = Field(default="GB200", description="accelerator id")
    precision: str | None = Field(
        default=None, description="serving precision; default the narrowest native"
    )
    scenario: str = Field(
        default="server", description="latency scenario: offline, server or interactive"
    )
    serving_efficiency: float = Field(
        default_factory=lambda: constant("stock_stack_efficiency"),
        gt=0,
        le=1,
        description="calibration.csv: stock stack vs MLPerf closed (0.73)",
    )
    pue: float | None = Field(default=None, ge=1, description="default by cooling (constants.csv)")
    adoption_factor: float = Field(
        default=1.0, gt=0, description="sensitivity multiplier on adoption"
    )

    def in_effect(self) -> dict[str, Any]:
        """The assumptions as JSON values, without the fields the chosen path does not read:
        with a ``usage_profile`` the older per-query fields (``profile``,
        ``queries_per_user_day``, tokens per query, ``institutional_share``), with a
        ``model_mix`` the single ``model``."""
        out = self.model_dump(mode="json")
        if self.usage_profile is not None:
            for name in _PER_QUERY_FIELDS:
                out.pop(name, None)
        if self.model_mix is not None:
            out.pop("model", None)
        return out

    @model_validator(mode="before")
    @classmethod
    def _from_profile(cls, values: Any) -> Any:
        """Fill queries and tokens per query from the profile where not given.

        Giving any of the older per-query fields (``profile``, ``queries_per_user_day``,
        ``input_tokens_per_query``, ``output_tokens_per_query``, ``institutional_share``)
        without ``usage_profile`` selects the older arithmetic (``usage_profile=None``): an
        explicit value is never silently ignored.
        """
        if not isinstance(values, dict):
            return values
        out = dict(values)
        if "usage_profile" not in out and any(k in out for k in _PER_QUERY_FIELDS):
            out["usage_profile"] = None
        prof = PROFILES.get(str(values.get("profile", "chat")))
        if prof is None:
            return out  # the Literal check names the valid profiles
        out.setdefault("queries_per_user_day", prof.queries_per_user_day)
        if prof.input_tokens_per_query is not None:
            out.setdefault("input_tokens_per_query", prof.input_tokens_per_query)
        if prof.output_tokens_per_query is not None:
            out.setdefault("output_tokens_per_query", prof.output_tokens_per_query)
        return out
