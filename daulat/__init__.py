"""daulat — size, plan and serve national AI infrastructure partnerships."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
