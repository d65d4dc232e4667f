"""PostgreSQL roles: the database refuses what a role may not do, names who wrote each entry, and
holds a member's login to its own scores and conflicts; each bypass is refused with a clear
`Error:` and nothing changed."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from cli import cli
from states import Event
from tests.conftest import PostgresCluster
from workflow.moves import advance

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
_names = itertools.count(1)
CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")
NADA, MAY = "ندى خاطر", "مي عليمات"


def ogp(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert "Traceback" not in result.output
    return result


def login_of(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0]


def state(url: str) -> tuple[str, str]:
    """What a refused command must leave as it was: the proposals and the chain's head."""
    return ogp(url, "proposal", "list", "--json").stdout, ogp(url, "audit", "head").stdout


@pytest.fixture
def shared(postgres: PostgresCluster) -> Iterator[dict[str, str]]:
    """A PostgreSQL workspace set up by its owner, a login of each role, a second member's login,
    two members (Nada bound to the member login), and a proposal P-1 in `interviewed`."""
    with postgres.database() as owner_url:
        assert ogp(owner_url, "init", "--quorum", "1").exit_code == 0
        roles = ogp(owner_url, "db", "roles")
        assert roles.exit_code == 0, roles.output
        assert ogp(owner_url, "db", "roles").exit_code == 0  # idempotent
        admin = create_engine(owner_url, isolation_level="AUTOCOMMIT")
        urls = {"owner": owner_url}
        n = next(_names)
        with admin.connect() as connection:
            for kind, role in (("coordinator", "coordinator"), ("member", "member"), ("auditor", "auditor"),
                               ("unbound", "member")):  # fmt: skip
                login = f"{kind}_{n}"
                connection.execute(text(f"DROP ROLE IF EXISTS {login}"))
                connection.execute(text(f"CREATE ROLE {login} LOGIN IN ROLE ogp_{role}"))
                urls[kind] = owner_url.replace("postgres@", f"{login}@", 1)
        admin.dispose()
        coordinator = urls["coordinator"]
        assert ogp(coordinator, "entity", "add", "وزارة الصحة", "--code", "MOH").exit_code == 0
        bound = ogp(coordinator, "member", "add", NADA, "--org", "وزارة الاقتصاد الرقمي",
                    "--login", login_of(urls["member"]))  # fmt: skip
        assert bound.exit_code == 0, bound.output
        assert ogp(coordinator, "member", "add", MAY, "--org", "وحدة الحكومة الشفافة").exit_code == 0
        added = ogp(coordinator, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة",
                    "--entity", "MOH", "--submitted-on", "2021-06-01")  # fmt: skip
        assert added.exit_code == 0, added.output
        assert ogp(coordinator, "interview", "record", "P-1", "--on", "2021-07-28").exit_code == 0
        assert ogp(coordinator, "advance", "P-1", "interview").exit_code == 0
        yield urls


