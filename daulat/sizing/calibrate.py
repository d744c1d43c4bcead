"""Fit the roofline's efficiencies on ``calibration.csv`` — and nothing else.

``python -m daulat.sizing.calibrate`` reads the published calibration points (MLPerf
Inference llama2-70b per-accelerator throughput on H100 and B200, the Llama 3.1 405B
training run), fits ``eta_flop_fp8`` (also used for bf16), ``eta_flop_fp4``, ``t_fixed_s``
and ``mfu_default``. The HBM efficiencies are sourced, not fitted: every calibration point
is compute-bound, so the fit cannot identify them. It rewrites the fitted rows of
``daulat/catalog/data/constants.csv`` (``--check`` only prints them). The fit minimises
the squared log error of throughput with a bounded coarse-to-fine grid, so it is
deterministic and needs no solver.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from daulat.catalog.accelerators import get_accelerator
from daulat.catalog.constants import constant
from daulat.sizing.inference import Efficiency, inference_throughput

__all__ = ["CalibrationPoint", "load_calibration", "fit", "CALIBRATION_CSV", "main"]

#: The calibration points: a verbatim copy of ../shared/data/reference/calibration.csv
#: shipped with the package (see daulat/sizing/data/SOURCE.md).
CALIBRATION_CSV = Path(__file__).resolve().parent / "data" / "calibration.csv"
_CATALOG_MODEL = {"llama-2-70b": "llama-2-70b", "llama-3.1-405b": "llama-3.1-405b"}


@dataclass(frozen=True)
class CalibrationPoint:
    """One published figure used for fitting."""

    kind: str
    subject: str
    accelerator: str
    precision: str
    scenario: str
    figure: str
    value: float
    source: str
    note: str = ""


def load_calibration(path: Path | None = None) -> list[CalibrationPoint]:
    """The rows of ``calibration.csv`` (default: the copy shipped with the package)."""
    p = path or CALIBRATION_CSV
    with p.open(encoding="utf-8") as fh:
        return [
            CalibrationPoint(
                r["kind"],
                r["subject"],
                r["accelerator"],
                r["precision"],
                r["scenario"],
                r["figure"],
                float(r["value"]),
                r["source"],
                r.get("note", ""),
            )
            for r in csv.DictReader(fh)
        ]


def _predict(point: CalibrationPoint, eff: Efficiency) -> float:
    return inference_throughput(
        point.subject,
        point.accelerator,
        point.precision,
        point.scenario,
        input_tokens=int(constant("mlperf_llama2_70b_input_tokens")),
        output_tokens=int(constant("mlperf_llama2_70b_output_tokens")),
        eta=eff,
    ).tokens_per_s_per_accelerator


def _loss(points: list[CalibrationPoint], eff: Efficiency) -> float:
    total = 0.0
    for pt in points:
        pred = _predict(pt, eff)
        total += (math.log(max(pred, 1e-9)) - math.log(pt.value)) ** 2
    return total


def _efficiency(f8: float, f4: float, t: float) -> Efficiency:
    return Efficiency(
        mem=constant("eta_mem_weights"),
        mem_kv=constant("eta_mem_kv"),
        flop={"bf16": f8, "fp8": f8, "fp4": f4},
        t_fixed_s=t,
    )


def fit(points: list[CalibrationPoint] | None = None) -> dict[str, float]:
    """Fitted constants: eta_flop_{bf16,fp8,fp4}, t_fixed_s, mfu_default.

    Bounded grid search (η in (0, 1], t_fixed in [0, 30 ms]) on the squared log error,
    then one finer pass around the best point; deterministic.
    """
    pts = points or load_calibration()
    inf = [p for p in pts if p.kind == "inference" and p.figure == "tokens_per_s_per_accelerator"]
    best: tuple[float, float, float, float] | None = None
    for f8, f4, t in itertools.product(
        np.linspace(0.3, 1.0, 15), np.linspace(0.3, 1.0, 15), np.linspace(0.0, 0.03, 13)
    ):
        loss = _loss(inf, _efficiency(float(f8), float(f4), float(t)))
        if best is None or loss < best[0]:
            best = (loss, float(f8), float(f4), float(t))
    assert best is not None
    _, f80, f40, t0 = best
    for f8, f4, t in itertools.product(
        np.linspace(f80 - 0.025, f80 + 0.025, 6),
        np.linspace(f40 - 0.025, f40 + 0.025, 6),
        np.linspace(max(t0 - 0.00125, 0.0), t0 + 0.00125, 6),
    ):
        if not (0 < f8 <= 1 and 0 < f4 <= 1):
            continue
        loss = _loss(inf, _efficiency(float(f8), float(f4), float(t)))
        if loss < best[0]:
            best = (loss, float(f8), float(f4), float(t))
    _, f8, f4, t = best
    out = {"eta_flop_bf16": f8, "eta_flop_fp8": f8, "eta_flop_fp4": f4, "t_fixed_s": t}
    train = [p for p in pts if p.kind == "training" and p.figure == "accelerator_hours"]
    if train:
        out["mfu_default"] = _fit_mfu(train[0])
    return {k: round(v, 4) for k, v in out.items()}


def _fit_mfu(point: CalibrationPoint) -> float:
    """MFU implied by a published training run: 6·N·D / (hours · peak)."""
    from daulat.catalog.models import get_model

    # Llama 3.1 405B: ~15.6T tokens (calibration.csv note); the figure is GPU-hours.
    tokens = _tokens_from_note(point)
    model = get_model(_CATALOG_MODEL.get(point.subject, point.subject))
    acc = get_accelerator(point.accelerator)
    flops = 6.0 * model.active_params_b * 1e9 * tokens
    return flops / (point.value * 3600.0 * acc.tflops[point.precision] * 1e12)


def _tokens_from_note(point: CalibrationPoint) -> float:
    """Training tokens from the row's note, which reads "~15.6T training tokens; ..."."""
    head = point.note.split("T training tokens")[0].lstrip("~")
    try:
        return float(head) * 1e12
    except ValueError:
        msg = f"calibration.csv: no training-token count in the note of {point.subject}"
        raise ValueError(msg) from None


def write_constants(values: dict[str, float], path: Path | None = None) -> None:
    """Rewrite the fitted rows of constants.csv in place (other rows untouched)."""
    p = path or Path(__file__).resolve().parents[1] / "catalog" / "data" / "constants.csv"
    with p.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
        fields = list(rows[0].keys())
    for r in rows:
        if r["name"] in values:
            r["value"] = repr(values[r["name"]])
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """Fit and (unless ``--check``) write the constants; print the values and residuals."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="print the fit, do not write")
    ap.add_argument(
        "--calibration", type=Path, default=None, help="calibration CSV (default: packaged copy)"
    )
    args = ap.parse_args(argv)
    points = load_calibration(args.calibration)
    values = fit(points)
    for k, v in values.items():
        print(f"{k} = {v}")
    eff = _efficiency(values["eta_flop_fp8"], values["eta_flop_fp4"], values["t_fixed_s"])
    for pt in points:
        if pt.kind == "inference" and pt.figure == "tokens_per_s_per_accelerator":
            pred = _predict(pt, eff)
            print(
                f"{pt.accelerator:9} {pt.precision} {pt.scenario:11} published {pt.value:8.0f}"
                f"  fitted {pred:8.0f}  error {100 * (pred / pt.value - 1):+6.1f} %"
            )
    if not args.check:
        write_constants(values)
        print("constants.csv updated")


if __name__ == "__main__":
    main()
