"""Moving a workspace from one database to another (SQLite to PostgreSQL, and back)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select, text
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
