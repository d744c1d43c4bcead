"""The programme office as an ASGI app (Starlette, Jinja2 templates, htmx for live parts).

Every route is declared once in :data:`ROUTES` with its access rule; one wrapper
(:func:`_guard`) checks the session, the role and the CSRF token before any handler runs,
and handlers check the country of what they touch (a government user reaches its own
country only: other countries' objects answer 404, other countries' pages 403).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from daulat.errors import ScenarioError, UserError
from daulat.scenario.load import parse_scenario
from daulat.store.db import default_data_dir
from daulat.web import models as m
from daulat.web import registry as reg
from daulat.web.actuals import (
    Actuals,
    Comparison,
    compare,
    country_label,
    load_actuals,
    milestone_label,
)
from daulat.web.config import WebConfig
from daulat.web.jobs import JobRunner, JobSpec
from daulat.web.security import Principal, Role, Throttled, authenticate, csrf_ok, new_csrf_token

__all__ = ["ROUTES", "Office", "create_app"]

_HERE = Path(__file__).parent
Handler = Callable[[Request], Response]
Guarded = Callable[[Request], Awaitable[Response]]
#: Ledger entries listed on a country page, newest first (all of them: ledger.csv).
LEDGER_SHOWN = 50
#: Done milestones listed on a country page, newest first (all of them: milestones.csv).
MILESTONES_DONE_SHOWN = 30
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


@dataclass
class Office:
    """What every request needs: the config, the engine, the job runner, the templates."""

    cfg: WebConfig
    engine: Engine
    url: str
    data_dir: Path
    runner: JobRunner
    templates: Jinja2Templates = field(init=False)
    today: Callable[[], dt.date] = dt.date.today

    def __post_init__(self) -> None:
        self.templates = Jinja2Templates(directory=str(_HERE / "templates"))
        self.templates.env.filters.update(num=_num, utc=_utc)
        self.templates.env.globals.update(country_label=country_label,
                                          milestone_label=milestone_label,
                                          milestone_kinds=[k.value for k in reg.MilestoneKind])

    @property
    def plans_dir(self) -> Path:
        return self.data_dir / "web-plans"


def _num(value: Any, digits: int = 0, style: str = "") -> str:
    """A number for a page: grouped, ``digits`` decimals, ``%`` or ``$``; "–" when missing."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return "–"
    if style == "%":
        return f"{value:.{digits}%}"
    text = f"{abs(value):,.{digits}f}"
    sign = "-" if value < 0 else ""
    return f"{sign}${text}" if style == "$" else f"{sign}{text}"


