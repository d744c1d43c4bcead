"""The registry, the ledger, ownership and plan against actual, on a real store (no server)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DatabaseError

from daulat.errors import UserError
from daulat.store.db import make_engine
from daulat.store.db import migrate as migrate_store
from daulat.store.store import upsert_usage
from daulat.web import models as m
from daulat.web import registry as reg
from daulat.web.actuals import compare
from daulat.web.config import load_config
from daulat.web.db import VERSION_TABLE, current_revision, head_revision, migrate
from daulat.web.security import Principal, Role, create_user

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "plan_fixture"  # a plan of IDN, 2026–2030
OFFICE = Principal("ana", Role.PROVIDER)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'daulat.db'}")
    migrate_store(e)
    migrate(e)
    reg.add_partner(e, OFFICE, {"id": "provider", "name": "Provider", "kind": "provider"})
    reg.add_partner(e, OFFICE, {"id": "gov-idn", "name": "Government of Indonesia",
                                "kind": "government", "country": "IDN"})
    reg.add_project(e, OFFICE, "IDN", "Indonesia")
    reg.add_site(e, OFFICE, {"id": "batam-1", "country": "IDN", "name": "Batam"})
    yield e
    e.dispose()


def _entry(**kw: object) -> dict[str, object]:
    return {"kind": "disbursement", "partner": "provider", "country": "IDN", "site": "batam-1",
            "asset": "accelerators", "year": 2027, "dated": "2026-05-01", "usd": 1e6, **kw}


def test_the_ledger_is_append_only_and_a_correction_is_a_new_entry(engine: Engine) -> None:
    first = reg.add_ledger_entry(engine, OFFICE, _entry(usd=3e6))
    reg.correct_ledger_entry(engine, OFFICE, int(first["seq"]), -1e6, "invoice was $2M")
    rows = reg.ledger_rows(engine, "IDN")
    assert [r["usd"] for r in rows] == [3e6, -1e6] and rows[1]["corrects"] == first["seq"]
    assert sum(r["usd"] for r in rows) == 2e6
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE web_ledger SET usd = 0"))
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM web_trail"))
    # a negative amount is only a correction; a correction must name an entry of the country
    with pytest.raises(UserError, match="usd: -5.0 — an entry is a positive amount"):
        reg.add_ledger_entry(engine, OFFICE, _entry(usd=-5))
    with pytest.raises(UserError, match="corrects: entry 999 is not in the IDN ledger"):
        reg.add_ledger_entry(engine, OFFICE, _entry(usd=-5, corrects=999))


def test_every_change_is_in_the_trail_with_before_and_after(engine: Engine) -> None:
    ms = reg.add_milestone(engine, OFFICE, {"country": "IDN", "site": "batam-1",
                                            "kind": "mw_energised", "due": "2026-06-30"})
    reg.update_milestone(engine, OFFICE, int(ms["id"]), {"done": "2026-06-15", "quantity": "2"})
    trail = reg.trail_rows(engine, OFFICE)
    last = trail[0]
    assert (last["username"], last["action"], last["object"]) == (
        "ana", "milestone.update", f"milestone:{ms['id']}")
    assert '"done": null' in last["before"] and '"done": "2026-06-15"' in last["after"]
    assert '"quantity": 2.0' in last["after"]


def test_bad_rows_are_refused_with_the_field_and_what_is_valid(engine: Engine) -> None:
    with pytest.raises(UserError, match="done: .* is in the future"):
        reg.add_milestone(engine, OFFICE, {"country": "IDN", "kind": "land",
                                           "done": dt.date.today() + dt.timedelta(days=2)})
    with pytest.raises(UserError, match="quantity: a done mw_energised milestone needs"):
        reg.add_milestone(engine, OFFICE, {"country": "IDN", "kind": "mw_energised",
                                           "done": "2026-01-01"})
    with pytest.raises(UserError, match="kind: 'roof'"):
        reg.add_milestone(engine, OFFICE, {"country": "IDN", "kind": "roof", "due": "2027-01-01"})
    with pytest.raises(UserError, match="country: .*'IDM' is not an ISO 3166-1 alpha-3"):
        reg.add_site(engine, OFFICE, {"id": "x", "country": "IDM", "name": "X"})
    with pytest.raises(UserError, match="--role government needs --country"):
        create_user(engine, "budi", "long enough password", "government")


def test_csv_import_is_all_or_nothing_and_names_file_line_field(engine: Engine) -> None:
    csv = ("kind,partner,country,site,asset,year,dated,usd,corrects,note\n"
           "commitment,provider,IDN,batam-1,facility,2027,2026-03-01,5000000,,\n"
           "commitment,provider,IDN,batam-1,facility,2027,2026-03-01,lots,,\n")
    with pytest.raises(UserError, match=r"ledger\.csv:3: usd: 'lots'"):
        reg.import_csv(engine, OFFICE, "ledger", csv, "ledger.csv")
    assert reg.ledger_rows(engine, "IDN") == []
    good = csv.rsplit("commitment", 1)[0]
    assert reg.import_csv(engine, OFFICE, "ledger", good, "ledger.csv") == 1
    exported = reg.export_csv(engine, OFFICE, "ledger").splitlines()
    assert exported[0].startswith("seq,kind,partner") and ",5000000.0," in exported[1]


def test_ownership_follows_who_paid_for_which_assets_when(engine: Engine) -> None:
    reg.add_ledger_entry(engine, OFFICE, _entry(usd=8e6, year=2027))
    reg.add_ledger_entry(engine, OFFICE, _entry(partner="gov-idn", usd=2e6, year=2027))
    reg.add_ledger_entry(engine, OFFICE, _entry(partner="gov-idn", usd=10e6, year=2028,
                                                asset="facility"))
    own = reg.ownership(engine, "IDN").set_index(["funder", "year"])["share"]
    assert own[("provider", 2027)] == pytest.approx(0.8)
    assert own[("gov-idn", 2028)] == pytest.approx(12 / 20)


def test_plan_against_actual_says_what_is_behind_in_english_and_bahasa(
        engine: Engine, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    shutil.copytree(FIXTURE, plan)
    today = dt.date(2026, 7, 2)  # half of 2026: 0.877 MW × 183/365 ≈ 0.44 MW due
    cmp = compare(engine, "IDN", {"IDN": plan}, [], today)
    behind = [b["en"] for b in cmp.behind]
    assert any(s.startswith("Indonesia is behind schedule on MW energised: 0.00 MW against "
                            "0.44 MW due by 2026-07-02 (0%)") for s in behind), behind
    assert any("Indonesia tertinggal dari jadwal untuk MW yang dialiri listrik: 0,00 MW dari "
               "0,44 MW" in b["id"] for b in cmp.behind), cmp.behind
    reg.add_milestone(engine, OFFICE, {"country": "IDN", "site": "batam-1",
                                       "kind": "mw_energised", "done": "2026-06-01",
                                       "quantity": 0.5})
    cmp = compare(engine, "IDN", {"IDN": plan}, [], today)
    assert not any("MW energised" in b["en"] for b in cmp.behind)
    assert any("on schedule for MW energised: 0.50 MW" in b["en"] for b in cmp.on_track)
    row = cmp.table[(cmp.table["metric"] == "mw_energised") & (cmp.table["year"] == 2026)]
    assert float(row["planned"].iloc[0]) == pytest.approx(0.877)
    assert float(row["actual"].iloc[0]) == pytest.approx(0.5)


def test_only_what_was_due_shows_as_short(engine: Engine) -> None:
    """Red cells are what is late: not a later year's plan, which nobody could have built yet."""
    today = dt.date(2026, 7, 2)
    cmp = compare(engine, "IDN", {"IDN": FIXTURE}, [], today)
    cells = {c["year"]: c for r in cmp.rows("en") if r["metric"] == "mw_energised"
             for c in r["cells"]}
    later = [y for y in cells if y > today.year]
    assert later, cells  # the fixture's plan runs past 2026
    for y in later:
        assert not cells[y]["short"] and cells[y]["future"]
    assert cells[2026]["short"]  # 0 MW against 0.44 MW due by 2 July
    reg.add_milestone(engine, OFFICE, {"country": "IDN", "site": "batam-1",
                                       "kind": "mw_energised", "done": "2026-06-01",
                                       "quantity": 0.5})
    cmp = compare(engine, "IDN", {"IDN": FIXTURE}, [], today)
    cells = {c["year"]: c for r in cmp.rows("en") if r["metric"] == "mw_energised"
             for c in r["cells"]}
    # 0.50 MW is under the year's 0.877 MW plan but over the 0.44 MW due by today
    assert not cells[2026]["short"] and cells[2026]["actual"] == "0.50 MW"


