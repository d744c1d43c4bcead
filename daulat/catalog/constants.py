"""Sourced constants (PUE, costs, lives, efficiencies…) from ``data/constants.csv``.

Every number the sizing model uses that is not a property of an accelerator or a model
class lives here, with its unit and source. Fitted efficiencies are rewritten only by
``python -m daulat.sizing.calibrate``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from daulat.errors import UserError

__all__ = ["Constant", "constant", "constants", "CONSTANTS_FILE"]

CONSTANTS_FILE = "constants.csv"


@dataclass(frozen=True)
class Constant:
    """One sourced constant: ``value`` in ``unit``, with where it comes from."""

    name: str
    value: float
    unit: str
    source: str


@lru_cache(maxsize=1)
def constants() -> dict[str, Constant]:
    """All constants, keyed by name."""
    text = resources.files("daulat.catalog").joinpath("data", CONSTANTS_FILE).read_text("utf-8")
    out: dict[str, Constant] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["name"]] = Constant(row["name"], float(row["value"]), row["unit"], row["source"])
    return out


def constant(name: str) -> float:
    """The value of constant ``name`` (unit and source: :func:`constants`)."""
    table = constants()
    if name not in table:
        raise UserError(f"unknown constant {name!r}; valid names: {', '.join(sorted(table))}")
    return table[name].value
