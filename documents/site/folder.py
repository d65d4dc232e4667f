"""The site's folder on disk: refusing a folder that holds anything but an earlier site, writing a
publication beside it first, and swapping it in only once the publication is recorded.

A site folder is marked by `.ogp-site` and lists its files in `manifest.sha256` (the format
`sha256sum -c` reads). Publishing again replaces the files the earlier manifest lists, and only
those: a file someone added to the folder is never deleted.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

MANIFEST = "manifest.sha256"
MARKER = ".ogp-site"
MARKER_TEXT = (
    "Made by 'ogp publish'. The next 'ogp publish' here replaces the files manifest.sha256 lists, and no others.\n"
)
_MANIFEST_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")


class SiteFolderError(Exception):
    """The folder cannot take the site: a file, a foreign folder, not writable; or a swap failed."""


def manifest(files: dict[str, bytes]) -> bytes:
    """Every file of the site with its sha256, sorted by path, as `sha256sum -c` reads it."""
    lines = [f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())]
    return "".join(lines).encode("utf-8")


def listed(folder: Path) -> list[str]:
    """The paths an earlier site's manifest lists that stay inside `folder` (anything else ignored)."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    paths = []
    root = folder.resolve()
    for line in text.splitlines():
        match = _MANIFEST_LINE.match(line)
        if not match:
            continue
        path = match.group(2)
        parts = Path(path).parts
        if Path(path).is_absolute() or ".." in parts or not parts:
            continue
        if (root / path).resolve().parent.is_relative_to(root):
            paths.append(path)
    return paths


def is_site(folder: Path) -> bool:
    """Whether `folder` holds an earlier publication (its marker and its manifest, as regular files)."""
    return all((folder / name).is_file() and not (folder / name).is_symlink() for name in (MARKER, MANIFEST))


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def check_target(folder: Path) -> None:
    """Refuse a folder the site may not go to; raise `SiteFolderError` saying why."""
    if folder.exists() and not folder.is_dir():
        raise SiteFolderError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not is_site(folder):
        raise SiteFolderError(
            f"{folder} is not empty and holds no earlier site (no {MARKER} and {MANIFEST}); "
            "choose an empty or new folder"
        )
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise SiteFolderError(f"{ancestor} is a file, so {folder} cannot be made")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise SiteFolderError(f"cannot write to {ancestor} (permission denied)")


class Staging:
    """A publication's files written beside (or, for an earlier site, inside) the site's folder;
    `install` swaps them in, `discard` throws them away."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self.count = 0

    def write(self, files: dict[str, bytes]) -> bytes:
        """Write every file and the manifest into the staging folder; return the manifest's bytes."""
        if self.folder.is_dir():
            base = self.folder
        else:
            base = self.folder.parent
            base.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=".ogp-publishing-", dir=base))
        made: set[Path] = set()
        for relative, data in files.items():
            target = self.path / relative
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_bytes(data)
        listing = manifest(files)
        (self.path / MANIFEST).write_bytes(listing)
        (self.path / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        self.count = len(files)
        return listing

    def install(self) -> None:
        """Put the staged site in the folder: a new folder is the staging folder renamed; an earlier
        site has each file replaced, then the files only it listed removed."""
        staged = self.path
        if staged is None:
            return
        try:
            if not self.folder.exists():
                os.replace(staged, self.folder)
            else:
                self._replace_files(staged)
                shutil.rmtree(staged, ignore_errors=True)
        except OSError as exc:
            raise SiteFolderError(
                f"the new site could not be moved into {self.folder} ({exc.strerror or exc}); its files are in {staged}"
            ) from exc
        self.path = None

    def _replace_files(self, staged: Path) -> None:
        old = set(listed(self.folder))
        new = []
        for path in sorted(staged.rglob("*")):
            if path.is_file():
                new.append(path.relative_to(staged).as_posix())
        for relative in new:
            if relative in (MANIFEST, MARKER):
                continue
            target = self.folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged / relative, target)
        for relative in sorted(old - set(new)):
            target = self.folder / relative
            if target.is_file() and not target.is_symlink():
                target.unlink()
                _prune_empty(target.parent, self.folder)
        # The manifest last: until it is in place, the folder still reads as the earlier site.
        os.replace(staged / MARKER, self.folder / MARKER)
        os.replace(staged / MANIFEST, self.folder / MANIFEST)

    def discard(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def _prune_empty(folder: Path, top: Path) -> None:
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
