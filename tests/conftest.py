"""Shared fixtures: a real database (SQLite file, or a throw-away PostgreSQL cluster), a workspace
on it, sessions, and a click runner pointed at it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from tests.helpers import CLI_PROPERTY_RUN
from tests.pgcluster import PostgresCluster
from workflow import db
from workflow.plans import PlanSettings, add_entity, configure_plan

NOW = dt.datetime(2021, 7, 28, 9, 30, tzinfo=dt.UTC)
SessionFactory = Callable[[], AbstractContextManager[Session]]

# In CI (CI is set, as by .ci/run and every CI service) hypothesis is derandomised: the same
# examples every run, none remembered between runs, so a red build is the code's, not the dice's.
# Examples it ever found are kept as @example(...) cases in the tests themselves.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("both", "sqlite", "postgresql"),
        default=os.environ.get("OGP_TEST_BACKEND", "both"),
        help="which databases the database tests run against [env OGP_TEST_BACKEND; default: both]",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = config.getoption("--backend")
    if backend == "both":
        return
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        chosen = params.params.get("db_url", backend) if params else backend
        (keep if chosen == backend else drop).append(item)
    if backend == "sqlite":  # tests written for PostgreSQL alone go too
        drop += [i for i in keep if i.get_closest_marker("postgres") and "db_url" not in getattr(i, "fixturenames", ())]
        keep = [i for i in keep if i not in drop]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL server for the whole run; its tests are skipped, with the reason, without one
    (and fail instead where OGP_REQUIRE_POSTGRES is set, as in CI)."""
    cluster = PostgresCluster()
    cluster.start()
    if not cluster.url_base:
        if os.environ.get("OGP_REQUIRE_POSTGRES"):
            pytest.fail(f"OGP_REQUIRE_POSTGRES is set, but {cluster.reason}")
        pytest.skip(cluster.reason)
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
    """A database URL: a SQLite file, or a fresh PostgreSQL database. Empty; for a test that asks
    for `workspace` too, a copy of the initialised workspace (`workspace`)."""
    wanted = "workspace" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "ogp.db"
        if wanted:
            shutil.copyfile(request.getfixturevalue("_sqlite_workspace_template"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    template = request.getfixturevalue("_postgres_workspace_template") if wanted else None
    with cluster.database(template=template) as url:
        yield url


def initialise_workspace(url: str, folder: Path) -> db.Workspace:
    """The workspace every database test starts from: migrated, the default plan, three bodies."""
    where = db.resolve(url, cwd=folder)
    engine = db.make_engine(where)
    try:
        db.upgrade(engine)
        with Session(engine) as session, session.begin():
            configure_plan(session, PlanSettings(), actor="tester")
            add_entity(
                session,
                "وزارة الاقتصاد الرقمي والريادة",
                "MODEE",
                "معالي وزير الاقتصاد الرقمي والريادة المحترم",
                actor="tester",
            )
            add_entity(session, "سجل الجمعيات", "ROS", "عطوفة أمين سجل الجمعيات المحترم", actor="tester")
            add_entity(session, "وزارة الصحة", "MOH", actor="tester")
    finally:
        engine.dispose()  # SQLite: the last connection closed writes the WAL back into the file
    return where


# The workspace is built once per run (per worker) and copied for each test: a SQLite file copied,
# a PostgreSQL database created from it as a template. What a test starts from is the same as
# building it each time (the copy is byte for byte), at a fraction of the migrations' cost.
@pytest.fixture(scope="session")
def _sqlite_workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workspace-template")
    initialise_workspace(f"sqlite:///{folder / 'ogp.db'}", folder)
    assert not (folder / "ogp.db-wal").exists() or not (folder / "ogp.db-wal").stat().st_size
    return folder / "ogp.db"


@pytest.fixture(scope="session")
def _postgres_workspace_template(postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with postgres.database() as url:
        initialise_workspace(url, tmp_path_factory.mktemp("workspace-template"))
        name = make_url(url).database
        assert name
        yield name


@pytest.fixture
def workspace(db_url: str, tmp_path: Path) -> db.Workspace:
    """An initialised workspace with the default plan and three bodies (`initialise_workspace`)."""
    return db.resolve(db_url, cwd=tmp_path)


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


CLI_PROPERTY_RUNS: list[dict[str, Any]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keeps what the property-based run over the command line counted (tests/test_cli_property.py
    puts it on its report: this sees it in the controller when xdist runs the tests in workers)."""
    if report.when == "call":
        CLI_PROPERTY_RUNS.extend(value for name, value in report.user_properties if name == CLI_PROPERTY_RUN)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The counts of the property-based run over the command line, to quote."""
    for run in sorted(CLI_PROPERTY_RUNS, key=lambda run: run["backend"]):
        codes = ", ".join(f"exit {code}: {n}" for code, n in run["exit_codes"].items())
        terminalreporter.write_line(
            f"CLI property run on {run['backend']}: {run['invocations']} invocations ({codes}); "
            f"{run['commands']} commands and {run['options']} command options exercised; "
            f"{run['refusals_checked']} refusals checked against a dump of every table, "
            f"{run['changed_on_refusal']} changed a record; {run['tracebacks']} tracebacks."
        )
