"""Moving a workspace from one database to another (SQLite to PostgreSQL, and back)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from workflow import replay
from workflow.errors import WorkflowError
from workflow.models import Base

BATCH = 500


@dataclass(frozen=True)
class CopyReport:
    """What was copied, and the chain as verified on arrival."""

    rows: dict[str, int]
    chain: replay.ChainReport


def ensure_empty(connection: Connection) -> None:
    """Refuse (WorkflowError) a copy target that holds anything at all: a table, view or sequence in
    any schema — a workspace, or a foreign database that happens to be there. Call it before
    creating the schema there, so that a refused copy leaves the target untouched."""
    if connection.dialect.name == "sqlite":
        query = (
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND substr(name, 1, 7) <> 'sqlite_' "
            "ORDER BY name"
        )
    else:
        query = (
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_' "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY c.relname"
        )
    names = list(connection.execute(text(query)).scalars())
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise WorkflowError(
            f"the target database is not empty (it holds {shown}); "
            "copy only into a new, empty database. Nothing was copied."
        )


def copy_workspace(source: Session, target: Session) -> CopyReport:
    """Copy every row of every table, letters' bytes included, into an empty target whose schema is
    current; verify the audit chain there before the caller commits. Refuses a non-empty target."""
    tables = Base.metadata.sorted_tables  # parents before children
    for table in tables:
        if target.scalar(select(func.count()).select_from(table)):
            raise WorkflowError(
                f"the target database is not empty (its table {table.name} has rows); "
                "copy only into a new, empty database. Nothing was copied."
            )
    postgresql = target.get_bind().dialect.name == "postgresql"
    if postgresql:  # scores arrive for proposals already decided: the guard is for changes, not copies
        target.execute(text("ALTER TABLE scores DISABLE TRIGGER scores_while_interviewed"))
    counts: dict[str, int] = {}
    for table in tables:
        counts[table.name] = 0
        result = source.execute(select(table).order_by(*table.primary_key.columns))
        while batch := result.mappings().fetchmany(BATCH):
            target.execute(insert(table), [dict(row) for row in batch])
            counts[table.name] += len(batch)
    if postgresql:
        target.execute(text("ALTER TABLE scores ENABLE TRIGGER scores_while_interviewed"))
        # Rows came with their ids: move each id sequence past them, or the next insert collides.
        for table in tables:
            column = table.c.get("id")
            if column is not None and column.autoincrement in (True, "auto") and column.primary_key:
                target.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                    )
                )
    target.flush()
    chain = replay.verify(target)
    return CopyReport(counts, chain)
