"""The `ogp` command line: parse, open one session, call one workflow function, print.

Every refusal the workflow makes comes out as `Error: …` on stderr with exit code 1; bad usage
exits 2 (click); a traceback is a bug.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import getpass
import json
import os
import re
import stat
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from workflow import audit, db
    from workflow.evaluation import (
        Standing,
    )
    from workflow.moves import PendingLetter
    from workflow.periods import HalfYear
    from workflow.publish import PublishResult
    from workflow.shortlist import ShortlistResult
from documents.tables import FORMATS, write_table
from documents.text import DIGITS, INVISIBLE, LANGUAGES
from states import (
    MILESTONE_OPEN,
    MILESTONE_TRANSITIONS,
    OPEN,
    TRANSITIONS,
    Action,
    DocumentKind,
    Event,
    MilestoneEvent,
    MilestoneState,
    State,
)
from workflow.dates import parse_datetime
from workflow.errors import InputFileError, InvalidInputError, NoWorkspaceError, StoredValueError, WorkflowError
from workflow.keys import MAX_ROW_ID, parse_key
from workflow.vocabulary import DEFAULT_REPLY_WITHIN, EXPORT_KINDS, MAX_REPLY_WITHIN, RANKS, SECTORS, SIDES

# --- what the command line accepts -------------------------------------------------------------


class DateTimeType(click.ParamType):
    """A date and a time on the command line: the day in any form DATE takes, then HH:MM."""

    name = "DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return parse_datetime(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class DateType(click.ParamType):
    """A date on the command line: YYYY-MM-DD or D/M/YYYY, in any digits (workflow/dates.py)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        from workflow.proposals import parse_date

        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class MonthType(click.ParamType):
    """A month on the command line: YYYY-MM."""

    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from workflow.periods import parse_month

        try:
            return parse_month(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class HalfYearType(click.ParamType):
    """A half-year on the command line: H1-2026 (January–June) or H2-2026."""

    name = "H1-YYYY|H2-YYYY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> HalfYear:
        from workflow.periods import HalfYear

        if isinstance(value, HalfYear):
            return value
        try:
            return HalfYear.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class LanguagesType(click.ParamType):
    """The languages of a publication: 'ar,en', 'ar' or 'en'."""

    name = "LANGS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        from workflow.publish import parse_languages

        if isinstance(value, tuple):
            return value
        try:
            return parse_languages(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class RelevanceType(click.ParamType):
    """An OGP value and how a commitment is relevant to it: VALUE=TEXT."""

    name = "VALUE=TEXT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value  # type: ignore[return-value]
        name, sep, text = str(value).partition("=")
        if not sep or not name.strip():
            self.fail(f'{value!r} is not VALUE=TEXT, e.g. accountability="…"', param, ctx)
        OGP_VALUE.convert(name, param, ctx)  # a misspelt value is bad usage here as in --value (exit 2)
        return name.strip(), text


class KeyType(click.ParamType):
    """A record named on the command line: a proposal by ref or number (`P-001`, `3`, `#3`), a
    meeting by number, a member by name or number. The rule between refs and numbers is in
    workflow/keys.py; numbers larger than any record's and text that can name nothing of the
    kind are usage errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = "ID" if kind != "member" else "NAME|#N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from workflow.proposals import REF_PATTERN

        text = str(value)
        try:
            key = parse_key(text)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        numeric = key.number is not None or key.number_only or (key.text.isascii() and key.text.isdigit())
        if self.kind == "meeting" and not numeric:
            self.fail(f"{text!r} is not a meeting's number (e.g. 2 or #2)", param, ctx)
        if self.kind == "proposal" and not numeric and not REF_PATTERN.match(key.text):
            self.fail(f"{text!r} is not a proposal's ref (e.g. P-001) or number (e.g. #3)", param, ctx)
        return text


class ActorType(click.ParamType):
    """Who acts, as the audit trail records it: a plain name (workflow/fields.py says what is refused)."""

    name = "NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from workflow.fields import actor_problem

        actor = " ".join(str(value).split())
        if not actor:
            self.fail("must not be empty", param, ctx)
        problem = actor_problem(actor)
        if problem:
            self.fail(f"{terminal_safe(repr(actor))} {problem}", param, ctx)
        return actor


class InputFileType(click.Path):
    """A file to read (an import, a batch file, a logo): it must exist and be a regular file one
    may read. A folder, a named pipe, a device or an unreadable file is bad usage (exit 2), the
    same for every command, before anything is opened (`workflow.inputs` checks again as it reads)."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, readable=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from workflow.inputs import file_kind, home_expanded

        # `--logo=~/logo.png` reaches us with its `~`, which the shell expands only after a space.
        text = os.fsdecode(value)
        if "\0" in text:
            self.fail(f"{terminal_safe(repr(text))} is not a file name (it holds a NUL character)", param, ctx)
        try:
            os.fsencode(text)
        except UnicodeEncodeError:  # a lone surrogate: no file system can hold that name
            self.fail(f"{terminal_safe(repr(text))} is not a file name (it holds characters no file name can)",
                      param, ctx)  # fmt: skip
        path = super().convert(home_expanded(Path(text)) if text.startswith("~") else value, param, ctx)
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            self.fail(f"{terminal_safe(str(path))} is {file_kind(mode)}, not a regular file", param, ctx)
        return path


class OgpValueType(click.ParamType):
    """One of OGP's values, by its code or its Arabic name, as `vocabulary.parse_value` reads it:
    a misspelt value is bad usage (exit 2), like any other choice. Kept as typed."""

    name = "VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from workflow.vocabulary import known_values, parse_value

        text = str(value)
        if text.strip() and parse_value(text) is None:
            self.fail(f"{terminal_safe(repr(text.strip()))} is not an OGP value (known: {known_values()})", param, ctx)
        return text


class EvidenceType(InputFileType):
    """Evidence of progress: an http(s) address, kept as given, or a file, checked as every input
    file is (`InputFileType`: exit 2 for a folder, a pipe or a device)."""

    name = "FILE|URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from workflow.progress import looks_like_url

        text = str(value)
        if looks_like_url(text):
            return text
        if not Path(text).exists() and _WEB_ADDRESS.match(text.strip()):  # example.org/report: no scheme
            self.fail(f"{text.strip()!r} is not a file here; a web address needs https:// "
                      f"(https://{text.strip()})", param, ctx)  # fmt: skip
        return str(super().convert(text, param, ctx))


# What reads as a web address typed without its scheme (www.… is read as one already): a dotted host, a path.
_WEB_ADDRESS = re.compile(r"^[\w-]+(\.[\w-]+)*\.[a-z]{2,}/\S*$", re.IGNORECASE)


DATE = DateType()
DATETIME = DateTimeType()
INPUT_FILE = InputFileType()
EVIDENCE = EvidenceType()
OGP_VALUE = OgpValueType()
MONTH = MonthType()
LANGS = LanguagesType()
PROPOSAL_ID = KeyType("proposal")
MEETING_ID = KeyType("meeting")
MEMBER = KeyType("member")
ACTOR = ActorType()
# Counts and numbers the database stores: PostgreSQL's INTEGER holds no more, and SQLite must not
# accept what could never be copied there.


class WholeNumber(click.IntRange):
    """A whole number in a range, as `documents.digits.whole_number` reads one (Arabic-Indic digits,
    direction marks around them); what Python's int() also takes — `0_4`, `1_000` — is bad usage
    (exit 2), never read as another number."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from documents.digits import whole_number

        if isinstance(value, str):
            try:
                value = whole_number(value)
            except ValueError as exc:
                shown = value if len(value) <= 30 else value[:20] + f"… ({len(value)} characters)"
                self.fail(f"{terminal_safe(repr(shown))} {exc}", param, ctx)
        return super().convert(value, param, ctx)


COUNT = WholeNumber(min=1, max=MAX_ROW_ID)
NUMBER = WholeNumber(min=-MAX_ROW_ID, max=MAX_ROW_ID)
MAX_LOGO_BYTES = 5 * 1024 * 1024

# --- what the terminal shows -------------------------------------------------------------------

# Stored text comes from proposers, import files and other coordinators: what reaches the terminal
# must not run as an escape sequence or reorder the line, so control, bidi and other invisible
# characters are shown as \u escapes (and a lone surrogate, which no terminal can print, too).
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\ud800-\udfff]|{INVISIBLE.pattern}")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # beyond the BMP (a tag character): its UTF-16 pair, as JSON reads it back
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """`text` as a terminal may show it: control and invisible characters written as \\uXXXX."""
    return _UNPRINTABLE.sub(_escape, text)


def echo(text: str = "", *, err: bool = False) -> None:
    """Print one line (of stored text, perhaps) safely; see `terminal_safe`."""
    click.echo(terminal_safe(text), err=err)


def warn(text: str) -> None:
    """A warning on stderr: the command did what it says, with one thing left to do."""
    echo(f"Warning: {text}", err=True)


class Once(click.Option):
    """An option that chooses what a command works on (`--state`, `--from-file`), refused when it
    is given twice: click would keep only the last one, and the first would be dropped without a
    word (`--state interviewed --state submitted` moving only the submitted)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, multiple=True, **kwargs)

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        values = super().process_value(ctx, value)
        if len(values) > 1:
            given = ", ".join(str(v) for v in values)
            raise click.BadParameter(f"give it once, not {len(values)} times ({given})", ctx=ctx, param=self)
        return values[0] if values else None


class OgpGroup(click.Group):
    """Turns the workflow's refusals, database and file-system failures into `Error: …`, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        try:
            return super().invoke(ctx)
        except WorkflowError as exc:
            raise click.ClickException(terminal_safe(str(exc))) from exc
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            message = f"the database refused the command ({reason}); nothing was changed."
            raise click.ClickException(terminal_safe(message)) from exc
        except SQLAlchemyError as exc:
            raise click.ClickException(terminal_safe(f"database error: {exc}; nothing was changed.")) from exc
        except BrokenPipeError:
            # The reader went away (`ogp proposal list | head`): what it took was what it wanted,
            # and anything the command changed was committed before it printed. Say nothing more.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except OSError as exc:
            raise click.ClickException(terminal_safe(describe_os_error(exc))) from exc
        except (ValueError, LookupError, TypeError) as exc:
            if not read_from_a_row(exc):
                raise
            raise click.ClickException(terminal_safe(str(StoredValueError(str(exc))))) from exc


# Where SQLAlchemy turns the rows a database gives into Python values (as Python code, or compiled:
# 2.0's cyextension, 2.1's *_cy modules): a date that is no date, a JSON column that is no JSON, a
# state no machine has. The product never writes such a value (both databases check what it
# writes); one written behind its back must not end in a traceback.
_ROW_READING = tuple(
    f"sqlalchemy/{name}"
    for name in (
        "engine/result.py", "engine/_result_cy.py", "engine/cursor.py", "engine/row.py", "engine/_row_cy.py",
        "engine/_py_row.py", "cyextension/resultproxy.pyx", "orm/loading.py",
    )
)  # fmt: skip


def read_from_a_row(exc: BaseException) -> bool:
    """Whether `exc` was raised while SQLAlchemy read a row's values (its traceback passes through
    the result-reading code), not by the command's own code or a value it bound."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace(os.sep, "/").endswith(_ROW_READING):
            return True
        tb = tb.tb_next
    return False


def describe_os_error(exc: OSError) -> str:
    """A file-system failure as one readable sentence, naming the file."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


@dataclass
class App:
    """What the global options select."""

    db: str | None
    actor: str
    templates: Path | None

    def workspace(self) -> db.Workspace:
        """The workspace `--db` names; a `--db` that cannot name one (a folder, an unsupported
        database, not a URL) is bad usage (exit 2), as a bad option value is."""
        from workflow import db

        try:
            return db.resolve(self.db)
        except InvalidInputError as exc:
            raise click.BadParameter(terminal_safe(f"{exc.field}: {exc.problem}"), param_hint="'--db'") from None

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One session, one transaction: committed if the command succeeds, rolled back if not.
        With `readonly`, for commands that only read: no write lock is taken or waited for, and a
        read-only copy of a workspace is enough (see `db.make_engine`)."""
        from sqlalchemy.orm import Session

        from workflow import db

        with self._engine(readonly=readonly) as (workspace, engine), Session(engine) as session, session.begin():
            db.check_schema(workspace, session.connection())
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """One read-only transaction on a plain connection, for a listing that needs neither the
        ORM nor the models (`workflow.listing`): as `session(readonly=True)` otherwise."""
        from workflow import db

        with self._engine(readonly=True) as (workspace, engine), engine.connect() as connection, connection.begin():
            db.check_schema(workspace, connection)
            yield connection

    @contextmanager
    def _engine(self, *, readonly: bool) -> Iterator[tuple[db.Workspace, Engine]]:
        from workflow import db

        workspace = self.workspace()
        if not db.workspace_exists(workspace):  # before connecting: never create an empty database
            raise NoWorkspaceError(workspace.describe())
        engine = make_engine(workspace, readonly=readonly)
        try:
            yield workspace, engine
        finally:
            engine.dispose()


def make_engine(workspace: db.Workspace, *, readonly: bool = False) -> Engine:
    """`db.make_engine`, for a command whose modules are now loaded: the garbage collector, off
    while they load (`main`), runs again, and what the modules made is left out of its sweeps."""
    from workflow import db

    if not gc.isenabled():
        # Modules make tens of thousands of objects that live as long as the process; sweeping
        # them again and again as they load costs ~10% of a listing (issue 13, bench/cli.py).
        gc.freeze()
        gc.enable()
    return db.make_engine(workspace, readonly=readonly)


