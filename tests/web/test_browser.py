"""The programme office in a real browser (Playwright driving Debian's chromium) against
the real ``daulat web`` on loopback: sign in, record a milestone and a disbursement and see
plan against actual move, write a scenario (its error shown at its line), run it and watch
the planner's progress, open its report, read the status in Bahasa Indonesia.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.conftest import PASSWORD, TINY_SCENARIO, Served

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `apt-get install -y chromium`"
                    " (scripts/ensure-services.sh does it for make test)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _sign_in(page: Page, served: Served, username: str) -> None:
    page.goto(f"{served.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _cell(page: Page, metric: str, year: int) -> str:
    return page.inner_text(f"#pva-IDN tr[data-metric={metric}] td[data-year='{year}'] .actual")


def test_record_run_report_and_see_plan_against_actual_move(browser: Browser, served: Served,
                                                            tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    _sign_in(page, served, "office")

    # The first page: the programme, its country projects, what is behind, in plain words.
    expect(page.locator("h1")).to_have_text("The programme")
    expect(page.locator("a.card.project[href='/countries/IDN']")).to_contain_text("Indonesia")
    expect(page.locator("#pva-programme li.behind", has_text="Grid connection at")).to_contain_text(
        "days late")
    expect(page.locator("#pva-programme li.behind").first).to_contain_text(
        "The programme is behind schedule on")
    page.screenshot(path=str(tmp_path / "programme.png"), full_page=True)

    # Record a milestone: MW energised, done today.
    page.click("a.card.project:has-text('Indonesia')")
    year = dt.date.today().year
    assert _cell(page, "mw_energised", year) == "0.00 MW"
    form = page.locator("#milestone-form")
    form.locator("select[name=kind]").select_option("mw_energised")
    form.locator("select[name=site]").select_option(index=1)
    form.locator("input[name=done]").fill(dt.date.today().isoformat())
    form.locator("input[name=quantity]").fill("1.5")
    form.locator("button").click()
    expect(page.locator(f"#pva-IDN tr[data-metric=mw_energised] td[data-year='{year}'] "
                        ".actual")).to_have_text("1.50 MW")
    expect(page.locator("#milestones")).to_contain_text("MW energised")

    # Record a disbursement for the plan's first year: capital disbursed moves.
    first_year = int(page.locator("#pva-IDN thead th").nth(2).inner_text())
    before = _cell(page, "disbursed_usd", first_year)
    form = page.locator("#ledger-form")
    form.locator("select[name=kind]").select_option("disbursement")
    form.locator("select[name=partner]").select_option("gov-idn")
    form.locator("input[name=year]").fill(str(first_year))
    form.locator("input[name=dated]").fill(dt.date.today().isoformat())
    form.locator("input[name=usd]").fill("2500000")
    form.locator("button").click()
    after = _cell(page, "disbursed_usd", first_year)
    assert after != before, (before, after)
    expect(page.locator("#ledger")).to_contain_text("2,500,000")

    # A scenario with a mistake: the validator's error is shown at its line.
    page.goto(f"{served.url}/plans/new")
    bad = TINY_SCENARIO.replace("H200-SXM", "H200-SXMM")
    page.fill("#scenario", bad)
    page.locator("#scenario").press("End")  # a keystroke: htmx validates as one types
    line = 1 + bad.splitlines().index("accelerators: [H200-SXMM]")
    expect(page.locator("#problems")).to_contain_text(f"line {line}")
    expect(page.locator(f"#line-{line}")).to_have_class("bad")

    # Fixed, run as a background job; the page shows the planner's progress, then done.
    page.fill("#scenario", TINY_SCENARIO)
    page.fill("input[name=name]", "tiny browser plan")
    page.click("#plan-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("tiny browser plan")
    seen = set()
    deadline = dt.datetime.now() + dt.timedelta(seconds=120)
    while dt.datetime.now() < deadline:
        state = page.locator("#state").inner_text()
        seen.add(state)
        if state in ("done", "failed"):
            break
        page.wait_for_timeout(300)
    assert state == "done", page.locator("#progress").inner_text()
    log = page.locator("#log").inner_text()
    assert "gathering inputs" in log and "solving" in log and "report" in log, log
    assert seen & {"queued", "running"}, seen  # watched while it ran, not only at the end

    # Its report, and the plan adopted as the baseline.
    page.click("#open-report")
    expect(page).to_have_title(re.compile(r".+"))
    assert "tiny-idn" in page.content()
    page.go_back()
    page.click("#adopt")
    expect(page.locator("p.muted").first).to_contain_text("baseline of IDN")

    # The status in Bahasa Indonesia.
    page.goto(f"{served.url}/countries/IDN?lang=id")
    expect(page.locator("#pva-IDN ul.status")).to_contain_text("terlambat")
    assert not errors, errors
    page.close()


def test_a_government_sees_its_own_country_only(browser: Browser, served: Served) -> None:
    page = browser.new_page()
    _sign_in(page, served, "gov-idn")
    expect(page).to_have_url(re.compile(r"/countries/IDN$"))
    assert "Malaysia" not in page.content()
    response = page.goto(f"{served.url}/countries/MYS")
    assert response is not None and response.status == 403
    page.close()
