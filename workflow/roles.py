"""PostgreSQL roles for a shared workspace: what coordinators, working group members and auditors
may do, enforced by the database itself.

- Every role reads everything. No role may INSERT, UPDATE, DELETE or TRUNCATE the audit trail:
  entries are appended only through the server's `ogp_append_entry` (migration 0005), which numbers,
  stamps, chains and hashes them and names the login that wrote them.
- `ogp_coordinator` writes the record.
- `ogp_member` writes only scores, their history and conflict declarations, and row-level security
  holds each member's login (`ogp member add … --login`) to its own member's rows, and scores to
  proposals in `interviewed`; a trigger refuses score changes past `interviewed` for every role.
- `ogp_auditor` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from workflow.errors import WorkflowError
from workflow.models import Base, Member

COORDINATOR, MEMBER, AUDITOR = "ogp_coordinator", "ogp_member", "ogp_auditor"
# What a working group member writes, and the row-level rule each of its rows must satisfy.
OWN_MEMBER = "member_id = (SELECT m.id FROM members m WHERE m.login = session_user)"
WHILE_INTERVIEWED = "(SELECT p.state FROM proposals p WHERE p.id = proposal_id) = 'interviewed'"
MEMBER_WRITES: dict[str, tuple[str, str]] = {
    "scores": ("INSERT, UPDATE, DELETE", f"{OWN_MEMBER} AND {WHILE_INTERVIEWED}"),
    "score_changes": ("INSERT", f"{OWN_MEMBER} AND {WHILE_INTERVIEWED}"),
    "conflicts": ("INSERT", OWN_MEMBER),
}
APPEND_ONLY = ("audit_entries",)


@dataclass(frozen=True)
class RoleReport:
    roles: tuple[str, ...]
    created: tuple[str, ...]


def create_roles(session: Session) -> RoleReport:
    """Create (or bring up to date) the three roles, their grants and row-level policies. Idempotent.

    Raises `WorkflowError` on SQLite, which has no roles.
    """
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
        if table not in APPEND_ONLY and table != "alembic_version":
            statements.append(f"GRANT INSERT, UPDATE, DELETE ON {table} TO {COORDINATOR}")
    statements.append(f"REVOKE ALL ON FUNCTION ogp_append_entry(integer, text) FROM PUBLIC, {everyone}")
    statements.append(f"GRANT EXECUTE ON FUNCTION ogp_append_entry(integer, text) TO {COORDINATOR}, {MEMBER}")
    statements.append(f"REVOKE ALL ON FUNCTION ogp_append_entries(integer, text[]) FROM PUBLIC, {everyone}")
    statements.append(f"GRANT EXECUTE ON FUNCTION ogp_append_entries(integer, text[]) TO {COORDINATOR}, {MEMBER}")
    statements.append(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {COORDINATOR}")
    for table, (privileges, rule) in MEMBER_WRITES.items():
        statements += [
            f"GRANT {privileges} ON {table} TO {MEMBER}",
            f"GRANT USAGE ON SEQUENCE {table}_id_seq TO {MEMBER}",
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS ogp_read ON {table}",
            f"CREATE POLICY ogp_read ON {table} FOR SELECT USING (true)",
            f"DROP POLICY IF EXISTS ogp_coordinator_writes ON {table}",
            f"CREATE POLICY ogp_coordinator_writes ON {table} FOR ALL TO {COORDINATOR} USING (true) WITH CHECK (true)",
            f"DROP POLICY IF EXISTS ogp_member_writes_own ON {table}",
            f"CREATE POLICY ogp_member_writes_own ON {table} FOR ALL TO {MEMBER} USING ({rule}) WITH CHECK ({rule})",
        ]
    for statement in statements:
        session.execute(text(statement))
    return RoleReport((COORDINATOR, MEMBER, AUDITOR), tuple(created))


def member_login(session: Session) -> tuple[bool, Member | None]:
    """(whether this database login acts as a working group member, the member it is bound to).

    Only a PostgreSQL login in `ogp_member` (and not a coordinator or the workspace's owner) acts
    as a member; on SQLite nobody does.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False, None
    is_member = session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :member)"
            " AND pg_catalog.pg_has_role(session_user, :member, 'MEMBER')"
            " AND NOT pg_catalog.pg_has_role(session_user, :coordinator, 'MEMBER')"
            " AND NOT pg_catalog.pg_has_role(session_user,"
            " (SELECT tableowner FROM pg_catalog.pg_tables WHERE tablename = 'audit_entries'"
            "  AND schemaname = current_schema()), 'MEMBER')"
        ),
        {"member": MEMBER, "coordinator": COORDINATOR},
    )
    if not is_member:
        return False, None
    login = session.scalar(text("SELECT session_user"))
    bound = session.query(Member).filter(Member.login == login).one_or_none()
    return True, bound


def check_acting_as(session: Session, member: Member, what: str) -> None:
    """Refuse, with a clear message, a member's login acting for another member (the database's
    row-level security would refuse it too, less readably). Raises `WorkflowError`."""
    acting, bound = member_login(session)
    if not acting:
        return
    login = session.scalar(text("SELECT session_user"))
    if bound is None:
        raise WorkflowError(
            f"the database login {login} is a working group member's but is bound to no member; "
            f"a coordinator binds it with 'ogp member add NAME --org ORG --login {login}'. Nothing was changed."
        )
    if bound.id != member.id:
        raise WorkflowError(
            f"the database login {login} acts for {bound.name}; it cannot {what} as {member.name}. Nothing was changed."
        )