def emit_json(data: Any) -> None:
    # json escapes C0 controls itself; the rest of what a terminal must not see is escaped too.
    echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json_lines(records: list[dict[str, Any]]) -> None:
    """A listing as a JSON array with one record per line: the same JSON as `emit_json` gives,
    laid out for a listing of thousands (json's C encoder writes it; indenting goes through its
    pure-Python encoder, about half the time of `ogp proposal list --json` at 10,000 proposals)."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    echo("[\n" + ",\n".join("  " + encode(record) for record in records) + "\n]" if records else "[]")


def emit_records(
    records: list[dict[str, Any]],
    as_json: bool,
    headers: Sequence[str],
    row: Callable[[dict[str, Any]], Sequence[Any]],
    *,
    empty: str,
) -> None:
    """A listing: the records as JSON (`[]` when there are none), or one table row each, or the
    sentence `empty` when there is nothing to show."""
    if as_json:
        emit_json_lines(records)
    elif not records:
        echo(empty)
    else:
        emit_table(headers, [row(record) for record in records])


# A column of a table is at most this wide, but the last: a long reason (a score import's entry
# lists every score it gave) would push every other row's last column off the screen. --json has
# every cell whole.
TABLE_CELL = 60


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Aligned columns; cells are printed as they are (Arabic included), those of every column but
    the last cut at `TABLE_CELL` characters with an ellipsis."""
    if not rows:
        return
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    last = len(headers) - 1
    cells = [
        [terminal_safe(cell if i == last or len(cell) <= TABLE_CELL else cell[: TABLE_CELL - 1] + "…")
         for i, cell in enumerate(row)]
        for row in cells
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def write_letter_files(folder: Path, letters: Sequence[PendingLetter] | Callable[[], list[Path]]) -> list[Path]:
    """After the commit: write the letters' files (their bytes are already in the database), from
    the letters just rendered, or by `letters` (a batch: read back from the workspace). The step
    happened, so a file that cannot be written is a warning naming the way to write it later, and
    the command still exits 0."""
    from sqlalchemy.exc import SQLAlchemyError

    from workflow.letters import write_files

    try:
        if callable(letters):
            return letters()
        return write_files(folder, [(letter.file_name, letter.content) for letter in letters])
    except (OSError, ValueError, SQLAlchemyError, WorkflowError) as exc:
        reason = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
        warn(
            f"this was saved, but its letters could not be written to {folder} ({reason}); "
            f"their bytes are kept in the workspace: run 'ogp letters export DIR' to write them."
        )
        return []


def read_logo(path: Path) -> bytes:
    """The logo's bytes (read with a size cap, from a regular file only), refused unless Word can
    show them."""
    from documents.docx_writer import check_image
    from workflow.inputs import read_input

    try:
        data = read_input(path, limit=MAX_LOGO_BYTES, what="logo")
    except InputFileError as exc:
        raise click.BadParameter(f"{path} {exc.problem}", param_hint="'--logo'") from exc
    try:
        check_image(data)
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not a PNG, JPEG, GIF or BMP image ({exc})", param_hint="'--logo'") from exc
    return data


def checked_output(path: Path, hint: str, *, folder: bool = False, suffix: str = "") -> Path:
    """An output path the user can trust: no climbing out of the current folder with '..' in a
    relative path (give an absolute path for elsewhere), and a folder that exists (for a `folder`
    to write into, its parent: the folder itself is created). With `suffix` (".docx"), a file
    named for another kind of file is refused: a Word document saved as plan.xlsx opens nowhere."""
    if not folder and path.name in ("", ".", ".."):  # --out "" is the current folder, not a file
        raise click.BadParameter(f"{str(path)!r} names no file; give a file name", param_hint=f"'{hint}'")
    if suffix and path.suffix.lower() != suffix:
        raise click.BadParameter(
            f"{path.name!r} is not named as the {suffix} file this writes; name it {path.stem}{suffix}",
            param_hint=f"'{hint}'",
        )
    if not path.is_absolute() and ".." in path.parts:
        raise click.BadParameter(
            f"{path} climbs out of the current folder with '..'; give a path inside it, or an absolute path",
            param_hint=f"'{hint}'",
        )
    if folder:
        if path.exists() and not path.is_dir():
            raise click.BadParameter(f"{path} is a file, not a folder", param_hint=f"'{hint}'")
        path = path.resolve()
    if not path.parent.is_dir():
        raise click.BadParameter(f"the folder {path.parent} does not exist", param_hint=f"'{hint}'")
    return path


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers and services
        return "unknown"


@click.group(cls=OgpGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    envvar="OGP_DB",
    metavar="URL|FILE",
    help="The workspace's database: a SQLAlchemy URL (sqlite:///…, postgresql://…) or a SQLite "
    "file. [env OGP_DB; default ./ogp.db]",
)
@click.option(
    "--actor",
    envvar="OGP_ACTOR",
    type=ACTOR,
    default=default_actor,
    show_default="your login name",
    help="Who is acting, as written in the audit trail. [env OGP_ACTOR]",
)
@click.option(
    "--templates",
    envvar="OGP_TEMPLATES",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of edited letter templates; a file there replaces the default of the same name. [env OGP_TEMPLATES]",
)
@click.version_option(package_name="ogp-workflow", prog_name="ogp")
@click.pass_context
def cli(ctx: click.Context, db: str | None, actor: str, templates: Path | None) -> None:
    """Turn civil-society proposals into the commitments of an OGP National Action Plan.

    \b
    Start here (the README's walkthrough, in its order):
      ogp init                      create ./ogp.db with the plan and its criteria
      ogp entity add "وزارة الصحة" --code MOH --rank minister --title "وزير الصحة"
      ogp member add "ندى خاطر" --org "وزارة الاقتصاد الرقمي" --sector government
      ogp proposal import proposals.csv
      ogp status                    what each proposal waits for, and the command that moves it
      ogp interview schedule P-001 --at "2026-12-10 10:00" --platform Zoom
      ogp interview record P-001 --on 2026-12-10
      ogp advance P-001 interview
      ogp score import scores.csv
      ogp shortlist --top 7 --dry-run
      ogp advance P-001 refer
      ogp response record P-001 --entity MOH --agreed
      ogp advance P-001 commit
      ogp audit verify
      ogp commitment edit P-001 --ogp-id JO0070 --start 2021-11 --end 2023-06
      ogp milestone add P-001 --title "…" --start 2021-11 --end 2022-06 --responsible MOH
      ogp progress record M1 --percent 60 --note "…" --by government
      ogp due                       what is late or due, each with the command that resolves it
      ogp demo                      play the whole pipeline on sample data
    """
    ctx.obj = App(db, actor, templates)


pass_app = click.make_pass_decorator(App)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (see the README for its shape).")
dated_option = click.option(
    "--dated",
    type=DATE,
    help="The date the letters bear, for a round held earlier (not in the future); the audit trail keeps "
    "the real time too. [default: today]",
)
reason_required = click.option("--reason", required=True, help="Why, for the record (kept in the audit trail).")
quiet_option = click.option("--quiet", is_flag=True, help="No progress bar on stderr.")


# A batch shorter than this finishes before a bar would help.
PROGRESS_FROM = 200


def _rows_in(path: Path, *, quiet: bool) -> int:
    """About how many rows a CSV or JSON file holds, for a progress bar's total (lines, less the
    header); 0 if the file cannot be read (the importer then says why), and without reading it
    when no bar will be drawn (`quiet`, or stderr is not a terminal)."""
    if quiet or not sys.stderr.isatty():
        return 0
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or a device: never opened here
            return 0
        with path.open("rb") as data:
            return max(sum(1 for _ in data) - 1, 0)
    except OSError:
        return 0


def _count(number: int, noun: str) -> str:
    """`1 letter`, `2 letters`: a count with its noun (English plural in -s)."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _refs(refs: Iterable[str], shown: int = 20) -> str:
    """Refs for a summary line: all of them when few, else the first and the last."""
    listed = list(refs)
    if len(listed) <= shown:
        return ", ".join(listed)
    return f"{', '.join(listed[:3])}, … {', '.join(listed[-2:])}"


@contextmanager
def progress_bar(total: int, label: str, *, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a batch of `total` items: the count, the share done and the
    rate, redrawn at most five times a second; only when stderr is a terminal, the batch holds
    at least `PROGRESS_FROM` items and not `quiet`. Yields the function to call with each
    item's count."""
    shown = not quiet and total >= PROGRESS_FROM and sys.stderr.isatty()
    done, started, drawn = 0, time.monotonic(), 0.0

    def draw(final: bool = False) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{label} [{bar}] {done}/{total} ({done / elapsed:,.0f}/s)" + ("\n" if final else ""))
        sys.stderr.flush()

    def step(count: int) -> None:
        nonlocal done, drawn
        done += count
        if shown and (time.monotonic() - drawn >= 0.2 or done == total):
            drawn = time.monotonic()
            draw()

    try:
        yield step
    finally:
        if shown:
            draw(final=True)


# --- workspace ---------------------------------------------------------------------------------


@cli.command()
@click.option("--plan", "title", help="The plan's title.")
@click.option("--period", help="The plan's period, e.g. 2021-2023.")
@click.option("--shortlist-size", type=COUNT, help="How many proposals may be shortlisted. [default 7]")
@click.option("--commitment-target", type=COUNT, help="How many commitments the plan makes. [default 5]")
@click.option("--letter-prefix", help="Prefix of outgoing reference numbers, e.g. 'ت ح/5'.")
@click.option(
    "--letter-prefix-en", help="Prefix of English letters' reference numbers, e.g. 'OGU/5' (empty: as Arabic ones)."
)
@click.option("--issuer", help="The letterhead's issuing body; ' – ' separates its lines.")
@click.option("--signatory-name", help="Who signs the letters.")
@click.option("--signatory-title", help="The signatory's title.")
@click.option("--plan-en", "title_en", help="The plan's title in English letters.")
@click.option("--issuer-en", help="The letterhead's issuing body in English letters.")
@click.option("--signatory-title-en", help="The signatory's title in English letters.")
@click.option("--digits", type=click.Choice(DIGITS), help="Digits in Arabic letters and minutes (2021 or ٢٠٢١).")
@click.option(
    "--templates-dir",
    metavar="DIR",
    help="A folder of edited letter templates (relative to the workspace); '' for the defaults.",
)
@click.option("--copy-to", multiple=True, help="A «نسخة إلى» line on every letter (repeatable; replaces the list).")
@click.option("--no-copy-to", is_flag=True, help="Remove every «نسخة إلى» line.")
@click.option(
    "--logo",
    type=INPUT_FILE,
    help="A PNG or JPEG shown at the top of the letterhead.",
)
@click.option("--no-logo", is_flag=True, help="Remove the letterhead's logo.")
@click.option(
    "--quorum",
    type=WholeNumber(min=0, max=MAX_ROW_ID),
    help="Eligible members who must score every criterion before a shortlist (0: a majority of the working group).",
)
@click.option(
    "--reply-within",
    type=WholeNumber(1, MAX_REPLY_WITHIN),
    metavar="DAYS",
    help=f"Days a body has to answer a referral before its reply is overdue. [default {DEFAULT_REPLY_WITHIN}]",
)
@click.option("--submitted-on", type=DATE, help="The day the plan was submitted to OGP (for requirement 4.1).")
@pass_app
def init(
    app: App, copy_to: tuple[str, ...], no_copy_to: bool, logo: Path | None, no_logo: bool, **settings: Any
) -> None:
    """Create the workspace (or upgrade its schema) and set the plan's settings.

    Run it once in the folder that will hold the workspace; run it again after an upgrade of
    ogp-workflow, or to change a setting. The five criteria of the seed are created with the plan.

    \b
    Example:
      ogp init --plan "الخطة الوطنية الخامسة" --period 2021-2023 --shortlist-size 7 --commitment-target 5
    """

    from workflow import db
    from workflow.plans import PlanSettings, configure_plan, seed_leftovers

    if copy_to and no_copy_to:
        raise click.UsageError("give --copy-to or --no-copy-to, not both")
    if logo and no_logo:
        raise click.UsageError("give --logo or --no-logo, not both")
    settings["copy_to"] = () if no_copy_to else (copy_to or None)
    settings["logo"] = b"" if no_logo else (read_logo(logo) if logo else None)
    workspace = app.workspace()
    file = Path(str(workspace.url.database)) if workspace.is_sqlite else None
    new_file = file is not None and not file.exists()
    made: list[Path] = []  # the folders made for a new workspace, deepest first
    if file is not None:
        made = [folder for folder in file.parents if not folder.exists()]
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(workspace)
    said: dict[str, Any] = {}

    def configure(session: Session) -> None:  # in the upgrade's transaction: refused, nothing stays
        plan, said["created"] = configure_plan(
            session, PlanSettings(**settings), actor=app.actor, workspace_folder=workspace.folder
        )
        said["summary"] = (
            f"plan «{plan.title}» {plan.period}: shortlist {plan.shortlist_size}, commitments {plan.commitment_target}"
        )
        said["unsigned"], said["leftovers"] = not plan.signatory_name, seed_leftovers(plan)

    try:
        before, after = db.upgrade(engine, then=configure)
    except BaseException:
        engine.dispose()
        if new_file and file is not None and db.holds_no_table(file):  # (not one another init made meanwhile)
            for leftover in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
                leftover.unlink(missing_ok=True)
            for folder in made:  # a first init refused leaves no workspace, nor folders for one, behind
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise
    engine.dispose()
    created, summary, unsigned, leftovers = said["created"], said["summary"], said["unsigned"], said["leftovers"]
    if before is None:
        echo(f"Created workspace {workspace.describe()} (schema {after}).")
    elif before != after:
        echo(f"Upgraded workspace {workspace.describe()} from schema {before} to {after}.")
    else:
        echo(f"Workspace {workspace.describe()} is up to date (schema {after}).")
    echo(("Created " if created else "") + summary + ".")
    if unsigned:
        echo(
            "Note: no signatory name is set, so letters go out unsigned; set it with 'ogp init --signatory-name NAME'."
        )
    for leftover in leftovers:
        echo(f"Note: {leftover}.")


# --- government bodies -------------------------------------------------------------------------


@cli.group()
def entity() -> None:
    """Government bodies that receive letters."""


@entity.command("add")
@click.argument("name")
@click.option("--code", help="A short Latin code used on the command line and in file names, e.g. MODEE.")
@click.option(
    "--rank",
    type=click.Choice(list(RANKS)),
    help="The rank of the official letters go to: minister (معالي), secretary-general or director (عطوفة), "
    "excellency (سعادة). Needs --title.",
)
@click.option("--title", help="The official's title, e.g. 'وزير الاقتصاد الرقمي والريادة'.")
@click.option("--addressee", help="The whole addressee line, as letters should print it (instead of --rank/--title).")
@click.option(
    "--language", type=click.Choice(LANGUAGES), default="ar", show_default=True, help="The language of its letters."
)
@pass_app
def entity_add(
    app: App, name: str, code: str | None, rank: str | None, title: str | None, addressee: str | None, language: str
) -> None:
    """Register a government body.

    Letters address it by RANK's honorific, TITLE and «المحترم» (e.g. «معالي وزير الاقتصاد
    الرقمي والريادة المحترم»), or by --addressee as given, or else as «السادة NAME المحترمين».

    \b
    Example:
      ogp entity add "وزارة الاقتصاد الرقمي والريادة" --code MODEE \\
          --rank minister --title "وزير الاقتصاد الرقمي والريادة"
    """
    from workflow.plans import add_entity

    with app.session() as session:
        added = add_entity(session, name, code, addressee, rank=rank, title=title, language=language, actor=app.actor)
        echo(f"Added body {added.id}: {added.name}" + (f" ({added.code})" if added.code else ""))
        echo(f"  letters address it as: {added.addressee}")


@entity.command("edit")
@click.argument("code", metavar="CODE|NAME")
@click.option("--name", help="The body's corrected name.")
@click.option("--code", "new_code", help="A corrected code ('' removes it).")
@click.option("--rank", type=click.Choice(list(RANKS)), help="The rank of the official letters go to (with --title).")
@click.option("--title", help="The official's title, e.g. 'وزير الصحة'.")
@click.option("--addressee", help="The whole addressee line, as letters should print it.")
@click.option("--language", type=click.Choice(LANGUAGES), help="The language of its letters.")
@reason_required
@pass_app
def entity_edit(app: App, code: str, new_code: str | None, reason: str, **fields: Any) -> None:
    """Correct a government body's name, code, addressee or language. Letters already written keep
    the addressee they were written to; 'ogp letters void NUMBER --reissue' writes one again.

    \b
    Example:
      ogp entity edit MOH --rank minister --title "وزير الصحة" --reason "تصحيح اللقب"
    """
    from workflow.corrections import EntityEdit, edit_entity

    edit = EntityEdit(code=new_code, **fields)
    with app.session() as session:
        changed, fields_changed = edit_entity(session, code, edit, reason=reason, actor=app.actor)
        summary = f"Corrected body {changed.code or changed.name}: {', '.join(fields_changed)}"
        addressee = changed.addressee
    echo(summary)
    echo(f"  letters address it as: {addressee}")


@entity.command("list")
@json_option
@pass_app
def entity_list(app: App, as_json: bool) -> None:
    """List the registered government bodies.

    \b
    Example:
      ogp entity list --json
    """
    from workflow import views
    from workflow.plans import list_entities

    with app.session(readonly=True) as session:
        found = [views.entity_view(e) for e in list_entities(session)]
    emit_records(
        found,
        as_json,
        ("ID", "CODE", "NAME", "ADDRESSEE"),
        lambda e: (e["id"], e["code"] or "", e["name"], e["addressee"]),
        empty="No government bodies are registered yet (ogp entity add).",
    )


# --- proposals ---------------------------------------------------------------------------------


@cli.group()
def proposal() -> None:
    """Register, import, list and show proposals."""


@proposal.command("add")
@click.option("--title", required=True, help="The proposed commitment's title.")
@click.option("--org", required=True, help="The proposing organisation.")
@click.option("--ref", help="A reference such as P-012 (Latin letters, digits, . - _). [default: next P-NNN]")
@click.option("--email", default="", help="The proposer's contact e-mail.")
@click.option("--problem", default="", help="The public problem the proposal addresses.")
@click.option("--solution", default="", help="The proposed solution.")
@click.option(
    "--value",
    "values",
    multiple=True,
    type=OGP_VALUE,
    help="An OGP value it serves (repeatable): access_to_information, accountability, "
    "public_participation, technology_innovation, or the Arabic name.",
)
@click.option("--entity", "entities", multiple=True, help="A relevant government body, by code or name (repeatable).")
@click.option("--submitted-on", type=DATE, help="The submission date. [default: today]")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="ar",
    show_default=True,
    help="The language of letters to the proposer.",
)
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Register it even if a proposal with the same title and organisation exists (without --ref).",
)
@pass_app
def proposal_add(app: App, allow_duplicates: bool, **fields: Any) -> None:
    """Register a proposal (state: submitted).

    \b
    Example:
      ogp proposal add --title "بوابة لطلبات الحصول على المعلومات" --org "مركز الشفافية الأردني" \\
          --value access_to_information --entity MODEE --submitted-on 2021-06-24
    """
    from workflow.proposals import ProposalInput, add_proposal

    raw = ProposalInput(
        title=fields["title"],
        organization=fields["org"],
        ref=fields["ref"] or "",
        email=fields["email"],
        problem=fields["problem"],
        solution=fields["solution"],
        values=fields["values"],
        entities=fields["entities"],
        submitted_on=fields["submitted_on"],
        language=fields["language"],
    )
    with app.session() as session:
        added = add_proposal(session, raw, actor=app.actor, allow_duplicates=allow_duplicates)
        echo(f"Registered {added.ref} (#{added.id}): {added.title} [{added.state.value}]")


