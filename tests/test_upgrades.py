"""Workspaces made at every earlier schema revision, with data, upgrade with `ogp init`: their old
entries keep verifying, a checkpoint entry holds the record as it stood, and from there on every
change replays (case c06: a revision-0001 workspace with a proposal and its entry)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from types import SimpleNamespace

import pytest
from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, text
from sqlalchemy.orm import Session

from cli import cli
from documents import LetterRenderer, LetterRequest
from tests.helpers import drop_audit_guards
from workflow import audit, db, ledger

OLD_REVISIONS = ("0001", "0002", "0003", "0004")
NOW = "2021-07-28T09:30:00.000000Z"


def ogp(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert "Traceback" not in result.output, result.output
    return result


def letter_bytes() -> bytes:
    request = LetterRequest(
        kind="referral", reference="ت ح/5/2021/0001", issued_on=dt.date(2021, 8, 1),
        addressee="معالي وزير الصحة المحترم", letterhead=("المملكة الأردنية الهاشمية",), signatory_name="",
        signatory_title="", context={
            "proposal": {"ref": "P-001", "title": "فكرة", "organization": "جهة", "problem": "", "solution": "",
                         "ogp_values": [], "bodies": ["وزارة الصحة"], "lead": ""},
            "recipient": {"name": "وزارة الصحة", "addressee": "معالي وزير الصحة المحترم"},
            "plan": {"title": "خطة", "period": "2021-2023"}, "event": "refer", "reason": "",
            "interview": {"date": "", "date_ar": "", "date_en": "", "time": "", "platform": ""},
        },
    )  # fmt: skip
    return LetterRenderer().render(request).content


def build_old_workspace(url: str, revision: str) -> None:
    """A workspace as schema `revision` left it, written the way the program then wrote it: a plan,
    a body, a proposal registered and referred (two entries, one letter), and from 0003 on a member
    and a score."""
    workspace = db.resolve(url)
    engine = db.make_engine(workspace)
    config = db._alembic_config()
    content = letter_bytes()
    sha = hashlib.sha256(content).hexdigest()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        run = connection.execute
        run(
            text(
                "INSERT INTO plans (id, title, period, shortlist_size, commitment_target, letter_prefix, issuer,"
                " signatory_name, signatory_title) VALUES (1, 'خطة', '2021-2023', 7, 5, 'ت ح/5', 'وزارة', '', 'وزير')"
            )
        )
        run(
            text(
                "INSERT INTO criteria (id, plan_id, position, code, name_ar, name_en, weight, scale_min, scale_max)"
                " VALUES (1, 1, 1, 'importance', 'أهمية', 'Importance', 1, 1, 5)"
            )
        )
        run(
            text(
                "INSERT INTO entities (id, name, code, addressee) VALUES (1, 'وزارة الصحة', 'MOH', 'معالي وزير الصحة')"
            )
        )
        run(
            text(
                'INSERT INTO proposals (id, plan_id, ref, title, organization, email, problem, solution, "values",'
                " submitted_on, state, version) VALUES (1, 1, 'P-001', 'فكرة', 'جهة', '', 'مشكلة', 'حل', '[]',"
                " '2021-06-20', 'referred', 3)"
            )
        )
        run(text("INSERT INTO proposal_entities (proposal_id, entity_id, position) VALUES (1, 1, 0)"))
        previous = audit.GENESIS
        for seq, event, before, after, letters in (
            (1, "submit", None, "submitted", []),
            (2, "refer", "shortlisted", "referred", [sha]),
        ):
            entry = SimpleNamespace(
                seq=seq, at=NOW, actor="aya", proposal_id=1, proposal_ref="P-001", event=event, from_state=before,
                to_state=after, reason="", letters=letters, prev_hash=previous, db_role=None,
            )  # fmt: skip
            entry.hash = audit.legacy_hash(entry)
            run(
                text("INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
                     " reason, letters, prev_hash, hash) VALUES (:seq, :at, :actor, :proposal_id, :proposal_ref,"
                     " :event, :from_state, :to_state, :reason, :letters, :prev_hash, :hash)"),
                {**vars(entry), "letters": json.dumps(letters)},
            )  # fmt: skip
            previous = entry.hash
        run(text("INSERT INTO letters (id, proposal_id, audit_seq, kind, entity_id, year, number, reference, issued_on,"
                 " subject, file_name, sha256, content) VALUES (1, 1, 2, 'referral', 1, 2021, 1, 'ت ح/5/2021/0001',"
                 " '2021-08-01', 'فكرة', 'P-001_referral_MOH_2021-0001.docx', :sha, :content)"),
            {"sha": sha, "content": content})  # fmt: skip
        if revision >= "0003":
            run(
                text(
                    "INSERT INTO members (id, name, organization, sector, active)"
                    " VALUES (1, 'ندى خاطر', 'وزارة الاقتصاد الرقمي', 'government', true)"
                )
            )
            run(
                text(
                    "INSERT INTO scores (id, proposal_id, member_id, criterion_id, value, note, updated_at, updated_by)"
                    " VALUES (1, 1, 1, 1, 4, '', :at, 'aya')"
                ),
                {"at": NOW},
            )
            run(
                text(
                    "INSERT INTO score_changes (id, proposal_id, member_id, criterion_id, old_value, new_value, note,"
                    " at, actor) VALUES (1, 1, 1, 1, NULL, 4, '', :at, 'aya')"
                ),
                {"at": NOW},
            )
        if workspace.url.get_backend_name() == "postgresql":
            for table in (
                "plans",
                "criteria",
                "entities",
                "proposals",
                "letters",
                "members",
                "scores",
                "score_changes",
            ):
                if connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar():
                    run(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
    engine.dispose()


def build_0005_workspace(url: str) -> None:
    """A workspace as schema 0005 left it: upgraded from 0004 with its checkpoint entry, which the
    program then wrote from the tables as that schema had them."""
    build_old_workspace(url, "0004")
    engine = db.make_engine(db.resolve(url))
    config = db._alembic_config()
    with engine.connect() as connection, contextlib.ExitStack() as stack:
        if engine.dialect.name == "sqlite":  # as 'ogp init' does while SQLite rebuilds tables
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        stack.enter_context(connection.begin())
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        metadata = MetaData()
        metadata.reflect(connection)
        tables = [metadata.tables[t.name] for t in ledger.RECORD_TABLES if t.name in metadata.tables]
        with Session(bind=connection) as session:
            changes = list(ledger.snapshot_changes(session, tables))
            last = audit.current_head(session)
        body = ledger.canonical_json(
            {"v": 2, "step": "checkpoint", "actor": "ogp init", "proposal": None, "from": None, "to": None,
             "reason": "schema 0004 → 0005", "late": False, "letters": [], "changes": changes}
        )  # fmt: skip
        at, role = NOW, None
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT ogp_append_entry(:seq, :body)"), {"seq": last.seq + 1, "body": body})
        else:
            connection.execute(
                text("INSERT INTO audit_entries (seq, at, actor, event, reason, letters, prev_hash, hash, body)"
                     " VALUES (:seq, :at, 'ogp init', 'checkpoint', :reason, '[]', :prev, :hash, :body)"),
                {"seq": last.seq + 1, "at": at, "reason": "schema 0004 → 0005", "prev": last.hash, "body": body,
                 "hash": audit.entry_hash(last.seq + 1, at, role, last.hash, body)},
            )  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize("revision", (*OLD_REVISIONS, "0005"))
def test_a_populated_workspace_upgrades_and_keeps_verifying(db_url: str, revision: str) -> None:
    if revision == "0005":
        build_0005_workspace(db_url)
    else:
        build_old_workspace(db_url, revision)
    upgraded = ogp(db_url, "init")
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stdout.startswith("Upgraded workspace ")
    assert f"from schema {revision} to {db.head_revision()}." in upgraded.stdout
    verified = ogp(db_url, "audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    checkpoints = 2 if revision == "0005" else 1
    assert (report["entries"], report["letters"], report["proposals"]) == (2 + checkpoints, 1, 1)
    history = json.loads(ogp(db_url, "history", "P-001", "--json").stdout)
    assert [e["event"] for e in history] == ["submit", "refer"]  # the old entries, as they were
    assert ogp(db_url, "letters", "verify").exit_code == 0

    # From the checkpoint on, every change replays; and what the checkpoint holds is guarded too.
    assert ogp(db_url, "advance", "P-001", "withdraw", "--reason", "انسحاب").exit_code == 0
    after = ogp(db_url, "audit", "verify")
    assert after.exit_code == 0, after.output
    engine = db.make_engine(db.resolve(db_url))
    with engine.begin() as connection:
        connection.execute(text("UPDATE proposals SET title = 'عنوان آخر'"))
    engine.dispose()
    broken = ogp(db_url, "audit", "verify")
    assert broken.exit_code == 1
    assert 'table proposals, row {"id":1}, field title: the chain says "فكرة", the table says "عنوان آخر"' in (
        broken.stderr
    )


def test_a_workspace_whose_old_chain_is_broken_is_not_upgraded(db_url: str) -> None:
    build_old_workspace(db_url, "0001")
    engine = db.make_engine(db.resolve(db_url))
    with Session(engine) as session, session.begin():
        drop_audit_guards(session)
        session.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 1"))
    engine.dispose()
    refused = ogp(db_url, "init")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: audit chain broken at entry #1: its hash or its link to the entry before does not hold; "
        "the workspace was not upgraded.\n"
    )
    assert "schema 0001" in ogp(db_url, "proposal", "list").stderr  # still as it was


def test_the_schema_head_constant_is_the_newest_migration() -> None:
    """`db.SCHEMA_HEAD` spares every command loading Alembic; it must name the newest migration."""
    from workflow.db import SCHEMA_HEAD, migrations_head

    assert migrations_head() == SCHEMA_HEAD
