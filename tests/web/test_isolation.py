"""Every route, as every role and as another country's government, against a real server:
where a role does not reach, the answer is 403 or 404 (a page the anonymous visitor asks
for sends them to sign in); a POST without the CSRF token is refused and changes nothing.

The routes come from ``daulat.web.app.ROUTES``, so a route added later is tried too.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, func, select

from daulat.web import models as m
from daulat.web.app import EDIT, PROVIDER, PUBLIC, READ, ROUTES, RouteSpec
from tests.web.conftest import Client, Served

#: Routes left out of the sweep, with the reason (each is tested on its own below).
_NOT_SWEPT = {("/logout", "POST"): "ends the session the sweep is using",
              ("/login", "POST"): "signing in is tested with the throttle"}
ROLES = ("office", "gov-idn", "auditor")  # provider, government (IDN), auditor
DENIED = {401, 403, 404}


def _concrete(spec: RouteSpec, ids: dict[str, int | str]) -> str:
    path = spec.path.replace("{table}", "milestones")
    for key in ("iso3", "mid", "seq", "pid"):
        path = path.replace("{" + key + "}", str(ids[key]))
    if spec.path == "/plans/compare":
        path += f"?id={ids['pid']}"
    return path


def _targets(spec: RouteSpec) -> tuple[str, ...]:
    """A route that names a country or an object is tried on IDN's and on MYS's."""
    if "{table}" in spec.path:  # names a table, not a country: rows are filtered instead
        return ("IDN",)
    return ("IDN", "MYS") if "{" in spec.path or spec.path == "/plans/compare" else ("IDN",)


def _allowed(username: str, spec: RouteSpec, target: str) -> bool:
    if spec.access == PUBLIC:
        return True
    if username == "office":
        return True
    if username == "auditor":
        return spec.access == READ
    # gov-idn: its own country, never the provider's programme-wide edits
    if spec.access == PROVIDER:
        return False
    return target == "IDN"


def _cases() -> list[tuple[str, RouteSpec, str]]:
    return [(user, spec, target) for user in ROLES for spec in ROUTES
            if (spec.path, spec.methods[0]) not in _NOT_SWEPT for target in _targets(spec)]


@pytest.fixture(scope="module")
def clients(served: Served) -> dict[str, Client]:
    return {u: Client(served.url, u) for u in ROLES}


def test_every_route_as_every_role(served: Served, clients: dict[str, Client]) -> None:
    wrong: list[str] = []
    for user, spec, target in _cases():
        path = _concrete(spec, served.ids[target])
        client = clients[user]
        r = client.get(path) if spec.methods[0] == "GET" else client.post(path, {})
        allowed = _allowed(user, spec, target)
        if allowed and r.status_code in DENIED:
            wrong.append(f"{user} {spec.methods[0]} {path}: {r.status_code}, expected to reach")
        if not allowed and r.status_code not in (403, 404):
            wrong.append(f"{user} {spec.methods[0]} {path}: {r.status_code}, expected 403/404")
        if user == "gov-idn" and r.status_code == 200 and spec.methods[0] == "GET" \
                and "report" not in path:
            # what a government reaches shows nothing of another country
            for leak in ("Malaysia", "mys-cyberjaya", "gov-mys"):
                if leak in r.text:
                    at = r.text.index(leak)
                    wrong.append(f"gov-idn GET {path} shows {leak!r}: "
                                 f"{r.text[max(0, at - 150):at + 50]!r}")
    assert not wrong, "\n".join(wrong)


def test_another_countrys_government_is_refused_everywhere(served: Served) -> None:
    """gov-mys reaches none of Indonesia's pages or objects."""
    client = Client(served.url, "gov-mys")
    for spec in ROUTES:
        if spec.access == PUBLIC or "{" not in spec.path or "{table}" in spec.path:
            continue  # a table's export holds only one's own rows: tested below
        path = _concrete(spec, served.ids["IDN"])
        r = client.get(path) if spec.methods[0] == "GET" else client.post(path, {})
        assert r.status_code in (403, 404), f"gov-mys {spec.methods[0]} {path}: {r.status_code}"