def _utc(ts: float) -> str:
    """Unix seconds as ``YYYY-MM-DD HH:MM:SS`` UTC."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# ---- access ----------------------------------------------------------------------------

PUBLIC, READ, EDIT, PROVIDER = "public", "read", "edit", "provider"


@dataclass(frozen=True)
class RouteSpec:
    path: str
    endpoint: Handler
    methods: tuple[str, ...]
    access: str  # public | read (any signed-in user) | edit (not auditors) | provider


def _principal(request: Request) -> Principal | None:
    office: Office = request.app.state.office
    name = request.session.get("user")
    if not name:
        return None
    with office.engine.connect() as conn:
        row = conn.execute(select(m.users).where(m.users.c.username == name)).first()
    if row is None or row.disabled:
        request.session.clear()
        return None
    return Principal(row.username, Role(row.role), row.country)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _guard(spec_access: str, handler: Handler) -> Guarded:
    def checked(request: Request) -> Response:
        if spec_access != PUBLIC:
            who = _principal(request)
            if who is None:
                if request.method == "GET" and not _is_htmx(request):
                    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
                return PlainTextResponse("sign in first", status_code=401)
            if spec_access == EDIT and who.role is Role.AUDITOR:
                return PlainTextResponse("auditors read; they do not edit", status_code=403)
            if spec_access == PROVIDER and who.role is not Role.PROVIDER:
                return PlainTextResponse("only the provider's programme office may do this",
                                         status_code=403)
            request.state.who = who
        try:
            return handler(request)
        except PermissionError:
            return PlainTextResponse("not your country", status_code=403)
        except LookupError:
            return PlainTextResponse("not found", status_code=404)

    async def guarded(request: Request) -> Response:
        if request.method == "POST":
            # the body is read here, on the event loop; the rest runs in a worker thread
            request.state.form = await request.form()
            given = request.headers.get("X-CSRF-Token")
            if given is None:
                given = str(request.state.form.get("csrf_token") or "")
            if not csrf_ok(request.session.get("csrf"), given):
                return PlainTextResponse("CSRF token missing or wrong: reload the page",
                                         status_code=403)
        # the session's user, the role and the handler query the store (blocking I/O):
        # a worker thread, never the event loop
        return await run_in_threadpool(checked, request)
    return guarded


def _who(request: Request) -> Principal:
    who: Principal = request.state.who
    return who


def _country_param(request: Request, *, edit: bool = False) -> str:
    iso3 = str(request.path_params["iso3"]).upper()
    who = _who(request)
    if not who.reads(iso3) or (edit and not who.edits(iso3)):
        raise PermissionError(iso3)
    office: Office = request.app.state.office
    with office.engine.connect() as conn:
        if conn.execute(select(m.projects).where(m.projects.c.country == iso3)).first() is None:
            raise LookupError(iso3)
    return iso3


def _lang(request: Request) -> str:
    office: Office = request.app.state.office
    lang = request.query_params.get("lang") or request.session.get("lang") or office.cfg.lang
    lang = lang if lang in ("en", "id") else "en"
    request.session["lang"] = lang
    return lang


def _render(request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
    office: Office = request.app.state.office
    who = getattr(request.state, "who", None)
    if "csrf" not in request.session:
        request.session["csrf"] = new_csrf_token()
    ctx.update(request=request, who=who, csrf=request.session["csrf"], lang=_lang(request),
               today=office.today())
    resp = office.templates.TemplateResponse(request, template, ctx, status_code=status)
    resp.headers["Content-Security-Policy"] = _CSP
    return resp


def _posted(request: Request) -> FormData:
    form: FormData = request.state.form
    return form


def _form(request: Request) -> dict[str, Any]:
    form = _posted(request)
    return {k: v for k, v in form.items() if k != "csrf_token" and not isinstance(v, UploadFile)}


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# ---- sign in ---------------------------------------------------------------------------


def login_page(request: Request) -> Response:
    return _render(request, "login.html", next=request.query_params.get("next", "/"))


def login(request: Request) -> Response:
    office: Office = request.app.state.office
    form = _posted(request)
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    nxt = str(form.get("next") or "/")
    nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
    ip = request.client.host if request.client else "?"
    try:
        who = authenticate(office.engine, username, password, ip,
                           max_failures=office.cfg.login.max_failures,
                           window_s=office.cfg.login.window_s,
                           max_failures_per_address=office.cfg.login.max_failures_per_address)
    except Throttled as exc:
        return _render(request, "login.html", status=429, error=str(exc), next=nxt)
    if who is None:
        return _render(request, "login.html", status=401, error="wrong username or password",
                       next=nxt)
    lang = request.session.get("lang")
    request.session.clear()  # a new session on sign-in (no fixation)
    request.session.update(user=who.username, csrf=new_csrf_token(), lang=lang or "en",
                           sid=secrets.token_hex(8))
    return _back(nxt)


def logout(request: Request) -> Response:
    request.session.clear()
    return _back("/login")


# ---- programme and countries -----------------------------------------------------------


def _baselines(office: Office) -> dict[str, dict[str, Any]]:
    """Each country's baseline: the plan covering it adopted last (``*``: every country)."""
    with office.engine.connect() as conn:
        rows = conn.execute(
            select(m.adoptions, m.plans.c.name, m.plans.c.out_dir, m.plans.c.countries)
            .join(m.plans, m.plans.c.id == m.adoptions.c.plan_id)
            .order_by(m.adoptions.c.seq)).all()
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        for country in r.countries.split(","):
            out[country] = dict(r._mapping)
    return out


def _comparison(office: Office, countries: list[str], scope: str,
                actuals: Actuals | None = None,
                found: dict[str, dict[str, Any]] | None = None) -> Comparison:
    found = _baselines(office) if found is None else found
    chosen = {c: found.get(c) or found.get("*") for c in countries}
    dirs = {c: Path(b["out_dir"]) if b and b["out_dir"] else None for c, b in chosen.items()}
    unique = {b["plan_id"]: b for b in chosen.values() if b is not None}
    return compare(office.engine, scope, dirs, list(unique.values()), office.today(),
                   actuals=actuals)