@proposal.command("import")
@click.argument("file", type=INPUT_FILE)
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Import rows without a ref even if a proposal with the same title and organisation exists.",
)
@quiet_option
@pass_app
def proposal_import(app: App, file: Path, allow_duplicates: bool, quiet: bool) -> None:
    """Import proposals from a CSV or JSON file: all of them, or none.

    CSV is UTF-8 (with or without the BOM Excel writes), with the columns
    ref,title,organization,email,problem,solution,values,entities,submitted_on (and optionally
    language, ar or en, for letters to the proposer); values and entities are separated by ';'.
    JSON is an array of objects with the same keys, values and entities as arrays. If any row is
    bad nothing is imported and every bad row is listed.

    \b
    Example:
      ogp proposal import proposals.csv
    """
    from workflow.importer import import_proposals

    with app.session() as session, progress_bar(_rows_in(file, quiet=quiet), "proposal import", quiet=quiet) as step:
        imported = import_proposals(session, file, actor=app.actor, allow_duplicates=allow_duplicates, progress=step)
        echo(f"Imported {_count(len(imported), 'proposal')}: {_refs(imported)}")


@proposal.command("list")
@click.option("--state", cls=Once, type=click.Choice([s.value for s in State]), help="Only proposals in this state.")
@click.option("--all", "include_discarded", is_flag=True, help="Also proposals discarded as registered by mistake.")
@click.option(
    "--search", default="", help="Only those whose ref, title, organisation, problem or solution contain TEXT."
)
@click.option("--entity", default="", help="Only those linked to this body (code or name).")
@click.option("--value", default="", type=OGP_VALUE, help="Only those serving this OGP value.")
@click.option("--org", default="", help="Only those proposed by this organisation.")
@json_option
@pass_app
def proposal_list(app: App, state: str | None, include_discarded: bool, as_json: bool, **where: str) -> None:
    """List proposals with their state (discarded ones only with --all or --state discarded).

    Text is compared as names are: hamza and alef forms, ta marbuta, tashkeel, tatweel and
    invisible marks do not matter.

    \b
    Example:
      ogp proposal list --state shortlisted
      ogp proposal list --search "المعلومات" --entity MODEE --value access_to_information
    """
    from workflow.listing import ProposalFilter, proposal_listing

    chosen = ProposalFilter(state=State(state) if state else None, include_discarded=include_discarded, **where)
    with app.reading() as connection:
        found = proposal_listing(connection, chosen)
    if state and not any(where.values()):
        empty = f"No proposals in state '{state}'."
    elif state or any(where.values()):
        empty = "No proposals match."
    else:
        empty = "No proposals are registered yet (ogp proposal add, ogp proposal import)."
    emit_records(
        found, as_json, ("ID", "REF", "STATE", "ORGANIZATION", "TITLE"),
        lambda p: (p["id"], p["ref"], p["state"], p["organization"], p["title"]), empty=empty,
    )  # fmt: skip


@proposal.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--state", cls=Once, type=click.Choice([s.value for s in State]), help="Only proposals in this state.")
@pass_app
def proposal_export(app: App, file: Path, state: str | None) -> None:
    """Write proposals to a CSV file that Excel opens as it should (UTF-8 with BOM), in the import's
    columns plus the state and a commitment's lead body. Cells that a spreadsheet would run as a
    formula (=, +, -, @ …) are written with a leading ' so they show as text; 'ogp proposal
    import' takes it off again.

    \b
    Example:
      ogp proposal export proposals.csv --state committed
    """
    from documents import write_atomic
    from workflow.importer import export_proposals
    from workflow.proposals import list_proposals

    target = checked_output(file, "FILE", suffix=".csv")
    with app.session(readonly=True) as session:
        chosen = list_proposals(session, State(state) if state else None)
        content = export_proposals(chosen)
    try:
        write_atomic(target.parent, target.name, content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}") from exc
    echo(f"Wrote {_count(len(chosen), 'proposal')} to {file}")


@proposal.command("show")
@click.argument("id", type=PROPOSAL_ID)
@json_option
@pass_app
def proposal_show(app: App, id: str, as_json: bool) -> None:
    """Show one proposal (by number or ref): the events allowed now and, for the others, why not.

    \b
    Example:
      ogp proposal show P-003
    """
    from workflow import audit, views
    from workflow.evaluation import decided_standing, late_conflicts
    from workflow.proposals import get_proposal
    from workflow.status import check_events

    with app.session(readonly=True) as session:
        found = get_proposal(session, id)
        corrections = [e for e in audit.history(session, found) if e.event == Action.EDIT_PROPOSAL]
        detail = views.proposal_detail(
            found, decided_standing(session, found), late_conflicts(session, found), corrections
        )
        detail["events"] = [views.event_check_view(check) for check in check_events(session, found)]
        detail["next_events"] = [check["event"] for check in detail["events"] if check["allowed"]]
    if as_json:
        emit_json(detail)
        return
    for label, key in (
        ("Ref", "ref"), ("Title", "title"), ("Organization", "organization"), ("E-mail", "email"),
        ("State", "state"), ("Submitted on", "submitted_on"), ("Problem", "problem"), ("Solution", "solution"),
    ):  # fmt: skip
        if detail[key]:
            echo(f"{label + ':':<14}{detail[key]}")
    if detail["values"]:
        echo(f"{'OGP values:':<14}{', '.join(detail['values'])}")
    for body in detail["entities"]:
        echo(f"{'Body:':<14}{body['name']}" + (f" ({body['code']})" if body["code"] else ""))
    for interview in detail["interviews"]:
        where = f" on {interview['platform']}" if interview["platform"] else ""
        echo(
            f"{'Interview:':<14}{interview['held_on']}{where}"
            + (f" — {interview['notes']}" if interview["notes"] else "")
        )
    for correction in detail["corrections"]:
        echo(
            f"{'Corrected:':<14}{correction['at'][:10]} by {correction['actor']} (audit #{correction['seq']}): "
            f"{', '.join(correction['fields'])} — {correction['reason']}"
        )
    decision = detail["decision"]
    if decision:
        echo(
            f"{'Decided:':<14}{decision['event']} at rank {decision['rank']} of {decision['ranked']}, "
            f"weighted mean {_fmt(decision['total'])} ({decision['scorers']} of {decision['eligible']} members)"
        )
        for late in decision["late_conflicts"]:
            echo(
                f"{'':<14}decided with a member later declared conflicted: {late['member']}"
                + (f" ({late['reason']})" if late["reason"] else "")
                + "; the decision stands as taken"
            )
    if not detail["events"]:
        echo(f"{'Next events:':<14}(none: the state is final)")
    for check in detail["events"]:
        if check["allowed"]:
            needs = f" (with {check['needs']})" if check["needs"] else ""
            echo(f"{'Allowed now:':<14}{check['event']}{needs}")
    for check in detail["events"]:
        if not check["allowed"]:
            echo(f"{'Not yet:':<14}{check['event']}: {'; '.join(check['blockers'])}")


@proposal.command("link")
@click.argument("id", type=PROPOSAL_ID)
@click.option(
    "--entity",
    "entities",
    multiple=True,
    required=True,
    help="A relevant government body, by code or name (repeatable).",
)
@pass_app
def proposal_link(app: App, id: str, entities: tuple[str, ...]) -> None:
    """Add relevant government bodies to a proposal that has not been referred yet.

    \b
    Example:
      ogp proposal link P-003 --entity MOH --entity MODEE
    """
    from workflow.proposals import link_entities

    with app.session() as session:
        found = link_entities(session, id, entities, actor=app.actor)
        echo(f"{found.ref} is now linked to: {', '.join(e.code or e.name for e in found.entities)}")


@proposal.command("edit")
@click.argument("id")
@click.option("--title", help="The corrected title.")
@click.option("--org", "organization", help="The corrected proposing organisation.")
@click.option("--email", help="The corrected contact e-mail ('' removes it).")
@click.option("--problem", help="The corrected public problem.")
@click.option("--solution", help="The corrected proposed solution.")
@click.option(
    "--value", "values", multiple=True, type=OGP_VALUE, help="The OGP values it serves (repeatable; replaces the list)."
)
@click.option(
    "--entity", "entities", multiple=True, help="The relevant bodies (repeatable; replaces the list; before referral)."
)
@reason_required
@pass_app
def proposal_edit(
    app: App, id: str, reason: str, values: tuple[str, ...], entities: tuple[str, ...], **fields: Any
) -> None:
    """Correct what was typed wrong about a proposal, while it is open. The audit trail keeps the
    old and new values with the reason; letters already written are not rewritten.

    \b
    Example:
      ogp proposal edit P-003 --title "بوابة طلبات الحصول على المعلومات" --reason "خطأ مطبعي في العنوان"
    """
    from workflow import audit
    from workflow.corrections import ProposalEdit, edit_proposal

    edit = ProposalEdit(values=values or None, entities=entities or None, **fields)
    with app.session() as session:
        found, changed = edit_proposal(session, id, edit, reason=reason, actor=app.actor)
        ref, seq = found.ref, audit.current_head(session).seq
    echo(f"Corrected {ref}: {', '.join(changed)} (audit #{seq})")


@proposal.command("discard")
@click.argument("id")
@reason_required
@pass_app
def proposal_discard(app: App, id: str, reason: str) -> None:
    """Discard a proposal registered by mistake or twice, before any letter or score refers to it:
    no letter goes to anyone; it stays in the audit trail and in 'ogp proposal list --all'.
    (A proposal the working group turned down is rejected instead: 'ogp advance ID reject'.)

    \b
    Example:
      ogp proposal discard P-011 --reason "مكرر: هو نفسه P-004"
    """
    from workflow.moves import advance

    with app.session() as session:
        done = advance(session, id, Event.DISCARD, actor=app.actor, reason=reason)
        ref, seq = done.proposal.ref, done.entry.seq
    echo(f"{ref}: discarded (audit #{seq}); it stays in 'ogp proposal list --all' and in its history.")


# --- interviews, moves, history ----------------------------------------------------------------


@cli.group()
def interview() -> None:
    """Interviews the working group held with proposers."""


@interview.command("record")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--on", "held_on", type=DATE, required=True, help="When the interview took place.")
@click.option("--platform", default="", help="Where, e.g. Zoom or the ministry.")
@click.option("--needs", default="", help="Answer 1: what most needs to be done to form the commitment.")
@click.option("--plans", default="", help="Answer 2: which plans or strategies the proposal links to.")
@click.option("--solves", default="", help="Answer 3: how it would help solve the public problem it raises.")
@click.option(
    "--member", "members", multiple=True, type=MEMBER, help="A working group member who took part (repeatable)."
)
@click.option("--notes", default="", help="Anything else that was said.")
@pass_app
def interview_record(app: App, id: str, held_on: dt.date, **answers: Any) -> None:
    """Record an interview that took place, with the proposer's answers to the seed's three
    questions (needed before 'advance ID interview').

    \b
    Example:
      ogp interview record P-001 --on 2021-07-28 --platform Zoom --member "مي عليمات" \\
          --needs "..." --plans "..." --solves "..."
    """
    from workflow.interviews import record_interview

    with app.session() as session:
        recorded = record_interview(session, id, held_on, actor=app.actor, **answers)
        echo(f"Recorded the interview of {recorded.proposal.ref} on {recorded.held_on.isoformat()}.")


@interview.command("schedule")
@click.argument("id", type=PROPOSAL_ID)
@click.option(
    "--at", "at", type=DATETIME, required=True, help="When: 'YYYY-MM-DD HH:MM' or 'D/M/YYYY HH:MM' (local time)."
)
@click.option("--platform", default="", help="Where, e.g. Zoom.")
@click.option(
    "--replace",
    is_flag=True,
    help="Move the interview already scheduled; the new invitation says it replaces the earlier one.",
)
@dated_option
@pass_app
def interview_schedule(app: App, id: str, at: dt.datetime, platform: str, replace: bool, dated: dt.date | None) -> None:
    """Plan an interview and write the invitation letter to the proposer.

    \b
    Examples:
      ogp interview schedule P-001 --at "2027-01-10 10:00" --platform Zoom
      ogp interview schedule P-001 --at "2021-07-28 10:00" --platform Zoom --dated 2021-07-18
    """
    from workflow.interviews import schedule_interview

    with app.session() as session:
        planned = schedule_interview(
            session, id, at, actor=app.actor, platform=platform, dated=dated, replace=replace,
            templates_dir=app.templates, workspace_folder=app.workspace().folder,
        )  # fmt: skip
        ref, seq, letters = planned.interview.proposal.ref, planned.entry.seq, list(planned.letters)
    echo(f"Scheduled the interview of {ref} on {at:%Y-%m-%d %H:%M} (audit #{seq})")
    for path in write_letter_files(app.workspace().letters_dir, letters):
        echo(f"  letter: {path}")


@interview.command("cancel")
@click.argument("id")
@reason_required
@dated_option
@pass_app
def interview_cancel(app: App, id: str, reason: str, dated: dt.date | None) -> None:
    """Call off the interview scheduled with a proposer; if an invitation went out, a cancellation
    letter tells the proposer why.

    \b
    Example:
      ogp interview cancel P-001 --reason "لتعذر انعقاد اجتماع مجموعة العمل في الموعد"
    """
    from workflow.interviews import cancel_interview

    with app.session() as session:
        cancelled = cancel_interview(
            session, id, reason=reason, actor=app.actor, dated=dated,
            templates_dir=app.templates, workspace_folder=app.workspace().folder,
        )  # fmt: skip
        ref, seq, letters = cancelled.interview.proposal.ref, cancelled.entry.seq, list(cancelled.letters)
    echo(f"Cancelled the interview of {ref} (audit #{seq})")
    for path in write_letter_files(app.workspace().letters_dir, letters):
        echo(f"  letter: {path}")


@interview.command("import")
@click.argument("file", type=INPUT_FILE)
@quiet_option
@pass_app
def interview_import(app: App, file: Path, quiet: bool) -> None:
    """Record interviews held, from CSV or JSON (ref,held_on,platform,members,notes,needs,plans,solves):
    all of them, or none; every bad row is listed with its line and column.

    \b
    Example:
      ogp interview import interviews.csv
    """
    from workflow.importer import import_interviews

    with app.session() as session, progress_bar(_rows_in(file, quiet=quiet), "interview import", quiet=quiet) as step:
        recorded = import_interviews(session, file, actor=app.actor, progress=step)
        echo(f"Recorded {_count(len(recorded), 'interview')}: {_refs(i.proposal.ref for i in recorded)}")


