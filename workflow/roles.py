"""PostgreSQL roles for a shared workspace: what coordinators, working group members and auditors
may do, enforced by the database itself."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from workflow.errors import WorkflowError
from workflow.models import Base

COORDINATOR, MEMBER, AUDITOR = "ogp_coordinator", "ogp_member", "ogp_auditor"
# What a working group member writes: scores (and their history), interviews, conflicts.
MEMBER_WRITES = {
    "scores": "INSERT, UPDATE",
    "score_changes": "INSERT",
    "interviews": "INSERT",
    "interview_members": "INSERT",
    "conflicts": "INSERT",
}
APPEND_ONLY = ("audit_entries",)


@dataclass(frozen=True)
class RoleReport:
    roles: tuple[str, ...]
    created: tuple[str, ...]


def create_roles(session: Session) -> RoleReport:
    """Create (or bring up to date) the three roles and their grants. Idempotent."""
    if session.get_bind().dialect.name != "postgresql":
        raise WorkflowError("roles need a PostgreSQL workspace; a SQLite file has no database roles.")
    created = []
    for role in (COORDINATOR, MEMBER, AUDITOR):
        exists = session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
        if not exists:
            session.execute(text(f"CREATE ROLE {role} NOLOGIN"))
            created.append(role)
    tables = [table.name for table in Base.metadata.sorted_tables] + ["alembic_version"]
    everyone = f"{COORDINATOR}, {MEMBER}, {AUDITOR}"
    statements = [f"GRANT USAGE ON SCHEMA public TO {everyone}"]
    for table in tables:
        statements.append(f"REVOKE ALL ON {table} FROM PUBLIC, {everyone}")
        statements.append(f"GRANT SELECT ON {table} TO {everyone}")
        if table in APPEND_ONLY:
            statements.append(f"GRANT INSERT ON {table} TO {COORDINATOR}")
        elif table != "alembic_version":
            statements.append(f"GRANT INSERT, UPDATE, DELETE ON {table} TO {COORDINATOR}")
    for table, privileges in MEMBER_WRITES.items():
        statements.append(f"GRANT {privileges} ON {table} TO {MEMBER}")
    statements.append(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {COORDINATOR}")
    for table in MEMBER_WRITES:
        if table in ("scores", "score_changes", "interviews", "conflicts"):
            statements.append(f"GRANT USAGE ON SEQUENCE {table}_id_seq TO {MEMBER}")
    for statement in statements:
        session.execute(text(statement))
    return RoleReport((COORDINATOR, MEMBER, AUDITOR), tuple(created))