def home(request: Request) -> Response:
    office: Office = request.app.state.office
    who = _who(request)
    if who.role is Role.GOVERNMENT:
        return _back(f"/countries/{who.country}")
    projects = reg.projects(office.engine, who)
    countries = [p["country"] for p in projects]
    actuals = load_actuals(office.engine, countries, office.today())
    found = _baselines(office)
    cmp = _comparison(office, countries, "programme", actuals, found)
    per_country = {c: _comparison(office, [c], c, actuals, found) for c in countries}
    return _render(request, "home.html", projects=projects, cmp=cmp, per_country=per_country,
                   partners=reg.partners(office.engine, _who(request)))


def country(request: Request) -> Response:
    office: Office = request.app.state.office
    iso3 = _country_param(request)
    return _country_page(request, office, iso3)


def _country_page(request: Request, office: Office, iso3: str, status: int = 200,
                  error: str | None = None) -> Response:
    cmp = _comparison(office, [iso3], iso3)
    own = reg.ownership(office.engine, iso3)
    last = own[own["year"] == own["year"].max()] if not own.empty else own
    return _render(request, "country.html", status=status, error=error, iso3=iso3,
                   sites=reg.site_rows(office.engine, iso3),
                   milestones=_milestones_shown(reg.milestone_rows(office.engine, iso3)),
                   ledger=reg.ledger_rows(office.engine, iso3, newest=LEDGER_SHOWN),
                   ledger_total=reg.ledger_count(office.engine, iso3),
                   ownership=last.to_dict("records"), cmp=cmp,
                   partners=reg.partners(office.engine, _who(request)))


def _country_form_handler(action: Callable[[Office, Principal, str, dict[str, Any]], Any]
                          ) -> Handler:
    def handler(request: Request) -> Response:
        office: Office = request.app.state.office
        iso3 = _country_param(request, edit=True)
        data = _form(request)
        try:
            action(office, _who(request), iso3, data)
        except UserError as exc:
            return _country_page(request, office, iso3, status=400, error=str(exc))
        return _back(f"/countries/{iso3}")
    return handler


add_site = _country_form_handler(
    lambda o, who, iso3, d: reg.add_site(o.engine, who, {**d, "country": iso3}))
add_milestone = _country_form_handler(
    lambda o, who, iso3, d: reg.add_milestone(o.engine, who, {**d, "country": iso3}))
add_ledger = _country_form_handler(
    lambda o, who, iso3, d: reg.add_ledger_entry(o.engine, who, {**d, "country": iso3}))