@interview.command("list")
@click.option("--held", is_flag=True, help="The interviews recorded as held (scheduled or not), not the schedule.")
@json_option
@pass_app
def interview_list(app: App, held: bool, as_json: bool) -> None:
    """The interview schedule, soonest first, with whether each interview has been held or was
    cancelled (and why); with --held, every interview recorded as held.

    \b
    Example:
      ogp interview list
      ogp interview list --held --json
    """
    from workflow import views
    from workflow.interviews import list_held, list_schedule

    with app.session(readonly=True) as session:
        if held:
            recorded = [views.held_view(interview) for interview in list_held(session)]
        else:
            found = [views.schedule_view(planned) for planned in list_schedule(session)]
            count = len(list_held(session)) if not found else 0
    if held:
        emit_records(
            recorded,
            as_json,
            ("HELD", "REF", "PLATFORM", "MEMBERS", "TITLE"),
            lambda f: (f["held_on"], f["ref"], f["platform"] or "-", ", ".join(f["members"]) or "-", f["title"]),
            empty="No interview is recorded as held.",
        )
        return
    emit_records(
        found,
        as_json,
        ("AT", "REF", "PLATFORM", "STATE", "HELD", "CANCELLED", "TITLE"),
        lambda f: (
            f["at"].replace("T", " "), f["ref"], f["platform"], f["state"], f["held_on"] or "-",
            f["cancelled"] or "-", f["title"],
        ),
        empty="No interviews are scheduled."
        + (f" {_count(count, 'interview')} recorded as held: 'ogp interview list --held' lists them." if count else ""),
    )


def _sources(sources: Sequence[State]) -> str:
    return "any open state" if set(sources) == set(OPEN) else ", ".join(s.value for s in sources)


EVENT_HELP = "\n".join(
    f"  {row.event.value:<10} {_sources(row.sources)} → {row.dest.value}: {row.help}" for row in TRANSITIONS
)


@cli.command(
    "advance",
    help=f"""Move proposals by taking EVENT; their letters are written to the workspace's letters/ folder.

Name the proposals (ID ... EVENT), or take every proposal in a state (--state S EVENT), or read
them from a file (--from-file FILE EVENT: CSV or JSON with a `ref` column and optional `reason`,
`lead` and `dated` columns, which override the options for that row; a file `ogp proposal
export` wrote is read as it is, its other columns read past).

Each move is one recorded step (guards, letters, the state change, the audit entry). A batch is
all or nothing: if any proposal cannot take EVENT, every refused one is named and nothing moves;
--skip-refused moves the others and lists what it skipped. Letter numbers stay gap-free.

\b
Events:
{EVENT_HELP}

\b
Letters: refer writes to each relevant body; commit to the lead body and the proposer; reject
to each body a referral went to and to the proposer (with the reason); withdraw to each body a
referral went to.

\b
Example:
  ogp advance P-003 refer
  ogp advance P-003 commit --lead MODEE
  ogp advance P-004 reject --reason "خارج صلاحيات الحكومة"
  ogp advance P-005 commit --dry-run
  ogp advance P-006 P-007 P-009 refer
  ogp advance --state interviewed shortlist --dry-run
  ogp advance --from-file rejections.csv reject --skip-refused
""",
)
@click.argument("targets", nargs=-1, required=True, metavar="[ID]... EVENT")
@click.option(
    "--state", "in_state", cls=Once, type=click.Choice([s.value for s in State]), help="Every proposal in this state."
)
@click.option(
    "--from-file",
    "from_file",
    cls=Once,
    type=INPUT_FILE,
    help="A CSV or JSON file naming the proposals (columns: ref, and optionally reason, lead, dated; "
    "a file 'ogp proposal export' wrote is read as it is).",
)
@click.option("--reason", default="", help="Why (required for reject, withdraw and discard; kept in the audit trail).")
@click.option(
    "--lead",
    metavar="ENTITY",
    help="For commit: the body that leads the commitment. [default: the first relevant body that agreed]",
)
@dated_option
@click.option("--dry-run", is_flag=True, help="Say what would move and what stands in the way; change nothing.")
@click.option("--skip-refused", is_flag=True, help="Move the proposals that can; list the ones skipped and why.")
@quiet_option
@pass_app
def advance_cmd(
    app: App, targets: tuple[str, ...], in_state: str | None, from_file: Path | None, reason: str,
    lead: str | None, dated: dt.date | None, dry_run: bool, skip_refused: bool, quiet: bool,
) -> None:  # fmt: skip
    ctx = click.get_current_context()
    *keys, event_name = targets
    if event_name not in {e.value for e in Event}:
        known = ", ".join(repr(e.value) for e in Event)
        if any(c.isdigit() or c == "#" for c in event_name):  # 'ogp advance P-007': an ID, the event left out
            raise click.UsageError(f"Missing EVENT after {event_name!r}: one of {known}.", ctx)
        raise click.BadParameter(f"{event_name!r} is not one of {known}.", ctx, param_hint="'EVENT'")
    event = Event(event_name)
    for key in keys:
        try:
            PROPOSAL_ID.convert(key, None, ctx)
        except click.BadParameter as exc:
            exc.param_hint = "'ID'"
            raise
    chosen = [
        name
        for name, given in (("ID", bool(keys)), ("--state", bool(in_state)), ("--from-file", bool(from_file)))
        if given
    ]
    if len(chosen) != 1:
        problem = "name the proposals one way only" if chosen else "name the proposals (ID ...), --state or --from-file"
        raise click.UsageError(f"{problem}, then EVENT (got: {', '.join(chosen) or 'only EVENT'}).", ctx)
    if len(keys) == 1 and not skip_refused:
        _advance_one(app, keys[0], event, reason, lead, dated, dry_run)
        return
    _advance_batch(app, keys, in_state, from_file, event, reason, lead, dated, dry_run, skip_refused, quiet)


def _advance_one(
    app: App, key: str, event: Event, reason: str, lead: str | None, dated: dt.date | None, dry_run: bool
) -> None:
    from workflow import views
    from workflow.moves import advance
    from workflow.status import explain_move

    if dry_run:
        with app.session() as session:
            explained = views.explanation_view(
                explain_move(
                    session, key, event, reason=reason, lead=lead, dated=dated, templates_dir=app.templates,
                    workspace_folder=app.workspace().folder,
                )
            )
        _print_explanation(explained)
        return
    with app.session() as session:
        done = advance(
            session, key, event, actor=app.actor, reason=reason, lead=lead, dated=dated,
            templates_dir=app.templates, workspace_folder=app.workspace().folder,
        )  # fmt: skip
        ref, seq, state_from, state_to = done.proposal.ref, done.entry.seq, done.entry.from_state, done.entry.to_state
        letters = list(done.letters)
    echo(f"{ref}: {state_from} → {state_to} (audit #{seq})")
    if dated is not None and not letters:
        warn(_UNDATED.format(what=f"{event.value} of {ref} wrote no letter", given=f"--dated {dated}"))
    for path in write_letter_files(app.workspace().letters_dir, letters):
        echo(f"  letter: {path}")


# --dated dates letters (what was signed and sent); a move that writes none has nothing to carry it.
_UNDATED = (
    "{what}: {given} dates letters only, so the record and the published site date this move "
    "by when it was entered"
)


class _DryRun(Exception):
    """Raised inside the session to roll a trial batch back; carries what the trial found."""

    def __init__(self, moved: list[str], refused: list[tuple[str, str]]) -> None:
        super().__init__("dry run")
        self.moved, self.refused = moved, refused


def _advance_batch(
    app: App, keys: Sequence[str], in_state: str | None, from_file: Path | None, event: Event, reason: str,
    lead: str | None, dated: dt.date | None, dry_run: bool, skip_refused: bool, quiet: bool,
) -> None:  # fmt: skip
    from workflow.batch import BatchItem, BatchMove, advance_many, items_from_file, items_in_state

    items = items_from_file(from_file) if from_file else [BatchItem(key) for key in keys]
    folder = app.workspace().letters_dir  # before anything moves: after the commit, only warnings
    moved: list[BatchMove] = []
    try:
        with app.session() as session:
            if in_state:
                items = items_in_state(session, State(in_state))
            with progress_bar(len(items), f"{event.value}", quiet=quiet) as step:
                result = advance_many(
                    session, items, event, actor=app.actor, reason=reason, lead=lead, dated=dated,
                    skip_refused=skip_refused or dry_run, templates_dir=app.templates,
                    workspace_folder=app.workspace().folder, progress=step,
                )  # fmt: skip
            if dry_run:
                raise _DryRun([done.ref for done in result.moved], result.refused)
            moved = result.moved
    except _DryRun as trial:
        if not items:
            echo(f"No proposals to {event.value}.")
            return
        echo(f"Would move {len(trial.moved)} of {len(items)} by '{event.value}': {', '.join(trial.moved) or '(none)'}")
        for who, why in trial.refused:
            echo(f"Would refuse {who}: {why}")
        echo("Nothing was changed (dry run).")
        return
    except InvalidInputError as alike:  # an option that refuses every proposal (batch._check_options)
        if not dry_run:
            raise
        echo(f"Would move none of {len(items)} by '{event.value}': {alike.field}: {alike.problem}")
        echo("Nothing was changed (dry run).")
        return
    if not items:
        echo(f"No proposals to {event.value}.")
        return
    for done in moved:
        echo(f"{done.ref}: {done.from_state} → {done.to_state} (audit #{done.seq})")

    def shown(refs: list[str]) -> str:
        return ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")

    by_option = [done.ref for done in moved if not done.letter_files and not done.row_dated]
    if dated is not None and by_option:
        warn(_UNDATED.format(what=f"{event.value} of {shown(by_option)} wrote no letter", given=f"--dated {dated}"))
    by_row = [done.ref for done in moved if not done.letter_files and done.row_dated]
    if by_row:
        column = "the file's 'dated' column"
        warn(_UNDATED.format(what=f"{event.value} of {shown(by_row)} wrote no letter", given=column))
    names = [name for done in moved for name in done.letter_files]

    def from_workspace() -> list[Path]:
        from workflow.letters import write_stored

        with app.session(readonly=True) as session:  # the moves are committed: read their letters back
            return write_stored(session, folder, names)

    written = write_letter_files(folder, from_workspace) if names else []
    if names and len(written) < len(names):  # the warning above says why and how to write them
        letters = f"{_count(len(names), 'letter')} saved in the workspace but not all written to {folder}"
    else:
        letters = f"{_count(len(written), 'letter')} written to {folder}"
    echo(f"Moved {len(moved)} of {len(items)} by '{event.value}'; {letters}.")
    for who, why in result.refused:
        echo(f"Skipped {who}: {why}")


def _print_explanation(explained: dict[str, Any]) -> None:
    move = f"{explained['ref']}: {explained['event']} ({explained['from_state']} → {explained['to_state']})"
    if explained["allowed"]:
        echo(f"Would move {move}.")
        for letter in explained["letters"]:
            echo(f"  would write a letter ({letter['kind']}) to {letter['addressee']}")
        return
    echo(f"Would not move {move}; what stands in the way:")
    for blocker in explained["blockers"]:
        echo(f"  - {blocker}")


@cli.command()
@click.argument("id", type=PROPOSAL_ID)
@json_option
@pass_app
def history(app: App, id: str, as_json: bool) -> None:
    """Show who moved a proposal, when and why (its audit entries).

    \b
    Example:
      ogp history P-003
    """
    from workflow import audit, views
    from workflow.proposals import get_proposal

    with app.session(readonly=True) as session:
        entries = [views.audit_view(e) for e in audit.history(session, get_proposal(session, id))]
    emit_records(
        entries, as_json, ("SEQ", "AT (UTC)", "ACTOR", "EVENT", "FROM → TO", "LETTERS", "REASON", "CORRECTED"),
        lambda e: (e["seq"], e["at"][:19].replace("T", " "), e["actor"], e["event"],
                   f"{e['from_state'] or '-'} → {e['to_state']}", len(e["letters"]), e["reason"], _corrected(e)),
        empty=f"No audit entries about proposal {id}.",
    )  # fmt: skip


def _corrected(entry: dict[str, Any]) -> str:
    """A correction's old → new values, each cut to a readable length (--json has them whole)."""
    if not entry["event"].startswith("edit_"):
        return ""

    def short(value: Any) -> str:
        text = "، ".join(map(str, value)) if isinstance(value, list) else str(value if value is not None else "")
        return text if len(text) <= 40 else text[:39] + "…"

    return "; ".join(
        f"{name}: «{short(values['old'])}» → «{short(values['new'])}»"
        for change in entry["changes"]
        if change["op"] == "update"
        for name, values in change["fields"].items()
    )


@cli.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


class HeadType(click.ParamType):
    """A published chain head: SEQ:HASH."""

    name = "SEQ:HASH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> audit.Head:
        from workflow import audit

        if isinstance(value, audit.Head):
            return value
        try:
            return audit.Head.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@audit_group.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the head as JSON.")
@pass_app
def audit_head(app: App, as_json: bool) -> None:
    """Print the chain's head (sequence number and hash), to publish it: in the minutes, on the
    OGP repository. Anyone can later check the chain against it with 'ogp audit verify --expect-head'.

    \b
    Example:
      ogp audit head
    """
    from workflow import audit

    with app.session(readonly=True) as session:
        found = audit.current_head(session)
    if as_json:
        emit_json({"seq": found.seq, "hash": found.hash})
    else:
        echo(str(found))


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--expect-head",
    "expected",
    type=HeadType(),
    help="A head published earlier (SEQ:HASH): the chain must still hold that entry, unchanged.",
)
@pass_app
def audit_verify(app: App, as_json: bool, expected: audit.Head | None) -> None:
    """Replay the audit chain from its first entry and check the record against it.

    Recomputes every hash; checks every step against the rules as the record then stood (a move
    allowed from its state, its guards held); rebuilds the record from the rows each step wrote
    and compares it with every table, row by row; checks every stored letter's bytes. Exits 1 and
    names the first divergence: the entry, or the table, row, field, what the chain says and what
    the table says. With --expect-head it also catches a chain rewritten, re-hashed from the
    start, or cut short since that head was published.

    \b
    Example:
      ogp audit verify --expect-head "$(ogp audit head)"
    """
    from workflow import replay

    with app.session(readonly=True) as session:
        report = replay.verify(session, expected)
    if as_json:
        emit_json(
            {"ok": True, "entries": report.entries, "letters": report.letters, "proposals": report.proposals,
             "rows": report.rows, "head": {"seq": report.head_seq, "hash": report.head_hash}}
        )  # fmt: skip
    else:
        echo(
            f"Audit chain verified: {report.entries} entries, {report.letters} letters, "
            f"{report.proposals} proposals, {report.rows} rows match; head #{report.head_seq} {report.head_hash}"
        )


# --- letters -----------------------------------------------------------------------------------


@cli.group()
def letters() -> None:
    """Official letters written by moves."""


@letters.command("list")
@click.option("--proposal", "proposal_id", type=PROPOSAL_ID, help="Only this proposal's letters.")
@json_option
@pass_app
def letters_list(app: App, proposal_id: str | None, as_json: bool) -> None:
    """List the letters written so far.

    \b
    Example:
      ogp letters list --proposal P-003
    """
    from workflow import views
    from workflow.letters import list_letters

    with app.session(readonly=True) as session:
        found = [views.letter_view(letter) for letter in list_letters(session, proposal_id)]
    emit_records(
        found,
        as_json,
        ("REFERENCE", "DATE", "REF", "KIND", "TO", "FILE", "VOID / REPLACES"),
        lambda f: (
            f["reference"],
            f["issued_on"],
            f["ref"],
            f["kind"],
            f["entity"] or f["addressee"],
            f["file_name"],
            _void(f),
        ),
        empty="No letters." if proposal_id is None else f"No letters for proposal {proposal_id}.",
    )


def _void(letter: dict[str, Any]) -> str:
    marks = []
    if letter["void_reason"]:
        marks.append(f"VOID: {letter['void_reason']}")
    if letter["replaces"]:
        marks.append(f"replaces {letter['replaces']}")
    return "; ".join(marks)


