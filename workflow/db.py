"""Engines, workspaces and schema migrations. Opens no session: the caller owns the session."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session

from workflow.errors import AuditChainError, InvalidInputError, NoWorkspaceError, SchemaOutdatedError, WorkflowError
from workflow.inputs import home_expanded

log = logging.getLogger(__name__)

DEFAULT_DB = "ogp.db"
# How long a SQLite writer waits for another coordinator's write to finish before giving up.
BUSY_TIMEOUT_SECONDS = 30
MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Workspace:
    """Where a workspace lives: its database URL and the folder its letter files go to."""

    url: URL
    folder: Path

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def letters_dir(self) -> Path:
        return self.folder / "letters"

    def describe(self) -> str:
        """The database, for messages (without a password)."""
        if self.is_sqlite:
            return str(self.url.database)
        return self.url.render_as_string(hide_password=True)


def resolve(db: str | None, cwd: Path | None = None) -> Workspace:
    """Turn `--db` (a SQLAlchemy URL or a plain file path) into a Workspace."""
    cwd = cwd or Path.cwd()
    raw = db or DEFAULT_DB
    if "://" not in raw:
        return _sqlite_workspace(cwd / home_expanded(Path(raw)))
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise InvalidInputError("--db", "URL", f"not a database URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidInputError("--db", "URL", "an in-memory SQLite database keeps nothing")
        return _sqlite_workspace(cwd / url.database, url)
    if backend == "postgresql":
        # We ship psycopg 3; a bare postgresql:// URL would make SQLAlchemy look for psycopg2.
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return Workspace(url, cwd.resolve())
    raise InvalidInputError("--db", "URL", f"unsupported database {backend!r}: use SQLite or PostgreSQL")


# The first 16 bytes of every SQLite database file (sqlite.org/fileformat.html, 1.3).
SQLITE_HEADER = b"SQLite format 3\x00"


def _sqlite_workspace(path: Path, url: URL | None = None) -> Workspace:
    path = path.resolve()
    if path.is_dir():
        raise InvalidInputError("--db", "path", f"{path} is a folder; name a file in it, e.g. {path / DEFAULT_DB}")
    if path.exists() and not path.is_file():  # a named pipe or a device would hang or be read for ever
        raise InvalidInputError("--db", "path", f"{path} is not a regular file")
    if path.is_file():
        try:
            with path.open("rb") as stream:
                head = stream.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise InvalidInputError("--db", "path", f"{path} cannot be read ({exc.strerror})") from None
        if head and head != SQLITE_HEADER:  # an empty file is an empty database to SQLite
            raise InvalidInputError(
                "--db", "path", f"{path} is not a workspace: it is not a SQLite database (a CSV or another file?)"
            )
    return Workspace((url or URL.create("sqlite")).set(database=str(path)), path.parent)


def make_engine(workspace: Workspace, *, readonly: bool = False) -> Engine:
    """An engine for the workspace; for SQLite, with WAL, a busy timeout and BEGIN IMMEDIATE.

    With `readonly`, for commands that only read: on PostgreSQL a read-only transaction on one
    snapshot (REPEATABLE READ); on SQLite a deferred read transaction on a connection opened
    read-only, so the command neither waits for another command's write lock (readers never do
    in WAL mode) nor needs to write anything — it works on a read-only copy of a workspace too.
    """
    if not workspace.is_sqlite:
        if readonly:
            return create_engine(
                workspace.url,
                pool_pre_ping=True,
                isolation_level="REPEATABLE READ",
                execution_options={"postgresql_readonly": True},
            )
        return create_engine(workspace.url, pool_pre_ping=True)
    if readonly:
        path = str(workspace.url.database)
        engine = create_engine(workspace.url, creator=lambda: _open_readonly(path))
    else:
        engine = create_engine(workspace.url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not readonly:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front: two coordinators' read-then-write commands queue
        # up instead of both reading the same state and one failing (or losing) at commit.
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def _open_readonly(path: str) -> sqlite3.Connection:
    """A read-only connection to the SQLite file at `path`. Where the file or its folder cannot be
    written (a copy on a read-only drive), WAL's shared-memory file cannot be made either; the
    file is then opened as immutable, which no one can be changing."""
    uri = f"file:{quote(path)}"
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
            return connection
        except sqlite3.OperationalError:
            connection.close()
    except sqlite3.OperationalError:
        pass
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


# The schema revision this program needs: the newest file in workflow/migrations/versions/
# (tests/test_upgrades.py checks that they agree). A constant, so that opening a workspace does
# not load Alembic and scan the migrations folder on every command.
SCHEMA_HEAD = "0008"


def head_revision() -> str:
    """The schema revision this program needs (`SCHEMA_HEAD`)."""
    return SCHEMA_HEAD


def migrations_head() -> str | None:
    """The newest revision in the migrations folder, as Alembic finds it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def upgrade(
    engine: Engine, *, actor: str = "ogp init", then: Callable[[Session], None] | None = None
) -> tuple[str | None, str]:
    """Create or upgrade the schema to the newest revision; return (before, after).

    Upgrading a workspace first checks its chain's hashes (a broken chain is not carried forward),
    then migrates, then appends a checkpoint entry holding the record as it stood, so every later
    change replays (`ogp audit verify`). On SQLite, foreign keys are off while tables are rebuilt
    and checked once the migration is done. `then(session)` runs in the same transaction (`ogp
    init` sets the plan's settings there): if it raises, the upgrade is undone with it. Raises
    `AuditChainError` or `WorkflowError`, and whatever `then` raises.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        if sqlite:  # only outside a transaction does SQLite take this
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                versions = upgrade_on(connection, actor=actor)
                if then is not None:
                    from sqlalchemy.orm import Session

                    with Session(bind=connection) as session:
                        then(session)
                        session.flush()
                return versions
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade_on(connection: Connection, *, actor: str = "ogp init") -> tuple[str | None, str]:
    """`upgrade` inside the caller's transaction on `connection` (nothing is committed here)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.orm import Session

    from workflow import ledger  # the models and the ledger are needed only here, not to open a workspace

    config = _alembic_config()
    head = head_revision()
    before = MigrationContext.configure(connection).get_current_revision()
    if before is not None and before != head:
        audit_rows_check(connection)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise WorkflowError(
                f"the upgrade left {len(broken)} rows whose references do not hold "
                f"(first: table {broken[0][0]}, row {broken[0][1]}); nothing was changed."
            )
    if before is not None and before != head:
        with Session(bind=connection) as session:
            ledger.checkpoint(session, actor=actor, reason=f"schema {before} → {head}")
            session.flush()
    log.info("schema %s -> %s", before, head)
    return before, head


