"""Alembic environment: runs on the connection the caller passes in `config.attributes`."""

from __future__ import annotations

from alembic import context

from workflow.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `ogp init` runs migrations
    raise RuntimeError("run migrations through 'ogp init', which passes a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
