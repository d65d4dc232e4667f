"""Where letter templates come from: a coordinator's folder, read as text and only inside it, over
the defaults that ship with the program.

From the folder, a template (and anything it includes, imports or extends) must be named by a
plain relative path — no absolute name, no `..`, no backslash — and be a regular file inside the
folder: a symbolic link that leads out of it, a named pipe or a device is refused, never followed,
opened for reading or waited on. Templates are UTF-8 text of at most `MAX_TEMPLATE_BYTES` (a
site's folder: `MAX_SITE_FILE_BYTES`, for a stylesheet that embeds its fonts).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from jinja2 import BaseLoader, Environment, TemplateError, TemplateNotFound

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_SITE_FILE_BYTES = 8 * 1024 * 1024


class TemplateFileError(TemplateError):
    """A template file that cannot be used; the message names it and says why."""

    def __init__(self, name: str, problem: str) -> None:
        self.name, self.problem = name, problem
        super().__init__(f"{name}: {problem}")

    def __reduce__(self) -> tuple[type[TemplateFileError], tuple[str, str]]:
        return (type(self), (self.name, self.problem))


def check_name(name: str) -> list[str]:
    """The parts of a template name, if it names a file inside the folder; TemplateFileError if not."""
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or "\x00" in name or ":" in parts[0]:
        raise TemplateFileError(name, "a template may only name files inside the templates folder (no absolute name)")
    if any(part in ("", ".", "..") for part in parts):
        raise TemplateFileError(name, "a template may only name files inside the templates folder (no '..')")
    return parts


def read_template(path: Path, name: str, folder: Path, limit: int = MAX_TEMPLATE_BYTES) -> str:
    """The text of the template at `path`, after the checks in the module's docstring."""
    real = Path(os.path.realpath(path))
    if folder != real and folder not in real.parents:
        raise TemplateFileError(name, "is a link to a file outside the templates folder; copy the file in instead")
    try:
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise TemplateFileError(name, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise TemplateFileError(name, "is not a regular file")
        os.set_blocking(descriptor, True)
        data = b""
        while len(data) <= limit:
            chunk = os.read(descriptor, limit + 1 - len(data))
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise TemplateFileError(name, f"cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise TemplateFileError(name, f"is larger than {limit // 1024} kB; a template is not")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateFileError(
            name, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from exc


class FolderLoader(BaseLoader):
    """Templates from a coordinator's folder, read under the rules in the module's docstring."""

    def __init__(self, folder: Path, limit: int = MAX_TEMPLATE_BYTES, *, root: Path | None = None) -> None:
        """`folder` holds the templates; every file read must lie inside `root` (the templates
        folder `folder` is part of: a site's `site/` subfolder linked elsewhere leads out of it)."""
        self.folder = Path(os.path.realpath(folder))
        self.root = Path(os.path.realpath(root if root is not None else folder))
        self.limit = limit

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        parts = check_name(template)
        path = self.folder.joinpath(*parts)
        if not os.path.lexists(path):
            raise TemplateNotFound(template)
        text = read_template(path, template, self.root, self.limit)
        return text, str(path), lambda: False
