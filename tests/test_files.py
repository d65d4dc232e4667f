"""Files and folders: inputs are regular files read with a cap, and commands that only read work
on a read-only copy and never wait for a writer."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from cli import cli
from tests.helpers import cli_to_shortlisted, dump_tables
from tests.test_documents import PNG
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


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def add(ogp, ref: str = "P-1", org: str = "جهة") -> None:  # type: ignore[no-untyped-def]
    result = ogp("proposal", "add", "--ref", ref, "--title", f"فكرة {ref}", "--org", org, "--entity", "MODEE",
                 "--submitted-on", "2021-06-20")  # fmt: skip
    assert result.exit_code == 0, result.output


def test_inputs_that_are_not_regular_files_are_refused_without_hanging(
    ogp, workspace: Workspace, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    before = dump_tables(url_of(workspace))
    start = time.monotonic()
    for args, code, message in [
        (("proposal", "import", str(fifo)), 1, "  file: is a named pipe (FIFO), not a regular file\n"),
        (("score", "import", str(fifo)), 1, "  file: is a named pipe (FIFO), not a regular file\n"),
        (("proposal", "import", "/dev/zero"), 1, "  file: is a device, not a regular file\n"),
        (("score", "import", "/dev/zero"), 1, "  file: is a device, not a regular file\n"),
        (("proposal", "import", str(tmp_path)), 2, "is a directory"),
        (("init", "--logo", "/dev/zero"), 2, "Invalid value for '--logo': /dev/zero is a device, not a regular file"),
        (("init", "--logo", str(fifo)), 2, "is a named pipe (FIFO), not a regular file"),
        (("--db", str(fifo), "proposal", "list"), 1, "is not a regular file"),
        (("--db", "/dev/zero", "proposal", "list"), 1, "/dev/zero is not a regular file"),
    ]:
        result = ogp(*args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    assert time.monotonic() - start < 30
    assert dump_tables(url_of(workspace)) == before


def test_large_inputs_are_refused_before_they_are_read_whole(ogp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.png"
    with big.open("wb") as stream:
        stream.truncate(6 * 1024 * 1024)
    result = ogp("init", "--logo", str(big))
    assert result.exit_code == 2 and "is larger than 5 MB; at most that much is read" in result.stderr
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as stream:
        stream.truncate(51 * 1024 * 1024)
    result = ogp("proposal", "import", str(huge))
    assert result.exit_code == 1 and "file: is larger than 50 MB; at most that much is read" in result.stderr


@pytest.mark.parametrize(("width", "height"), [(0, 0), (0, 10), (10, 0), (20_000, 10)])
def test_an_empty_or_absurd_logo_is_refused(ogp, tmp_path: Path, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(width, height))
    result = ogp("init", "--logo", str(logo))
    assert result.exit_code == 2
    assert f"is not a PNG, JPEG, GIF or BMP image (it is {width}×{height} pixels" in result.stderr
    (tmp_path / "ok.png").write_bytes(PNG)
    assert ogp("init", "--logo", str(tmp_path / "ok.png")).exit_code == 0


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
