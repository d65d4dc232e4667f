"""Shared fixtures: a real database (SQLite file, or a throw-away PostgreSQL cluster), a workspace
on it, sessions, and a click runner pointed at it."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from workflow import db
from workflow.plans import PlanSettings, add_entity, configure_plan

NOW = dt.datetime(2021, 7, 28, 9, 30, tzinfo=dt.UTC)
SessionFactory = Callable[[], AbstractContextManager[Session]]


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


class PostgresCluster:
    """A PostgreSQL server of our own, on a Unix socket in a temporary folder."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.folder: Path | None = None
        self.url_base = os.environ.get("OGP_TEST_PG_URL")  # an existing server, e.g. in CI
        self.reason = ""
        self._counter = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.url_base:
            return
        if self.bin is None:
            self.reason = "no PostgreSQL server: initdb not found (install the 'postgresql' package)"
            return
        self.folder = Path(tempfile.mkdtemp(prefix="ogp-pg-"))
        data = self.folder / "data"
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
            options = (
                f"-c listen_addresses='' -c unix_socket_directories={self.folder} -c fsync=off -c max_connections=60"
            )
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(self.folder / "log"), "start"
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, LookupError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            self.reason = f"could not start PostgreSQL: {exc} {detail.decode(errors='replace')[:300]}"
            return
        self.url_base = f"postgresql+psycopg://postgres@/postgres?host={self.folder}"

    def stop(self) -> None:
        if self.folder is None or self.bin is None:
            return
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    @contextmanager
    def database(self) -> Iterator[str]:
        if not self.url_base:
            if os.environ.get("OGP_REQUIRE_POSTGRES"):
                pytest.fail(f"OGP_REQUIRE_POSTGRES is set, but {self.reason}")
            pytest.skip(self.reason)
        name = f"ogp_test_{os.getpid()}_{next(self._counter)}"
        admin = create_engine(self.url_base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test works in its own folder, as a known actor, with no workspace from outside."""
    monkeypatch.chdir(tmp_path)
    for name in ("OGP_DB", "OGP_TEMPLATES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OGP_ACTOR", "tester")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with nothing in it yet: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ogp.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    with cluster.database() as url:
        yield url


@pytest.fixture
def workspace(db_url: str, tmp_path: Path) -> db.Workspace:
    """An initialised workspace with the default plan and three bodies."""
    where = db.resolve(db_url, cwd=tmp_path)
    engine = db.make_engine(where)
    try:
        db.upgrade(engine)
        with Session(engine) as session, session.begin():
            configure_plan(session, PlanSettings())
            add_entity(
                session, "وزارة الاقتصاد الرقمي والريادة", "MODEE", "معالي وزير الاقتصاد الرقمي والريادة المحترم"
            )
            add_entity(session, "سجل الجمعيات", "ROS", "عطوفة أمين سجل الجمعيات المحترم")
            add_entity(session, "وزارة الصحة", "MOH")
    finally:
        engine.dispose()
    return where


@pytest.fixture
def engine(workspace: db.Workspace) -> Iterator[Engine]:
    built = db.make_engine(workspace)
    yield built
    built.dispose()


@pytest.fixture
def session_scope(engine: Engine) -> SessionFactory:
    """`with session_scope() as s:` is one committed transaction, as one CLI command is."""

    @contextmanager
    def scope() -> Iterator[Session]:
        with Session(engine) as session, session.begin():
            yield session

    return scope


@pytest.fixture
def runner(workspace: db.Workspace, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A click runner whose commands use the test workspace (through OGP_DB, as a user would)."""
    monkeypatch.setenv("OGP_DB", workspace.url.render_as_string(hide_password=False))
    return CliRunner()