def _milestones_shown(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every milestone not done (by due date), then the newest done ones."""
    open_ = [r for r in rows if r["done"] is None]
    done = sorted((r for r in rows if r["done"] is not None), key=lambda r: r["done"],
                  reverse=True)
    return {"rows": open_ + done[:MILESTONES_DONE_SHOWN], "total": len(rows),
            "hidden": max(0, len(done) - MILESTONES_DONE_SHOWN)}


def _object_country(office: Office, table: Any, key: Any, value: int, who: Principal) -> str:
    with office.engine.connect() as conn:
        row = conn.execute(select(table.c.country).where(key == value)).first()
    if row is None or not who.reads(row.country):
        raise LookupError(value)
    if not who.edits(row.country):
        raise PermissionError(row.country)
    return str(row.country)


def _int_param(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except ValueError:
        raise LookupError(name) from None


def update_milestone(request: Request) -> Response:
    office: Office = request.app.state.office
    who, mid = _who(request), _int_param(request, "mid")
    iso3 = _object_country(office, m.milestones, m.milestones.c.id, mid, who)
    try:
        reg.update_milestone(office.engine, who, mid, _form(request))
    except UserError as exc:
        return _country_page(request, office, iso3, status=400, error=str(exc))
    return _back(f"/countries/{iso3}")


def correct_ledger(request: Request) -> Response:
    office: Office = request.app.state.office
    who, seq = _who(request), _int_param(request, "seq")
    iso3 = _object_country(office, m.ledger, m.ledger.c.seq, seq, who)
    data = _form(request)
    try:
        delta = float(data.get("usd") or "x")
    except ValueError:
        return _country_page(request, office, iso3, status=400,
                             error=f"usd: {data.get('usd')!r} — give the change in USD, "
                                   "e.g. -250000 to take back $250,000")
    try:
        reg.correct_ledger_entry(office.engine, who, seq, delta, str(data.get("note") or ""))
    except UserError as exc:
        return _country_page(request, office, iso3, status=400, error=str(exc))
    return _back(f"/countries/{iso3}")


def partners_page(request: Request) -> Response:
    office: Office = request.app.state.office
    return _render(request, "partners.html", partners=reg.partners(office.engine, _who(request)),
                   projects=reg.projects(office.engine, _who(request)))


def add_partner(request: Request) -> Response:
    office: Office = request.app.state.office
    try:
        reg.add_partner(office.engine, _who(request), _form(request))
    except UserError as exc:
        return _render(request, "partners.html", status=400, error=str(exc),
                       partners=reg.partners(office.engine, _who(request)),
                       projects=reg.projects(office.engine, _who(request)))
    return _back("/partners")


def add_project(request: Request) -> Response:
    office: Office = request.app.state.office
    data = _form(request)
    try:
        reg.add_project(office.engine, _who(request), str(data.get("country") or ""),
                        str(data.get("name") or "").strip() or "country project")
    except UserError as exc:
        return _render(request, "partners.html", status=400, error=str(exc),
                       partners=reg.partners(office.engine, _who(request)),
                       projects=reg.projects(office.engine, _who(request)))
    return _back("/partners")


def trail_page(request: Request) -> Response:
    office: Office = request.app.state.office
    return _render(request, "trail.html", rows=reg.trail_rows(office.engine, _who(request)))


# ---- CSV -------------------------------------------------------------------------------


def export_table(request: Request) -> Response:
    office: Office = request.app.state.office
    name = str(request.path_params["table"])
    text = reg.export_csv(office.engine, _who(request), name)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def import_table(request: Request) -> Response:
    office: Office = request.app.state.office
    name = str(request.path_params["table"])
    if name not in reg.CSV_TABLES:
        raise LookupError(name)
    form = _posted(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return PlainTextResponse("file: choose a CSV file to import", status_code=400)
    text = upload.file.read().decode("utf-8-sig", errors="replace")
    try:
        n = reg.import_csv(office.engine, _who(request), name, text, upload.filename or name)
    except UserError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    return PlainTextResponse(f"imported {n} row(s) into {name}")


# ---- plans -----------------------------------------------------------------------------


def _plan(office: Office, who: Principal, plan_id: int) -> dict[str, Any]:
    with office.engine.connect() as conn:
        row = conn.execute(select(m.plans).where(m.plans.c.id == plan_id)).first()
    if row is None:
        raise LookupError(plan_id)
    plan = dict(row._mapping)
    countries = plan["countries"].split(",")
    if "*" in countries and who.role is Role.GOVERNMENT or not who.reads_all(countries):
        raise LookupError(plan_id)
    plan["summary"] = json.loads(plan["summary_json"]) if plan["summary_json"] else None
    return plan


def _plans(office: Office, who: Principal) -> list[dict[str, Any]]:
    with office.engine.connect() as conn:
        rows = conn.execute(select(m.plans.c.id, m.plans.c.name, m.plans.c.countries,
                                   m.plans.c.state, m.plans.c.created_by,
                                   m.plans.c.created_at).order_by(m.plans.c.id.desc())).all()
    out = []
    for r in rows:
        countries = r.countries.split(",")
        if "*" in countries and who.role is Role.GOVERNMENT or not who.reads_all(countries):
            continue
        out.append(dict(r._mapping))
    return out


def plans_page(request: Request) -> Response:
    office: Office = request.app.state.office
    adopted = {b["plan_id"]: c for c, b in _baselines(office).items()}
    return _render(request, "plans.html", plans=_plans(office, _who(request)), adopted=adopted)


def new_plan(request: Request) -> Response:
    office: Office = request.app.state.office
    text = ""
    source = request.query_params.get("from")
    if source and source.isdigit():
        text = _plan(office, _who(request), int(source))["scenario_yaml"]
    return _render(request, "plan_new.html", text=text, problems=[], name="")


def _problems(text: str, name: str) -> tuple[Any, list[dict[str, Any]]]:
    """The scenario, or the validator's problems, each with its line number."""
    try:
        return parse_scenario(text, name), []
    except ScenarioError as exc:
        out = []
        for p in exc.problems:
            parts = p.split(":", 3)
            line = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
            out.append({"line": line, "text": p.removeprefix(f"{name}:")})
        return None, out


def validate_plan(request: Request) -> Response:
    data = _form(request)
    text = str(data.get("scenario") or "")
    _, problems = _problems(text, "scenario.yaml")
    return _render(request, "_problems.html", problems=problems, text=text, checked=True)


def create_plan(request: Request) -> Response:
    office: Office = request.app.state.office
    who = _who(request)
    form = _posted(request)
    upload = form.get("file")
    text = str(form.get("scenario") or "")
    if isinstance(upload, UploadFile) and upload.filename:
        text = upload.file.read().decode("utf-8-sig", errors="replace")
    scenario, problems = _problems(text, "scenario.yaml")
    if scenario is None:
        return _render(request, "plan_new.html", status=400, text=text, problems=problems,
                       name=form.get("name") or "")
    countries = ["*"] if scenario.countries == "all" else sorted(
        {c.iso3.upper() for c in scenario.countries})
    if not who.reads_all(countries) or "*" in countries and who.role is Role.GOVERNMENT:
        return _render(request, "plan_new.html", status=403, text=text, name="",
                       problems=[{"line": None, "text": "countries: a government plans its own "
                                  "country only"}])
    name = str(form.get("name") or "").strip() or scenario.name
    with office.engine.begin() as conn:
        plan_id = reg.inserted_id(conn.execute(insert(m.plans).values(
            name=name[:200], countries=",".join(countries), scenario_yaml=text, state="queued",
            progress="", backend=office.runner.backend, created_by=who.username,
            created_at=time.time())))
        reg.record_trail(conn, who, "plan.create", f"plan:{plan_id}",
                         countries[0] if len(countries) == 1 and countries[0] != "*" else None,
                         None, {"name": name, "countries": countries})
    submit_plan(office, plan_id, text, _lang(request))
    return _back(f"/plans/{plan_id}")


def submit_plan(office: Office, plan_id: int, text: str, lang: str = "en") -> JobSpec:
    """Write the scenario beside its plan directory and hand the job to the runner."""
    out = office.plans_dir / str(plan_id)
    out.mkdir(parents=True, exist_ok=True)
    path = out.with_name(f"{plan_id}.scenario.yaml")
    path.write_text(text, encoding="utf-8")
    with office.engine.begin() as conn:
        conn.execute(m.plans.update().where(m.plans.c.id == plan_id).values(out_dir=str(out)))
    spec = JobSpec(plan_id, office.url, office.cfg.store.db_schema, str(path), str(out), lang)
    office.runner.submit(spec)
    return spec


def plan_page(request: Request) -> Response:
    office: Office = request.app.state.office
    plan = _plan(office, _who(request), _int_param(request, "pid"))
    found = _baselines(office)
    baseline_of = [c for c in plan["countries"].split(",") if c in found
                   and found[c]["plan_id"] == plan["id"]]
    return _render(request, "plan.html", plan=plan, baseline_of=baseline_of)


def plan_progress(request: Request) -> Response:
    office: Office = request.app.state.office
    plan = _plan(office, _who(request), _int_param(request, "pid"))
    resp = _render(request, "_progress.html", plan=plan)
    if plan["state"] in ("done", "failed") and _is_htmx(request):
        resp.headers["HX-Refresh"] = "true"  # the finished page shows the summary
    return resp


def plan_report(request: Request) -> Response:
    office: Office = request.app.state.office
    plan = _plan(office, _who(request), _int_param(request, "pid"))
    path = Path(plan["out_dir"] or "") / "report.html"
    if plan["state"] != "done" or not path.exists():
        raise LookupError(plan["id"])
    # The report is a self-contained page with inline scripts (its charts): served in a
    # sandbox (an opaque origin), so nothing in it can act with the office's session.
    return FileResponse(path, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "sandbox allow-scripts"})


