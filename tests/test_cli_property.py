"""A property-based run over every command and every option of the command line (hypothesis,
bounded and derandomised): whatever the arguments — well-formed, hostile, or in between — no
traceback, an exit code of 0, 1 or 2 with `Error:` or `Usage:` for the last two, and a refused
command (1 or 2) changes no record: a dump of every table is the same before and after.

The counts it ran are printed at the end of the pytest run (see `tests/conftest.py`)."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import DateTimeType, DateType, KeyType, cli
from tests.helpers import CLI_PROPERTY_RUN, cli_to_shortlisted, dump_tables
from workflow.db import Workspace

pytestmark = pytest.mark.slow

EXAMPLES = {"sqlite": 8, "postgresql": 8}  # per command
NASTY = [
    "", " ", "\x00", "\x1b[31m", "\x9b", "\u202eP-1", "P-1\u200f", "¹", "#", "#¹", "-1", "0", str(2**64), "9" * 40,
    "'; DROP TABLE proposals; --", "=cmd|' /C calc'!A0", "\ud800", "x" * 5000, "مرحبا", "٣", "۳", "#٢", "../x",
    "/etc/passwd", "--help", "-h", "NaN", "2021-02-30", "2102-07-28", "tomorrow", "1e9",
]  # fmt: skip
FUTURE = dt.date.today() + dt.timedelta(days=20)


def commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = list(commands())


@pytest.fixture
def world(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> dict[str, Any]:
    """A workspace with proposals in several states, members, a meeting and letters; and files and
    folders of every awkward kind to hand to commands."""

    def ogp(*args: str) -> Any:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == 0, (args, result.output)
        return result

    for index in range(1, 5):
        ogp("proposal", "add", "--ref", f"P-{index}", "--title", f"فكرة {index}", "--org", "جهة",
            "--entity", "MODEE", "--submitted-on", "2021-06-20")  # fmt: skip
    cli_to_shortlisted(ogp, "P-2")
    cli_to_shortlisted(ogp, "P-3")
    ogp("advance", "P-3", "refer")
    ogp("interview", "schedule", "P-1", "--at", f"{FUTURE} 10:00")
    ogp("member", "add", "ندى خاطر", "--org", "وزارة")
    ogp("meeting", "add", "--on", "2021-07-28", "--attendee", "ندى خاطر")
    files = tmp_path / "files"
    files.mkdir()
    (files / "proposals.csv").write_text("title,organization\nفكرة جديدة,جهة\n", encoding="utf-8")
    (files / "scores.csv").write_text("proposal,member,criterion,value\nP-1,ندى خاطر,importance,3\n")
    (files / "bad.csv").write_bytes(b"title,,title\n\xff\x00,\n")
    (files / "p.json").write_text('[{"title": "t", "organization": "o", "ref": "J-1"}]')
    (files / "busy").mkdir()
    (files / "busy" / "notes.txt").write_text("keep")
    (files / "templates").mkdir()
    (files / "templates" / "referral.ar.j2").write_text("{% block subject %}{{ 1/0 }}{% endblock %}")
    os.mkfifo(files / "fifo")
    (files / "link").symlink_to(files / "busy" / "notes.txt")
    os.symlink("/nonexistent/target", files / "dangling")
    paths = [str(files / name) for name in ("proposals.csv", "scores.csv", "bad.csv", "p.json", "busy", "templates",
                                            "fifo", "link", "dangling", "missing.csv")]  # fmt: skip
    return {
        "url": workspace.url.render_as_string(hide_password=False),
        "paths": [*paths, "/dev/zero", "/dev/null", str(tmp_path)],
        "outputs": [*paths, "out", "out.csv", "out/x.docx", "link-out"],
        "members": ["ندى خاطر", "عضو محايد", "#1", "#2", "2"],
    }


def value_strategy(param: click.Parameter, world: dict[str, Any], command: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Values for one parameter: mostly what it expects, sometimes anything at all."""
    kind = param.type
    nasty = st.sampled_from(NASTY) | st.text(max_size=30)
    if isinstance(kind, KeyType):
        good = {
            "proposal": ["P-1", "P-2", "P-3", "P-4", "#1", "#3", "1", "p-2", "P-404"],
            "meeting": ["1", "#1", "2"],
            "member": world["members"],
        }[kind.kind]
        return st.sampled_from(good) | nasty
    if isinstance(kind, DateType):
        return (
            st.sampled_from(["2021-07-28", "28/7/2021", "٢٨/٧/٢٠٢١", "2021-06-01", str(FUTURE), "1950-01-01"]) | nasty
        )
    if isinstance(kind, DateTimeType):
        return (
            st.sampled_from(
                [f"{FUTURE} 10:00", f"{FUTURE}", "2021-07-28 10:00", f"{FUTURE + dt.timedelta(days=1)} 9:30"]
            )
            | nasty
        )
    if isinstance(kind, click.Choice):
        return st.sampled_from([str(c) for c in kind.choices]) | nasty
    if isinstance(kind, click.types.IntParamType | click.types.IntRange):
        return st.integers(-3, 12).map(str) | st.sampled_from([str(2**31), str(2**64), "٣", "¹", "x"])
    if isinstance(kind, click.Path):
        if command[0] in ("demo", "db") or param.name in ("folder", "dir", "file", "out", "target_url", "templates"):
            pool = world["outputs"] if command[-1] in ("export", "minutes", "demo") else world["paths"]
            if command == ("demo",):
                pool = [p for p in world["paths"] if not p.endswith(("missing.csv",))]
            return st.sampled_from(pool)
        return st.sampled_from(world["paths"])
    if param.name == "target_url":
        return st.sampled_from(["copy.db", world["paths"][0], world["paths"][4], "sqlite:///:memory:",
                                "postgresql://127.0.0.1:1/none", "nope://x", world["url"]])  # fmt: skip
    if param.name == "expected":
        return st.sampled_from(["1:" + "0" * 64, "x", "¹:" + "a" * 64]) | nasty
    names = ["MODEE", "ROS", "وزارة الصحة", "importance", "Zoom", "ندى خاطر", "سبب وجيه", "P-1"]
    return st.sampled_from(names) | nasty


