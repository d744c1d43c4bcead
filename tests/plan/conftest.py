"""Leave ``@pytest.mark.slow`` planner checks out of the default run (``-m slow`` runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("-m") or ""):
        return
    keep, drop = [], []
    for item in items:
        mine = _HERE in Path(str(item.fspath)).resolve().parents
        (drop if mine and item.get_closest_marker("slow") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
