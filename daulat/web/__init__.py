"""daulat.web: the programme office (``daulat web``; see docs/web.md).

A Starlette app with server-rendered Jinja2 templates and htmx, on the gateway's store with
tables and migrations of its own: the registry (partners, country projects, sites,
milestones, the append-only funding ledger), plans run as background jobs, and plan
against actual, for providers, partner governments (their own country) and auditors.
"""

from __future__ import annotations

from daulat.web.app import ROUTES, Office, create_app
from daulat.web.config import WebConfig, load_config

__all__ = ["ROUTES", "Office", "WebConfig", "create_app", "load_config"]