@st.composite
def invocation(
    draw: st.DrawFn, world: dict[str, Any], path: tuple[str, ...], command: click.Command
) -> tuple[tuple[str, ...], list[str], list[str]]:
    """A command line for `command`: global options, some of its options and its arguments (all
    of them in hypothesis' simplest example, which it tries first)."""
    everything = draw(st.integers(0, 3)) == 0
    argv: list[str] = []
    used: list[str] = []
    if draw(st.integers(0, 9)) == 0:
        argv += ["--actor", draw(st.sampled_from(["aya", "آية\u200cالله"]) | st.sampled_from(NASTY))]
        used.append("--actor")
    if draw(st.integers(0, 14)) == 0:
        argv += ["--db", draw(st.sampled_from([*world["paths"][4:], "nope.db", "sqlite:///:memory:",
                                                 "postgresql://127.0.0.1:1/none"]))]  # fmt: skip
        used.append("--db")
    else:
        argv += ["--db", world["url"]]
    if draw(st.integers(0, 14)) == 0:
        argv += ["--templates", draw(st.sampled_from(world["paths"]))]
        used.append("--templates")
    argv += ["score", "give"] if path == ("score", "give") and draw(st.booleans()) else list(path)
    if path == ("score", "give") and argv[-1] == "give":
        argv.pop()  # `ogp score ID …` is how the hidden command is reached
    arguments = []
    for param in command.params:
        if param.name in ("help",):
            continue
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else draw(st.integers(0, 2))
            if param.required or everything or draw(st.integers(0, 3)):
                arguments += [draw(value_strategy(param, world, path)) for _ in range(count)]
                used.append(param.name or "")
            continue
        assert isinstance(param, click.Option)
        if not (param.required or everything or draw(st.booleans())):
            continue
        used.append(param.opts[0])
        if param.is_flag:
            argv.append(param.opts[0] if not param.secondary_opts or draw(st.booleans()) else param.secondary_opts[0])
            continue
        for _ in range(draw(st.integers(1, 2)) if param.multiple else 1):
            argv += [param.opts[0], draw(value_strategy(param, world, path))]
    separator = ["--"] if any(a.startswith("-") for a in arguments) else []
    return path, [*argv, *separator, *arguments], used