def test_the_assistants_use_against_the_plans_allocation(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        upsert_usage(conn, [{"tenant": "t", "country": "IDN", "day": "2026-07-01",
                             "requests": 10, "prompt_tokens": 700, "completion_tokens": 300,
                             "rejected": 0},
                            {"tenant": "u", "country": "MYS", "day": "2026-07-01",
                             "requests": 99, "prompt_tokens": 99, "completion_tokens": 99,
                             "rejected": 0}])
    cmp = compare(engine, "IDN", {"IDN": FIXTURE}, [], dt.date(2026, 7, 2))
    assert [{k: r[k] for k in ("day", "requests", "tokens")} for r in cmp.usage] == [
        {"day": "2026-07-01", "requests": 10, "tokens": 1000}]
    routing = (FIXTURE / "routing.csv").read_text().splitlines()
    idn_2026 = sum(float(r.split(",")[-1]) for r in routing[1:]
                   if r.startswith("IDN,") and ",2026," in r)
    assert cmp.usage[0]["allocated_tokens"] == pytest.approx(idn_2026 * 86_400, 1e-6)
    # before the plan begins, use is set against the plan's first year
    with engine.begin() as conn:
        upsert_usage(conn, [{"tenant": "t", "country": "IDN", "day": "2025-05-31",
                             "requests": 1, "prompt_tokens": 1, "completion_tokens": 1,
                             "rejected": 0}])
    early = compare(engine, "IDN", {"IDN": FIXTURE}, [], dt.date(2025, 6, 1))
    assert early.allocation_year == 2026
    assert early.usage[0]["allocated_tokens"] == pytest.approx(idn_2026 * 86_400, 1e-6)


def test_a_config_error_names_its_line_value_and_what_is_valid(tmp_path: Path) -> None:
    cfg = tmp_path / "web.yaml"
    cfg.write_text("store: {}\nserver:\n  port: 0\n  hots: x\n", encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_config(cfg)
    assert f"{cfg}:3:9: server.port: 0 — Input should be greater than or equal to 1" \
        in str(err.value)
    assert f"{cfg}:4:3: server.hots: unknown field (did you mean 'host'?)" in str(err.value)


def test_the_office_migrates_with_its_own_version_table(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {VERSION_TABLE, "daulat_alembic_version", "web_ledger", "daulat_usage"} <= tables
    with engine.connect() as conn:
        assert conn.execute(select(m.projects.c.country)).scalars().all() == ["IDN"]


@pytest.mark.postgres
def test_postgresql_store_with_append_only_triggers() -> None:
    schema = "web_test_registry"
    e = make_engine("postgresql://postgres@127.0.0.1:5432/test", schema=schema)
    try:
        migrate_store(e)
        assert migrate(e) == head_revision()
        reg.add_partner(e, OFFICE, {"id": "provider", "name": "Provider", "kind": "provider"})
        reg.add_project(e, OFFICE, "IDN", "Indonesia")
        reg.add_ledger_entry(e, OFFICE, _entry(site=None))
        with pytest.raises(DatabaseError, match="append-only"), e.begin() as conn:
            conn.execute(text("DELETE FROM web_ledger"))
        with e.connect() as conn:
            version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        assert version == head_revision()
    finally:
        with e.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        e.dispose()


def test_projects_and_partners_round_trip_through_csv(engine: Engine) -> None:
    assert reg.export_csv(engine, OFFICE, "projects") == "country,name\nIDN,Indonesia\n"
    assert reg.import_csv(engine, OFFICE, "projects", "country,name\nMYS,Malaysia\n") == 1
    gov = Principal("budi", Role.GOVERNMENT, "IDN")
    with pytest.raises(PermissionError):
        reg.import_csv(engine, gov, "projects", "country,name\nTHA,Thailand\n")
    with pytest.raises(PermissionError):
        reg.import_csv(engine, gov, "partners", "id,name,kind,country\nx,X,provider,\n")
    # a government reads its own project and the programme-wide partners, not others'
    assert reg.export_csv(engine, gov, "projects") == "country,name\nIDN,Indonesia\n"
    assert "gov-idn" in reg.export_csv(engine, gov, "partners")
