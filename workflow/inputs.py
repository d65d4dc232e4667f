"""Reading the files a coordinator names as input (import files, a logo): regular files only,
opened so that a named pipe or a device never makes a command hang, and read with a size cap so
that `/dev/zero` or a huge file cannot exhaust memory."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from workflow.errors import InputFileError

MEGABYTE = 1024 * 1024


def home_expanded(path: Path) -> Path:
    """`path` with a leading `~` or `~user` expanded as a shell would; where there is no such user
    (`~0`, a file a proposer named so) or no home, the name is kept as typed, relative like any
    other (`Path.expanduser` raises RuntimeError there)."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


def file_kind(mode: int) -> str:
    """What a file of this `st_mode` is, in words: "a folder", "a named pipe (FIFO)", "a device", …."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_input(path: Path, *, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    Raises `InputFileError` naming the path when it does not exist, is a folder, a named pipe,
    a device or a socket, cannot be read, or is larger than `limit` bytes. The file is opened
    without blocking and checked before a byte is read.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError as exc:
        raise InputFileError(path, what, "is a folder, not a file") from exc
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO opened for writing
            raise InputFileError(path, what, "is not a regular file") from exc
        raise InputFileError(path, what, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise InputFileError(path, what, f"is {file_kind(mode)}, not a regular file")
        os.set_blocking(descriptor, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(MEGABYTE, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputFileError(path, what, f"cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(descriptor)
    if size > limit:
        raise InputFileError(path, what, f"is larger than {_size(limit)}; at most that much is read")
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit // MEGABYTE} MB" if limit >= MEGABYTE else f"{limit // 1024} kB"
