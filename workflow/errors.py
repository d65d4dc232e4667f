"""One family of errors a coordinator can act on. Each keeps its inputs and reads on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WorkflowError(Exception):
    """Base of every refusal the workflow makes; the CLI prints it as `Error: …` and exits 1."""


class NoWorkspaceError(WorkflowError):
    """The database has no workspace (or an out-of-date one)."""

    def __init__(self, where: str, detail: str = "") -> None:
        self.where = where
        message = f"no workspace at {where}"
        if detail:
            message += f" ({detail})"
        message += "; create one with 'ogp init' (or point --db / OGP_DB at an existing one)."
        super().__init__(message)


class SchemaOutdatedError(WorkflowError):
    """The database's schema is older than this version of the program."""

    def __init__(self, where: str, current: str | None, head: str) -> None:
        self.where, self.current, self.head = where, current, head
        super().__init__(
            f"the workspace at {where} has schema {current or 'none'}, this program needs {head}; "
            "run 'ogp init' to upgrade it."
        )


class StoredValueError(WorkflowError):
    """The workspace holds a value no step of the product writes (written with another tool):
    a command that reads it refuses, rather than show it or fail on it."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(
            f"the workspace holds a value its column cannot hold ({detail}): it was written outside ogp. "
            "'ogp audit verify' says where; nothing was changed."
        )


class NotFoundError(WorkflowError):
    """A record named on the command line does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"no {kind} {key!s}.")


class InvalidInputError(WorkflowError):
    """A value given for a record's field is not acceptable."""

    def __init__(self, record: str, field: str, problem: str) -> None:
        self.record, self.field, self.problem = record, field, problem
        super().__init__(f"{record}: {field}: {problem}")


class InvalidFieldsError(InvalidInputError):
    """Several fields of one record are bad; all are named at once."""

    def __init__(self, record: str, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        WorkflowError.__init__(self, f"{record}: " + "; ".join(f"{f}: {p}" for f, p in self.problems))
        self.record = record
        self.field = ", ".join(dict.fromkeys(f for f, _ in self.problems))
        self.problem = "; ".join(p for _, p in self.problems)


class DuplicateError(WorkflowError):
    """A record with the same unique key already exists."""

    def __init__(self, kind: str, field: str, value: str) -> None:
        self.kind, self.field, self.value = kind, field, value
        super().__init__(f"a {kind} with {field} {value!r} already exists.")


class TransitionNotAllowedError(WorkflowError):
    """The event cannot be taken from the current state of the proposal (or milestone)."""

    def __init__(
        self, ref: str, event: str, state: str, allowed_from: Sequence[str], *, record: str = "proposal"
    ) -> None:
        self.ref, self.event, self.state, self.allowed_from = ref, event, state, tuple(allowed_from)
        allowed = ", ".join(allowed_from) or "nowhere"
        super().__init__(f"Cannot {event} {record} {ref}: it is '{state}'; {event} is allowed from: {allowed}.")


class StepNotAllowedError(WorkflowError):
    """A recorded step that is not a move cannot be taken in the current state of the proposal
    (or milestone) it is about."""

    def __init__(
        self, ref: str, step: str, does: str, state: str, allowed: Sequence[str], *, record: str = "proposal"
    ) -> None:
        self.ref, self.step, self.state, self.allowed = ref, step, state, tuple(allowed)
        where = " or ".join(allowed) or "no state"
        super().__init__(
            f"Cannot {does or step} {record} {ref}: it is '{state}'; this is done only while it is {where}."
        )


class GuardError(WorkflowError):
    """A guard of the transition does not hold."""

    def __init__(self, ref: str, event: str, rule: str, detail: str = "", *, record: str = "proposal") -> None:
        self.ref, self.event, self.rule, self.detail = ref, event, rule, detail
        message = f"Cannot {event} {record} {ref}: {rule}"
        if detail:
            message += f" ({detail})"
        super().__init__(message + ".")


class ConcurrentChangeError(WorkflowError):
    """Someone else changed the record between our read and our write."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(
            f"proposal {ref} was changed by someone else while this command ran; nothing was changed, try again."
        )


class DocumentError(WorkflowError):
    """A letter could not be rendered (a broken or missing template, say)."""

    def __init__(self, ref: str, kind: str, detail: str) -> None:
        self.ref, self.kind, self.detail = ref, kind, detail
        super().__init__(f"could not write the {kind} letter for proposal {ref}: {detail}; nothing was changed.")


@dataclass(frozen=True)
class RowProblem:
    """One problem in one row of an import file."""

    where: str  # "line 4" in a CSV file, "item 3" in a JSON file
    column: str
    reason: str
    position: int | None = None  # the column's number (1 for the first), where its name cannot say which

    def __str__(self) -> str:
        if self.position is not None:
            column = f", column {self.position}" + (f" ('{self.column}')" if self.column else "")
        else:
            column = f", column '{self.column}'" if self.column else ""
        return f"{self.where}{column}: {self.reason}"


class ImportFileError(WorkflowError):
    """An import file has bad rows; nothing was imported."""

    def __init__(self, path: str, problems: Sequence[RowProblem], *, nothing: str = "nothing was imported") -> None:
        self.path, self.problems = path, tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{path}: {count} {noun}, {nothing}:\n{lines}")


class VerificationError(WorkflowError):
    """`ogp audit verify` found the chain, or the record it rebuilds, not as it must be."""


class AuditChainError(VerificationError):
    """The audit trail does not verify at one entry."""

    def __init__(self, seq: int, problem: str) -> None:
        self.seq, self.problem = seq, problem
        super().__init__(f"audit chain broken at entry #{seq}: {problem}")


class RecordMismatchError(VerificationError):
    """A table holds something other than what the chain, replayed, says it must."""

    def __init__(self, table: str, key: str, field: str, chain: object, found: object, detail: str = "") -> None:
        self.table, self.key, self.field, self.chain, self.found = table, key, field, chain, found
        where = f"table {table}, row {key}" + (f", field {field}" if field else "")
        message = f"the record differs from its audit chain at {where}: the chain says {chain}, the table says {found}"
        super().__init__(message + (f" ({detail})" if detail else "") + ".")


class InputFileError(WorkflowError):
    """A file named as input cannot be used: not a regular file, unreadable, or too large."""

    def __init__(self, path: object, what: str, problem: str) -> None:
        self.path, self.what, self.problem = path, what, problem
        super().__init__(f"{what} {path}: {problem}")


class ReissueRefusedError(WorkflowError):
    """A voided letter cannot be reissued: what it said of its step no longer holds."""

    def __init__(self, reference: str, kind: str, ref: str, why: str) -> None:
        self.reference, self.kind, self.ref, self.why = reference, kind, ref, why
        super().__init__(
            f"Cannot reissue letter {reference} ({kind}, proposal {ref}): {why}; nothing was changed "
            "(void it without --reissue)."
        )


class AlreadyScheduledError(WorkflowError):
    """An interview is already scheduled with the proposer; a second one must say it replaces it."""

    def __init__(self, ref: str, at: str, reference: str) -> None:
        self.ref, self.at, self.reference = ref, at, reference
        invitation = f" (invitation {reference})" if reference else ""
        super().__init__(
            f"Cannot schedule an interview for proposal {ref}: one is already scheduled on {at}{invitation}; "
            "give --replace to move it (the new invitation says it replaces the earlier one); nothing was changed."
        )
