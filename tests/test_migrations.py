"""The schema comes from Alembic migrations, and they match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from workflow import db
from workflow.errors import InvalidInputError
from workflow.models import Base


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        connection.rollback()
    assert differences == []


def test_upgrade_is_idempotent_and_reports_the_head(engine: Engine, workspace: db.Workspace) -> None:
    assert db.upgrade(engine) == (db.head_revision(), db.head_revision())
    with engine.connect() as connection:
        db.check_schema(workspace, connection)
        connection.rollback()
    with engine.connect() as connection:
        assert "audit_entries" in inspect(connection).get_table_names()
        connection.rollback()


def test_sqlite_workspaces_use_wal_and_a_busy_timeout() -> None:
    workspace = db.resolve("w.db")
    engine = db.make_engine(workspace)
    try:
        db.upgrade(engine)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_SECONDS * 1000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            connection.rollback()
    finally:
        engine.dispose()


def test_database_urls_and_paths_resolve() -> None:
    here = Path.cwd()
    assert db.resolve(None).url.database == str(here / "ogp.db")
    assert db.resolve("sub/x.db").folder == here / "sub"
    pg = db.resolve("postgresql://u:secret@h/ogp")
    assert pg.url.drivername == "postgresql+psycopg"
    assert "secret" not in pg.describe()
    for bad, problem in (("mysql://h/x", "unsupported database 'mysql'"), ("sqlite://", "in-memory")):
        with pytest.raises(InvalidInputError, match=problem):
            db.resolve(bad)
