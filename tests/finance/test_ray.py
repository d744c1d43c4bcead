"""The Ray engine, against a local Ray instance this test starts (the ``daulat[ray]`` extra).

Same seed, same answer as the local engine: the Monte Carlo chunks and the re-solved
plans run as Ray tasks and come back in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from daulat.finance import load_plan
from daulat.finance.risk import monte_carlo
from daulat.pipeline import resolve_sweep

ray = pytest.importorskip("ray", reason="the daulat[ray] extra is not installed")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


def test_monte_carlo_on_ray_equals_local(local_ray: None, plan_dir: Path) -> None:
    tables = load_plan(plan_dir)
    local = monte_carlo(tables, 4000, seed=9).quantiles
    on_ray = monte_carlo(tables, 4000, seed=9, engine="ray", workers=2).quantiles
    pd.testing.assert_frame_equal(local, on_ray)


def test_resolve_sweep_on_ray_equals_local(local_ray: None, real_plan: Path,
                                           local_sweep: pd.DataFrame) -> None:
    sweep = resolve_sweep(load_plan(real_plan), 2, seed=3, engine="ray", workers=2)
    assert list(sweep["status"]) == ["optimal", "optimal"]
    assert sweep["cost_usd"].to_numpy() == pytest.approx(local_sweep["cost_usd"].to_numpy(),
                                                         rel=1e-6)
