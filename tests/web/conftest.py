"""A seeded programme office served by the real ``daulat web`` command on loopback.

One session-wide store (SQLite in a temporary directory): the Indonesian demo programme
(its baseline the plan of tests/data/plan_fixture, its report written; the planner itself
runs in the browser test's plan job), plus a second country project (MYS) with its own
site, milestone, ledger entry and plan, so every route can be tried against one's own
country and another's. Users: one per role, and a government user of each country.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from daulat.report import write_report
from daulat.web import models as m
from daulat.web import registry as reg
from daulat.web.cli import open_office
from daulat.web.config import load_config
from daulat.web.security import Principal, Role, create_user
from daulat.web.seed import seed_demo

PASSWORD = "correct horse battery"
USERS = {"office": ("provider", None), "gov-idn": ("government", "IDN"),
         "gov-mys": ("government", "MYS"), "auditor": ("auditor", None)}
ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "plan_fixture"
#: A scenario the planner solves in a few seconds (one country, two years, one accelerator).
TINY_SCENARIO = """\
name: tiny-idn
horizon: {start: 2027, end: 2028}
countries: [{iso3: IDN}]
workloads:
  - {id: assistant, model: assistant-medium, latency_ms: 150, demand: {profile: chat}}
sites: {catalog: all, candidates_per_country: 1}
accelerators: [H200-SXM]
funders:
  - {id: provider, kind: provider, budget_usd: 3.0e9}
  - {id: gov-idn, kind: government, country: IDN, budget_usd: 1.0e9}
objective: {kind: min_cost, unmet_penalty_usd_per_million_tokens: 20}
"""


@dataclass
class Served:
    """The running office: its URL, config file and the ids of the objects seeded."""

    url: str
    config: Path
    data_dir: Path
    ids: dict[str, dict[str, int | str]]  # {"IDN": {"mid":…, "seq":…, "pid":…}, "MYS": …}
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(config: Path) -> dict[str, dict[str, int | str]]:
    office = open_office(load_config(config))
    # The demo programme on a plan already written (the planner runs in the browser test)
    plan = config.parent / "fixture-plan"
    shutil.copytree(FIXTURE, plan)
    write_report(plan, "en")
    seed_demo(office, users=False, plan_dir=plan)
    who = Principal("test-seed", Role.PROVIDER)
    e = office.engine
    reg.add_partner(e, who, {"id": "gov-mys", "name": "Government of Malaysia",
                             "kind": "government", "country": "MYS"})
    reg.add_project(e, who, "MYS", "Malaysia country project")
    reg.add_site(e, who, {"id": "mys-cyberjaya", "country": "MYS", "name": "Cyberjaya",
                          "planned_mw": 20})
    ms = reg.add_milestone(e, who, {"country": "MYS", "site": "mys-cyberjaya", "kind": "land",
                                    "due": "2026-06-30"})
    led = reg.add_ledger_entry(e, who, {"kind": "commitment", "partner": "gov-mys",
                                        "country": "MYS", "site": "mys-cyberjaya",
                                        "asset": "facility", "year": 2027,
                                        "dated": "2026-05-01", "usd": 5e6})
    with e.connect() as conn:
        idn_plan = conn.execute(select(m.plans)).first()
        idn_ms = conn.execute(select(m.milestones.c.id).where(
            m.milestones.c.country == "IDN")).first()
        idn_seq = conn.execute(select(m.ledger.c.seq).where(m.ledger.c.country == "IDN")).first()
    assert idn_plan is not None and idn_plan.state == "done", idn_plan
    assert idn_ms is not None and idn_seq is not None
    # A finished MYS plan (its files are a copy: only who may open it is tested).
    mys_dir = office.plans_dir / "mys"
    shutil.copytree(idn_plan.out_dir, mys_dir)
    with e.begin() as conn:
        mys_pid = reg.inserted_id(conn.execute(insert(m.plans).values(
            name="Malaysia", countries="MYS", scenario_yaml="name: mys", state="done",
            progress="done", backend="local", out_dir=str(mys_dir),
            summary_json=idn_plan.summary_json, created_by="test-seed", created_at=time.time())))
    for name, (role, country) in USERS.items():
        create_user(e, name, PASSWORD, role, country)
    office.engine.dispose()
    return {"IDN": {"iso3": "IDN", "mid": idn_ms.id, "seq": idn_seq.seq, "pid": idn_plan.id},
            "MYS": {"iso3": "MYS", "mid": int(ms["id"]), "seq": int(led["seq"]), "pid": mys_pid}}


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("office")
    port = _free_port()
    config = base / "web.yaml"
    # The documented defaults, spelled out: secure cookies stay on (browsers accept them on
    # http://127.0.0.1), two local workers for plan jobs.
    config.write_text(f"store: {{data_dir: data}}\nserver: {{port: {port}}}\n"
                      "login: {max_failures: 5, window_s: 60, secure_cookies: true}\n"
                      "jobs: {backend: local, workers: 1}\n", encoding="utf-8")
    ids = _seed(config)
    log = base / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as fh:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("daulat")), "web", "--config",
                                 str(config)], stdout=fh, stderr=subprocess.STDOUT, env=env,
                                cwd=base, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("daulat web did not start:\n" + log.read_text())
        time.sleep(0.2)
    try:
        yield Served(url, config, base / "data", ids, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Client:
    """An httpx client signed in as one user. The session cookie is Secure, so (as a
    browser on http://127.0.0.1 does) it is sent by hand over plain-HTTP loopback."""

    def __init__(self, url: str, username: str | None = None) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        self.csrf = ""
        page = self.http.get("/login")
        self._keep(page)
        self.csrf = csrf_of(page.text)
        if username is not None:
            r = self.post("/login", {"username": username, "password": PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text
            self.csrf = csrf_of(self.get("/partners").text)

    def _keep(self, r: httpx.Response) -> None:
        cookie = r.headers.get("set-cookie")
        if cookie and cookie.startswith("daulat_web="):
            self.http.headers["Cookie"] = cookie.split(";", 1)[0]

    def get(self, path: str) -> httpx.Response:
        r = self.http.get(path)
        self._keep(r)
        return r

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True,
             files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        r = self.http.post(path, data=body, files=files)
        self._keep(r)
        return r


@pytest.fixture(scope="session")
def today() -> dt.date:
    return dt.date.today()
