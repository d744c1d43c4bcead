"""Fixtures: plan directories (hand-made and real) with finance and risk already run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from daulat.finance.risk import run_risk
from tests.finance.conftest import FIXTURE, solved_example


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    """A copy of tests/data/plan_fixture, without risk results."""
    out = tmp_path / "plan"
    shutil.copytree(FIXTURE, out)
    return out


@pytest.fixture
def risky_plan(plan_dir: Path) -> Path:
    """The fixture plan with `daulat risk --samples 2000 --seed 1` results in it."""
    run_risk(plan_dir, 2000, seed=1)
    return plan_dir


@pytest.fixture(scope="session")
def real_plan_with_risk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`daulat plan examples/indonesia.yaml` output with risk results, once per session."""
    out = tmp_path_factory.mktemp("real-report") / "plan"
    shutil.copytree(solved_example(), out)
    run_risk(out, 2000, seed=1)
    return out
