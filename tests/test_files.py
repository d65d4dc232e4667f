"""Commands that only read work on a read-only copy of a workspace and never wait for a writer."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from cli import cli
from tests.helpers import cli_to_shortlisted
from workflow.db import Workspace


@pytest.fixture
def ogp(runner: CliRunner) -> object:
    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result

    return invoke


def url_of(workspace: Workspace) -> str:
    return workspace.url.render_as_string(hide_password=False)


def add(ogp, ref: str = "P-1", org: str = "جهة") -> None:  # type: ignore[no-untyped-def]
    result = ogp("proposal", "add", "--ref", ref, "--title", f"فكرة {ref}", "--org", org, "--entity", "MODEE",
                 "--submitted-on", "2021-06-20")  # fmt: skip
    assert result.exit_code == 0, result.output


READ_ONLY_COMMANDS = [
    ("proposal", "list"), ("proposal", "show", "P-1"), ("history", "P-1"), ("audit", "verify"),
    ("letters", "verify"), ("ranking", "--all"), ("letters", "list"), ("member", "list"), ("audit", "head"),
]  # fmt: skip


def _populated(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp)
    cli_to_shortlisted(ogp, "P-1")
    assert ogp("advance", "P-1", "refer").exit_code == 0


def test_commands_that_read_do_not_wait_for_a_writer(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    _populated(ogp, workspace)
    if workspace.is_sqlite:
        holder = sqlite3.connect(str(workspace.url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another command's write lock, held
        release = holder.rollback
    else:
        engine = create_engine(workspace.url)
        connection = engine.connect()
        connection.execute(text("SELECT id FROM plans FOR UPDATE"))  # what a move holds
        connection.execute(text("LOCK TABLE proposals IN EXCLUSIVE MODE"))

        def release() -> None:
            connection.rollback()
            connection.close()
            engine.dispose()

    try:
        for command in READ_ONLY_COMMANDS:
            start = time.monotonic()
            result = ogp(*command)
            assert result.exit_code == 0, (command, result.output)
            assert time.monotonic() - start < 10, command  # a writer would wait up to 30 s
    finally:
        release()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` and its files made read-only, in a way that holds even for root (chattr +i)."""
    paths = [*folder.iterdir(), folder]
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(0o755 if path.is_dir() else 0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: a read-only copy cannot be made here")
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True)
    if done.returncode:
        pytest.skip(f"running as root and chattr +i is not allowed here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


def test_commands_that_read_work_on_a_read_only_copy(tmp_path: Path) -> None:
    runner = CliRunner()

    def ogp(*args: str) -> Result:
        return runner.invoke(cli, list(args))

    source = tmp_path / "ws" / "ogp.db"
    assert ogp("--db", str(source), "init").exit_code == 0
    assert ogp("--db", str(source), "entity", "add", "وزارة", "--code", "MODEE").exit_code == 0

    def on_source(*args: str) -> Result:
        return ogp("--db", str(source), *args)

    _populated(on_source, None)  # type: ignore[arg-type]
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(source, copy / "ogp.db")
    expected = {command: on_source(*command).stdout for command in READ_ONLY_COMMANDS if command[0] != "letters"}
    with read_only(copy):
        for command in READ_ONLY_COMMANDS:
            result = ogp("--db", str(copy / "ogp.db"), *command)
            assert "Traceback" not in result.output
            assert result.exit_code == 0, (command, result.output)
            if command in expected:
                assert result.stdout == expected[command], command
        refused = ogp("--db", str(copy / "ogp.db"), "member", "add", "عضو", "--org", "جهة")
        assert refused.exit_code == 1 and refused.stderr.startswith("Error: the database refused the command (")
    assert sorted(p.name for p in copy.iterdir()) == ["ogp.db"]