def adopt_plan(request: Request) -> Response:
    office: Office = request.app.state.office
    who = _who(request)
    plan = _plan(office, who, _int_param(request, "pid"))
    if plan["state"] != "done":
        return PlainTextResponse("only a finished plan can be adopted", status_code=400)
    found = _baselines(office)
    countries = plan["countries"].split(",")
    before = {c: found[c]["plan_id"] for c in countries if c in found}
    with office.engine.begin() as conn:
        conn.execute(insert(m.adoptions).values(plan_id=plan["id"], adopted_by=who.username,
                                                adopted_at=time.time()))
        reg.record_trail(conn, who, "baseline.adopt", f"plan:{plan['id']}",
                         countries[0] if len(countries) == 1 and countries[0] != "*" else None,
                         {"baseline_of": before}, {"baseline_of": {c: plan["id"]
                                                                   for c in countries}})
    return _back(f"/plans/{plan['id']}")


_COMPARE = (
    ("status", "status"), ("objective", "objective"),
    # money is capital and operating cost; the planner's price on unmet demand is not money
    # anyone spends, so it is not shown (people served says what is missed)
    ("capital and operating cost (NPV)", "totals.npv_cost_usd"), ("capex", "totals.capex_usd"),
    ("opex", "totals.opex_usd"), ("facility MW", "totals.facility_mw"),
    ("accelerators", "totals.accelerators"), ("share of demand served", "served_share"),
    ("people served", "people_served"),
    ("with residency relaxed: capital and operating cost (NPV)",
     "sovereignty.relaxed_npv_cost_usd"),
    ("with residency relaxed: people served", "sovereignty.relaxed_people_served"),
)


