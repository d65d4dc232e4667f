"""PostgreSQL roles: the database refuses what a role may not do, and names who wrote each entry."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from cli import cli
from tests.conftest import PostgresCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
_names = itertools.count(1)
CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


def ogp(url: str, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def shared(postgres: PostgresCluster) -> Iterator[dict[str, str]]:
    """A PostgreSQL workspace set up by its owner, and a login of each role."""
    with postgres.database() as owner_url:
        assert ogp(owner_url, "init").exit_code == 0
        roles = ogp(owner_url, "db", "roles")
        assert roles.exit_code == 0, roles.output
        assert ogp(owner_url, "db", "roles").exit_code == 0  # idempotent
        admin = create_engine(owner_url, isolation_level="AUTOCOMMIT")
        urls = {"owner": owner_url}
        n = next(_names)
        with admin.connect() as connection:
            for kind in ("coordinator", "member", "auditor"):
                login = f"{kind}_{n}"
                connection.execute(text(f"DROP ROLE IF EXISTS {login}"))
                connection.execute(text(f"CREATE ROLE {login} LOGIN IN ROLE ogp_{kind}"))
                urls[kind] = owner_url.replace("postgres@", f"{login}@", 1)
        admin.dispose()
        yield urls


def test_each_role_may_do_what_it_should_and_nothing_more(shared: dict[str, str]) -> None:
    coordinator, member, auditor = shared["coordinator"], shared["member"], shared["auditor"]
    assert ogp(coordinator, "entity", "add", "وزارة الصحة", "--code", "MOH").exit_code == 0
    assert ogp(coordinator, "member", "add", "ندى خاطر", "--org", "وزارة الاقتصاد الرقمي").exit_code == 0
    added = ogp(
        coordinator,
        "proposal",
        "add",
        "--ref",
        "P-1",
        "--title",
        "فكرة",
        "--org",
        "جهة",
        "--entity",
        "MOH",
        "--submitted-on",
        "2021-06-01",
    )
    assert added.exit_code == 0, added.output

    # A member scores, records interviews and conflicts, and reads; nothing else.
    assert ogp(member, "interview", "record", "P-1", "--on", "2021-07-28", "--member", "ندى خاطر").exit_code == 0
    for code in CRITERIA:
        assert ogp(member, "score", "P-1", "--member", "ندى خاطر", "--criterion", code, "--value", "4").exit_code == 0
    assert ogp(member, "proposal", "list").exit_code == 0
    refused = ogp(member, "advance", "P-1", "interview")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: the database refused the command (permission denied for table plans)")
    before = ogp(member, "proposal", "list", "--json").stdout
    head = ogp(member, "audit", "head").stdout
    refused = ogp(member, "proposal", "add", "--title", "أخرى", "--org", "جهة")
    assert refused.exit_code == 1 and "permission denied" in refused.stderr
    assert refused.stderr.endswith("; nothing was changed.\n")
    assert (ogp(member, "proposal", "list", "--json").stdout, ogp(member, "audit", "head").stdout) == (before, head)

    # An auditor reads only.
    assert ogp(auditor, "audit", "verify").exit_code == 0
    assert ogp(auditor, "ranking").exit_code == 0
    refused = ogp(auditor, "score", "P-1", "--member", "ندى خاطر", "--criterion", "importance", "--value", "5")
    assert refused.exit_code == 1 and "permission denied for table scores" in refused.stderr
    shown = ogp(auditor, "score", "list", "P-1", "--json")
    assert '"value": 4' in shown.stdout  # the refused score changed nothing

    # A coordinator moves proposals; the entry names the role the database authenticated.
    moved = ogp(coordinator, "--actor", "aya", "advance", "P-1", "interview")
    assert moved.exit_code == 0, moved.output
    history = ogp(auditor, "history", "P-1", "--json").stdout
    assert '"actor": "aya"' in history
    login = coordinator.split("://", 1)[1].split("@", 1)[0]
    assert f'"db_role": "{login}"' in history
    assert ogp(auditor, "audit", "verify").exit_code == 0


def test_no_role_can_change_the_audit_trail(shared: dict[str, str]) -> None:
    assert ogp(shared["coordinator"], "proposal", "add", "--title", "فكرة", "--org", "جهة").exit_code == 0
    for kind in ("coordinator", "member", "auditor"):
        engine = create_engine(shared[kind])
        for statement in (
            "UPDATE audit_entries SET actor = 'x'",
            "DELETE FROM audit_entries",
            "TRUNCATE audit_entries",
        ):
            with engine.connect() as connection, pytest.raises(Exception, match=r"permission denied|append-only"):
                connection.execute(text(statement))
        engine.dispose()
    assert ogp(shared["auditor"], "audit", "verify").stdout.startswith("Audit chain verified: 1 entries")


def test_a_forged_role_does_not_verify(shared: dict[str, str]) -> None:
    coordinator = shared["coordinator"]
    assert ogp(coordinator, "proposal", "add", "--title", "فكرة", "--org", "جهة").exit_code == 0
    engine = create_engine(coordinator)
    with engine.begin() as connection:  # a coordinator writes an entry claiming to be someone else
        connection.execute(
            text(
                "INSERT INTO audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state, to_state,"
                " reason, letters, prev_hash, hash, db_role) SELECT 2, at, actor, proposal_id, proposal_ref, 'note',"
                " to_state, to_state, '', '[]', hash, :h, 'ogp_auditor' FROM audit_entries WHERE seq = 1"
            ),
            {"h": "e" * 64},
        )
        role = connection.scalar(text("SELECT db_role FROM audit_entries WHERE seq = 2"))
    engine.dispose()
    assert role == coordinator.split("://", 1)[1].split("@", 1)[0]  # the database wrote who it really was
    broken = ogp(shared["auditor"], "audit", "verify")
    assert broken.exit_code == 1 and "audit chain broken at entry #2" in broken.stderr


def test_roles_need_postgresql(tmp_path: object) -> None:
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    result = CliRunner().invoke(cli, ["db", "roles"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: roles need a PostgreSQL workspace; a SQLite file has no database roles.\n",
    )
