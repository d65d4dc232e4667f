"""A JSON column holding what no step writes (a number, a text, an object where a list belongs, a
list holding a number, text that is not JSON …), written behind the product's back with another
tool: every command that reads it refuses with one sentence naming the table and the column
(exit 1, no traceback, nothing changed), the same on SQLite and PostgreSQL; `ogp audit verify`
still names the row and the field that differ from the chain."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, Table, create_engine, select

from cli import cli, read_from_a_row
from workflow.db import Workspace, resolve
from workflow.models import Base
from workflow.storedtypes import (
    CriterionMeans,
    Flag,
    StoredShapeError,
    TextList,
    TextObject,
    ValueCodes,
    ValueTexts,
    unchecked,
)

REFUSAL = (
    "Error: the workspace holds a value its column cannot hold ({}): it was written outside ogp. "
    "'ogp audit verify' says where; nothing was changed.\n"
)
LIST = "a list of texts"
# Each JSON column: the row the demo workspace has there, the key `audit verify` names it by, what
# the column holds, and commands that read it (those that would write something, last).
COLUMNS: dict[str, tuple[str, str, str, list[tuple[str, ...]]]] = {
    "plans.copy_to": ("id = 1", '{"id":1}', LIST, [
        ("plan", "show"), ("status",), ("proposal", "show", "SAMPLE-01"), ("ranking", "--all", "--json"),
        ("compliance", "--as-of", "2022-07-15"), ("init", "--copy-to", "مكتب الرئيس"),
        ("proposal", "add", "--title", "فكرة", "--org", "جهة"),
    ]),
    "proposals.values": ("id = 1", '{"id":1}', ValueCodes.shape, [
        ("proposal", "show", "SAMPLE-01", "--json"), ("proposal", "list", "--value", "accountability"),
        ("export", "proposals", "--out", "-"), ("status",), ("history", "SAMPLE-01"),
        ("report", "plan", "--out", "plan.docx"), ("commitment", "edit", "SAMPLE-01", "--status-quo", "كما هو"),
    ]),
    "audit_entries.letters": ("seq = 33", "#33", LIST, [
        ("history", "SAMPLE-01"), ("export", "history", "--out", "-"), ("letters", "verify"),
    ]),
    "meetings.topics": ("id = 1", '{"id":1}', LIST, [
        ("meeting", "list"), ("meeting", "minutes", "1", "--out", "m.docx"), ("publish", "site"),
    ]),
    "meetings.outcomes": ("id = 1", '{"id":1}', LIST, [
        ("meeting", "list", "--json"), ("meeting", "minutes", "1", "--out", "m.docx"), ("publish", "site"),
    ]),
    "decided_standings.criteria": ("proposal_id = 1", '{"proposal_id":1}', CriterionMeans.shape, [
        ("proposal", "show", "SAMPLE-01"), ("ranking", "--all"), ("export", "ranking", "--out", "r.csv"),
        ("publish", "site"),
    ]),
    "publications.languages": ("id = 1", '{"id":1}', LIST, [("publish", "site")]),
    "commitments.relevance": ("proposal_id = 1", '{"proposal_id":1}', ValueTexts.shape, [
        ("commitment", "list"), ("commitment", "show", "SAMPLE-01", "--json"),
        ("report", "progress", "--period", "H1-2022", "--out", "p.docx"),
        ("commitment", "edit", "SAMPLE-01", "--status-quo", "كما هو"),
    ]),
}  # fmt: skip
# What another tool may leave there, as SQL text; None where it is not JSON at all.
WRONG_FOR_A_LIST = {"a number": "7", "a text": '"x"', "an object": '{"a": 1}', "a list holding a number": '["a", 1]',
                    "null": "null", "text that is not JSON": "not json"}  # fmt: skip
WRONG_FOR_AN_OBJECT = {"a number": "7", "a text": '"x"', "a list": '["a"]', "null": "null",
                       "text that is not JSON": "not json"}  # fmt: skip
WRONG_INSIDE = {"commitments.relevance": '{"accountability": 1}', "decided_standings.criteria": '{"importance": 1}'}
# Of the right shape, but naming what no OGP value is: read, each would fail where the value is named.
UNKNOWN_CODE = {"proposals.values": '["accountability", "a"]', "commitments.relevance": '{"a": "x"}',
                "decided_standings.criteria": '{"importance": {"mean": "four", "scorers": 1, "weight": 1}}'}


def _cases() -> Iterator[Any]:
    for where, (_, _, shape, _) in COLUMNS.items():
        wrong = (
            dict(WRONG_FOR_A_LIST)
            if shape in (LIST, ValueCodes.shape)
            else {**WRONG_FOR_AN_OBJECT, "an object of other things": WRONG_INSIDE[where]}
        )
        if where in UNKNOWN_CODE:
            wrong["a code no OGP value has, or a mean no number"] = UNKNOWN_CODE[where]
        for kind, stored in wrong.items():
            yield pytest.param(where, stored, id=f"{where}={kind}")


CASES = list(_cases())


def detail(where: str, stored: str) -> str:
    """What the refusal says of `stored` in column `where`."""
    try:
        value = json.loads(stored)
    except ValueError:
        return f"{where} holds {stored!r}, which is not JSON"
    return f"{where} holds {json.dumps(value, ensure_ascii=False)}, not {COLUMNS[where][2]}"


@pytest.fixture(scope="session")
def _demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's workspace, built once: it has a row in every table with a JSON column."""
    folder = tmp_path_factory.mktemp("demo") / "d"
    built = CliRunner().invoke(cli, ["demo", "--dir", str(folder)])
    assert built.exit_code == 0, built.output
    return folder / "ogp.db"


