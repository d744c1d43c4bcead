"""Shared output helpers: rich for people, JSON for machines."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from rich.console import Console

__all__ = ["console", "err_console", "emit", "to_jsonable"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def to_jsonable(obj: Any) -> Any:
    """Convert dataclasses, pydantic models, numpy scalars and NaN into plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if hasattr(obj, "model_dump"):
        return to_jsonable(obj.model_dump(mode="json"))
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def emit(obj: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print ``obj`` as JSON on stdout when ``as_json``, else with ``render`` (rich)."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")
        return
    render(obj)