def audit_rows_check(connection: Connection) -> None:
    """Check the hash chain as the database holds it, whatever its schema revision: raise
    `AuditChainError` at the first entry whose hash or link does not hold."""
    from workflow.audit import GENESIS, recomputed_hash

    if not inspect(connection).has_table("audit_entries"):
        return
    table = Table("audit_entries", MetaData(), autoload_with=connection)
    previous, expected = GENESIS, 1
    for row in connection.execute(select(table).order_by(table.c.seq)):
        entry = SimpleNamespace(**row._mapping)
        for name in ("db_role", "body"):
            if not hasattr(entry, name):
                setattr(entry, name, None)
        if entry.seq != expected:
            raise AuditChainError(expected, f"it is missing (the next entry is #{entry.seq}): an entry was removed.")
        if entry.prev_hash != previous or recomputed_hash(entry) != entry.hash:  # type: ignore[arg-type]
            raise AuditChainError(
                entry.seq, "its hash or its link to the entry before does not hold; the workspace was not upgraded."
            )
        previous, expected = entry.hash, expected + 1


def holds_no_table(path: Path) -> bool:
    """Whether the SQLite file at `path` holds no table (an empty file a refused `init` made); a
    file that cannot be read as SQLite holds something."""
    try:
        with contextlib.closing(sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)) as connection:
            return not connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error:
        return False


def workspace_exists(workspace: Workspace) -> bool:
    """Whether the workspace's database file is there (always true for a server database)."""
    return not workspace.is_sqlite or Path(str(workspace.url.database)).exists()


def check_schema(workspace: Workspace, connection: Connection) -> None:
    """Refuse to go on unless the database holds a workspace at the current schema.

    Runs on the command's own connection, inside its one transaction; the caller checks
    `workspace_exists` before connecting, so a missing SQLite file is never created.
    """
    if not inspect(connection).has_table("alembic_version"):
        raise NoWorkspaceError(workspace.describe(), "the database has no ogp tables")
    current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = head_revision()
    if current != head:
        raise SchemaOutdatedError(workspace.describe(), current, head)