def tampered(demo: Path, folder: Path, where: str, stored: str) -> Path:
    """A copy of the demo's workspace in `folder` whose column `where` holds `stored` in one row,
    written with the sqlite3 module as anyone with the file could (the audit trail's guard first
    dropped, for its own table)."""
    path = folder / "ogp.db"
    shutil.copyfile(demo, path)
    table, column = where.split(".")
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("DROP TRIGGER audit_entries_no_update")
        changed = raw.execute(f'UPDATE {table} SET "{column}" = ? WHERE {COLUMNS[where][0]}', (stored,))
        assert changed.rowcount == 1
    raw.close()  # the last connection closed writes the WAL back into the file
    return path


def sqlite_dump(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes, and every row and definition as SQLite reads them (through the WAL too)."""
    raw = sqlite3.connect(path)
    try:
        return path.read_bytes(), list(raw.iterdump())
    finally:
        raw.close()


def columns_of(kind: type) -> dict[str, Any]:
    """table.column → its type, for every column of the models whose type is `kind` or decorates it."""
    return {
        f"{table.name}.{column.name}": column.type
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, kind) or isinstance(getattr(column.type, "impl", None), kind)
    }


def verify_refusal(path: Path) -> str:
    """What `ogp audit verify` says of the workspace at `path`, which it must refuse (exit 1, no traceback)."""
    verified = CliRunner().invoke(cli, ["--db", str(path), "audit", "verify"])
    assert isinstance(verified.exception, SystemExit), verified.exception
    assert verified.exit_code == 1, verified.output
    return verified.stderr


def assert_refused(result: Result, message: str, args: tuple[str, ...]) -> None:
    assert isinstance(result.exception, SystemExit), (args, result.exception)  # no traceback
    assert (result.exit_code, result.stderr) == (1, message), (args, result.output)
    assert result.stdout == "", args


@pytest.mark.parametrize(("where", "stored"), CASES)
def test_every_command_reading_a_json_column_of_the_wrong_shape_refuses_and_changes_nothing(
    _demo: Path, tmp_path: Path, where: str, stored: str
) -> None:
    path = tampered(_demo, tmp_path, where, stored)
    before = sqlite_dump(path)
    runner = CliRunner()
    for args in COLUMNS[where][3]:
        assert_refused(runner.invoke(cli, ["--db", str(path), *args]), REFUSAL.format(detail(where, stored)), args)
    assert sqlite_dump(path) == before
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("ogp.db")] == []  # no site, no .docx


@pytest.mark.parametrize(("where", "stored"), CASES)
def test_audit_verify_still_names_the_row_and_the_field(_demo: Path, tmp_path: Path, where: str, stored: str) -> None:
    """`ogp audit verify` reads the JSON columns as they are stored: a value of the wrong shape (or
    not JSON at all) is a field that differs from the chain, named with its row, as any other."""
    path = tampered(_demo, tmp_path, where, stored)
    before = sqlite_dump(path)
    stderr = verify_refusal(path)
    table, column = where.split(".")
    try:
        found: Any = json.loads(stored)
    except ValueError:
        found = stored
    key = COLUMNS[where][1]
    if table == "audit_entries":  # the entry's column against the body its hash covers
        assert stderr.startswith(
            f"Error: audit chain broken at entry {key}: its column letters says {found!r} but the body its hash covers says ["
        ), stderr
    else:
        prefix = f"Error: the record differs from its audit chain at table {table}, row {key}, field {column}: the chain says "
        assert stderr.startswith(prefix), stderr
        assert stderr.endswith(f", the table says {json.dumps(found, ensure_ascii=False)}.\n"), stderr
    assert sqlite_dump(path) == before


def test_the_demo_s_own_values_are_read_as_they_are(_demo: Path, tmp_path: Path) -> None:
    """The shapes are those the product writes: an untouched workspace verifies, and shows them."""
    runner = CliRunner()
    (tmp_path / "d").mkdir()
    shutil.copyfile(_demo, tmp_path / "d" / "ogp.db")
    for args in (("audit", "verify"), ("meeting", "list"), ("ranking", "--all"), ("commitment", "show", "SAMPLE-01"),
                 ("publish", "site"), ("history", "SAMPLE-01")):  # fmt: skip
        done = runner.invoke(cli, ["--db", "d/ogp.db", *args])
        assert done.exit_code == 0, (args, done.output)


def raw_dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, the JSON columns as stored (not through their shape check, which would
    refuse to read the tampered one)."""
    engine = create_engine(resolve(url).url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(r) for r in connection.execute(select(*unchecked(table)).order_by(*table.primary_key))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("stored", ["7", '"x"', '{"a": 1}', '["a", 1]', "null"])
def test_the_refusal_is_the_same_on_sqlite_and_postgresql(runner: CliRunner, workspace: Workspace, stored: str) -> None:
    """PostgreSQL's json column takes any JSON (it refuses only text that is not JSON): a value
    of the wrong shape there is refused with the very sentence SQLite's gets."""
    added = runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة",
                                "--value", "accountability", "--submitted-on", "2021-06-20"])  # fmt: skip
    assert added.exit_code == 0, added.output
    url = workspace.url.render_as_string(hide_password=False)
    engine = create_engine(workspace.url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"UPDATE proposals SET \"values\" = '{stored}'")
    finally:
        engine.dispose()
    before = raw_dump(url)
    message = REFUSAL.format(detail("proposals.values", stored))
    for args in (("proposal", "show", "P-1"), ("proposal", "list", "--value", "accountability"),
                 ("export", "proposals", "--format", "json", "--out", "-"), ("status",),
                 ("proposal", "edit", "P-1", "--title", "فكرة أخرى", "--reason", "تصحيح")):  # fmt: skip
        assert_refused(runner.invoke(cli, list(args)), message, args)
    assert raw_dump(url) == before
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.stderr.startswith(
        'Error: the record differs from its audit chain at table proposals, row {"id":1}, field values: '
        f'the chain says ["accountability"], the table says {json.dumps(json.loads(stored))}.'
    ), verified.output