def test_each_role_may_do_what_it_should_and_nothing_more(shared: dict[str, str]) -> None:
    coordinator, member, auditor = shared["coordinator"], shared["member"], shared["auditor"]

    # A member's login scores as its own member, and reads.
    for code in CRITERIA:
        given = ogp(member, "score", "P-1", "--member", NADA, "--criterion", code, "--value", "4")
        assert given.exit_code == 0, given.output
    assert ogp(member, "proposal", "list").exit_code == 0
    before = state(member)
    refused = ogp(member, "advance", "P-1", "withdraw", "--reason", "x")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: the database refused the command (permission denied for table ")
    refused = ogp(member, "proposal", "add", "--title", "أخرى", "--org", "جهة")
    assert refused.exit_code == 1 and "permission denied" in refused.stderr
    assert refused.stderr.endswith("; nothing was changed.\n")
    refused = ogp(member, "interview", "record", "P-1", "--on", "2021-07-29")
    assert refused.exit_code == 1 and "permission denied" in refused.stderr
    assert state(member) == before

    # An auditor reads only.
    assert ogp(auditor, "audit", "verify").exit_code == 0
    assert ogp(auditor, "ranking").exit_code == 0
    refused = ogp(auditor, "score", "P-1", "--member", NADA, "--criterion", "importance", "--value", "5")
    assert refused.exit_code == 1 and "permission denied for table scores" in refused.stderr
    shown = ogp(auditor, "score", "list", "P-1", "--json")
    assert '"value": 4' in shown.stdout and '"value": 5' not in shown.stdout
    assert state(auditor) == before

    # A coordinator moves proposals; each entry names the login the database authenticated.
    moved = ogp(coordinator, "--actor", "aya", "advance", "P-1", "shortlist")
    assert moved.exit_code == 0, moved.output
    history = json.loads(ogp(auditor, "history", "P-1", "--json").stdout)
    assert (history[-1]["actor"], history[-1]["db_role"]) == ("aya", login_of(coordinator))
    assert {e["db_role"] for e in history if e["event"] == "score"} == {login_of(member)}
    assert ogp(auditor, "audit", "verify").exit_code == 0


def test_a_member_login_imports_its_own_scores_in_bulk_and_only_its_own(
    shared: dict[str, str], tmp_path: Path
) -> None:
    """The bulk path (rows written by one statement, entries by `ogp_append_entries`) holds under
    row-level security exactly as the one-score path does."""
    member, auditor = shared["member"], shared["auditor"]
    own = tmp_path / "own.csv"
    rows = "".join(f"P-1,{NADA},{c},4\n" for c in CRITERIA)
    own.write_text("proposal,member,criterion,value\n" + rows, encoding="utf-8")
    imported = ogp(member, "score", "import", str(own))
    assert (imported.exit_code, imported.stdout) == (0, "Imported 5 scores.\n"), imported.output
    before = state(member)
    other = tmp_path / "other.csv"
    other.write_text(f"proposal,member,criterion,value\nP-1,{MAY},importance,5\n", encoding="utf-8")
    refused = ogp(member, "score", "import", str(other))
    assert refused.exit_code == 1 and f"it cannot score as {MAY}" in refused.stderr, refused.output
    assert state(member) == before
    history = json.loads(ogp(auditor, "history", "P-1", "--json").stdout)
    assert [e["db_role"] for e in history if e["event"] == "score"] == [login_of(member)]
    assert ogp(auditor, "audit", "verify").exit_code == 0


def test_a_member_login_cannot_act_for_another_member(shared: dict[str, str]) -> None:
    member, unbound = shared["member"], shared["unbound"]
    before = state(member)
    refused = ogp(member, "score", "P-1", "--member", MAY, "--criterion", "importance", "--value", "5")
    assert (refused.exit_code, refused.stderr) == (
        1,
        f"Error: the database login {login_of(member)} acts for {NADA}; it cannot score as {MAY}. Nothing was changed.\n",
    )
    refused = ogp(member, "conflict", "declare", "--member", MAY, "--proposal", "P-1")
    assert refused.exit_code == 1 and f"it cannot declare a conflict as {MAY}" in refused.stderr
    refused = ogp(unbound, "score", "P-1", "--member", NADA, "--criterion", "importance", "--value", "5")
    assert refused.exit_code == 1
    assert f"the database login {login_of(unbound)} is a working group member's but is bound to no member" in (
        refused.stderr
    )
    assert state(member) == before

    # Straight to the database: row-level security holds the login to its own member's rows.
    engine = create_engine(member)
    with engine.connect() as connection:
        may = connection.scalar(text("SELECT id FROM members WHERE name = :n"), {"n": MAY})
        for statement in (
            "INSERT INTO scores (proposal_id, member_id, criterion_id, value, note, updated_at, updated_by)"
            " VALUES (1, :m, 1, 5, '', 'x', 'x')",
            "INSERT INTO score_changes (proposal_id, member_id, criterion_id, old_value, new_value, note, at, actor)"
            " VALUES (1, :m, 1, NULL, 5, '', '2020-01-01', 'someone else')",
            "INSERT INTO conflicts (member_id, proposal_id, reason, declared_at, declared_by, late)"
            " VALUES (:m, 1, '', 'x', 'x', false)",
        ):
            with pytest.raises(Exception, match="row-level security"):
                connection.execute(text(statement), {"m": may})
            connection.rollback()
        # Appending a step a member does not take is refused by the server's append function.
        with pytest.raises(Exception, match="may not record commit"):
            connection.execute(text("SELECT ogp_append_entry(1000, :b)"), {"b": json.dumps({"step": "commit"})})
        connection.rollback()
    engine.dispose()
    assert state(member) == before


def test_a_member_row_written_behind_the_chain_is_caught(shared: dict[str, str]) -> None:
    member = shared["member"]
    engine = create_engine(member)
    with engine.begin() as connection:  # the member's own row, with any actor and date, but no entry
        connection.execute(
            text(
                "INSERT INTO score_changes (proposal_id, member_id, criterion_id, old_value, new_value, note, at, actor)"
                " SELECT 1, id, 1, NULL, 5, '', '2020-01-01', 'someone else' FROM members WHERE login = :login"
            ),
            {"login": login_of(member)},
        )
    engine.dispose()
    broken = ogp(shared["auditor"], "audit", "verify")
    assert broken.exit_code == 1
    assert "table score_changes" in broken.stderr and "no entry wrote it" in broken.stderr


def test_no_role_can_change_or_write_the_audit_trail(shared: dict[str, str]) -> None:
    for kind in ("coordinator", "member", "auditor"):
        engine = create_engine(shared[kind])
        for statement in (
            "UPDATE audit_entries SET actor = 'x'",
            "DELETE FROM audit_entries",
            "TRUNCATE audit_entries",
            "INSERT INTO audit_entries (seq, at, actor, event, reason, letters, prev_hash, hash)"
            " VALUES (1000, 'x', 'x', 'x', '', '[]', 'x', 'x')",
        ):
            with engine.connect() as connection, pytest.raises(Exception, match=r"permission denied|append-only"):
                connection.execute(text(statement))
        engine.dispose()
    engine = create_engine(shared["auditor"])
    with engine.connect() as connection, pytest.raises(Exception, match="permission denied"):
        connection.execute(text("SELECT ogp_append_entry(1000, '{}')"))
    engine.dispose()
    assert ogp(shared["auditor"], "audit", "verify").exit_code == 0


def test_the_server_names_the_login_whatever_the_client_arranges(shared: dict[str, str]) -> None:
    coordinator = shared["coordinator"]
    engine = create_engine(coordinator)
    with engine.begin() as connection:
        # Objects of the caller's own, named like the catalog's, come first on its search_path…
        connection.execute(text("CREATE TEMP TABLE pg_tables (tablename text, schemaname text, tableowner text)"))
        connection.execute(text("INSERT INTO pg_tables VALUES ('audit_entries', 'public', current_user)"))
        connection.execute(text("SET search_path = pg_temp, public"))
        head = connection.execute(text("SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1")).one()
        body = json.dumps({"step": "configure_plan", "actor": "x", "proposal": None, "letters": []})
        connection.execute(text("SELECT ogp_append_entry(:seq, :body)"), {"seq": head.seq + 1, "body": body})
        role = connection.scalar(text("SELECT db_role FROM audit_entries WHERE seq = :s"), {"s": head.seq + 1})
    with engine.connect() as connection, pytest.raises(Exception, match="would not follow entry"):
        # …and a place in the chain it does not hold is refused.
        connection.execute(text("SELECT ogp_append_entry(:seq, :body)"), {"seq": head.seq + 5, "body": body})
    engine.dispose()
    assert role == login_of(coordinator)  # the server, not the client, named who wrote it
    broken = ogp(shared["auditor"], "audit", "verify")  # and a step that wrote nothing it says is caught
    assert broken.exit_code == 1 and "audit chain broken at entry" in broken.stderr


def test_scores_are_final_past_interviewed_for_every_role(shared: dict[str, str]) -> None:
    coordinator, owner = shared["coordinator"], shared["owner"]
    for code in CRITERIA:
        assert ogp(coordinator, "score", "P-1", "--member", MAY, "--criterion", code, "--value", "3").exit_code == 0
    assert ogp(coordinator, "advance", "P-1", "shortlist").exit_code == 0
    for url in (coordinator, owner):
        engine = create_engine(url)
        with engine.connect() as connection, pytest.raises(Exception, match="scores are final once a proposal"):
            connection.execute(text("UPDATE scores SET value = 5"))
        engine.dispose()
    refused = ogp(shared["member"], "score", "P-1", "--member", NADA, "--criterion", "importance", "--value", "5")
    assert refused.exit_code == 1
    assert (
        "Cannot score proposal P-1: it is 'shortlisted'; this is done only while it is interviewed." in refused.stderr
    )


def test_scoring_waits_for_the_record_lock_a_move_holds(shared: dict[str, str]) -> None:
    coordinator, member = shared["coordinator"], shared["member"]
    for code in CRITERIA:
        assert ogp(coordinator, "score", "P-1", "--member", MAY, "--criterion", code, "--value", "3").exit_code == 0
    engine = create_engine(coordinator)
    outcome: list[Result] = []
    with Session(engine) as session, session.begin():
        advance(session, "P-1", Event.SHORTLIST, actor="aya")  # holds the record's lock until commit
        scorer = threading.Thread(
            target=lambda: outcome.append(
                ogp(member, "score", "P-1", "--member", NADA, "--criterion", "importance", "--value", "5")
            )
        )
        scorer.start()
        scorer.join(timeout=2)
        assert scorer.is_alive() and not outcome  # the score waits: it cannot slip in before the shortlist
    scorer.join(timeout=30)
    engine.dispose()
    (result,) = outcome
    assert result.exit_code == 1
    assert "Cannot score proposal P-1: it is 'shortlisted'; this is done only while it is interviewed." in result.stderr


def test_roles_need_postgresql(tmp_path: object) -> None:
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    result = CliRunner().invoke(cli, ["db", "roles"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: roles need a PostgreSQL workspace; a SQLite file has no database roles.\n",
    )
