"""Suite-wide: ``@pytest.mark.slow`` checks are left out unless ``-m`` selects them.

``make test`` runs ``-m "not slow"``; a plain ``pytest`` deselects them too (they are not
skipped: ``pytest -m slow`` runs them, see the README's Measured section).
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("-m"):
        return
    keep = [item for item in items if not item.get_closest_marker("slow")]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