def test_every_json_column_has_a_shape_named_after_it() -> None:
    """No JSON column is read unchecked, and each names itself as table.column in a refusal."""
    shaped = columns_of(JSON)
    assert set(shaped) == set(COLUMNS)
    for where, kind in shaped.items():
        assert isinstance(kind, TextList | TextObject | CriterionMeans), where
        assert kind.where == where
        # SQLAlchemy reads cache_ok from the class itself, never inherited: without it, no statement
        # reading the column is cached (and it warns).
        assert vars(type(kind)).get("cache_ok") is True, where
        # Asked by code that converts values for a column (bench/tamper.py): SQLAlchemy 2.0's
        # TypeDecorator does not answer it from its implementation.
        assert kind.python_type is (list if isinstance(kind, TextList) else dict), where


def test_a_wrong_shape_is_found_as_the_row_is_read_on_any_path() -> None:
    """Core reads the type as the ORM does; the error is raised while SQLAlchemy reads the row,
    which is what makes the command line call it a stored value (and not a bug of its own)."""
    engine = create_engine("sqlite://")
    t = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", TextList("t.v")))
    with engine.connect() as connection:
        t.create(connection)
        connection.execute(t.insert(), [{"id": 1, "v": ["a", "b"]}])
        assert connection.execute(select(t.c.v)).scalar_one() == ["a", "b"]
        connection.exec_driver_sql("UPDATE t SET v = '[1]'")
        with pytest.raises(StoredShapeError) as refused:
            connection.execute(select(t)).all()
        assert str(refused.value) == "t.v holds [1], not a list of texts"
        assert read_from_a_row(refused.value)
        assert connection.execute(select(*unchecked(t))).all() == [(1, [1])]
    engine.dispose()


