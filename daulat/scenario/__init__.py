"""daulat.scenario: the scenario file format (``scenario.yaml``), validated with pydantic.

``load_scenario(path)`` returns a :class:`Scenario` or raises a
:class:`~daulat.errors.UserError` listing every problem with file:line:column.
"""

from __future__ import annotations

from daulat.scenario.load import ScenarioError, dump_scenario, load_scenario, parse_scenario
from daulat.scenario.schema import (
    CountrySpec,
    Finance,
    FunderSpec,
    Horizon,
    InlineSite,
    Objective,
    OriginRule,
    Rules,
    Scenario,
    Sensitivity,
    SitesSpec,
    TrainingSpec,
    Triangular,
    Uncertainty,
    WorkloadSpec,
)

__all__ = [
    "CountrySpec",
    "Finance",
    "FunderSpec",
    "Horizon",
    "InlineSite",
    "Objective",
    "OriginRule",
    "Rules",
    "Scenario",
    "ScenarioError",
    "Sensitivity",
    "SitesSpec",
    "TrainingSpec",
    "Triangular",
    "Uncertainty",
    "WorkloadSpec",
    "dump_scenario",
    "load_scenario",
    "parse_scenario",
]
