"""deploy/ and docs/operations.md: the files validate with their own tools, every `daulat`
command in them exists, and the documented backup-and-restore procedure works on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from daulat.cli import app
from daulat.errors import StoreError
from daulat.gateway.audit import AuditEntry, Recorder
from daulat.gateway.config import load_config
from daulat.store import Store, Tenant
from tests.docs_commands import blocks, check_call, daulat_calls, shell_lines

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
OPS = ROOT / "docs" / "operations.md"
VENV_BIN = Path(sys.executable).parent
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
INSTALL = "apt-get install -y nginx caddy (scripts/ensure-services.sh does it)"


def _execshell_lines() -> list[tuple[str, str]]:
    """(where, command line) of every command line in docs/operations.md and deploy/."""
    found = [(f"docs/operations.md block {i}", line)
             for i, (_, lang, body) in enumerate(blocks(OPS.read_text(encoding="utf-8")))
             if lang == "sh" for line in shell_lines(body)]
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in unit.read_text(encoding="utf-8").splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=", "ExecReload=")):
                found.append((unit.name, line.split("=", 1)[1]))
    found += [("deploy/backup.sh", line)
              for line in shell_lines((DEPLOY / "backup.sh").read_text(encoding="utf-8"))]
    return found


def test_every_daulat_command_in_the_guide_and_deploy_files_exists() -> None:
    calls = [(where, args) for where, line in _execshell_lines() for args in daulat_calls(line)]
    assert len(calls) >= 8, "the guide shows the store, keys, audit and serve commands"
    problems = [f"{where}: {p}" for where, args in calls for p in check_call(args)]
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_wrong_command() -> None:
    assert list(daulat_calls("sudo -u postgres createdb --owner=daulat daulat")) == []
    assert list(daulat_calls("set -a; X=1 /opt/daulat/venv/bin/daulat store migrate && ls")
                ) == [["store", "migrate"]]
    assert check_call(["audit", "verify", "--json"]) == []
    assert check_call(["audit", "anchr"])[0].startswith("`daulat audit anchr` is not")
    assert check_call(["keys", "create", "--tenant", "x", "--contry", "IDN"]) == [
        "`daulat keys create` has no option --contry"]


def test_files_the_guide_names_exist() -> None:
    text = OPS.read_text(encoding="utf-8")
    named = set(re.findall(r"deploy/[\w./@-]+\w", text))
    assert named, "the guide names its deploy/ files"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, f"docs/operations.md names files that do not exist: {missing}"
    for path in DEPLOY.rglob("*"):  # and every deploy/ file is explained in the guide
        if path.is_file():
            rel = path.relative_to(ROOT).as_posix()
            assert rel in text or path.name in text, f"{rel} is not described in the guide"


def test_the_example_config_is_valid_and_holds_no_secret() -> None:
    cfg = load_config(DEPLOY / "gateway.yaml")
    assert cfg.redis_url and cfg.server.host == "127.0.0.1"
    assert all(u.api_key is None for u in cfg.upstreams)  # keys come from api_key_env
    assert cfg.store.url is None  # the store URL comes from the environment (the unit)
    env = (DEPLOY / "gateway.env.example").read_text(encoding="utf-8")
    url = re.search(r"^DAULAT_STORE_URL=(\S+)$", env, re.M)
    assert url and "sslmode=verify-full" in url.group(1) and ":change-me@" not in url.group(1)
    for u in cfg.upstreams:
        if u.api_key_env:
            assert re.search(rf"^{u.api_key_env}=", env, re.M), u.api_key_env
    # the proxy's body limit equals the gateway's
    assert cfg.limits.max_body_bytes == 1_048_576
    assert "client_max_body_size 1m;" in (DEPLOY / "nginx" / "daulat.conf").read_text()
    assert "max_size 1MB" in (DEPLOY / "caddy" / "Caddyfile").read_text()


def _units_for_here(tmp_path: Path) -> list[Path]:
    """The units with /opt/daulat pointing at this checkout (systemd checks executables)."""
    out = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = (unit.read_text(encoding="utf-8")
                .replace("/opt/daulat/venv/bin/", f"{VENV_BIN}/")
                .replace("/opt/daulat/deploy/", f"{DEPLOY}/"))
        name = unit.name.replace("@.service", "@8081.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
        out.append(tmp_path / name)
    return out


def test_systemd_units_verify(tmp_path: Path) -> None:
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze is missing (Debian: apt-get install -y systemd)"
    units = _units_for_here(tmp_path)
    res = subprocess.run([exe, "verify", "--man=no", *map(str, units)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    # verify only warns (exit 0) about unknown keys: any message is a finding
    messages = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.strip()]
    assert res.returncode == 0 and not messages, "\n".join(messages)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=assistant.example.go.id", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


def test_nginx_config_is_valid(tmp_path: Path) -> None:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                    else None)
    assert exe, f"nginx is missing: {INSTALL}"
    cert, key = _self_signed(tmp_path)
    site = ((DEPLOY / "nginx" / "daulat.conf").read_text(encoding="utf-8")
            .replace("/etc/daulat/tls/fullchain.pem", str(cert))
            .replace("/etc/daulat/tls/privkey.pem", str(key)))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n", encoding="utf-8")
    res = subprocess.run([exe, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                          "-e", "stderr"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "test is successful" in res.stderr, res.stderr
    assert "[warn]" not in res.stderr, res.stderr


def test_caddyfile_is_valid(tmp_path: Path) -> None:
    exe = shutil.which("caddy")
    assert exe, f"caddy is missing: {INSTALL}"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path)}
    res = subprocess.run([exe, "validate", "--config", str(DEPLOY / "caddy" / "Caddyfile"),
                          "--adapter", "caddyfile"], capture_output=True, text=True,
                         timeout=60, env=env)
    assert res.returncode == 0 and "Valid configuration" in res.stdout + res.stderr, res.stderr


@pytest.fixture
def scratch_schema() -> Iterator[str]:
    schema = f"opstest_{uuid.uuid4().hex[:12]}"
    yield schema
    eng = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


def _run_block(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    marked = {n: body for n, lang, body in blocks(OPS.read_text(encoding="utf-8")) if n}
    assert name in marked, f"docs/operations.md has no block marked <!-- test: {name} -->"
    script = (marked[name].replace("/opt/daulat/venv/bin/", f"{VENV_BIN}/")
              .replace("/opt/daulat/deploy/", f"{DEPLOY}/"))
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                          timeout=180)


def test_the_documented_backup_and_restore_bring_back_a_verifiable_chain(
        tmp_path: Path, scratch_schema: str) -> None:
    store = Store(PG_URL, schema=scratch_schema)
    store.migrate()
    store.put_tenant(Tenant("kominfo", "IDN"))
    _, secret = store.create_key("kominfo")
    rec = Recorder(store.engine)
    for i in range(25):
        rec.record_sync(AuditEntry(request_id=f"req-{i}", record={"status": "ok", "i": i},
                                   tenant="kominfo", country="IDN", prompt_tokens=3,
                                   completion_tokens=4))
    store.dispose()
    env = {**os.environ, "DAULAT_STORE_URL": PG_URL, "DAULAT_STORE_SCHEMA": scratch_schema,
           "BACKUP_DIR": str(tmp_path / "backups"), "DAULAT": str(VENV_BIN / "daulat"),
           "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    where = ["--store", PG_URL, "--schema", scratch_schema]

    backup = _run_block("backup", env)
    assert backup.returncode == 0, backup.stderr
    dumps = sorted((tmp_path / "backups").glob("daulat-*.dump"))
    assert len(dumps) == 1 and dumps[0].stat().st_size > 0
    anchor = json.loads(Path(f"{dumps[0]}.anchor.json").read_text())
    assert anchor["seq"] == 25

    # requests served after the backup, and an anchor published after them
    store = Store(PG_URL, schema=scratch_schema)
    rec = Recorder(store.engine)
    for i in range(25, 30):
        rec.record_sync(AuditEntry(request_id=f"req-{i}", record={"status": "ok", "i": i}))
    store.dispose()
    later = CliRunner().invoke(app, ["audit", "anchor", "--json", *where])  # in-process: fast
    assert later.exit_code == 0, later.output
    (tmp_path / "later.json").write_text(later.stdout)
    assert json.loads(later.stdout)["seq"] == 30

    # the disaster: the schema is gone
    eng = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with eng.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{scratch_schema}" CASCADE'))
    eng.dispose()

    restore = _run_block("restore", env)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "audit chain OK: 25 records" in restore.stdout, restore.stdout
    # the published later anchor shows what the restore lost
    lost = CliRunner().invoke(app, ["audit", "verify", "--anchor", str(tmp_path / "later.json"),
                                    *where])
    assert lost.exit_code == 1 and "deleted" in lost.output, lost.output

    back = Store(PG_URL, schema=scratch_schema)
    try:
        assert back.usage()[0]["prompt_tokens"] == 75
        assert back.lookup_key(secret) is not None  # keys survive a restore
    finally:
        back.dispose()


def test_tls_and_secrets_reach_libpq_from_the_url_and_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The guide's PostgreSQL-over-TLS and secrets-from-environment rest on libpq reading
    the URL's options and PG* variables: the local test server has TLS off, so requiring
    TLS either way must fail with libpq's own TLS error (and plain connections work)."""
    plain = Store(PG_URL)
    with plain.engine.connect():
        pass
    plain.dispose()
    with pytest.raises(StoreError, match="SSL was required"):
        Store(f"{PG_URL}?sslmode=require", schema="opstest_tls")
    monkeypatch.setenv("PGSSLMODE", "require")
    with pytest.raises(StoreError, match="SSL was required"):
        Store(PG_URL, schema="opstest_tls")