def test_a_refused_value_is_shown_abridged() -> None:
    engine = create_engine("sqlite://")
    t = Table("t", MetaData(), Column("v", TextObject("t.v")))
    with engine.connect() as connection:
        t.create(connection)
        connection.exec_driver_sql("INSERT INTO t VALUES (?)", (json.dumps(list(range(1000))),))
        with pytest.raises(StoredShapeError) as refused:
            connection.execute(select(t)).all()
    engine.dispose()
    assert str(refused.value).startswith("t.v holds [0, 1, 2, ")
    assert str(refused.value).endswith("…, not an object of texts")
    assert len(refused.value.problem) < 120


# Each yes/no column: the row of the demo's workspace changed, the key `audit verify` names it by,
# and commands that read it.
FLAGS: dict[str, tuple[str, str, list[tuple[str, ...]]]] = {
    "members.active": ("id = 1", '{"id":1}', [("member", "list")]),
    "conflicts.late": ("id = 1", '{"id":1}', [("conflict", "list")]),
    "responses.agreed": ("id = 1", '{"id":1}', [("response", "list"), ("status",)]),
    "decided_standings.complete": ("proposal_id = 1", '{"proposal_id":1}', [("ranking", "--all")]),
    "publications.reasoned_response": ("id = 1", '{"id":1}', [("compliance", "--as-of", "2022-07-15")]),
}
# What another tool may leave in a yes/no column that SQLite keeps: SQLAlchemy's own Boolean
# would read every one of them as true, 'no' included.
WRONG_FLAGS = {"yes": "'yes'", "no": "'no'", "two": "2", "a fraction": "0.5"}


