"""The same refusal on SQLite and PostgreSQL: lengths checked at entry (SQLite stores any length,
PostgreSQL refuses what its column cannot hold), lookups that never send a NUL to the server, and
`db copy` that refuses any target holding anything and reads its source from one snapshot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cli import App, cli
from tests.conftest import PostgresCluster
from tests.helpers import dump_tables
from workflow.db import Workspace


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("init", "--period", "2021-2023 " * 4), "Error: plan: period: is 39 characters long; at most 32 are allowed\n"),
        (("init", "--letter-prefix", "ت" * 65), "Error: plan: letter-prefix: is 65 characters long; at most 64 are allowed\n"),
        (("init", "--plan", "خطة " * 200), "Error: plan: title: is 799 characters long; at most 500 are allowed\n"),
        (("init", "--copy-to", "ج" * 501), "Error: plan: copy-to: is 501 characters long; at most 500 are allowed\n"),
        (("entity", "add", "و" * 501), "Error: government body: name: is 501 characters long; at most 500 are allowed\n"),
        (("member", "add", "م" * 501, "--org", "x"), "Error: member: name: is 501 characters long; at most 500 are allowed\n"),
        (("proposal", "add", "--title", "t2", "--org", "o", "--email", "a@b.co" + "m" * 500),
         "Error: proposal 't2': email: is 506 characters long; at most 500 are allowed\n"),
        (("advance", "P-1", "reject", "--reason", "س" * 2001),
         "Error: proposal P-1: --reason: is 2001 characters long; at most 2000 are allowed\n"),
        (("meeting", "add", "--on", "2021-07-28", "--outcome", "خ" * 2001),
         "Error: meeting of 2021-07-28: --outcome: is 2001 characters long; at most 2000 are allowed\n"),
        (("interview", "record", "P-1", "--on", "2021-07-28", "--platform", "z" * 501),
         "Error: proposal P-1: --platform: is 501 characters long; at most 500 are allowed\n"),
        (("conflict", "declare", "--member", "عضو", "--proposal", "P-1", "--reason", "س" * 2001),
         "Error: conflict of عضو with P-1: --reason: is 2001 characters long; at most 2000 are allowed\n"),
        (("score", "P-1", "--member", "عضو", "--criterion", "importance", "--value", "3", "--note", "ن" * 2001),
         "Error: score of proposal P-1: --note: is 2001 characters long; at most 2000 are allowed\n"),
        (("proposal", "show", "P\x00"), None),
        (("score", "P-1\x00", "--member", "عضو", "--criterion", "importance", "--value", "3"), None),
    ],
)  # fmt: skip
def test_lengths_and_nuls_are_refused_the_same_way_on_both(
    runner: CliRunner, workspace: Workspace, args: tuple[str, ...], message: str | None
) -> None:
    assert runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "t", "--org", "o",
                               "--submitted-on", "2021-06-20"]).exit_code == 0  # fmt: skip
    assert runner.invoke(cli, ["member", "add", "عضو", "--org", "جهة"]).exit_code == 0
    url = workspace.url.render_as_string(hide_password=False)
    before = dump_tables(url)
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output and "database refused" not in result.output
    if message is None:
        assert result.exit_code in (1, 2) and result.stderr.startswith(("Error:", "Usage:")), result.output
    else:
        assert (result.exit_code, result.stderr) == (1, message)
    assert dump_tables(url) == before


def test_copy_refuses_a_foreign_sqlite_file_and_leaves_it_untouched(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["init"]).exit_code == 0
    foreign = tmp_path / "accounts.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER)")
        connection.execute("INSERT INTO invoices (amount) VALUES (100)")
    before = foreign.read_bytes()
    refused = runner.invoke(cli, ["db", "copy", "--to", str(foreign)])
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: the target database is not empty (it holds invoices); copy only into a new, empty database. "
        "Nothing was copied.\n",
    )
    assert foreign.read_bytes() == before
    with sqlite3.connect(foreign) as connection:
        assert [row[0] for row in connection.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    view_only = tmp_path / "views.db"
    with sqlite3.connect(view_only) as connection:
        connection.execute("CREATE VIEW v AS SELECT 1")
    assert runner.invoke(cli, ["db", "copy", "--to", str(view_only)]).exit_code == 1
    copied = runner.invoke(cli, ["db", "copy", "--to", str(tmp_path / "new.db")])
    assert copied.exit_code == 0, copied.output


@pytest.mark.postgres
def test_copy_refuses_a_postgresql_database_holding_anything(postgres: PostgresCluster, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    with postgres.database() as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(text("CREATE SCHEMA other"))
            connection.execute(text("CREATE SEQUENCE other.counter"))
        refused = runner.invoke(cli, ["db", "copy", "--to", url])
        assert (refused.exit_code, refused.stderr) == (
            1,
            "Error: the target database is not empty (it holds counter); copy only into a new, empty database. "
            "Nothing was copied.\n",
        )
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 0
        engine.dispose()


def test_reading_commands_read_one_snapshot_and_cannot_write(workspace: Workspace) -> None:
    app = App(workspace.url.render_as_string(hide_password=False), "tester", None)
    with pytest.raises(DBAPIError, match=r"read-only|readonly"), app.session(readonly=True) as session:
        if not workspace.is_sqlite:  # a SQLite read transaction is one snapshot already
            assert session.execute(text("SHOW transaction_isolation")).scalar() == "repeatable read"
        session.execute(text("UPDATE plans SET period = 'x'"))
