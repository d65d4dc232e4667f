"""A throw-away PostgreSQL server for tests and benchmarks: initdb in a temporary folder, a Unix
socket there, trust authentication, stopped and removed at the end. Or an existing server, named
by OGP_TEST_PG_URL (an admin URL; databases are created and dropped on it)."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


class Unavailable(Exception):
    """No PostgreSQL server can be had here."""


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


class PostgresCluster:
    """A PostgreSQL server of our own, on a Unix socket in a temporary folder."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.folder: Path | None = None
        self.url_base = os.environ.get("OGP_TEST_PG_URL")  # an existing server, e.g. in CI
        self.reason = ""
        self._counter = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.url_base:
            return
        if self.bin is None:
            self.reason = "no PostgreSQL server: initdb not found (install the 'postgresql' package)"
            return
        self.folder = Path(tempfile.mkdtemp(prefix="ogp-pg-"))
        data = self.folder / "data"
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
            options = (
                f"-c listen_addresses='' -c unix_socket_directories={self.folder} -c fsync=off -c max_connections=60"
            )
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(self.folder / "log"), "start"
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, LookupError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            self.reason = f"could not start PostgreSQL: {exc} {detail.decode(errors='replace')[:300]}"
            return
        self.url_base = f"postgresql+psycopg://postgres@/postgres?host={self.folder}"

    def stop(self) -> None:
        if self.folder is None or self.bin is None:
            return
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        """A new database's URL, dropped afterwards: empty, or a copy of the database `template`
        (`CREATE DATABASE … TEMPLATE`: nobody may be connected to it meanwhile)."""
        if not self.url_base:
            raise Unavailable(self.reason)
        name = f"ogp_test_{os.getpid()}_{next(self._counter)}"
        admin = create_engine(self.url_base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            copied = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