def test_anonymous_visitors_are_sent_to_sign_in(served: Served) -> None:
    anon = Client(served.url)
    for spec in ROUTES:
        if spec.access == PUBLIC:
            continue
        path = _concrete(spec, served.ids["IDN"])
        if spec.methods[0] == "GET":
            r = anon.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        else:  # a valid CSRF token of an anonymous session still does not make a user
            assert anon.post(path, {}).status_code == 401, path


def _trail_len(served: Served) -> int:
    engine = create_engine(f"sqlite:///{served.data_dir / 'daulat.db'}")
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(m.trail)).scalar_one()
    engine.dispose()
    return int(n)


def test_posts_without_the_csrf_token_are_refused(served: Served) -> None:
    office = Client(served.url, "office")
    before = _trail_len(served)
    form = {"kind": "land", "due": "2027-01-01", "id": "x-site", "name": "X", "country": "IDN",
            "partner": "provider", "year": "2027", "dated": "2026-01-01", "usd": "1"}
    for spec in ROUTES:
        if spec.methods[0] != "POST":
            continue
        path = _concrete(spec, served.ids["IDN"])
        r = office.post(path, form, csrf=False)
        assert r.status_code == 403 and "CSRF" in r.text, f"{path}: {r.status_code}"
        # a wrong token is no better than none
        r = office.http.post(path, data={**form, "csrf_token": "forged"})
        assert r.status_code == 403, path
        r = office.http.post(path, data=form, headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403, path
    assert _trail_len(served) == before, "a refused post changed something"


def test_a_government_cannot_import_another_countrys_rows(served: Served) -> None:
    gov = Client(served.url, "gov-idn")
    csv = "country,site,kind,due\nMYS,mys-cyberjaya,land,2027-01-01\n"
    r = gov.post("/import/milestones", files={"file": ("m.csv", csv.encode(), "text/csv")})
    assert r.status_code == 403
    exported = gov.get("/export/ledger.csv").text
    assert "MYS" not in exported and "IDN" in exported


def test_auditors_read_everything(served: Served) -> None:
    auditor = Client(served.url, "auditor")
    for iso3 in ("IDN", "MYS"):
        assert auditor.get(f"/countries/{iso3}").status_code == 200
    trail = auditor.get("/trail").text
    assert "milestone.create" in trail and "ledger.append" in trail
    # and the pages show them no form to change anything
    page = auditor.get("/countries/IDN").text
    assert not re.search(r'<form method="post" action="/(countries|milestones|ledger)', page)


def test_the_session_cookie_is_secure_http_only_same_site(served: Served) -> None:
    client = Client(served.url)
    r = client.post("/login", {"username": "office", "password": "correct horse battery",
                               "next": "/"})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    # signing out ends the session (and needs the token like every post)
    assert client.post("/logout", {}, csrf=False).status_code == 403
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                            client.get("/partners").text).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", {}).status_code == 303
    client.http.headers.pop("Cookie", None)
    assert client.get("/partners").status_code == 303


def test_login_is_throttled(served: Served) -> None:
    client = Client(served.url)
    codes = [client.post("/login", {"username": "gov-mys", "password": "wrong password!",
                                    "next": "/"}).status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # even the right password is refused while throttled ...
    assert client.post("/login", {"username": "gov-mys", "password": "correct horse battery",
                                  "next": "/"}).status_code == 429
    # ... and another user at the same address is not locked out
    assert client.post("/login", {"username": "auditor", "password": "correct horse battery",
                                  "next": "/"}).status_code == 303


assert EDIT and PROVIDER  # the access levels the sweep reasons about


def test_the_report_is_served_in_a_sandbox(served: Served) -> None:
    r = Client(served.url, "auditor").get(f"/plans/{served.ids['IDN']['pid']}/report")
    assert r.status_code == 200 and "<html" in r.text.lower()
    assert r.headers["content-security-policy"] == "sandbox allow-scripts"
