"""Writing documents to disk without ever leaving a half-written file under its final name.

A document is written to a temporary `.partial-HOST-PID-….tmp` file in the same folder and renamed
into place. The file gets the permissions the user's umask gives a new file (a colleague or a
shared drive can open a letter), never follows a symbolic link standing where it is to be written,
and a temporary file that a crash left behind is removed when a command next writes to the folder.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

PARTIAL_PREFIX = ".partial-"
# A temporary file older than this was left by a crash (a document is written in milliseconds).
STALE_SECONDS = 3600


class UnsafeTargetError(OSError):
    """Something stands where a document is to be written that must not be written through."""

    def __init__(self, target: Path, problem: str) -> None:
        super().__init__(errno.EEXIST, problem, str(target))


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _host() -> str:
    return "".join(c for c in socket.gethostname() if c.isalnum() or c == "-")[:32] or "host"


def check_target(target: Path) -> None:
    """Refuse (`UnsafeTargetError`) to write `target` through a symbolic link, or over anything
    but a regular file."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise UnsafeTargetError(target, "is a symbolic link; refusing to write through it (remove it first)")
    if not stat.S_ISREG(mode):
        raise UnsafeTargetError(target, "exists and is not a regular file")


def clean_partials(folder: Path, *, now: float | None = None) -> list[Path]:
    """Remove the temporary files an interrupted write left in `folder`: those of a process of this
    host that no longer runs, and any older than `STALE_SECONDS`. Returns what was removed."""
    now = time.time() if now is None else now
    host = _host()
    removed: list[Path] = []
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(PARTIAL_PREFIX) and p.name.endswith(".tmp")]
    except OSError:
        return removed
    for path in candidates:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        parts = path.name[len(PARTIAL_PREFIX) :].split("-")
        dead = len(parts) >= 3 and "-".join(parts[:-2]) == host and parts[-2].isdigit() and not _alive(int(parts[-2]))
        if dead or now - info.st_mtime > STALE_SECONDS:
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


_CLEANED: set[Path] = set()  # folders this process has already cleaned of crashed writes


def write_atomic(folder: Path, name: str, content: bytes, *, exclusive: bool = False) -> Path:
    """Write `content` to `folder/name` via a temporary file and a rename; return the path.

    Raises `UnsafeTargetError` (an OSError) when a symbolic link or something other than a regular
    file stands at `folder/name` (with `exclusive`, when anything does), ValueError when `name`
    would leave `folder`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.parent.resolve() != folder.resolve() or name in ("", ".", ".."):
        raise ValueError(f"file name {name!r} leaves the folder {folder}")
    if exclusive and os.path.lexists(target):
        raise UnsafeTargetError(target, "already exists; refusing to replace a file this command did not write")
    check_target(target)
    if folder.resolve() not in _CLEANED:  # once per folder: exporting thousands of letters lists it once
        clean_partials(folder)
        _CLEANED.add(folder.resolve())
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f"{PARTIAL_PREFIX}{_host()}-{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fchmod(stream.fileno(), 0o666 & ~_umask())  # mkstemp makes it 0600
            os.fsync(stream.fileno())
        check_target(target)  # again: a link may have been put there meanwhile
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# Fewer documents than this are each flushed with fsync: `os.sync` flushes every filesystem of the
# machine, worth it for a batch's letters, not for a move's two.
SYNC_AT = 16


def write_all_atomic(folder: Path, documents: Iterable[tuple[str, bytes]]) -> list[Path]:
    """Write many (name, content) documents into `folder` as `write_atomic` writes one, with one
    flush to disk for all of them rather than one each (on Linux, from `SYNC_AT` documents:
    `os.sync` once the temporary files are written, then every rename; after a crash each name
    holds its old file or the new one, whole). Unlike fsync, `os.sync` reports no error of the
    disk's: the documents this writes are copies of what the workspace holds (`letters verify`
    finds one that differs, `letters export` writes it again). Returns the paths in the order
    given; raises as `write_atomic` does, having renamed nothing if a name or a target is refused,
    or only earlier documents if a rename fails. The caller bounds how many are held at once."""
    documents = list(documents)
    if len(documents) < SYNC_AT or sys.platform != "linux":  # elsewhere, sync() may only schedule the writes
        return [write_atomic(folder, name, content) for name, content in documents]
    folder.mkdir(parents=True, exist_ok=True)
    here = folder.resolve()
    targets = []
    for name, _ in documents:
        target = folder / name
        if target.parent.resolve() != here or name in ("", ".", ".."):
            raise ValueError(f"file name {name!r} leaves the folder {folder}")
        check_target(target)
        targets.append(target)
    if here not in _CLEANED:
        clean_partials(folder)
        _CLEANED.add(here)
    mode, written, renamed = 0o666 & ~_umask(), [], 0
    try:
        host = _host()
        for _, content in documents:
            handle, temporary = tempfile.mkstemp(
                dir=folder, prefix=f"{PARTIAL_PREFIX}{host}-{os.getpid()}-", suffix=".tmp"
            )
            written.append(temporary)
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                os.fchmod(stream.fileno(), mode)  # mkstemp makes it 0600
        os.sync()
        for temporary, target in zip(written, targets, strict=True):
            check_target(target)  # again: a link may have been put there meanwhile
            os.replace(temporary, target)
            renamed += 1
    finally:
        for temporary in written[renamed:]:  # not renamed: an error stopped the writing
            Path(temporary).unlink(missing_ok=True)
    return targets