@pytest.mark.parametrize("where", list(FLAGS))
@pytest.mark.parametrize("kind", list(WRONG_FLAGS))
def test_a_yes_no_column_holding_anything_else_is_refused_and_named_by_audit_verify(
    _demo: Path, tmp_path: Path, where: str, kind: str
) -> None:
    """SQLite keeps 'yes', 'no' or 2 in a BOOLEAN column, and SQLAlchemy's Boolean reads them as
    `bool(value)`: true. Read through `Flag`, commands refuse them by column, and `audit verify`
    names the row and the field instead of passing."""
    path = tmp_path / "ogp.db"
    shutil.copyfile(_demo, path)
    table, column = where.split(".")
    raw = sqlite3.connect(path)
    with raw:
        changed = raw.execute(f'UPDATE {table} SET "{column}" = {WRONG_FLAGS[kind]} WHERE {FLAGS[where][0]}')
        assert changed.rowcount == 1
        stored = raw.execute(f'SELECT "{column}" FROM {table} WHERE {FLAGS[where][0]}').fetchone()[0]
    raw.close()
    before = sqlite_dump(path)
    runner = CliRunner()
    for args in FLAGS[where][2]:
        assert_refused(
            runner.invoke(cli, ["--db", str(path), *args]),
            REFUSAL.format(f"{where} holds {stored!r}, not true or false"),
            args,
        )
    stderr = verify_refusal(path)
    key = FLAGS[where][1]
    named = f"Error: the record differs from its audit chain at table {table}, row {key}"
    assert stderr.startswith(named), stderr
    if not isinstance(stored, float):  # a fraction is a value the chain cannot hold: named by row
        assert f", field {column}: the chain says " in stderr, stderr
        assert stderr.endswith(f", the table says {json.dumps(stored)}.\n"), stderr
    assert sqlite_dump(path) == before


def test_every_yes_no_column_is_read_through_a_flag_named_after_it() -> None:
    flags = columns_of(Boolean)
    assert set(flags) == set(FLAGS)
    for where, kind in flags.items():
        assert isinstance(kind, Flag) and kind.where == where, where
        assert kind.python_type is bool
    engine = create_engine("sqlite://")
    t = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("f", Flag("t.f")))
    with engine.connect() as connection:
        t.create(connection)
        connection.exec_driver_sql("INSERT INTO t VALUES (1, 1), (2, 0), (3, NULL)")
        assert connection.execute(select(t.c.f).order_by(t.c.id)).scalars().all() == [True, False, None]
        connection.exec_driver_sql("INSERT INTO t VALUES (4, 'no')")
        with pytest.raises(StoredShapeError) as refused:
            connection.execute(select(t.c.f).where(t.c.id == 4)).scalar_one()
        assert str(refused.value) == "t.f holds 'no', not true or false"
    # Compared with true or false as Boolean is (`IS true`), not through a bound value, which
    # PostgreSQL refuses after IS.
    from sqlalchemy.dialects import postgresql

    compiled = str(select(t.c.id).where(t.c.f.is_(True)).compile(dialect=postgresql.dialect()))
    assert compiled.endswith("WHERE t.f IS true"), compiled


@pytest.mark.parametrize(
    ("update", "named"),
    [
        ("UPDATE responses SET responded_on = 'yesterday' WHERE id = 5",
         'row {"id":5}, field responded_on: the chain says "2021-08-15", the table says "yesterday".'),
        ("UPDATE responses SET responded_on = 20210815 WHERE id = 5",
         'row {"id":5}, field responded_on: the chain says "2021-08-15", the table says 20210815.'),
        ("UPDATE meetings SET held_on = '2021-02-30' WHERE id = 2",
         'row {"id":2}, field held_on: the chain says "2021-07-28", the table says "2021-02-30".'),
        ("UPDATE scores SET value = 4.5 WHERE id = 3",
         'row {"id":3}, field value: the chain says values of the kinds its columns hold, the table says a value '
         "that cannot be read (no canonical form for float)."),
    ],
)  # fmt: skip
def test_audit_verify_names_the_field_of_a_value_no_column_of_its_kind_holds(
    _demo: Path, tmp_path: Path, update: str, named: str
) -> None:
    """A date that is no date, or a fraction where the chain wrote a whole number (SQLite keeps
    them): `audit verify` reads dates and states as the database gives them and names the row and
    the field, as for any other value that differs."""
    path = tmp_path / "ogp.db"
    shutil.copyfile(_demo, path)
    raw = sqlite3.connect(path)
    with raw:
        assert raw.execute(update).rowcount == 1
    raw.close()
    stderr = verify_refusal(path)
    assert stderr.endswith(named + "\n"), stderr
