"""Writing documents to disk without ever leaving a half-written file under its final name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(folder: Path, name: str, content: bytes) -> Path:
    """Write `content` to `folder/name` via a temporary file and a rename; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.resolve().parent != folder.resolve():
        raise ValueError(f"file name {name!r} leaves the folder {folder}")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
