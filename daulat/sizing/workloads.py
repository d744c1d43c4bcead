"""Benchmark request shapes and latency limits (sourced), used by the validation.

``data/workloads.csv``: one row per MLPerf LLM benchmark — the mean input and output
tokens per request of its data set and its Server/Interactive TTFT and TPOT limits
(seconds, 99th percentile), each row with its sources. A blank input length means the
fitted calibration constant ``mlperf_llama2_70b_input_tokens`` (no published mean).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from daulat.catalog.constants import constant
from daulat.errors import UserError

__all__ = ["Workload", "get_workload", "load_workloads"]


@dataclass(frozen=True)
class Workload:
    """A benchmark's request shape (tokens, output-length coefficient of variation; None:
    not measured) and latency limits (seconds; None: none)."""

    id: str
    model: str
    input_tokens: float
    output_tokens: float
    output_length_cv: float | None
    server_ttft_s: float | None
    server_tpot_s: float | None
    interactive_ttft_s: float | None
    interactive_tpot_s: float | None
    source: str
    output_length_cv_source: str = ""

    def targets(self, scenario: str) -> tuple[float | None, float | None]:
        """(TTFT, TPOT) limits in seconds for ``scenario`` (None: the scenario default)."""
        if scenario == "server":
            return self.server_ttft_s, self.server_tpot_s
        if scenario == "interactive":
            return self.interactive_ttft_s, self.interactive_tpot_s
        return None, None


def _opt(value: str) -> float | None:
    return float(value) if value.strip() else None


@lru_cache(maxsize=1)
def load_workloads() -> dict[str, Workload]:
    """All benchmark workloads keyed by id (e.g. ``mlperf-llama3.1-405b``)."""
    text = resources.files("daulat.sizing").joinpath("data", "workloads.csv").read_text("utf-8")
    out: dict[str, Workload] = {}
    for row in csv.DictReader(text.splitlines()):
        i_tok = _opt(row["input_tokens"])
        out[row["id"]] = Workload(
            id=row["id"],
            model=row["model"],
            input_tokens=constant("mlperf_llama2_70b_input_tokens") if i_tok is None else i_tok,
            output_tokens=float(row["output_tokens"]),
            output_length_cv=_opt(row.get("output_length_cv", "")),
            server_ttft_s=_opt(row["server_ttft_s"]),
            server_tpot_s=_opt(row["server_tpot_s"]),
            interactive_ttft_s=_opt(row["interactive_ttft_s"]),
            interactive_tpot_s=_opt(row["interactive_tpot_s"]),
            source=row["source"],
            output_length_cv_source=row.get("output_length_cv_source", ""),
        )
    return out


def get_workload(name: str) -> Workload:
    """Look a workload up by id (case-insensitive); UserError lists the valid ids."""
    table = load_workloads()
    for wl in table.values():
        if wl.id.lower() == name.strip().lower():
            return wl
    raise UserError(f"workload: unknown value {name!r}; valid ids: {', '.join(table)}")
