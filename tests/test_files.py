"""Files and folders: links are not written through, inputs are regular files read with a cap,
files get the user's umask, crashed writes are cleaned up, and commands that only read work on a
read-only copy and never wait for a writer."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import stat
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
from documents.files import SYNC_AT, clean_partials, write_all_atomic, write_atomic
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


def test_a_link_where_a_letter_is_to_be_written_is_refused_and_the_move_still_counts(
    ogp,
    workspace: Workspace,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    add(ogp)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    workspace.letters_dir.mkdir()
    name = f"P-1_rejection_جهة_{dt.date.today().year}-0001.docx"
    (workspace.letters_dir / name).symlink_to(victim)
    moved = ogp("advance", "P-1", "reject", "--reason", "خارج الصلاحيات")
    assert moved.exit_code == 0  # the move happened: its letter is in the workspace
    assert re.fullmatch(r"P-1: submitted → rejected \(audit #\d+\)\n", moved.stdout), moved.stdout
    assert moved.stderr == (
        f"Warning: this was saved, but its letters could not be written to {workspace.letters_dir} "
        f"({workspace.letters_dir / name}: is a symbolic link; refusing to write through it (remove it first)); "
        "their bytes are kept in the workspace: run 'ogp letters export DIR' to write them.\n"
    )
    assert victim.read_text() == "untouched"
    exported = ogp("letters", "export", str(tmp_path / "out"))
    assert exported.exit_code == 0
    # Exports, minutes and templates are not written through a link either.
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / name).symlink_to(victim)
    refused = ogp("letters", "export", str(tmp_path / "out2"))
    assert refused.exit_code == 1 and "is a symbolic link; refusing to write through it" in refused.stderr
    (tmp_path / "export.csv").symlink_to(victim)
    refused = ogp("proposal", "export", str(tmp_path / "export.csv"))
    assert refused.exit_code == 1 and "is a symbolic link" in refused.stderr
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "referral.ar.j2").symlink_to(victim)
    refused = ogp("templates", "export", str(tmp_path / "tpl"), "--force")
    assert refused.exit_code == 1 and "referral.ar.j2: is a symbolic link" in refused.stderr
    assert victim.read_text() == "untouched"


def test_a_letter_that_cannot_be_written_warns_and_exits_0(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp)
    workspace.letters_dir.write_text("a file where the letters folder should be")
    moved = ogp("advance", "P-1", "withdraw", "--reason", "انسحاب")  # writes no letter: nothing to warn about
    assert (moved.exit_code, moved.stderr) == (0, "")
    add(ogp, "P-2")
    moved = ogp("advance", "P-2", "reject", "--reason", "سبب")
    assert moved.exit_code == 0
    assert moved.stderr.startswith("Warning: this was saved, but its letters could not be written to ")
    assert "run 'ogp letters export DIR' to write them." in moved.stderr
    assert json.loads(ogp("proposal", "show", "P-2", "--json").stdout)["state"] == "rejected"
    # A batch writes its letters from the workspace after the commit: the same warning, exit 0.
    add(ogp, "P-3")
    add(ogp, "P-4")
    moved = ogp("advance", "P-3", "P-4", "reject", "--reason", "سبب")
    assert moved.exit_code == 0, moved.output
    assert moved.stderr.startswith("Warning: this was saved, but its letters could not be written to ")
    # The summary does not say "0 letters written" as if there had been none.
    assert moved.stdout.splitlines()[-1] == (
        f"Moved 2 of 2 by 'reject'; 2 letters saved in the workspace but not all written to {workspace.letters_dir}."
    )
    assert [json.loads(ogp("proposal", "show", ref, "--json").stdout)["state"] for ref in ("P-3", "P-4")] == [
        "rejected", "rejected"
    ]  # fmt: skip


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_files_get_the_users_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        path = write_atomic(tmp_path / "letters", "a.docx", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_letters_from_a_move_are_readable_by_colleagues(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    add(ogp)
    old = os.umask(0o022)
    try:
        assert ogp("advance", "P-1", "reject", "--reason", "سبب").exit_code == 0
    finally:
        os.umask(old)
    (letter,) = workspace.letters_dir.iterdir()
    assert stat.S_IMODE(letter.stat().st_mode) == 0o644


def test_partial_files_left_by_a_crash_are_cleaned(tmp_path: Path) -> None:
    folder = tmp_path / "letters"
    folder.mkdir()
    host = "".join(c for c in os.uname().nodename if c.isalnum() or c == "-")[:32] or "host"
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead = finished.pid  # a process of this host that no longer runs
    crashed = folder / f".partial-{host}-{dead}-abc.tmp"
    crashed.write_bytes(b"half a letter")
    old = folder / ".partial-otherhost-1-def.tmp"
    old.write_bytes(b"older than an hour")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    running = folder / f".partial-{host}-{os.getpid()}-ghi.tmp"
    running.write_bytes(b"being written right now")
    write_atomic(folder, "letter.docx", b"x")
    assert sorted(p.name for p in folder.iterdir()) == sorted(["letter.docx", running.name])
    assert clean_partials(folder, now=time.time() + 7200) == [running]


def test_inputs_that_are_not_regular_files_are_refused_without_hanging(
    ogp,
    workspace: Workspace,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    before = dump_tables(url_of(workspace))
    start = time.monotonic()
    for args, code, message in [
        # Every file given as input is checked alike before anything is opened: bad usage, exit 2.
        (("proposal", "import", str(fifo)), 2, f"Invalid value for 'FILE': {fifo} is a named pipe (FIFO), not a regular file\n"),
        (("score", "import", str(fifo)), 2, "is a named pipe (FIFO), not a regular file\n"),
        (("interview", "import", str(fifo)), 2, "is a named pipe (FIFO), not a regular file\n"),
        (("response", "import", "/dev/zero"), 2, "Invalid value for 'FILE': /dev/zero is a device, not a regular file\n"),
        (("proposal", "import", "/dev/zero"), 2, "/dev/zero is a device, not a regular file\n"),
        (("advance", "--from-file", str(fifo), "reject"), 2, "is a named pipe (FIFO), not a regular file\n"),
        (("proposal", "import", str(tmp_path)), 2, "is a directory"),
        (("score", "import", str(tmp_path)), 2, "is a directory"),
        (("init", "--logo", "/dev/zero"), 2, "Invalid value for '--logo': /dev/zero is a device, not a regular file"),
        (("init", "--logo", str(fifo)), 2, "is a named pipe (FIFO), not a regular file"),
        # A --db that cannot name a workspace is bad usage too (it was exit 1).
        (("--db", str(fifo), "proposal", "list"), 2, "Invalid value for '--db': path: "),
        (("--db", "/dev/zero", "proposal", "list"), 2, "/dev/zero is not a regular file"),
        (("--db", str(tmp_path), "proposal", "list"), 2, "is a folder; name a file in it"),
        (("--db", "mysql://h/x", "proposal", "list"), 2, "unsupported database 'mysql'"),
        (("--db", "sqlite://", "status"), 2, "an in-memory SQLite database keeps nothing"),
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


def test_a_tilde_name_with_no_such_user_is_a_file_name_not_a_crash(
    ogp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """`~0` or `~nosuchuser/…` (a name a proposer or a coordinator typed) is kept as typed, a
    relative name, where Path.expanduser would raise RuntimeError (found by the hostile run)."""
    from workflow.errors import InvalidInputError
    from workflow.progress import evidence_from

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInputError, match=r"--evidence: cannot read ~0: No such file or directory"):
        evidence_from("~0", "milestone M1")
    (tmp_path / "~0").write_bytes(b"%PDF-1.4 evidence")
    assert evidence_from("~0", "milestone M1").content == b"%PDF-1.4 evidence"
    listed = ogp("--db", "~no-such-user-here/ogp.db", "proposal", "list")
    assert listed.exit_code == 1 and "Traceback" not in listed.output
    assert "~no-such-user-here/ogp.db" in listed.stderr


def test_a_tilde_in_an_input_file_and_evidence_that_is_no_file(
    ogp, workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """`--logo=~/x.png` and `proposal import ~/p.csv` reach the program with their `~` (a shell
    expands it only after a space): it is the home folder, as for --db and --evidence. Evidence
    that is a folder, a pipe or a NUL is bad usage (exit 2), as every input file is."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "p.csv").write_text("title,organization\nفكرة,جهة\n", encoding="utf-8")
    assert ogp("proposal", "import", "~/p.csv").stdout == "Imported 1 proposal: P-001\n"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    before = dump_tables(url_of(workspace))
    for evidence, message in ((str(fifo), "is a named pipe (FIFO), not a regular file"),
                              (str(tmp_path), "is a directory"), ("\0", "is not a file name"),
                              ("\ud800", "is not a file name")):  # fmt: skip
        refused = ogp("progress", "record", "M1", "--percent", "10", "--note", "x", "--by", "government",
                      "--evidence", evidence)  # fmt: skip
        assert refused.exit_code == 2 and message in refused.stderr, refused.output
    assert dump_tables(url_of(workspace)) == before


