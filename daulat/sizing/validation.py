"""Predict published figures the model was *not* fitted on, and score the errors.

The figures live in ``tests/sizing/data/validation.csv`` (MLPerf Inference results on
other accelerators, rounds and models; power per accelerator of public AI data-centre
projects), each with its round, submitter, system and source; each MLPerf row names its
benchmark ``workload`` (``daulat/sizing/data/workloads.csv``: request shape and latency
limits, sourced). Used by
``benchmarks/sizing_validation.py`` and the test suite.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path

from daulat.catalog.constants import constant
from daulat.sizing.facility import facility, it_kw_per_accelerator
from daulat.sizing.inference import inference_throughput
from daulat.sizing.workloads import get_workload

__all__ = ["ValidationRow", "load_validation", "predict", "validate", "summary", "VALIDATION_CSV"]

VALIDATION_CSV = (
    Path(__file__).resolve().parents[2] / "tests" / "sizing" / "data" / "validation.csv"
)


@dataclass(frozen=True)
class ValidationRow:
    """One published figure with our prediction; ``error`` = prediction / published − 1."""

    id: str
    kind: str
    subject: str
    accelerator: str
    precision: str
    scenario: str
    published: float
    unit: str
    round: str
    submitter: str
    system: str
    source: str
    note: str
    predicted: float
    binding: str

    @property
    def error(self) -> float:
        return self.predicted / self.published - 1.0


def load_validation(path: Path | None = None) -> list[dict[str, str]]:
    """Raw rows of the validation CSV."""
    with (path or VALIDATION_CSV).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def predict(row: dict[str, str]) -> tuple[float, str]:
    """(our prediction, binding limit or basis) for one validation row."""
    kind = row["kind"]
    if kind == "inference":
        # request shape and latency limits from the benchmark's workload row (sourced);
        # a value in the validation row (e.g. the submission's measured output tokens per
        # sample) takes precedence
        wl = get_workload(row["workload"]) if row.get("workload") else None
        ttft_wl, tpot_wl = wl.targets(row["scenario"]) if wl else (None, None)
        i_tok = row["input_tokens"] or (wl.input_tokens if wl else None)
        o_tok = row["output_tokens"] or (wl.output_tokens if wl else None)
        if i_tok is None or o_tok is None:
            raise ValueError(f"validation.csv: {row['id']} has no request shape")
        r = inference_throughput(
            row["subject"],
            row["accelerator"],
            row["precision"] or None,
            row["scenario"],
            input_tokens=int(float(i_tok)),
            output_tokens=int(float(o_tok)),
            ttft_s=float(row["ttft_s"]) if row.get("ttft_s") else ttft_wl,
            tpot_s=float(row["tpot_s"]) if row.get("tpot_s") else tpot_wl,
        )
        return r.tokens_per_s_per_accelerator, f"{r.binding}; n={r.replica_size}, B={r.batch}"
    if kind == "it_kw_per_accelerator":
        return it_kw_per_accelerator(row["accelerator"]), "nameplate + network/storage share"
    count = int(row["count"])
    f = facility(row["accelerator"], count)
    if kind == "facility_kw_per_accelerator":
        return f.facility_mw * 1000.0 / count, f"nameplate IT x PUE {f.pue}"
    if kind == "facility_kw_per_accelerator_drawn":
        drawn_mw = f.annual_energy_mwh / constant("hours_per_year")
        return drawn_mw * 1000.0 / count, f"IT x load factor {f.load_factor} x PUE {f.pue}"
    raise ValueError(f"validation.csv: unknown kind {kind!r}")


def validate(path: Path | None = None) -> list[ValidationRow]:
    """Every validation row with its prediction."""
    out = []
    for row in load_validation(path):
        pred, basis = predict(row)
        out.append(
            ValidationRow(
                id=row["id"],
                kind=row["kind"],
                subject=row["subject"],
                accelerator=row["accelerator"],
                precision=row["precision"],
                scenario=row["scenario"],
                published=float(row["value"]),
                unit=row["unit"],
                round=row["round"],
                submitter=row["submitter"],
                system=row["system"],
                source=row["source"],
                note=row["note"],
                predicted=pred,
                binding=basis,
            )
        )
    return out


def summary(rows: list[ValidationRow]) -> dict[str, float | str]:
    """Median absolute error, worst case and the share within ±35 %."""
    errs = [abs(r.error) for r in rows]
    worst = max(rows, key=lambda r: abs(r.error))
    return {
        "n": len(rows),
        "median_abs_error": statistics.median(errs),
        "worst_abs_error": abs(worst.error),
        "worst_id": worst.id,
        "within_35pct": sum(e <= 0.35 for e in errs) / len(errs),
    }
