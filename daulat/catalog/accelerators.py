"""Accelerator catalog: specs, system form, nameplate power and price, each sourced.

Data: ``data/accelerators.csv`` (one row per accelerator; ``source``, ``power_source`` and
``price_source`` columns cite every figure; DERIVED marks our arithmetic, ASSUMPTION a
value with no public source). Prices are all-in *system* prices per accelerator (server
or rack price divided by its accelerators), in USD, price year 2025.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from daulat.errors import UserError

__all__ = ["Accelerator", "PRECISIONS", "load_accelerators", "get_accelerator"]

#: Precisions known to the catalog, from widest to narrowest.
PRECISIONS: tuple[str, ...] = ("bf16", "fp8", "fp4")


@dataclass(frozen=True)
class Accelerator:
    """One accelerator model.

    Units: ``tdp_w`` W; ``hbm_gb`` GB (1e9 bytes); ``hbm_tbps`` TB/s; ``tflops`` dense
    TFLOPS per precision (keys ``bf16``/``fp8``/``fp4``, only those the hardware has);
    ``scaleup_domain`` accelerators in one NVLink/xGMI/optical domain; ``system_power_kw``
    nameplate kW of one system of ``system_gpus`` accelerators; prices USD per accelerator;
    ``compute_efficiency`` the measured share of peak FLOPs reached relative to the NVIDIA
    parts the roofline is calibrated on (1.0 unless a measurement is cited); ``scaleup_gbps``
    GB/s per accelerator and direction on the scale-up fabric.
    """

    id: str
    vendor: str
    origin: str
    tdp_w: float
    hbm_gb: float
    hbm_tbps: float
    tflops: dict[str, float]
    scaleup_domain: int
    system_form: str
    system_gpus: int
    system_power_kw: float
    price_usd: float
    price_low_usd: float
    price_high_usd: float
    first_year: int
    source: str
    power_source: str = ""
    price_source: str = ""
    aliases: tuple[str, ...] = field(default=())
    compute_efficiency: float = 1.0
    scaleup_gbps: float = 0.0

    @property
    def precisions(self) -> tuple[str, ...]:
        """Precisions this accelerator computes natively, widest first."""
        return tuple(p for p in PRECISIONS if p in self.tflops)

    @property
    def system_power_kw_per_accelerator(self) -> float:
        """Nameplate system kW per accelerator (server or rack kW ÷ its accelerators)."""
        return self.system_power_kw / self.system_gpus


def _float(value: str) -> float | None:
    value = value.strip()
    return float(value) if value else None


@lru_cache(maxsize=1)
def load_accelerators() -> dict[str, Accelerator]:
    """All accelerators, keyed by catalog id (e.g. ``H100-SXM``)."""
    text = resources.files("daulat.catalog").joinpath("data", "accelerators.csv").read_text("utf-8")
    out: dict[str, Accelerator] = {}
    for row in csv.DictReader(text.splitlines()):
        tflops = {p: v for p in PRECISIONS if (v := _float(row[f"{p}_tflops"])) is not None}
        out[row["id"]] = Accelerator(
            id=row["id"],
            vendor=row["vendor"],
            origin=row["origin"],
            tdp_w=float(row["tdp_w"]),
            hbm_gb=float(row["hbm_gb"]),
            hbm_tbps=float(row["hbm_tbps"]),
            tflops=tflops,
            scaleup_domain=int(row["scaleup_domain"]),
            system_form=row["system_form"],
            system_gpus=int(row["system_gpus"]),
            system_power_kw=float(row["system_power_kw"]),
            price_usd=float(row["price_usd"]),
            price_low_usd=float(row["price_low_usd"]),
            price_high_usd=float(row["price_high_usd"]),
            first_year=int(row["first_year"]),
            source=row["source"],
            power_source=row["power_source"],
            price_source=row["price_source"],
            aliases=tuple(a for a in row["aliases"].split(";") if a),
            compute_efficiency=float(row["compute_efficiency"]),
            scaleup_gbps=float(row["scaleup_gbps"]),
        )
    return out


def get_accelerator(name: str | Accelerator) -> Accelerator:
    """Look an accelerator up by id or alias, case-insensitively.

    Raises :class:`UserError` naming the valid ids when ``name`` is unknown.
    """
    if isinstance(name, Accelerator):
        return name
    table = load_accelerators()
    key = name.strip().lower()
    for acc in table.values():
        if key == acc.id.lower() or key in acc.aliases:
            return acc
    raise UserError(f"accelerator: unknown value {name!r}; valid ids: {', '.join(table)}")