def _dig(summary: dict[str, Any] | None, path: str) -> Any:
    node: Any = summary or {}
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def compare_plans(request: Request) -> Response:
    office: Office = request.app.state.office
    who = _who(request)
    ids = [int(x) for x in request.query_params.getlist("id") if x.isdigit()]
    plans = [_plan(office, who, i) for i in ids[:4]]
    rows = [{"label": label, "values": [_dig(p["summary"], key) for p in plans]}
            for label, key in _COMPARE]
    return _render(request, "compare.html", plans=plans, rows=rows,
                   all_plans=_plans(office, who))


def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def favicon(request: Request) -> Response:
    # browsers ask for /favicon.ico on any page, the report's included
    return FileResponse(_HERE / "static" / "favicon.svg", media_type="image/svg+xml")


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("/healthz", healthz, ("GET",), PUBLIC),
    RouteSpec("/favicon.ico", favicon, ("GET",), PUBLIC),
    RouteSpec("/login", login_page, ("GET",), PUBLIC),
    RouteSpec("/login", login, ("POST",), PUBLIC),
    RouteSpec("/logout", logout, ("POST",), PUBLIC),
    RouteSpec("/", home, ("GET",), READ),
    RouteSpec("/countries/{iso3}", country, ("GET",), READ),
    RouteSpec("/countries/{iso3}/sites", add_site, ("POST",), EDIT),
    RouteSpec("/countries/{iso3}/milestones", add_milestone, ("POST",), EDIT),
    RouteSpec("/countries/{iso3}/ledger", add_ledger, ("POST",), EDIT),
    RouteSpec("/milestones/{mid}", update_milestone, ("POST",), EDIT),
    RouteSpec("/ledger/{seq}/correct", correct_ledger, ("POST",), EDIT),
    RouteSpec("/partners", partners_page, ("GET",), READ),
    RouteSpec("/partners", add_partner, ("POST",), PROVIDER),
    RouteSpec("/projects", add_project, ("POST",), PROVIDER),
    RouteSpec("/trail", trail_page, ("GET",), READ),
    RouteSpec("/export/{table}.csv", export_table, ("GET",), READ),
    RouteSpec("/import/{table}", import_table, ("POST",), EDIT),
    RouteSpec("/plans", plans_page, ("GET",), READ),
    RouteSpec("/plans", create_plan, ("POST",), EDIT),
    RouteSpec("/plans/new", new_plan, ("GET",), EDIT),
    RouteSpec("/plans/validate", validate_plan, ("POST",), EDIT),
    RouteSpec("/plans/compare", compare_plans, ("GET",), READ),
    RouteSpec("/plans/{pid}", plan_page, ("GET",), READ),
    RouteSpec("/plans/{pid}/progress", plan_progress, ("GET",), READ),
    RouteSpec("/plans/{pid}/report", plan_report, ("GET",), READ),
    RouteSpec("/plans/{pid}/adopt", adopt_plan, ("POST",), PROVIDER),
)


def _secret_key(cfg: WebConfig, data_dir: Path) -> str:
    path = cfg.login.secret_key_file or data_dir / "web-secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def create_app(office: Office) -> Starlette:
    """The ASGI app for ``office`` (its engine already migrated)."""
    routes: list[Route | Mount] = [
        Route(s.path, _guard(s.access, s.endpoint), methods=list(s.methods)) for s in ROUTES]
    routes.append(Mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static"))
    middleware = [Middleware(
        SessionMiddleware, secret_key=_secret_key(office.cfg, office.data_dir),
        session_cookie="daulat_web", max_age=int(office.cfg.login.session_hours * 3600),
        same_site="strict", https_only=office.cfg.login.secure_cookies)]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        office.runner.shutdown()

    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: http_error}, lifespan=lifespan)
    app.state.office = office
    return app


def data_dir_of(cfg: WebConfig) -> Path:
    """Where plan outputs and the session key live: the store's data directory."""
    return cfg.store.data_dir or default_data_dir()