def options_of(path: tuple[str, ...], command: click.Command) -> set[str]:
    """Every option and argument of a command, as the run records them."""
    names = {p.opts[0] if isinstance(p, click.Option) else (p.name or "") for p in command.params}
    return {f"{' '.join(path)} {name}" for name in names if name != "--help"}


def run_property(world: dict[str, Any], backend: str) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "backend": backend, "invocations": 0, "exit_codes": Counter(), "refusals_checked": 0, "changed_on_refusal": 0,
        "tracebacks": 0, "commands": set(), "options": set(),
    }  # fmt: skip
    runner = CliRunner()
    for path, command in COMMANDS:
        run_command(world, backend, path, command, counts, runner)
    return counts


def run_command(
    world: dict[str, Any],
    backend: str,
    path: tuple[str, ...],
    command: click.Command,
    counts: dict[str, Any],
    runner: CliRunner,
) -> None:
    @settings(
        max_examples=EXAMPLES[backend],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(call=invocation(world, path, command))
    def check(call: tuple[tuple[str, ...], list[str], list[str]]) -> None:
        path, argv, used = call
        before = dump_tables(world["url"])
        result = runner.invoke(cli, argv)
        counts["invocations"] += 1
        counts["commands"].add(" ".join(path))
        counts["options"].update(f"{' '.join(path)} {name}" for name in used)
        counts["exit_codes"][result.exit_code] += 1
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            counts["tracebacks"] += 1
            raise AssertionError(f"traceback for {argv!r}") from result.exception
        assert "Traceback" not in result.output, argv
        assert result.exit_code in (0, 1, 2), (argv, result.output)
        if result.exit_code:
            assert any(line.startswith("Error:") for line in result.stderr.splitlines()), (argv, result.stderr)
            counts["refusals_checked"] += 1
            if dump_tables(world["url"]) != before:
                counts["changed_on_refusal"] += 1
                raise AssertionError(f"a refused command changed records: {argv!r}")
        for raw in ("\x1b", "\x9b", "\u202e"):
            assert raw not in result.output, (argv, result.output)

    check()


def test_every_command_and_option_never_tracebacks_and_refusals_change_nothing(
    world: dict[str, Any], db_url: str, request: pytest.FixtureRequest
) -> None:
    backend = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    counts = run_property(world, backend)
    # Carried on the test's report (to the controller when xdist runs the suite in workers), and
    # printed at the end of the run by tests/conftest.py.
    summary = {
        **{name: counts[name] for name in ("backend", "invocations", "refusals_checked", "changed_on_refusal", "tracebacks")},
        "exit_codes": {str(code): n for code, n in sorted(counts["exit_codes"].items())},
        "commands": len(counts["commands"]),
        "options": len(counts["options"]),
    }
    request.node.user_properties.append((CLI_PROPERTY_RUN, summary))
    assert counts["tracebacks"] == 0 and counts["changed_on_refusal"] == 0
    every_command = {" ".join(path) for path, _ in COMMANDS}
    assert counts["commands"] == every_command, every_command - counts["commands"]
    every_option = set().union(*(options_of(path, command) for path, command in COMMANDS))
    assert every_option <= counts["options"], every_option - counts["options"]
