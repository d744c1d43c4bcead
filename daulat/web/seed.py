"""The Indonesian demo programme: what ``daulat web`` shows a newcomer with no config.

Partners (the provider, the Government of Indonesia, a development bank), the IDN country
project and its sites (the plan's sites), milestones, commitments and disbursements, a
month of the assistant's metered use, and a plan of ``examples/indonesia.yaml`` (from the
source checkout the package runs from) adopted as the baseline. Every figure here is
DEMO data, made up to show the office working; none is a real commitment.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import func, insert, select

from daulat.errors import UserError
from daulat.store.store import upsert_usage
from daulat.web import models as m
from daulat.web import registry as reg
from daulat.web.app import Office
from daulat.web.jobs import JobSpec, execute
from daulat.web.security import Principal, Role, create_user

__all__ = ["DEMO_SCENARIO", "DEMO_USERS", "is_empty", "seed_demo"]

#: The demo's scenario: the repository's Indonesian example (an editable install's checkout).
DEMO_SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "indonesia.yaml"
#: username → (role, country)
DEMO_USERS = {"office": ("provider", None), "gov-idn": ("government", "IDN"),
              "auditor": ("auditor", None)}
_SEEDER = Principal("demo-seed", Role.PROVIDER)
#: The gateway's demo tenant (daulat serve with no config), whose use is seeded.
DEMO_TENANT = "demo-idn"


def is_empty(office: Office) -> bool:
    with office.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(m.projects)).scalar_one() == 0


def seed_demo(office: Office, *, today: dt.date | None = None, users: bool = True,
              usage_days: int = 30, scenario_text: str | None = None,
              plan_dir: Path | None = None) -> dict[str, str]:
    """Seed the demo programme with a plan of ``scenario_text`` (default:
    examples/indonesia.yaml) solved in this process, or the plan already in ``plan_dir``;
    returns the demo users' passwords (username → password), made up now, shown once."""
    today = today or office.today()
    e, who = office.engine, _SEEDER
    for pid, name, kind, country in (
            ("provider", "Provider", "provider", None),
            ("gov-idn", "Government of Indonesia", "government", "IDN"),
            ("devbank", "Development bank (demo partner)", "development_bank", None)):
        reg.add_partner(e, who, {"id": pid, "name": name, "kind": kind, "country": country})
    reg.add_project(e, who, "IDN", "Indonesia national AI partnership (demo)")

    if plan_dir is not None:
        scenario_file = plan_dir / "scenario.yaml"
        text = scenario_file.read_text(encoding="utf-8") if scenario_file.exists() else ""
    elif scenario_text is not None:
        text = scenario_text
    elif DEMO_SCENARIO.exists():
        text = DEMO_SCENARIO.read_text(encoding="utf-8")
    else:
        raise UserError(f"{DEMO_SCENARIO}: the demo plans examples/indonesia.yaml of a "
                        "source checkout (make install); without one, start with a config "
                        "(demo: false) and run a plan from Plans → New plan")
    with e.begin() as conn:
        plan_id = reg.inserted_id(conn.execute(insert(m.plans).values(
            name=f"Indonesia ({plan_dir.name if plan_dir else 'examples/indonesia.yaml'})",
            countries="IDN", scenario_yaml=text,
            state="queued", progress="", backend="local", created_by=who.username,
            created_at=time.time())))
    out = office.plans_dir / str(plan_id)
    if plan_dir is not None:  # an existing plan directory, adopted as it is
        shutil.copytree(plan_dir, out)
        summary = (out / "summary.json").read_text(encoding="utf-8")
        with e.begin() as conn:
            conn.execute(m.plans.update().where(m.plans.c.id == plan_id).values(
                out_dir=str(out), state="done", summary_json=summary, finished_at=time.time(),
                progress=f"imported from {plan_dir}"))
    else:
        out.mkdir(parents=True, exist_ok=True)
        path = out.with_name(f"{plan_id}.scenario.yaml")
        path.write_text(text, encoding="utf-8")
        with e.begin() as conn:
            conn.execute(m.plans.update().where(m.plans.c.id == plan_id).values(
                out_dir=str(out)))
        if execute(JobSpec(plan_id, office.url, office.cfg.store.db_schema, str(path),
                           str(out))) != "done":
            with e.connect() as conn:
                error = conn.execute(select(m.plans.c.error).where(
                    m.plans.c.id == plan_id)).scalar()
            raise UserError(f"the demo plan failed: {error}")
    with e.begin() as conn:
        conn.execute(insert(m.adoptions).values(plan_id=plan_id, adopted_by=who.username,
                                                adopted_at=time.time()))
        reg.record_trail(conn, who, "baseline.adopt", f"plan:{plan_id}", "IDN", None,
                         {"plan_id": plan_id})

    plan_sites = pd.read_csv(out / "sites.csv") if (out / "sites.csv").exists() else None
    site_ids: list[str] = []
    if plan_sites is not None:
        for r in plan_sites[plan_sites["country"] == "IDN"].to_dict("records"):
            reg.add_site(e, who, {"id": r["site"], "country": "IDN", "name": r["name"],
                                  "planned_mw": float(r["built_mw"]), "plan_site": r["site"]})
            site_ids.append(str(r["site"]))
    first = site_ids[0] if site_ids else None
    second = site_ids[1] if len(site_ids) > 1 else first
    year = today.year

    def day(months_ago: int, d: int = 15) -> str:
        y, mo = divmod(today.month - 1 - months_ago, 12)
        return dt.date(today.year + y, mo + 1, d).isoformat()

    for kind, site, due, done, qty in (
            ("land", first, day(9), day(10), None),
            ("land", second, day(7), day(6), None),
            ("grid_connection", first, day(4), day(3), None),
            ("grid_connection", second, day(2), None, None),  # overdue: shows "behind"
            ("construction", first, day(-3), None, None),
            ("mw_energised", first, day(-7), None, None),
            ("accelerators_delivered", first, day(-7), None, None),
            ("assistant_launched", None, day(-9), None, None)):
        reg.add_milestone(e, who, {"country": "IDN", "site": site, "kind": kind, "due": due,
                                   "done": done, "quantity": qty,
                                   "note": "DEMO data"})
    for kind, partner, site, asset, yr, dated, usd in (
            ("commitment", "provider", first, "accelerators", year + 1, day(5), 13.0e6),
            ("commitment", "gov-idn", first, "facility", year + 1, day(5), 3.0e6),
            ("commitment", "devbank", second, "facility", year + 2, day(2), 2.0e6),
            ("disbursement", "provider", first, "accelerators", year + 1, day(1), 4.0e6),
            ("disbursement", "gov-idn", first, "facility", year + 1, day(1), 1.0e6)):
        reg.add_ledger_entry(e, who, {"kind": kind, "partner": partner, "country": "IDN",
                                      "site": site, "asset": asset, "year": yr, "dated": dated,
                                      "usd": usd, "note": "DEMO data"})
    rows = []
    for i in range(usage_days):
        d = today - dt.timedelta(days=usage_days - 1 - i)
        requests = 20_000 + 1_500 * i  # DEMO: a launch month's growth
        rows.append({"tenant": DEMO_TENANT, "country": "IDN", "day": d.isoformat(),
                     "requests": requests, "prompt_tokens": requests * 1000,
                     "completion_tokens": requests * 400, "rejected": 0})
    with e.begin() as conn:
        upsert_usage(conn, rows)
    passwords: dict[str, str] = {}
    if users:
        for name, (role, country) in DEMO_USERS.items():
            passwords[name] = secrets.token_urlsafe(12)
            create_user(e, name, passwords[name], role, country)
    return passwords