@letters.command("export")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--proposal", "proposal_id", type=PROPOSAL_ID, help="Only this proposal's letters.")
@pass_app
def letters_export(app: App, dir: Path, proposal_id: str | None) -> None:
    """Write the stored letters' .docx files into DIR (created if needed).

    \b
    Example:
      ogp letters export ~/letters-for-signature
    """
    from workflow.letters import list_letters, write_files

    with app.session(readonly=True) as session:
        found = [(letter.file_name, letter.content) for letter in list_letters(session, proposal_id)]
    try:
        paths = write_files(dir, found)
    except OSError as exc:
        raise click.ClickException(f"cannot write letters to {dir}: {exc}") from exc
    echo(f"Wrote {_count(len(paths), 'letter')} to {dir}")


@letters.command("register")
@click.option("--year", type=WholeNumber(1900, 2999), help="Only this year's letters.")
@json_option
@pass_app
def letters_register(app: App, year: int | None, as_json: bool) -> None:
    """The outgoing register: every letter's number, date, addressee, subject, proposal and sha256.

    \b
    Example:
      ogp letters register --year 2021
    """
    from workflow import views
    from workflow.letters import register as letter_register

    with app.session(readonly=True) as session:
        found = [views.letter_view(letter) for letter in letter_register(session, year)]
    emit_records(
        found,
        as_json,
        ("REFERENCE", "DATE", "ADDRESSEE", "SUBJECT", "REF", "SHA256", "VOID / REPLACES"),
        lambda f: (f["reference"], f["issued_on"], f["addressee"], f["subject"], f["ref"], f["sha256"][:16], _void(f)),
        empty="No letters in the register." if year is None else f"No letters in the register for {year}.",
    )


@letters.command("pdf")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--proposal", "proposal_id", metavar="ID", help="Only this proposal's letters.")
@pass_app
def letters_pdf(app: App, dir: Path, proposal_id: str | None) -> None:
    """Write the stored letters as PDF into DIR (created if needed), through LibreOffice (headless,
    with a profile of its own), for e-mail and the government's e-correspondence system.

    \b
    Example:
      ogp letters pdf --proposal P-003 pdf-for-email
    """
    from documents.pdf import PdfError, letters_to_pdf
    from workflow.letters import list_letters

    target = checked_output(dir, "DIR", folder=True)
    with app.session() as session:
        found = [(letter.file_name, letter.content) for letter in list_letters(session, proposal_id)]
    try:
        written = letters_to_pdf(found, target)
    except PdfError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write the PDFs to {dir}: {exc.strerror or exc}") from exc
    echo(f"Wrote {_count(len(written), 'letter')} as PDF to {dir}")


@letters.command("void")
@click.argument("number", metavar="NUMBER")
@reason_required
@click.option(
    "--reissue", is_flag=True, help="Write a new letter of the same kind to the same addressee, naming the voided one."
)
@dated_option
@pass_app
def letters_void(app: App, number: str, reason: str, reissue: bool, dated: dt.date | None) -> None:
    """Void a letter: its number stays in the register, marked void with the reason. With --reissue a
    replacement (as the record now stands: a corrected title or addressee) gets a new number and
    says which letter it replaces; it states the facts of the original's step (the same interview,
    reason, referral), and is refused where they no longer hold (an interview since rescheduled,
    cancelled or held; a proposal no longer referred). NUMBER is the reference as printed,
    YEAR/NUMBER, or NUMBER.

    \b
    Example:
      ogp letters void 2021/0003 --reason "خطأ في اسم الجهة" --reissue
    """
    from workflow.letters import void_letter

    with app.session() as session:
        voided = void_letter(
            session, number, reason=reason, actor=app.actor, reissue=reissue, dated=dated,
            templates_dir=app.templates, workspace_folder=app.workspace().folder,
        )  # fmt: skip
        reference, seq, letters = voided.letter.reference, voided.entry.seq, list(voided.reissued)
    echo(f"Voided letter {reference} (audit #{seq})")
    for path in write_letter_files(app.workspace().letters_dir, letters):
        echo(f"  replacement: {path}")


