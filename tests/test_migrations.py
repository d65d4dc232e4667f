"""The schema comes from Alembic migrations, and they match the models."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from workflow import db
from workflow.errors import InvalidInputError
from workflow.models import Base


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLAlchemy cannot reflect SQLite's index on lower(ref); it is checked by name below.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
        names = {index["name"] for index in inspect(connection).get_indexes("proposals")}
        connection.rollback()
    if engine.dialect.name == "sqlite":
        differences = [d for d in differences if not (d[0] == "add_index" and d[1].name == "ix_proposals_ref_lower")]
        with engine.connect() as connection:
            names = set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    assert differences == []
    assert "ix_proposals_ref_lower" in names


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
