"""The terminal and the actor: who acts is a plain name, and nothing stored reaches the terminal as
an escape sequence or a direction override, whatever a file, a proposer or another tool put in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cli import cli, terminal_safe
from tests.conftest import SessionFactory
from workflow.db import Workspace

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e\x00"


@pytest.mark.parametrize(
    ("actor", "problem"),
    [
        ("aya\x1b[31m", "has an invisible or control character (U+001B) at position 4"),
        ("aya\x07", "has an invisible or control character (U+0007)"),
        ("aya\x9b", "has an invisible or control character (U+009B)"),
        ("\u202eaya", "has an invisible or control character (U+202E) at position 1"),
        ("aya\udcff", "is not valid UTF-8 text"),
        ("\u3164", "has an invisible or control character (U+3164) at position 1"),  # a Hangul filler: blank
        ("aya\uffa0", "has an invisible or control character (U+FFA0) at position 4"),
        ("a" * 201, "is 201 characters long; at most 200 are allowed"),
        ("   ", "must not be empty"),
    ],
)
def test_an_actor_that_is_not_a_plain_name_is_refused(actor: str, problem: str) -> None:
    runner = CliRunner()  # refused before any workspace is opened
    result = runner.invoke(cli, ["--actor", actor, "proposal", "list"])
    assert result.exit_code == 2
    assert problem in result.stderr
    assert "\x1b" not in result.output and "\x9b" not in result.output
    refused = runner.invoke(cli, ["proposal", "list"], env={"OGP_ACTOR": actor})
    assert refused.exit_code == 2 and problem in refused.stderr


def test_names_with_joiners_and_arabic_are_fine_actors(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--actor", "آیه\u200cالله  الخطيب", "proposal", "add", "--title", "t", "--org", "o"])
    assert result.exit_code == 0, result.output
    history = json.loads(runner.invoke(cli, ["history", "P-001", "--json"]).stdout)
    assert history[0]["actor"] == "آیه\u200cالله الخطيب"


def test_stored_escape_sequences_are_never_printed_raw(
    runner: CliRunner, workspace: Workspace, session_scope: SessionFactory
) -> None:
    assert (
        runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "t" + ESCAPES, "--org", "o"]).exit_code == 0
    )
    assert runner.invoke(cli, ["member", "add", "m" + ESCAPES, "--org", "o"]).exit_code == 0
    # What an older version, another tool or a hand edit may have stored, past today's checks.
    with session_scope() as s:
        s.execute(
            text("UPDATE proposals SET title = :t, organization = :t"), {"t": "evil" + ESCAPES.replace("\x00", "")}
        )
        s.execute(text("UPDATE members SET name = :t"), {"t": "member\x1b[5m\x9b"})
    for args in (
        ["proposal", "list"], ["proposal", "list", "--json"], ["proposal", "show", "P-1"],
        ["proposal", "show", "P-1", "--json"], ["member", "list"], ["member", "list", "--json"], ["history", "P-1"],
        ["proposal", "show", "P-404"], ["score", "P-1", "--member", "x\x1b[1m", "--criterion", "importance",
                                        "--value", "1"],
    ):  # fmt: skip
        result = runner.invoke(cli, args)
        for raw in ("\x1b", "\x9b", "\x07", "\u202e"):
            assert raw not in result.output, (args, result.output)
    shown = runner.invoke(cli, ["proposal", "show", "P-1"]).stdout
    assert "Title:        evil\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m\\u202e\n" in shown
    assert json.loads(runner.invoke(cli, ["proposal", "list", "--json"]).stdout)[0]["title"] == (
        "evil" + ESCAPES.replace("\x00", "")
    )


def test_entry_already_drops_what_a_terminal_would_run(runner: CliRunner) -> None:
    assert (
        runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "t" + ESCAPES, "--org", "o"]).exit_code == 0
    )
    assert json.loads(runner.invoke(cli, ["proposal", "show", "P-1", "--json"]).stdout)["title"] == ("t]0;owned[2J31m")


def test_terminal_safe_escapes_only_what_must_not_reach_a_terminal() -> None:
    assert terminal_safe("مرحبا\tP-1\n") == "مرحبا\tP-1\n"
    assert terminal_safe("a\x1bb\x9bc\u202ed\ud800") == "a\\u001bb\\u009bc\\u202ed\\ud800"
    # Beyond the BMP (a tag character) as its UTF-16 pair: JSON reads back the very character
    # (written as \ue0001 it read back as U+E000 and "1").
    assert terminal_safe("\U000e0001b") == "\\udb40\\udc01b"
    assert json.loads(terminal_safe(json.dumps(["\U000e0001b", "\u200fx"], ensure_ascii=False))) == [
        "\U000e0001b", "\u200fx"
    ]  # fmt: skip


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    """`ogp proposal list | head -1`: the pipe closes early; ogp stops quietly, exit 0."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OGP_DB": str(tmp_path / "ogp.db")}
    ogp = [sys.executable, "-c", "import sys; from cli import main; sys.argv[0] = 'ogp'; main()"]
    subprocess.run([*ogp, "init"], env=env, check=True, capture_output=True)
    rows = "ref,title,organization,submitted_on\n" + "".join(
        f"P-{n:04d},فكرة {n},جهة {n},2021-06-20\n" for n in range(1, 400)
    )
    (tmp_path / "p.csv").write_text(rows, encoding="utf-8")
    subprocess.run([*ogp, "proposal", "import", str(tmp_path / "p.csv")], env=env, check=True, capture_output=True)
    listing = subprocess.Popen([*ogp, "proposal", "list"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert listing.stdout is not None and listing.stderr is not None
    first = listing.stdout.readline()
    listing.stdout.close()  # the reader goes away after one line, as `head -1` does
    error = listing.stderr.read()
    listing.stderr.close()
    assert listing.wait(timeout=120) == 0 and first.startswith(b"ID") and error == b""


def test_a_long_cell_does_not_widen_the_table_but_json_keeps_it_whole(runner: CliRunner) -> None:
    """`ogp history` after a score import: its entry's reason lists every score, hundreds of
    characters; in the table it is cut at TABLE_CELL with an ellipsis (but for the last column)."""
    from cli import TABLE_CELL

    reason = "سبب " * 100
    assert runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة"]).exit_code == 0
    assert runner.invoke(cli, ["advance", "P-1", "withdraw", "--reason", reason]).exit_code == 0
    table = runner.invoke(cli, ["history", "P-1"]).stdout.splitlines()
    assert all(len(line) < 2 * TABLE_CELL + 100 for line in table), table
    assert any(reason.strip()[: TABLE_CELL - 1] + "…" in line for line in table)
    whole = json.loads(runner.invoke(cli, ["history", "P-1", "--json"]).stdout)
    assert whole[-1]["reason"] == reason.strip()