@letters.command("verify")
@click.argument("dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_app
def letters_verify(app: App, dirs: tuple[Path, ...]) -> None:
    """Check every stored letter, the workspace's letters/ and each DIR against the register and
    the audit trail.

    Exits 1 if a stored letter differs from what its entry recorded, or if a file in a folder is
    altered, is not in the register, or was written by an audit entry the chain no longer holds
    (a letter already sent is a witness: the chain may have been cut after it).

    \b
    Example:
      ogp letters verify ~/letters-for-signature
    """
    from workflow.letters import verify as verify_letters

    own = app.workspace().letters_dir
    folders = [own]
    for folder in dirs:  # each folder once, however it is named (`letters`, ./letters, its full path)
        if folder.resolve() not in {f.resolve() for f in folders}:
            folders.append(folder)
    with app.session(readonly=True) as session:
        result = verify_letters(session, folders, expect_all=[own])
    echo(f"Stored letters: {result.stored} checked, {len(result.bad_stored)} differ from the audit trail.")
    for name in result.bad_stored:
        echo(f"  differs: {name}", err=True)
    for folder in result.folders:
        echo(
            f"{folder.folder}: {len(folder.matching)} match, {len(folder.altered)} altered, "
            f"{len(folder.missing)} missing, {len(folder.unknown)} not in the register, "
            f"{len(folder.orphaned)} from entries the chain no longer holds"
        )
        for name in folder.altered:
            echo(f"  altered: {name}", err=True)
        for name in folder.unknown:
            echo(f"  not in the register: {name}", err=True)
        for name, seq in folder.orphaned:
            echo(
                f"  written by entry #{seq}, which the chain no longer holds (the chain may have been cut "
                f"after #{result.head}): {name}",
                err=True,
            )
    if not result.ok:
        raise click.ClickException("some letters are not the letters the register and the audit trail hold.")


# --- templates -----------------------------------------------------------------------------------


@cli.group()
def templates() -> None:
    """The letter and site templates: export the defaults, check an edited copy."""


@templates.command("export")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite templates already in DIR.")
def templates_export(dir: Path, force: bool) -> None:
    """Write the default templates into DIR, to edit them: the letters' (KIND.LANG.j2) and, in
    DIR/site, the published site's pages, wording (words.ar.j2, words.en.j2) and stylesheet.

    Then point the workspace at the folder with 'ogp init --templates-dir DIR' (or pass
    --templates DIR to a command), and run 'ogp templates check DIR' after each edit.

    \b
    Example:
      ogp templates export my-templates
    """
    from workflow.templates import export_defaults as export_templates

    written = export_templates(dir, force=force)
    names = ", ".join(p.relative_to(dir).as_posix() for p in written)
    echo(f"Wrote {_count(len(written), 'template')} to {dir}: {names}")


@templates.command("check")
@click.argument("dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def templates_check(dir: Path | None) -> None:
    """Render every letter template and the site's templates in DIR (over the defaults) on sample
    data; report each error.

    \b
    Example:
      ogp templates check my-templates
    """
    from workflow.templates import check as check_templates

    report = check_templates(dir)
    kinds = ", ".join(k.value for k in DocumentKind)
    for error in report.errors:
        echo(f"  {error}", err=True)
    for name in report.unknown:
        if name.startswith("site/"):
            echo(f"  {name}: not a template of the site (see 'ogp templates export')", err=True)
        else:
            explained = f"templates are KIND.ar.j2 or KIND.en.j2 for {kinds}"
            echo(f"  {name}: not a letter template ({explained})", err=True)
    where = f" from {dir}" if dir else ""
    echo(f"Checked {len(report.checked)} templates{where}: {len(report.errors)} errors.")
    if report.errors:
        raise click.ClickException(
            f"{len(report.errors)} templates do not render; the letters or pages using them would fail."
        )


# --- the working group -------------------------------------------------------------------------


@cli.group()
def member() -> None:
    """Members of the working group."""


@member.command("add")
@click.argument("name")
@click.option(
    "--org",
    required=True,
    help="The member's organisation (members of a proposing organisation cannot score its proposals).",
)
@click.option(
    "--sector",
    type=click.Choice(list(SECTORS)),
    default="civil-society",
    show_default=True,
    help="The member's sector.",
)
@click.option(
    "--login",
    metavar="ROLE",
    help="The PostgreSQL login this member uses (in role ogp_member): the database lets it write only "
    "this member's scores and conflict declarations.",
)
@pass_app
def member_add(app: App, name: str, org: str, sector: str, login: str | None) -> None:
    """Add a member to the working group.

    \b
    Example:
      ogp member add "هيلدا عجيلات" --org "مركز الشفافية الأردني" --sector civil-society
      ogp member add "ندى خاطر" --org "وزارة الاقتصاد الرقمي" --sector government --login nada
    """
    from workflow.members import add_member

    with app.session() as session:
        added = add_member(session, name, org, sector, actor=app.actor, login=login)
        echo(f"Added member {added.id}: {added.name} ({added.organization}, {added.sector})")


@member.command("list")
@json_option
@pass_app
def member_list(app: App, as_json: bool) -> None:
    """List the working group's members.

    \b
    Example:
      ogp member list
    """
    from workflow import views
    from workflow.members import list_members

    with app.session(readonly=True) as session:
        found = [views.member_view(m) for m in list_members(session)]
    emit_records(
        found,
        as_json,
        ("ID", "NAME", "SECTOR", "ORGANIZATION"),
        lambda m: (m["id"], m["name"], m["sector"], m["organization"]),
        empty="The working group has no members yet (ogp member add).",
    )


@member.command("edit")
@click.argument("name")
@click.option("--name", "new_name", help="The member's corrected name.")
@click.option("--org", "organization", help="The member's corrected organisation.")
@click.option("--sector", type=click.Choice(list(SECTORS)), help="The member's corrected sector.")
@click.option("--login", metavar="ROLE", help="The PostgreSQL login bound to the member ('' unbinds it).")
@reason_required
@pass_app
def member_edit(app: App, name: str, new_name: str | None, reason: str, **fields: Any) -> None:
    """Correct a member's name, organisation, sector or database login. Decisions already taken keep
    the standing they were taken on.

    \b
    Example:
      ogp member edit "دانه مرعي" --org "وزارة التخطيط والتعاون الدولي" --reason "تغيّر جهة العمل"
    """
    from workflow.corrections import MemberEdit, edit_member

    with app.session() as session:
        changed, fields_changed = edit_member(
            session, name, MemberEdit(name=new_name, **fields), reason=reason, actor=app.actor
        )
        summary = f"Corrected member {changed.name}: {', '.join(fields_changed)}"
    echo(summary)


@member.command("deactivate")
@click.argument("name")
@reason_required
@pass_app
def member_deactivate(app: App, name: str, reason: str) -> None:
    """A member leaves the working group: no longer scores, no longer counts for the quorum.

    \b
    Example:
      ogp member deactivate "لما قطيشات" --reason "انتهاء تمثيل الدائرة في المجموعة"
    """
    from workflow.corrections import set_member_active

    with app.session() as session:
        left = set_member_active(session, name, False, reason=reason, actor=app.actor).name
    echo(f"{left} is no longer an active member.")


@member.command("reactivate")
@click.argument("name")
@click.option("--reason", default="", help="Why, for the record.")
@pass_app
def member_reactivate(app: App, name: str, reason: str) -> None:
    """A member rejoins the working group.

    \b
    Example:
      ogp member reactivate "لما قطيشات"
    """
    from workflow.corrections import set_member_active

    with app.session() as session:
        back = set_member_active(session, name, True, reason=reason, actor=app.actor).name
    echo(f"{back} is an active member again.")


@cli.group()
def meeting() -> None:
    """Meetings of the working group and their minutes."""


@meeting.command("add")
@click.option("--on", "held_on", type=DATE, required=True, help="The meeting's date.")
@click.option("--title", default="", help="The minutes' title. [default: the plan's working group meeting]")
@click.option("--place", default="", help="Where, e.g. 'عن بعد عبر منصة زووم (ZOOM)'.")
@click.option(
    "--attendee", "attendees", multiple=True, type=MEMBER, help="A member who attended, by name or number (repeatable)."
)
@click.option("--apology", "apologies", multiple=True, type=MEMBER, help="A member who sent apologies (repeatable).")
@click.option("--topic", "topics", multiple=True, help="A topic discussed (repeatable, in order).")
@click.option("--outcome", "outcomes", multiple=True, help="An outcome (repeatable, in order).")
@pass_app
def meeting_add(app: App, held_on: dt.date, **fields: Any) -> None:
    """Record a meeting of the working group.

    \b
    Example:
      ogp meeting add --on 2021-07-28 --place "عن بعد عبر منصة زووم (ZOOM)" \\
          --attendee "مي عليمات" --apology "لما قطيشات" --topic "..." --outcome "..."
    """
    from workflow.members import add_meeting

    with app.session() as session:
        added = add_meeting(session, held_on, actor=app.actor, **fields)
        echo(f"Recorded meeting {added.id} on {added.held_on.isoformat()} ({len(added.people)} members listed).")


@meeting.command("list")
@json_option
@pass_app
def meeting_list(app: App, as_json: bool) -> None:
    """List the meetings, oldest first.

    \b
    Example:
      ogp meeting list
    """
    from workflow import views
    from workflow.members import list_meetings

    with app.session(readonly=True) as session:
        found = [views.meeting_view(m) for m in list_meetings(session)]
    emit_records(
        found,
        as_json,
        ("ID", "DATE", "ATTENDED", "APOLOGIES", "TITLE"),
        lambda m: (m["id"], m["held_on"], len(m["attendees"]), len(m["apologies"]), m["title"]),
        empty="No meetings are recorded yet (ogp meeting add).",
    )


@meeting.command("minutes")
@click.argument("id", type=MEETING_ID)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the .docx. [default: minutes/meeting-ID-DATE.docx]",
)
@pass_app
def meeting_minutes(app: App, id: str, out: Path | None) -> None:
    """Write a meeting's minutes as an Arabic, right-to-left .docx in the seed's structure.

    \b
    Example:
      ogp meeting minutes 2 --out minutes-28-7-2021.docx
    """
    from documents import write_atomic
    from documents.minutes import render_minutes
    from workflow import audit
    from workflow.members import get_meeting, minutes
    from workflow.plans import current_plan

    with app.session(readonly=True) as session:
        found = get_meeting(session, id)
        plan = current_plan(session)
        made = minutes(found, plan.title, plan.period, str(audit.current_head(session)))
        content = render_minutes(made, digits=plan.digits)
        name = f"meeting-{found.id}-{found.held_on.isoformat()}.docx"
    target = checked_output(out, "--out", suffix=".docx") if out else app.workspace().folder / "minutes" / name
    try:
        path = write_atomic(target.parent, target.name, content)
    except OSError as exc:
        raise click.ClickException(f"cannot write the minutes to {target}: {exc}") from exc
    echo(f"Wrote the minutes of meeting {id} to {path}")


# --- scoring -----------------------------------------------------------------------------------


@cli.group()
def criterion() -> None:
    """The criteria proposals are scored on."""


@criterion.command("list")
@json_option
@pass_app
def criterion_list(app: App, as_json: bool) -> None:
    """List the plan's criteria with their weights and scales.

    \b
    Example:
      ogp criterion list
    """
    from workflow import views
    from workflow.evaluation import list_criteria

    with app.session(readonly=True) as session:
        found = [views.criterion_view(c) for c in list_criteria(session)]
    emit_records(
        found,
        as_json,
        ("#", "CODE", "WEIGHT", "SCALE", "CRITERION"),
        lambda c: (c["position"], c["code"], c["weight"], f"{c['scale'][0]}-{c['scale'][1]}", c["name_ar"]),
        empty="The plan has no criteria.",
    )


@criterion.command("set-weight")
@click.argument("criterion_key", metavar="CRITERION")
@click.argument("weight", type=WholeNumber(0, 100))
@pass_app
def criterion_set_weight(app: App, criterion_key: str, weight: int) -> None:
    """Set a criterion's weight in the ranking (0 leaves it out).

    \b
    Example:
      ogp criterion set-weight importance 2
    """
    from workflow.evaluation import set_weight

    with app.session() as session:
        changed = set_weight(session, criterion_key, weight, actor=app.actor)
        echo(f"{changed.code} now weighs {changed.weight}.")


class DefaultCommandGroup(click.Group):
    """A group whose first argument, when it names no subcommand, goes to a default one:
    `ogp score P-001 …` is `ogp score give P-001 …`."""

    default = "give"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@cli.group(cls=DefaultCommandGroup)
def score() -> None:
    """Members' scores: 'ogp score ID …' (or 'ogp score give ID …') gives one; the others are below."""


@score.command("give")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--member", required=True, type=MEMBER, help="Who scores, by name or number.")
@click.option("--criterion", "criterion_key", required=True, help="The criterion, by code (see 'ogp criterion list').")
@click.option("--value", required=True, type=NUMBER, help="The score, within the criterion's scale (1-5 by default).")
@click.option("--note", default="", help="Why, for the record.")
@pass_app
def score_give(app: App, id: str, member: str, criterion_key: str, value: int, note: str) -> None:
    """Give or revise a member's score of a proposal on one criterion.

    \b
    Example:
      ogp score P-001 --member "ندى خاطر" --criterion importance --value 4
      ogp score give P-002 --member "ندى خاطر" --criterion importance --value 3
    """
    from workflow.evaluation import ScoreInput, record_score

    with app.session() as session:
        given, entry = record_score(session, ScoreInput(id, member, criterion_key, value, note), actor=app.actor)
        if entry is None:
            echo(f"The score {given.member.name} gave {id} on {given.criterion.code} is already {given.value}"
                 f"{' with this note' if given.note else ''}: nothing recorded.")  # fmt: skip
        else:
            echo(f"{given.member.name} scored {id} {given.value} on {given.criterion.code}.")


@score.command("import")
@click.argument("file", type=INPUT_FILE)
@quiet_option
@pass_app
def score_import(app: App, file: Path, quiet: bool) -> None:
    """Import scores from CSV or JSON (proposal,member,criterion,value,note): all, or none.

    \b
    Example:
      ogp score import scores.csv
    """
    from workflow.importer import import_scores

    with app.session() as session, progress_bar(_rows_in(file, quiet=quiet), "score import", quiet=quiet) as step:
        imported = import_scores(session, file, actor=app.actor, progress=step)
        echo(f"Imported {_count(imported.recorded, 'score')}." + (
            f" {_count(imported.unchanged, 'row')} gave a score the value and note it already has: "
            "nothing recorded for them." if imported.unchanged else ""
        ))  # fmt: skip


@score.command("withdraw")
@click.argument("id")
@click.option("--member", required=True, help="Whose score, by name or number.")
@click.option("--criterion", "criterion_key", required=True, help="The criterion, by code.")
@reason_required
@pass_app
def score_withdraw(app: App, id: str, member: str, criterion_key: str, reason: str) -> None:
    """Withdraw a score given by mistake, while the proposal is interviewed; the history keeps it.

    \b
    Example:
      ogp score withdraw P-001 --member "ندى خاطر" --criterion importance --reason "أدخلت للمقترح الخطأ"
    """
    from workflow.evaluation import withdraw_score

    with app.session() as session:
        change = withdraw_score(session, id, member, criterion_key, reason=reason, actor=app.actor)
        said = f"Withdrew the score {change.old_value} of {member} on {criterion_key} for {id}."
    echo(said)


@score.command("list")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--history", is_flag=True, help="Every score given or revised, instead of the current ones.")
@json_option
@pass_app
def score_list(app: App, id: str, history: bool, as_json: bool) -> None:
    """A proposal's scores by member and criterion (or their whole history).

    \b
    Example:
      ogp score list P-001 --history
    """
    from workflow import views
    from workflow.evaluation import list_criteria, score_history, scores_of
    from workflow.members import list_members
    from workflow.proposals import get_proposal

    with app.session(readonly=True) as session:
        proposal = get_proposal(session, id)
        if history:
            members = {m.id: m.name for m in list_members(session)}
            codes = {c.id: c.code for c in list_criteria(session)}
            found = [views.score_change_view(c, members, codes) for c in score_history(session, proposal)]
        else:
            found = [views.score_view(s) for s in scores_of(session, proposal)]
    if as_json:
        emit_json_lines(found)
    elif history:
        emit_table(
            ("AT (UTC)", "MEMBER", "CRITERION", "FROM", "TO", "BY"),
            [
                (
                    f["at"][:19].replace("T", " "),
                    f["member"],
                    f["criterion"],
                    f["old_value"] or "-",
                    f["new_value"],
                    f["actor"],
                )
                for f in found
            ],
        )
    else:
        emit_table(
            ("MEMBER", "CRITERION", "VALUE", "NOTE"),
            [(f["member"], f["criterion"], f["value"], f["note"]) for f in found],
        )


@cli.group()
def conflict() -> None:
    """Conflicts of interest: who may not score which proposal."""


@conflict.command("declare")
@click.option("--member", required=True, type=MEMBER, help="The member, by name or number.")
@click.option("--proposal", "proposal_key", required=True, type=PROPOSAL_ID, help="The proposal, by ref or number.")
@click.option("--reason", default="", help="Why, for the record.")
@pass_app
def conflict_declare(app: App, member: str, proposal_key: str, reason: str) -> None:
    """Declare a member's conflict of interest: they cannot score the proposal, and are left out
    of its quorum and averages. Members of the proposing organisation are left out without one.

    After the working group has decided on the proposal (shortlisted or turned down), the
    declaration is recorded and shown as late, and the decision stands as taken.

    \b
    Example:
      ogp conflict declare --member "ختام الشنيكات" --proposal P-001 --reason "..."
    """
    from workflow.evaluation import declare_conflict
    from workflow.proposals import get_proposal

    with app.session() as session:
        declared = declare_conflict(session, member, proposal_key, reason=reason, actor=app.actor)
        name, ref, late = declared.member.name, get_proposal(session, proposal_key).ref, declared.late
    if late:
        echo(
            f"Recorded a late declaration: {name} declared a conflict with {ref} after the decision on it; "
            "the decision stands as taken."
        )
    else:
        echo(f"{name} may no longer score {ref}.")


@conflict.command("list")
@json_option
@pass_app
def conflict_list(app: App, as_json: bool) -> None:
    """List the declared conflicts of interest.

    \b
    Example:
      ogp conflict list
    """
    from workflow import views
    from workflow.evaluation import list_conflicts
    from workflow.proposals import get_proposal

    with app.session(readonly=True) as session:
        found = [views.conflict_view(c, get_proposal(session, c.proposal_id).ref) for c in list_conflicts(session)]
    emit_records(
        found,
        as_json,
        ("MEMBER", "REF", "LATE", "REASON"),
        lambda f: (f["member"], f["ref"], "late" if f["late"] else "", f["reason"]),
        empty="No conflicts of interest are declared.",
    )


def _cut_line(result: ShortlistResult) -> list[str]:
    def line(place: Standing | None) -> str:
        if place is None:
            return "(nobody)"
        return f"#{place.rank} {place.proposal.ref} {float(place.total or 0):.3f} ({place.scorers} members)"

    lines = [f"  just above: {line(result.above)}", f"  just below: {line(result.below)}"]
    if result.tie_rule:
        lines.append(f"  tied on the total; separated because: {result.tie_rule}")
    return lines


@cli.command()
@click.option("--all", "all_states", is_flag=True, help="Also proposals already shortlisted, referred or committed.")
@json_option
@pass_app
def ranking(app: App, all_states: bool, as_json: bool) -> None:
    """Interviewed proposals by weighted mean score, best first.

    Only eligible members count (no conflict, not of the proposing organisation). Order: proposals
    scored by a quorum on every criterion first; then the higher weighted total; then more members
    scoring; then the higher mean on each criterion in the plan's order; then earlier submission.
    With --all, proposals already decided on follow, with the standing they were decided on (a
    conflict declared after the decision is shown, and changes nothing decided).

    \b
    Example:
      ogp ranking --json
    """
    from workflow import views
    from workflow.evaluation import decided_places
    from workflow.evaluation import ranking as rank_proposals

    decided_states = (State.SHORTLISTED, State.REFERRED, State.COMMITTED, State.REJECTED, State.WITHDRAWN)
    with app.session(readonly=True) as session:
        found = [views.standing_view(place) for place in rank_proposals(session)]
        if all_states:
            found += [views.decided_place_view(place) for place in decided_places(session, decided_states)]
    if as_json:
        emit_json_lines(found)
        return
    if not found:
        echo(
            "No proposal has been interviewed or decided on yet."
            if all_states
            else "No interviewed proposal is waiting to be ranked. 'ogp ranking --all' also lists those already "
            "decided on."
        )
        return
    codes = list(found[0]["criteria"])
    emit_table(
        ("#", "REF", "TOTAL", *[c.upper() for c in codes], "MEMBERS", "QUORUM", "DECIDED", "TITLE"),
        [
            (f["rank"], f["ref"], _fmt(f["total"]), *[_fmt(f["criteria"][c]["mean"]) for c in codes],
             f"{f['scorers']}/{f['eligible']}", "yes" if f["complete"] else "no", _decided(f), f["title"])
            for f in found
        ],
    )  # fmt: skip


def _decided(place: dict[str, Any]) -> str:
    if not place["decided"]:
        return "-"
    late = f"; later conflicted: {', '.join(place['late_conflicts'])}" if place["late_conflicts"] else ""
    return f"{place['decided']} ({place['rank']} of {place['ranked']}){late}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@cli.command("shortlist")
@click.option("--top", required=True, type=COUNT, help="How many of the best-ranked to shortlist.")
@click.option("--dry-run", is_flag=True, help="Show who would be shortlisted and the cut-line; change nothing.")
@pass_app
def shortlist_cmd(app: App, top: int, dry_run: bool) -> None:
    """Shortlist the N best-ranked interviewed proposals in one transaction, and show the cut-line.

    Refused whole if any of them lacks a quorum of scores or the plan's shortlist would overflow;
    with --dry-run nothing changes and nothing is refused: it says what stands in the way.

    \b
    Example:
      ogp shortlist --top 7 --dry-run
    """
    from workflow.shortlist import shortlist_top

    with app.session() as session:
        result = shortlist_top(session, top, actor=app.actor, dry_run=dry_run, workspace_folder=app.workspace().folder)
        refs = ", ".join(p.proposal.ref for p in result.selected) or "(none)"
        if result.blockers:  # a dry run: what would be taken, and below, what stands in the way
            echo(f"Would not shortlist the top {top} yet; ranked there now ({len(result.selected)}): {refs}")
        else:
            echo(f"{'Would shortlist' if dry_run else 'Shortlisted'} {len(result.selected)}: {refs}")
        echo("Cut-line:")
        for line in _cut_line(result):
            echo(line)
        for blocker in result.blockers:
            echo(f"What stands in the way: {blocker}")


# --- responses to referrals ----------------------------------------------------------------------


@cli.group()
def response() -> None:
    """Government bodies' answers to referral letters."""


@response.command("record")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--entity", "entity_key", required=True, help="The body that answered, by code or name.")
@click.option("--agreed", is_flag=True, help="The body agreed to take the idea on (give this or --declined).")
@click.option("--declined", is_flag=True, help="The body declined it (give this or --agreed).")
@click.option("--on", "responded_on", type=DATE, help="The date of the body's answer. [default: today]")
@click.option("--note", default="", help="What the body said.")
@pass_app
def response_record(
    app: App, id: str, entity_key: str, agreed: bool, declined: bool, responded_on: dt.date | None, note: str
) -> None:
    """Record a body's answer to a referral letter (a commitment needs one that agreed).

    \b
    Example:
      ogp response record P-003 --entity MOH --agreed --on 2021-08-15
    """
    from workflow.evaluation import record_response
    from workflow.proposals import get_proposal

    # Two flags, not click's --agreed/--declined switch: with that, the last one typed silently
    # won, and `--agreed --declined` recorded a refusal.
    if agreed and declined:
        raise click.UsageError("give --agreed or --declined, not both")
    if not agreed and not declined:
        raise click.UsageError("Missing option '--agreed' or '--declined' (what the body answered)")
    with app.session() as session:
        _, entry = record_response(
            session, id, entity_key, agreed=agreed, responded_on=responded_on, note=note, actor=app.actor
        )
        echo(f"{get_proposal(session, id).ref}: {entry.reason} (audit #{entry.seq})")


@response.command("import")
@click.argument("file", type=INPUT_FILE)
@quiet_option
@pass_app
def response_import(app: App, file: Path, quiet: bool) -> None:
    """Record bodies' answers to referral letters, from CSV or JSON (ref,entity,agreed,responded_on,note):
    all of them, or none; every bad row is listed with its line and column.

    \b
    Example:
      ogp response import responses.csv
    """
    from workflow.importer import import_responses

    with app.session() as session, progress_bar(_rows_in(file, quiet=quiet), "response import", quiet=quiet) as step:
        recorded = import_responses(session, file, actor=app.actor, progress=step)
        echo(f"Recorded {_count(len(recorded), 'response')}.")


@response.command("list")
@click.option("--proposal", "proposal_key", type=PROPOSAL_ID, help="Only this proposal's responses.")
@json_option
@pass_app
def response_list(app: App, proposal_key: str | None, as_json: bool) -> None:
    """List the responses recorded.

    \b
    Example:
      ogp response list --proposal P-003
    """
    from workflow import views
    from workflow.evaluation import list_responses
    from workflow.proposals import get_proposal

    with app.session(readonly=True) as session:
        found = [
            views.response_view(r, get_proposal(session, r.proposal_id).ref)
            for r in list_responses(session, proposal_key)
        ]
    emit_records(
        found,
        as_json,
        ("REF", "BODY", "ANSWER", "ON", "NOTE"),
        lambda f: (f["ref"], f["entity"], "agreed" if f["agreed"] else "declined", f["on"], f["note"]),
        empty="No responses are recorded." if proposal_key is None else f"No responses for proposal {proposal_key}.",
    )


# --- after the commitment ------------------------------------------------------------------------


@cli.group()
def commitment() -> None:
    """Commitments in OGP's template: their text, dates and supporting actors."""


@commitment.command("edit")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--ogp-id", help="OGP's own number for the commitment, e.g. JO0070.")
@click.option("--problem", help="The public problem the commitment addresses.")
@click.option("--status-quo", help="What is done now, and what falls short.")
@click.option("--description", help="What the commitment is: the solution and the results it aims at.")
@click.option("--how-it-solves", help="How the commitment contributes to solving the problem.")
@click.option(
    "--relevance",
    "relevance",
    multiple=True,
    type=RelevanceType(),
    help="How it serves an OGP value: VALUE=TEXT (access_to_information, accountability, public_participation, "
    "technology_innovation, or the Arabic name); an empty TEXT removes the value (repeatable).",
)
@click.option(
    "--supporting", multiple=True, help="A supporting government body, by code or name (repeatable; replaces the list)."
)
@click.option(
    "--supporting-org",
    "supporting_orgs",
    multiple=True,
    help="A supporting civil-society or private organisation, as written (repeatable; replaces the list).",
)
@click.option("--start", type=MONTH, help="The month the commitment starts (YYYY-MM).")
@click.option("--end", type=MONTH, help="The month the commitment ends (YYYY-MM).")
@pass_app
def commitment_edit(
    app: App, id: str, relevance: tuple[tuple[str, str], ...], supporting: tuple[str, ...],
    supporting_orgs: tuple[str, ...], **fields: Any,
) -> None:  # fmt: skip
    """Write or change a commitment's text in OGP's commitment template (a committed proposal).

    Until it is first edited, the proposal's problem and solution stand as the commitment's
    problem and description. Options not given stay as they are.

    \b
    Example:
      ogp commitment edit SAMPLE-01 --ogp-id JO0070 --start 2021-11 --end 2023-06 \\
          --status-quo "..." --relevance accountability="..." --supporting MODEE --supporting-org "..."
    """
    from workflow import audit
    from workflow.commitments import CommitmentChanges, edit_commitment
    from workflow.proposals import get_proposal

    changes = CommitmentChanges(
        **fields, relevance=relevance, supporting=supporting or None, supporting_orgs=supporting_orgs or None
    )
    with app.session() as session:
        proposal = get_proposal(session, id)
        before = audit.current_head(session).seq
        edit_commitment(session, id, changes, actor=app.actor)
        ref, changed = proposal.ref, audit.current_head(session).seq != before
    echo(f"{ref}: the commitment's template was {'updated' if changed else 'already so; nothing changed'}.")


@commitment.command("show")
@click.argument("id", type=PROPOSAL_ID)
@json_option
@pass_app
def commitment_show(app: App, id: str, as_json: bool) -> None:
    """Show a commitment in OGP's template, with its milestones, their progress and its completion.

    \b
    Example:
      ogp commitment show SAMPLE-01 --json
    """
    from workflow import views
    from workflow.commitments import commitment_text, get_commitment
    from workflow.milestones import milestones_of, standing_on

    with app.session(readonly=True) as session:
        proposal = get_commitment(session, id)
        standings = [standing_on(m) for m in milestones_of(session, proposal)]
        detail = views.commitment_view(commitment_text(session, proposal), standings, full=True)
    if as_json:
        emit_json(detail)
        return
    for label, key in (
        ("Ref", "ref"), ("OGP id", "ogp_id"), ("Title", "title"), ("Lead", "lead"), ("Start", "start"),
        ("End", "end"), ("Problem", "problem"), ("Status quo", "status_quo"), ("Description", "description"),
        ("How it solves", "how_it_solves"),
    ):  # fmt: skip
        if detail[key]:
            echo(f"{label + ':':<15}{detail[key]}")
    for value, text in detail["relevance"].items():
        echo(f"{'Relevance:':<15}{value}: {text}")
    if detail["supporting"] or detail["supporting_orgs"]:
        echo(f"{'Supporting:':<15}{', '.join([*detail['supporting'], *detail['supporting_orgs']])}")
    echo(f"{'Completion:':<15}{detail['completion'].replace('_', ' ')} ({detail['percent']}%)")
    for m in detail["milestones"]:
        echo(
            f"{m['label']:<5} {m['state']:<10} {m['percent']:>3}%  {m['start']} → {m['end']}  "
            f"{m['responsible']}  {m['title']}"
        )
        for entry in m["progress"]:
            evidence = f" [{len(entry['evidence'])} evidence]" if entry["evidence"] else ""
            echo(f"        {entry['on']} {entry['side']} {entry['percent']}%: {entry['note']}{evidence}")
    if not detail["edited"]:
        echo(f"(not edited yet: the text is the proposal's; edit it with 'ogp commitment edit {detail['ref']}')")


@commitment.command("list")
@json_option
@pass_app
def commitment_list(app: App, as_json: bool) -> None:
    """List the plan's commitments with their completion on the IRM's scale.

    \b
    Example:
      ogp commitment list
    """
    from workflow import views
    from workflow.commitments import commitment_text, list_commitments
    from workflow.milestones import milestones_of, standing_on

    with app.session(readonly=True) as session:
        found = [
            views.commitment_view(commitment_text(session, p), [standing_on(m) for m in milestones_of(session, p)])
            for p in list_commitments(session)
        ]
    emit_records(
        found, as_json, ("REF", "OGP ID", "LEAD", "MONTHS", "MILESTONES", "COMPLETION", "TITLE"),
        lambda c: (c["ref"], c["ogp_id"] or "-", c["lead"] or "-", f"{c['start'] or '?'} → {c['end'] or '?'}",
                   c["milestones"], f"{c['completion'].replace('_', ' ')} ({c['percent']}%)", c["title"]),
        empty="No commitments yet: a proposal becomes one with 'ogp advance ID commit'.",
    )  # fmt: skip


def _milestone_sources(sources: Sequence[MilestoneState]) -> str:
    return "any open state" if set(sources) == set(MILESTONE_OPEN) else ", ".join(s.value for s in sources)


MILESTONE_EVENT_HELP = "\n".join(
    f"  {row.event.value:<9} {_milestone_sources(row.sources)} → {row.dest.value}: {row.help}"
    for row in MILESTONE_TRANSITIONS
)


@cli.group()
def milestone() -> None:
    """A commitment's milestones: add them, move them, list them."""


@milestone.command("add")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--title", required=True, help="What the milestone is.")
@click.option("--output", default="", help="Its verifiable output (the deliverable).")
@click.option("--start", required=True, type=MONTH, help="The month it starts (YYYY-MM).")
@click.option("--end", required=True, type=MONTH, help="The month it ends (YYYY-MM).")
@click.option("--responsible", required=True, metavar="ENTITY", help="The body responsible, by code or name.")
@pass_app
def milestone_add(app: App, id: str, title: str, output: str, start: str, end: str, responsible: str) -> None:
    """Add a milestone to a commitment (state: planned), within the commitment's months.

    \b
    Example:
      ogp milestone add SAMPLE-01 --title "نشر أول مجموعة بيانات" --output "بيانات مفتوحة منشورة" \\
          --start 2021-11 --end 2022-04 --responsible ROS
    """
    from workflow import views
    from workflow.milestones import add_milestone

    with app.session() as session:
        added = add_milestone(
            session, id, title=title, output=output, start=start, end=end, responsible=responsible, actor=app.actor
        )
        shown = f"{views.milestone_label(added.id)} of {added.proposal.ref}: {added.title} ({start} → {end})"
    echo(f"Added milestone {shown}")


@milestone.command(
    "advance",
    help=f"""Move a milestone by taking EVENT; the move and its audit entry are one transaction.

\b
Events:
{MILESTONE_EVENT_HELP}

\b
Example:
  ogp milestone advance M3 start --dated 2021-11-01
  ogp milestone advance M4 delay --reason "تأخر إقرار التعديلات" --new-end 2022-10
  ogp milestone advance M3 complete --dated 2022-04-28
""",
)
@click.argument("mid", metavar="MID")
@click.argument("event", type=click.Choice([e.value for e in MilestoneEvent]), metavar="EVENT")
@click.option("--reason", default="", help="Why (required for delay and cancel; kept in the audit trail).")
@click.option("--dated", type=DATE, help="When it happened. [default: today]")
@click.option("--new-end", type=MONTH, help="For delay: the new end month (YYYY-MM), after the one in force.")
@pass_app
def milestone_advance(app: App, mid: str, event: str, reason: str, dated: dt.date | None, new_end: str | None) -> None:
    from workflow import views
    from workflow.milestones import advance_milestone

    with app.session() as session:
        done = advance_milestone(
            session, mid, MilestoneEvent(event), actor=app.actor, reason=reason, dated=dated, new_end=new_end
        )
        said = (f"{views.milestone_label(done.milestone.id)} ({done.milestone.proposal.ref}): {done.move.from_state} → "
                f"{done.move.to_state} on {done.move.dated} (audit #{done.entry.seq})")  # fmt: skip
    echo(said)


@milestone.command("list")
@click.argument("id", type=PROPOSAL_ID, required=False)
@json_option
@pass_app
def milestone_list(app: App, id: str | None, as_json: bool) -> None:
    """List milestones (all, or one commitment's) with their state, end month and progress.

    \b
    Example:
      ogp milestone list SAMPLE-01 --json
    """
    from workflow import views
    from workflow.milestones import list_milestones, standing_on

    with app.session(readonly=True) as session:
        found = [views.milestone_view(standing_on(m)) for m in list_milestones(session, id)]
    emit_records(
        found, as_json, ("MID", "REF", "STATE", "PROGRESS", "MONTHS", "RESPONSIBLE", "TITLE"),
        lambda m: (m["label"], m["ref"], m["state"],
                   f"{m['percent']}%" + (f" (cs {m['civil_society_percent']}%)"
                                         if m["civil_society_percent"] is not None else ""),
                   f"{m['start']} → {m['end']}", m["responsible"], m["title"]),
        empty="No milestones yet: add one with 'ogp milestone add ID'.",
    )  # fmt: skip


@cli.group()
def progress() -> None:
    """Progress on milestones, reported by the government and by civil society."""


@progress.command("record")
@click.argument("mid", metavar="MID")
@click.option("--percent", required=True, type=WholeNumber(0, 100), help="How far along it is, 0-100.")
@click.option("--note", required=True, help="What was done.")
@click.option(
    "--evidence",
    multiple=True,
    type=EVIDENCE,
    metavar="FILE|URL",
    help="Evidence: an http(s) address, or a file (at most 10 MB) kept with its sha256 (repeatable).",
)
@click.option("--by", "side", required=True, type=click.Choice(SIDES), help="Who reports it.")
@click.option("--on", "reported_on", type=DATE, help="The day it was reported. [default: today]")
@pass_app
def progress_record(
    app: App, mid: str, percent: int, note: str, evidence: tuple[str, ...], side: str, reported_on: dt.date | None
) -> None:
    """Record progress on a milestone, as the government or civil society reports it.

    Civil society's figures are kept beside the government's, never merged into them. A milestone
    cannot be completed before a progress entry with evidence is recorded.

    \b
    Example:
      ogp progress record M3 --percent 60 --note "نشرت 12 مجموعة بيانات" --by government \\
          --evidence https://example.org/data --evidence report.pdf --on 2022-06-20
    """
    from workflow import views
    from workflow.progress import evidence_from, record_progress

    items = [evidence_from(item, f"milestone {mid}") for item in evidence]  # read before the transaction
    with app.session() as session:
        entry = record_progress(
            session, mid, percent=percent, note=note, side=side, actor=app.actor, reported_on=reported_on,
            evidence=items,
        )  # fmt: skip
        said = f"{views.milestone_label(entry.milestone_id)}: {percent}% by {side} on {entry.reported_on}"
    echo(f"Recorded progress on {said}; evidence: {len(items)}.")


@cli.command("followup")
@click.argument("id", type=PROPOSAL_ID)
@click.option("--entity", "entity_key", required=True, help="The body that has not answered, by code or name.")
@dated_option
@pass_app
def followup_cmd(app: App, id: str, entity_key: str, dated: dt.date | None) -> None:
    """Write a follow-up letter to a body that has not answered a referral, citing the referral's
    number and date («إلحاقاً بكتابنا رقم … تاريخ …»); registered and audited like every letter.

    \b
    Example:
      ogp followup SAMPLE-02 --entity CCD
    """
    from workflow.followups import follow_up

    with app.session() as session:
        done = follow_up(
            session, id, entity_key, actor=app.actor, dated=dated, templates_dir=app.templates,
            workspace_folder=app.workspace().folder,
        )  # fmt: skip
        ref, reason, seq, letters = done.awaited.proposal.ref, done.entry.reason, done.entry.seq, list(done.letters)
    echo(f"{ref}: {reason} (audit #{seq})")
    for path in write_letter_files(app.workspace().letters_dir, letters):
        echo(f"  letter: {path}")


@cli.command("due")
@click.option("--as-of", "as_of", type=DATE, help="The day to judge by. [default: today]")
@json_option
@pass_app
def due_cmd(app: App, as_of: dt.date | None, as_json: bool) -> None:
    """What is due: replies awaited from bodies, milestones past their end month, progress missing
    for the half-year, and OGP's calendar obligations; each with the command that resolves it.

    \b
    Example:
      ogp due --as-of 2022-07-10
    """
    from workflow import views
    from workflow.due import OVERDUE
    from workflow.due import due as due_on

    day = as_of or dt.date.today()
    with app.session(readonly=True) as session:
        found = [views.due_view(item) for item in due_on(session, day)]
    if as_json:
        emit_json_lines(found)
        return
    if not found:
        echo(f"Nothing is due as of {day}.")
        return
    overdue = sum(1 for item in found if item["status"] == OVERDUE)
    echo(f"As of {day}: {overdue} overdue, {len(found) - overdue} due.")
    for item in found:
        about = " ".join(x for x in (item["ref"], item["subject"]) if x)
        status, day_due = item["status"].upper(), item["due_on"] or "-"
        echo(f"{status:<8} {day_due:<10}  {item['kind']:<11} {about}: {item['what']}")
        echo(f"{'':<33}→ {item['resolve']}")


@cli.command("compliance")
@click.option("--as-of", "as_of", type=DATE, help="The day to judge by. [default: today]")
@json_option
@pass_app
def compliance_cmd(app: App, as_of: dt.date | None, as_json: bool) -> None:
    """Check OGP's minimum requirements from the record: the working group meets every six months
    (1.1), the repository is published twice a year (2.2, from 'ogp publish'), the co-creation
    timeline is out two weeks before co-creation (3.1), a reasoned response precedes the plan's
    submission (4.1), two implementation meetings a year (5.1). Each: met, not met or not yet due,
    with the dates that decide it.

    \b
    Example:
      ogp compliance --as-of 2022-07-10
    """
    from workflow import views
    from workflow.compliance import Status, compliance

    day = as_of or dt.date.today()
    with app.session(readonly=True) as session:
        found = [views.finding_view(finding) for finding in compliance(session, day)]
    if as_json:
        emit_json_lines(found)
        return
    echo(f"OGP minimum requirements as of {day}:")
    for f in found:
        echo(f"{f['requirement']}  {f['status']:<12} {f['title']}")
        echo(f"{'':<17}{f['detail']}")
        if f["status"] != Status.MET.value:
            echo(f"{'':<17}→ {f['resolve']}")


@cli.group("report")
def report_group() -> None:
    """Reports as .docx: the self-assessment progress report and the action plan."""


language_option = click.option(
    "--language", type=click.Choice(LANGUAGES), default="ar", show_default=True, help="The report's language."
)


def _write_report(app: App, out: Path | None, name: str, content: bytes) -> Path:
    from documents import write_atomic

    target = checked_output(out, "--out", suffix=".docx") if out else app.workspace().folder / "reports" / name
    return write_atomic(target.parent, target.name, content)


@report_group.command("progress")
@click.option("--period", type=HalfYearType(), help="The half-year: H1-YYYY or H2-YYYY. [default: the current one]")
@language_option
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the .docx. [default: reports/]"
)
@pass_app
def report_progress(app: App, period: HalfYear | None, language: str, out: Path | None) -> None:
    """Write the self-assessment report for a half-year: per commitment its milestones, status,
    progress, evidence, delays with their reasons, and the government's and civil society's notes.

    \b
    Example:
      ogp report progress --period H1-2022 --out progress-H1-2022.docx
    """
    from documents.reports import render_progress_report
    from workflow import reports
    from workflow.periods import HalfYear

    today = dt.date.today()
    period = period or HalfYear.of(today)
    with app.session(readonly=True) as session:
        content = render_progress_report(reports.progress_report(session, period, language, today))
    path = _write_report(app, out, f"progress-{period}.{language}.docx", content)
    echo(f"Wrote the progress report for {period} to {path}")


