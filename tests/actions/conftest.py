"""Fixtures for the CRM tests: a workspace of synthetic results, the ops store on SQLite or a throwaway
PostgreSQL server, contacts, the fake LINE server and scenario files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from crmhelp import AS_OF, EVERYONE, N_CUSTOMERS, TOKEN, Shop, write_scenario  # noqa: E402

from ltvkit import Workspace  # noqa: E402
from ltvkit.actions import OpsStore, import_contacts  # noqa: E402
from ltvkit.config import SETTINGS  # noqa: E402
from ltvkit.testing import FakeLineServer, synthetic_contacts, write_synthetic_results  # noqa: E402


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    names = {s.env_var for s in SETTINGS} | {s.file_var for s in SETTINGS if s.secret}
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LTV_CRM_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("LTV_LINE_CHANNEL_ACCESS_TOKEN", TOKEN)


@pytest.fixture(scope="session")
def _template_ws(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ws") / "ltv.duckdb"
    with Workspace(path) as ws:
        write_synthetic_results(ws, N_CUSTOMERS, AS_OF, seed=1)
        ws.identity_secret()
    return path


@pytest.fixture
def ws_path(_template_ws, tmp_path) -> Path:
    path = tmp_path / "shop" / "ltv.duckdb"
    path.parent.mkdir()
    shutil.copy(_template_ws, path)
    return path


# -- PostgreSQL: a throwaway server per test session -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        for version in sorted(base.iterdir(), reverse=True):
            candidate = version / "bin" / name
            if candidate.exists():
                return str(candidate)
    return None


@pytest.fixture(scope="session")
def postgres_server():
    """Start a PostgreSQL server in a temporary directory (as the ``postgres`` user when running as root) and
    stop it at the end; skip with the reason where it cannot start."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not found); `bash scripts/test` installs it as root")
    base = Path(tempfile.mkdtemp(prefix="ltv-pg-"))
    data = base / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server as")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else ["su", "postgres", "-c"]
    port = _free_port()

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        cmd = prefix + ([" ".join(args)] if prefix[:1] == ["su"] else args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    r = run([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
    if r.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed: {(r.stderr or r.stdout).strip()[:300]}")
    opts = f"-p {port} -k {base} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    r = run([pg_ctl, "-D", str(data), "-o", f"'{opts}'" if prefix[:1] == ["su"] else opts, "-l",
             str(base / "log"), "-w", "-t", "60", "start"])
    if r.returncode != 0:
        log = (base / "log").read_text(errors="replace")[-300:] if (base / "log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {(r.stderr or r.stdout).strip()[:200]} {log}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


_db_counter = [0]


@pytest.fixture
def pg_url(postgres_server) -> str:
    """A fresh database on the session's server."""
    import psycopg

    _db_counter[0] += 1
    name = f"ltv_test_{os.getpid()}_{_db_counter[0]}"
    with psycopg.connect(postgres_server + "/postgres", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def ops_url(request, ws_path) -> str:
    if request.param == "sqlite":
        return "sqlite:///" + str(ws_path.with_name("ltv.ops.sqlite"))
    return request.getfixturevalue("pg_url")


@pytest.fixture
def shop(ws_path, monkeypatch) -> Shop:
    """A workspace of synthetic results, an SQLite ops store beside it with a LINE ID for every customer, and a
    scenario directory holding ``everyone`` (holdout 0.1)."""
    url = "sqlite:///" + str(ws_path.with_name("ltv.ops.sqlite"))
    with OpsStore(url) as store:
        import_contacts(store, synthetic_contacts(N_CUSTOMERS))
    d = ws_path.parent / "scenarios"
    write_scenario(d, "everyone", EVERYONE.format(holdout=0.1, priority=50))
    return Shop(ws_path, url, d)


@pytest.fixture
def fake_line(monkeypatch):
    with FakeLineServer(token=TOKEN) as server:
        monkeypatch.setenv("LTV_LINE_API_BASE", server.url)
        yield server


