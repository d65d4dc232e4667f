"""Moving a workspace between SQLite and PostgreSQL with `ogp db copy`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from tests.conftest import PostgresCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_a_first_init_refused_leaves_no_workspace_behind(postgres: PostgresCluster, tmp_path: Path) -> None:
    """A refusal changes nothing: not even the empty schema the first init would have created."""
    with postgres.database() as url:
        for db in ("ws/deeper/ogp.db", url):
            code, _out, err = run("--db", db, "init", "--period", "1999-2099")
            assert (code, err) == (1, "Error: plan: period: '1999-2099' is 100 years; an OGP action plan runs at most 4\n")
            code, _out, err = run("--db", db, "proposal", "list")
            assert code == 1 and "init" in err, err  # no workspace there: the same answer as before the refusal
        assert not (tmp_path / "ws").exists()  # nor the folders made for it
        assert run("--db", url, "init")[0] == 0  # and a right one then works


def test_a_workspace_moves_to_postgresql_and_back_whole(postgres: PostgresCluster, tmp_path: Path) -> None:
    assert run("demo", "--dir", "demo")[0] == 0
    source = str(tmp_path / "demo" / "ogp.db")
    with postgres.database() as url:
        code, out, err = run("--db", source, "db", "copy", "--to", url)
        assert code == 0, err
        assert "Copied" in out and "(10 proposals, 35 letters)" in out
        assert "Audit chain verified there: 500 entries; head #500 " in out  # the last: the demo's implementation
        head = run("--db", source, "audit", "head")[1]
        assert run("--db", url, "audit", "head")[1] == head
        assert run("--db", url, "audit", "verify", "--expect-head", head.strip())[0] == 0
        for listing in (
            ("letters", "list", "--json"), ("proposal", "list", "--json"), ("ranking", "--all", "--json"),
            ("commitment", "list", "--json"), ("milestone", "list", "--json"),
        ):  # fmt: skip
            assert json.loads(run("--db", url, *listing)[1]) == json.loads(run("--db", source, *listing)[1])
        run("--db", source, "letters", "export", "from-sqlite")
        run("--db", url, "letters", "export", "from-postgres")
        for letter in (tmp_path / "from-sqlite").iterdir():
            assert (tmp_path / "from-postgres" / letter.name).read_bytes() == letter.read_bytes()

        # The copy works as a workspace: new rows get fresh ids, not the copied ones.
        added = run("--db", url, "proposal", "add", "--title", "فكرة جديدة", "--org", "جهة")
        assert added[1].startswith("Registered P-011 (#11)")

        refused = run("--db", source, "db", "copy", "--to", url)
        assert refused[0] == 1
        assert refused[2].startswith(
            "Error: the target database is not empty (it holds alembic_version, audit_entries, "
        )
        assert refused[2].endswith("; copy only into a new, empty database. Nothing was copied.\n")

        back = tmp_path / "back.db"
        assert run("--db", url, "db", "copy", "--to", str(back))[0] == 0
        assert run("--db", str(back), "audit", "verify")[1].startswith("Audit chain verified: 501 entries")


def test_copy_refuses_the_workspace_itself(tmp_path: Path) -> None:
    assert run("init")[0] == 0
    code, _, err = run("db", "copy", "--to", "ogp.db")
    assert code == 2
    assert "is the workspace itself" in err
