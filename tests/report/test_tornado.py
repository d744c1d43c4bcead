"""Tornado charts with tens of demand figures: the largest swings drawn, the rest counted."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from daulat.report.charts import _TORNADO_ROWS, _tornado, _tornado_note
from daulat.report.text import Formatter, load_strings


def _data() -> Any:
    rows = [{"metric": "cost_usd", "funder": "", "input": "accelerator_price",
             "label": "accelerator price", "swing": 5e9, "base": 1e11, "value_low": 9.7e10,
             "value_high": 1.02e11}]
    rows += [{"metric": "cost_usd", "funder": "", "input": f"demand:assistant/p{i}",
              "label": f"prompts per user-day {i}", "swing": 1e8 * (i + 1), "base": 1e11,
              "value_low": 1e11 - 1e8 * i, "value_high": 1e11 + 1e8} for i in range(14)]
    rows += [{"metric": "cost_usd", "funder": "", "input": f"demand:fleet/f{i}",
              "label": f"fleet {i}", "swing": 0.0, "base": 1e11, "value_low": 1e11,
              "value_high": 1e11} for i in range(20)]
    rows += [{"metric": "cost_usd", "funder": "", "input": "delay_years", "label": "delay",
              "swing": 0.0, "base": 1e11, "value_low": 1e11, "value_high": 1e11}]
    return SimpleNamespace(tornado=pd.DataFrame(rows), returns=pd.DataFrame(),
                           tables=SimpleNamespace(path=Path("/nonexistent")))


def test_tornado_draws_the_largest_swings_and_labels_demand_figures() -> None:
    s = load_strings("en")
    fig = _tornado(_data(), "cost_usd", "", s, Formatter("en_US", "USD"))
    assert fig is not None
    labels = list(fig.data[0].y)
    assert len(labels) == _TORNADO_ROWS
    assert "Accelerator price" in labels and "Demand: prompts per user-day 13" in labels
    assert "Demand: prompts per user-day 0" not in labels  # among the smallest swings


def test_tornado_note_counts_what_it_leaves_out() -> None:
    note = _tornado_note(_data(), "cost_usd", "", load_strings("en"))
    assert note.startswith("5 inputs with a smaller swing are not drawn.")
    assert "Construction delay (years), 20 demand figures" in note
    assert "fleet 3" not in note
