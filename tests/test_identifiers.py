"""Records named on the command line (workflow/keys.py) and numbers the database stores: an
all-digit ref and a row number are never confused; numbers no record can have are usage errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from cli import cli
from tests.helpers import dump_tables
from workflow.db import Workspace
from workflow.keys import parse_key


def test_keys_read_refs_numbers_and_digits_as_typed() -> None:
    assert parse_key("P-001") == parse_key("P-001\u200f")
    assert (parse_key("3").number, parse_key("3").number_only) == (3, False)
    assert (parse_key("#3").number, parse_key("#3").number_only) == (3, True)
    assert parse_key("#٣").number == 3 and parse_key("۳").number == 3
    assert parse_key("¹").number is None  # a superscript is not a digit
    assert parse_key("99999999999").number is None  # no row has it; it may still be a ref
    for bad in ("#", "#x", "#¹", "9" * 30):
        with pytest.raises(ValueError):
            parse_key(bad)


@pytest.fixture
def ogp(runner: CliRunner) -> object:
    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        return result

    return invoke


HUGE = str(2**64)
COMMANDS_WITH_IDS = [
    ("proposal", "show", "{}"), ("history", "{}"), ("advance", "{}", "withdraw", "--reason", "x"),
    ("proposal", "link", "{}", "--entity", "MODEE"), ("interview", "record", "{}", "--on", "2021-07-28"),
    ("score", "{}", "--member", "أ", "--criterion", "importance", "--value", "3"), ("score", "list", "{}"),
    ("conflict", "declare", "--member", "أ", "--proposal", "{}"), ("letters", "list", "--proposal", "{}"),
    ("response", "list", "--proposal", "{}"), ("meeting", "minutes", "{}"),
    ("response", "record", "{}", "--entity", "MODEE", "--agreed"),
    ("interview", "schedule", "{}", "--at", "2030-01-01 10:00"),
]  # fmt: skip


def test_an_all_digit_ref_too_large_to_type_back_is_refused_at_entry(ogp, workspace: Workspace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = dump_tables(workspace.url.render_as_string(hide_password=False))
    refused = ogp("proposal", "add", "--ref", HUGE, "--title", "فكرة", "--org", "جهة")
    assert refused.exit_code == 1
    assert f"ref: '{HUGE}': an all-digit ref may be at most {2**63 - 1} (add a letter, e.g. P-{HUGE})" in refused.stderr
    (tmp_path / "refs.csv").write_text(f"ref,title,organization\n{HUGE},فكرة,جهة\n", encoding="utf-8")
    imported = ogp("proposal", "import", str(tmp_path / "refs.csv"))
    assert imported.exit_code == 1 and "an all-digit ref may be at most" in imported.stderr
    assert dump_tables(workspace.url.render_as_string(hide_password=False)) == before
    assert ogp("proposal", "add", "--ref", str(2**63 - 1), "--title", "فكرة", "--org", "جهة").exit_code == 0
    assert json.loads(ogp("proposal", "show", str(2**63 - 1), "--json").stdout)["ref"] == str(2**63 - 1)


@pytest.mark.parametrize("typed", [HUGE, "#" + HUGE, "¹", "²", "#", "#x"])
def test_numbers_no_record_can_have_and_digits_that_are_not_digits_are_usage_errors(
    ogp,
    workspace: Workspace,
    typed: str,  # type: ignore[no-untyped-def]
) -> None:
    before = dump_tables(workspace.url.render_as_string(hide_password=False))
    for template in COMMANDS_WITH_IDS:
        args = [part.replace("{}", typed) for part in template]
        result = ogp(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Invalid value for 'ID'" in result.stderr or "Invalid value for '--proposal'" in result.stderr, args
    assert dump_tables(workspace.url.render_as_string(hide_password=False)) == before


@pytest.mark.parametrize(
    "args",
    [
        ("init", "--shortlist-size", HUGE), ("init", "--commitment-target", "9" * 40), ("init", "--quorum", HUGE),
        ("init", "--quorum", "-1"), ("init", "--shortlist-size", "¹"), ("shortlist", "--top", HUGE),
        ("score", "P-1", "--member", "أ", "--criterion", "importance", "--value", HUGE),
        ("criterion", "set-weight", "importance", HUGE), ("letters", "register", "--year", HUGE),
        ("init", "--shortlist-size", str(2**31)),
        # what Python's int() takes but no one writes as a number: never read as another number
        ("init", "--shortlist-size", "0_7"), ("init", "--quorum", "1_0"), ("init", "--reply-within", "3_0"),
        ("score", "P-1", "--member", "أ", "--criterion", "importance", "--value", "0_4"),
        ("criterion", "set-weight", "importance", "1_0"), ("init", "--shortlist-size", "٦_"),
    ],
)  # fmt: skip
def test_caps_and_quorum_beyond_what_the_database_holds_are_usage_errors(ogp, workspace: Workspace, args) -> None:  # type: ignore[no-untyped-def]
    before = dump_tables(workspace.url.render_as_string(hide_password=False))
    result = ogp(*args)
    assert result.exit_code == 2, result.output
    assert dump_tables(workspace.url.render_as_string(hide_password=False)) == before


def test_a_number_of_thousands_of_digits_is_named_short(ogp) -> None:  # type: ignore[no-untyped-def]
    refused = ogp("init", "--quorum", "9" * 5000)
    assert refused.exit_code == 2
    assert "'99999999999999999999… (5000 characters)' has 5000 digits, far outside any range" in refused.stderr
    assert len(refused.stderr) < 400


def test_numbers_in_arabic_indic_digits_are_read(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert ogp("init", "--shortlist-size", "٦", "--commitment-target", "۴", "--quorum", "٢").exit_code == 0
    assert ogp("proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    assert json.loads(ogp("proposal", "show", "#١", "--json").stdout)["ref"] == "P-1"
    assert ogp("member", "add", "عضو", "--org", "جهة أخرى").exit_code == 0
    assert ogp("interview", "record", "#١", "--on", "٢٠٢١-٠٧-٢٨").exit_code == 0
    assert ogp("advance", "#١", "interview").exit_code == 0
    assert ogp("score", "P-1", "--member", "#١", "--criterion", "importance", "--value", "٤").exit_code == 0
    assert json.loads(ogp("score", "list", "P-1", "--json").stdout)[0]["value"] == 4


def test_members_and_meetings_by_name_or_number(ogp, workspace: Workspace) -> None:  # type: ignore[no-untyped-def]
    assert ogp("member", "add", "2", "--org", "جهة").exit_code == 0  # a member whose name is a digit
    assert ogp("member", "add", "عضو", "--org", "جهة").exit_code == 0
    # "2" is the member named 2 (number 1), never member number 2; "#1" is that same member.
    twice = ogp("meeting", "add", "--on", "2021-07-28", "--attendee", "2", "--apology", "#1")
    assert (twice.exit_code, twice.stderr) == (
        1, "Error: meeting of 2021-07-28: --apology: 2 is listed twice (already as attendee)\n",
    )  # fmt: skip
    meeting = ogp("meeting", "add", "--on", "2021-07-28", "--attendee", "2", "--apology", "#2")
    assert meeting.exit_code == 0
    listed = json.loads(ogp("meeting", "list", "--json").stdout)[0]
    assert (listed["attendees"], listed["apologies"]) == (["2"], ["عضو"])
    assert ogp("meeting", "minutes", "#1", "--out", "m.docx").exit_code == 0