def test_many_documents_are_written_whole_with_one_flush_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's letters (issue 13): one `os.sync` for all of them, not an fsync each; each file
    whole under its name with the umask's permissions; a refused name or target renames nothing
    and leaves no temporary file behind."""
    synced: list[int] = []
    real_sync = os.sync
    monkeypatch.setattr(os, "sync", lambda: (synced.append(1), real_sync())[1])
    monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("one fsync a file"))
    documents = [(f"letter-{n}.docx", bytes([n]) * (n + 1)) for n in range(30)]
    old = os.umask(0o027)
    try:
        paths = write_all_atomic(tmp_path, documents)
    finally:
        os.umask(old)
    assert paths == [tmp_path / name for name, _ in documents] and synced == [1]
    assert [p.read_bytes() for p in paths] == [content for _, content in documents]
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o640}
    (tmp_path / "elsewhere.docx").write_bytes(b"x")
    (tmp_path / "linked.docx").symlink_to(tmp_path / "elsewhere.docx")
    for refused, error in (("linked.docx", OSError), ("../out.docx", ValueError)):
        many = [(f"new-{n}.docx", b"1") for n in range(SYNC_AT)]
        with pytest.raises(error):
            write_all_atomic(tmp_path, [*many, (refused, b"2")])
        assert not (tmp_path / "new-1.docx").exists() and (tmp_path / "elsewhere.docx").read_bytes() == b"x"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial-")]
    assert not (tmp_path.parent / "out.docx").exists()
    # A move's two letters: an fsync each, not a flush of every filesystem of the machine.
    fsynced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: fsynced.append(fd))
    few = write_all_atomic(tmp_path / "few", [("a.docx", b"a"), ("b.docx", b"b")])
    assert [p.read_bytes() for p in few] == [b"a", b"b"] and len(fsynced) == 2 and synced == [1]