@report_group.command("plan")
@language_option
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the .docx. [default: reports/]"
)
@pass_app
def report_plan(app: App, language: str, out: Path | None) -> None:
    """Write the action plan in OGP's template: one section per commitment with its text, dates,
    lead and supporting actors, relevance to OGP values and milestones.

    \b
    Example:
      ogp report plan --out action-plan.docx
    """
    from documents.reports import render_plan_report
    from workflow import reports

    with app.session(readonly=True) as session:
        content = render_plan_report(reports.plan_report(session, language, dt.date.today()))
    path = _write_report(app, out, f"plan.{language}.docx", content)
    echo(f"Wrote the action plan to {path}")


# --- the database ------------------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """The workspace's database: moving it, and PostgreSQL roles."""


@db_group.command("copy")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The new, empty database (a SQLAlchemy URL or a SQLite file).",
)
@pass_app
def db_copy(app: App, target_url: str) -> None:
    """Copy the workspace into another database: every row, every letter's bytes; the audit chain is
    verified on arrival. The target must be empty; the source is left as it is.

    \b
    Example:
      ogp --db ogp.db db copy --to postgresql://coordinator@db.example.org/ogp
    """
    from sqlalchemy.orm import Session

    from workflow import db
    from workflow.transfer import copy_workspace, ensure_empty

    source = app.workspace()
    try:
        target = db.resolve(target_url)
    except InvalidInputError as exc:  # a --to that names no database, as a bad --db is: bad usage
        raise click.BadParameter(terminal_safe(exc.problem), param_hint="'--to'") from None
    if source.url == target.url:
        raise click.BadParameter("is the workspace itself; name another database", param_hint="'--to'")
    if db.workspace_exists(target) and not (target.is_sqlite and Path(str(target.url.database)).stat().st_size == 0):
        probe = make_engine(target, readonly=True)  # opened read-only: a refused target is left byte for byte
        try:
            with probe.connect() as connection:
                ensure_empty(connection)
        finally:
            probe.dispose()
    if target.is_sqlite:
        Path(str(target.url.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(target)
    try:
        # The source is read from one snapshot; the target's schema and rows arrive in one
        # transaction, after checking that it holds nothing, so a refused or failed copy leaves it as it was.
        with app.session(readonly=True) as session, engine.begin() as connection:
            ensure_empty(connection)
            db.upgrade_on(connection)
            with Session(bind=connection) as arriving:
                report = copy_workspace(session, arriving)
    finally:
        engine.dispose()
    rows = sum(report.rows.values())
    kept = f"{report.rows['proposals']} proposals, {report.rows['letters']} letters"
    echo(f"Copied {rows} rows ({kept}) to {target.describe()}.")
    chain = report.chain
    echo(f"Audit chain verified there: {chain.entries} entries; head #{chain.head_seq} {chain.head_hash}")


@db_group.command("roles")
@pass_app
def db_roles(app: App) -> None:
    """Create the PostgreSQL roles ogp_coordinator (every action), ogp_member (scores, interviews,
    conflicts; read) and ogp_auditor (read only), with their grants. Run it as the workspace's
    owner; run it again after 'ogp init' upgrades the schema. No role may change the audit trail.

    \b
    Example:
      ogp --db postgresql://owner@db.example.org/ogp db roles
    """
    from workflow.roles import create_roles

    with app.session() as session:
        report = create_roles(session)
    for role in report.roles:
        echo(f"{role}: {'created' if role in report.created else 'up to date'}")
    echo("Give each person a login role in one of them, e.g.: CREATE ROLE aya LOGIN IN ROLE ogp_coordinator;")


# --- exports -------------------------------------------------------------------------------------


@cli.command("export")
@click.argument("kind", metavar="KIND", type=click.Choice(list(EXPORT_KINDS)))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS),
    help="The file's format. [default: from --out's extension (.csv, .xlsx, .json), else csv]",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), required=True,
    help="The file to write; - writes to standard output.",
)  # fmt: skip
@pass_app
def export_cmd(app: App, kind: str, fmt: str | None, out: Path) -> None:
    """Export KIND (proposals, scores, ranking, responses, register, history) as CSV, .xlsx or JSON,
    with the stable columns the README lists. CSV is UTF-8 with the BOM Excel wants; .xlsx has a
    right-to-left sheet with its header frozen; a cell a spreadsheet would run as a formula is
    written as text. The format follows --out's extension unless --format says otherwise; a
    format that contradicts the extension (an .xlsx named .csv) is refused.

    \b
    Example:
      ogp export ranking --out ranking.xlsx
      ogp export proposals --format json --out - | jq length
    """
    from documents import write_atomic
    from workflow.exports import export as export_table

    to_stdout = str(out) == "-"
    named = out.suffix.lower().lstrip(".") if not to_stdout else ""
    if fmt is None and named and named not in FORMATS:
        raise click.BadParameter(
            f"cannot tell the format from {out.name!r}: name it .csv, .xlsx or .json, or give --format",
            param_hint="'--out'",
        )
    if fmt is None:
        fmt = named or "csv"
    elif named in FORMATS and named != fmt:
        raise click.BadParameter(
            f"{fmt} does not go in a file named {out.name!r} (name it {out.stem}.{fmt}, or leave --format out)",
            param_hint="'--format'",
        )
    target = None if to_stdout else checked_output(out, "--out")
    with app.session(readonly=True) as session:
        table = export_table(session, kind)
        content = write_table(table.columns, table.rows, fmt, title=kind)
    if target is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        echo(f"Wrote {_count(len(table.rows), 'row')} of {kind} to standard output", err=True)
        return
    try:
        write_atomic(target.parent, target.name, content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    echo(f"Wrote {_count(len(table.rows), 'row')} of {kind} to {out}")


# --- what is going on ---------------------------------------------------------------------------


@cli.command("status")
@json_option
@pass_app
def status_cmd(app: App, as_json: bool) -> None:
    """The plan at a glance: counts per state against the caps, and for each open proposal what its
    next move waits for (an interview, scores by member and criterion, the quorum, answers from
    bodies and for how many days) and the command that would move it.

    \b
    Example:
      ogp status
    """
    from workflow import views
    from workflow.evaluation import quorum_size
    from workflow.status import plan_status

    with app.session() as session:
        found = plan_status(session)
        shown = views.status_view(found, quorum_size(session, found.plan))
    if as_json:
        emit_json(shown)
        return
    plan = shown["plan"]
    echo(f"Plan: {plan['title']} {plan['period']}")
    counts = ", ".join(f"{n} {state}" for state, n in shown["counts"].items() if n) or "no proposals yet"
    echo(f"Proposals: {counts}")
    echo(
        f"Shortlist: {shown['shortlist']['taken']} of {shown['shortlist']['size']} places; "
        f"commitments: {shown['commitments']['made']} of {shown['commitments']['target']}; "
        f"working group: {shown['active_members']} active members, quorum {shown['quorum']}"
    )
    for warning in shown["warnings"]:
        echo(f"Warning: {warning}")
    if not shown["waiting"]:
        echo("No open proposal is waiting for anything.")
    for waiting in shown["waiting"]:
        echo(f"{waiting['ref']} [{waiting['state']}] → {waiting['next_event']}; next: {waiting['command']}")
        for what in waiting["waits_for"]:
            echo(f"    - {what}")


@cli.group("plan")
def plan_group() -> None:
    """The plan: its settings, and the co-creation timeline's publication."""


@plan_group.command("show")
@json_option
@pass_app
def plan_show(app: App, as_json: bool) -> None:
    """Every setting of the plan, including the defaults 'ogp init' chose (change them with 'ogp init').

    \b
    Example:
      ogp plan show --json
    """
    from workflow import views
    from workflow.evaluation import quorum_size
    from workflow.plans import current_plan

    with app.session() as session:
        plan = current_plan(session)
        shown = {**views.plan_view(plan), "quorum_in_force": quorum_size(session, plan)}
    if as_json:
        emit_json(shown)
        return
    for key, value in shown.items():
        if key == "criteria":
            for c in value:
                echo(f"{'criterion':<20}{c['code']} (weight {c['weight']}): {c['name_ar']}")
        else:
            shown_value = "(a majority of the active working group)" if key == "quorum" and value is None else value
            echo(f"{key:<20}{shown_value}")


@plan_group.command("timeline")
@click.option("--published-on", required=True, type=DATE, help="The day the co-creation timeline was published.")
@click.option("--co-creation-starts", required=True, type=DATE, help="The day it says co-creation begins.")
@click.option("--url", default="", help="Where it was published (http or https).")
@pass_app
def plan_timeline(app: App, published_on: dt.date, co_creation_starts: dt.date, url: str) -> None:
    """Record the publication of the co-creation timeline (OGP minimum requirement 3.1: at least
    two weeks before co-creation begins).

    \b
    Example:
      ogp plan timeline --published-on 2021-05-20 --co-creation-starts 2021-06-06 --url https://example.org/timeline
    """
    from workflow.compliance import publish_timeline

    with app.session() as session:
        row = publish_timeline(session, published_on, co_creation_starts, url=url, actor=app.actor)
        notice = (row.co_creation_starts - row.published_on).days
    echo(f"Recorded the co-creation timeline: published on {published_on}, {notice} days before it begins.")


# --- publishing ---------------------------------------------------------------------------------


def publication_view(result: PublishResult) -> dict[str, Any]:
    return {
        "folder": str(result.folder),
        "published_on": result.published_on.isoformat(),
        "languages": list(result.languages),
        "head": {"seq": result.head.seq, "hash": result.head.hash},
        "audit_seq": result.seq,
        "manifest_sha256": result.manifest_sha256,
        "files": result.files,
        "proposals": result.proposals,
        "earlier_publications": result.earlier,
    }


def print_publication(result: PublishResult) -> None:
    echo(
        f"Published the national OGP repository to {result.folder} ({', '.join(result.languages)}): "
        f"{result.proposals} proposals, {result.files} files."
    )
    echo(f"  dated {result.published_on.isoformat()}; it shows the audit chain up to #{result.head}")
    echo(f"  recorded as audit entry #{result.seq}; sha256 of its manifest.sha256: {result.manifest_sha256}")
    echo(f"  open {result.folder / 'index.html'}")


@cli.command("publish")
@click.argument("dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--lang",
    "languages",
    type=LANGS,
    default="ar,en",
    show_default=True,
    help="The site's languages, comma-separated; the first is the front page's.",
)
@click.option("--dated", type=DATE, help="The publication's date (not in the future). [default: today]")
@click.option(
    "--name-scorers",
    is_flag=True,
    help="Also publish who scored what (by default only each criterion's mean and the number of members scoring).",
)
@json_option
@pass_app
def publish_cmd(
    app: App, dir: Path, languages: tuple[str, ...], dated: dt.date | None, name_scorers: bool, as_json: bool
) -> None:
    """Publish the national OGP repository and the reasoned response as a static bilingual site in DIR.

    Arabic (right to left) and English pages, no JavaScript, relative links only: it works opened
    from disk, a shared drive or any web server. Home (the plan, counts, the timeline, the update
    log), the contribution register, a page per proposal with its decision and reasons, the reasoned
    response (also .docx, CSV and JSON), the working group and its minutes, the letters register,
    open data and how to verify it. No e-mail address, no member's own scores, no conflict reason.

    The publication is one recorded step (its date, the chain head it shows, the sha256 of its
    manifest.sha256). DIR must be new, empty, or an earlier site, whose files are replaced once the
    step is recorded; files someone else put there are left alone.

    \b
    Example:
      ogp publish site --lang ar,en --dated 2021-08-31
    """
    from workflow.publish import publish, staged_site

    workspace = app.workspace()
    with staged_site(dir, workspace.folder) as staging, app.session() as session:
        result = publish(
            session, staging, actor=app.actor, published_on=dated, languages=languages, name_scorers=name_scorers,
            templates_dir=app.templates, workspace_folder=workspace.folder,
        )  # fmt: skip
    if as_json:
        emit_json(publication_view(result))
    else:
        print_publication(result)


# --- demo ---------------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("ogp-demo"),
    show_default=True,
    help="Where to build the demo workspace.",
)
@pass_app
def demo(app: App, folder: Path) -> None:
    """Build a fresh workspace and play the seed's plan through every state on SAMPLE data, then
    publish the national OGP repository (the static site of 'ogp publish') in DIR/site.

    The folder must be new, empty, or an earlier demo: the files that demo made are replaced, and
    nothing else in the folder is touched.

    \b
    Example:
      ogp demo --dir /tmp/ogp-demo
    """
    from documents import write_atomic
    from workflow import db, replay, views
    from workflow.compliance import compliance
    from workflow.demo import AS_OF, mark_folder, play, prepare_folder
    from workflow.due import OVERDUE
    from workflow.due import due as due_on
    from workflow.plans import current_plan
    from workflow.publish import staged_site

    prepare_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mark_folder(folder, [])
    demo_app = App(str(folder / db.DEFAULT_DB), app.actor, app.templates)
    workspace = demo_app.workspace()
    engine = make_engine(workspace)
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    site_folder = workspace.folder / "site"
    with staged_site(site_folder, workspace.folder) as staging, demo_app.session() as session:
        result = play(session, actor=app.actor, workspace_folder=workspace.folder, site=staging)
        plan = views.plan_view(current_plan(session))
        cut_line = _cut_line(result.shortlist) if result.shortlist else []
        shortlisted = len(result.shortlist.selected) if result.shortlist else 0
        due_items = [views.due_view(item) for item in due_on(session, AS_OF)]
        findings = [views.finding_view(finding) for finding in compliance(session, AS_OF)]
    paths = [
        # The stamped bytes the register keeps (as every command writes them): `letters verify` checks them.
        write_atomic(workspace.letters_dir, letter.file_name, letter.content, exclusive=True)
        for letter in result.letters
    ]
    minutes_path = write_atomic(workspace.folder / "minutes", result.minutes_name, result.minutes, exclusive=True)
    report_paths = [
        write_atomic(workspace.folder / "reports", name, content, exclusive=True) for name, content in result.reports
    ]
    mark_folder(folder, [*paths, minutes_path, *report_paths])
    with demo_app.session() as session:
        report = replay.verify(session)

    path_stages = (State.SUBMITTED, State.INTERVIEWED, State.SHORTLISTED, State.REFERRED, State.COMMITTED)
    echo(f"Demo workspace: {workspace.describe()} (SAMPLE data)")
    caps = f"shortlist {plan['shortlist_size']}, commitments {plan['commitment_target']}"
    echo(f"Plan: {plan['title']} {plan['period']}: {caps}")
    echo("Reached: " + " → ".join(f"{result.reached[s.value]} {s.value}" for s in path_stages))
    echo(f"Working group: {result.members} members; {result.scores} scores given")
    echo(f"Shortlist of {shortlisted} by ranking; cut-line:")
    for line in cut_line:
        echo(line)
    echo("Final: " + ", ".join(f"{n} {state}" for state, n in sorted(result.final.items())))
    for refusal in result.refusals:
        echo(f"Refused, as the rules require: {refusal}")
    kinds = Counter(letter.document.kind.value for letter in result.letters)
    echo(f"Letters: {len(paths)} in {workspace.letters_dir} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    echo(f"Minutes of the second meeting: {minutes_path}")
    if result.publication is not None:
        published = result.publication
        echo(
            f"Site: {site_folder / 'index.html'} (the national OGP repository and the reasoned response, "
            f"{', '.join(published.languages)}; {published.files} files, published {published.published_on})"
        )
    for followup in result.followups:
        echo(f"Followed up: {followup}")
    done = result.implementation
    states = ", ".join(f"{n} {key.split()[1]}" for key, n in sorted(done.items()) if key.startswith("milestones "))
    echo(
        f"Implementation: {done['commitments']} commitments in OGP's template; milestones on {AS_OF}: {states}; "
        f"progress reported: {done['progress from government']} by government, "
        f"{done['progress from civil-society']} by civil society"
    )
    for path in report_paths:
        echo(f"Report: {path}")
    overdue = sum(1 for item in due_items if item["status"] == OVERDUE)
    echo(f"Due as of {AS_OF}: {overdue} overdue, {len(due_items) - overdue} due")
    for item in due_items:
        if item["status"] == OVERDUE:
            echo(f"  overdue: {' '.join(x for x in (item['ref'], item['subject']) if x)}: {item['what']}")
    echo(f"OGP requirements as of {AS_OF}: " + ", ".join(f"{f['requirement']} {f['status']}" for f in findings))
    echo(f"Audit chain verified: {report.entries} entries, head #{report.head_seq} {report.head_hash[:16]}…")
    program = _program()
    echo(f"Try: {program} --db {workspace.describe()} proposal list")
    echo(f"     {program} --db {workspace.describe()} due --as-of {AS_OF}")
    echo(f"     {program} --db {workspace.describe()} compliance --as-of {AS_OF}")


def _program() -> str:
    """How to run this program again: `ogp` when that is what the shell finds, else the path it
    was started by (`make demo` runs `.venv/bin/ogp`, which is not on the PATH until the virtual
    environment is activated)."""
    import shutil

    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    found = shutil.which("ogp")
    if started is None or started.name != "ogp" or (found and Path(found).resolve() == started.resolve()):
        return "ogp"
    try:
        return str(started.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(started)


def main() -> None:
    """Console-script entry point."""
    gc.disable()  # until the command's modules are loaded: see `make_engine`
    for stream in (sys.stdout, sys.stderr):
        # Arabic must never crash a terminal or a pipe that is not UTF-8.
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(errors="replace")
    cli(prog_name="ogp")


if __name__ == "__main__":
    main()
