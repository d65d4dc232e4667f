"""The command line after the commitment: exit codes, exact messages, JSON shapes, files written,
bad input refused with nothing changed (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli
from tests.test_cli import add, head, to_shortlisted


def ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def ok(runner: CliRunner, *args: str) -> str:
    result = ogp(runner, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def commit(runner: CliRunner, ref: str = "P-1", *bodies: str) -> None:
    add(runner, ref, *(x for body in bodies for x in ("--entity", body)))
    to_shortlisted(runner, ref)
    ok(runner, "advance", ref, "refer")
    ok(runner, "response", "record", ref, "--entity", "MODEE", "--agreed", "--on", "2021-08-15")
    ok(runner, "advance", ref, "commit")


def test_a_commitment_from_its_template_to_its_milestones_and_progress(
    runner: CliRunner, tmp_path: Path
) -> None:
    commit(runner)
    assert ok(runner, "commitment", "edit", "P-1", "--ogp-id", "JO0070", "--start", "2021-11", "--end", "2023-06",
              "--status-quo", "طلبات ورقية", "--relevance", "accountability=نشر البيانات", "--supporting", "ROS",
              "--supporting-org", "مركز الشفافية الأردني") == "P-1: the commitment's template was updated.\n"  # fmt: skip
    before = head(runner)
    assert ok(runner, "commitment", "edit", "P-1", "--ogp-id", "JO0070") == (
        "P-1: the commitment's template was already so; nothing changed.\n"
    )
    assert head(runner) == before
    assert ok(runner, "milestone", "add", "P-1", "--title", "نشر البيانات", "--output", "بيانات منشورة",
              "--start", "2021-11", "--end", "2022-04", "--responsible", "ros") == (
        "Added milestone M1 of P-1: نشر البيانات (2021-11 → 2022-04)\n"
    )  # fmt: skip
    started = ok(runner, "milestone", "advance", "M1", "start", "--dated", "1/11/2021")
    assert started == f"M1 (P-1): planned → started on 2021-11-01 (audit #{head(runner)})\n"

    refused = ogp(runner, "milestone", "advance", "m-1", "complete")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: Cannot complete milestone M1: a progress entry with evidence must be recorded first "
        "(ogp progress record … --evidence FILE|URL) (no progress entry on it has evidence).\n"
    )
    missing = ogp(runner, "progress", "record", "M1", "--percent", "100", "--note", "تم", "--by", "government",
                  "--evidence", "nope.pdf")  # fmt: skip
    assert missing.exit_code == 1
    assert missing.stderr == "Error: milestone M1: --evidence: cannot read nope.pdf: No such file or directory\n"
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 evidence")
    assert ok(runner, "progress", "record", "M1", "--percent", "100", "--note", "نُشرت البيانات", "--by", "government",
              "--evidence", "report.pdf", "--evidence", "https://example.org/data", "--on", "2022-04-20") == (
        "Recorded progress on M1: 100% by government on 2022-04-20; evidence: 2.\n"
    )  # fmt: skip
    ok(runner, "progress", "record", "M1", "--percent", "80", "--note", "ناقصة", "--by", "civil-society")
    ok(runner, "milestone", "advance", "M1", "complete", "--dated", "2022-04-28")
    wrong = ogp(runner, "milestone", "advance", "M1", "delay", "--reason", "x", "--new-end", "2022-09")
    assert (wrong.exit_code, wrong.stderr) == (
        1, "Error: Cannot delay milestone M1: it is 'completed'; delay is allowed from: planned, started, delayed.\n"
    )  # fmt: skip

    shown = json.loads(ok(runner, "commitment", "show", "p-1", "--json"))
    assert list(shown) == [
        "id", "ref", "ogp_id", "title", "lead", "start", "end", "completion", "percent", "milestones", "edited",
        "problem", "status_quo", "description", "how_it_solves", "relevance", "supporting", "supporting_orgs",
        "edited_by", "edited_at",
    ]  # fmt: skip
    assert (shown["ogp_id"], shown["lead"], shown["completion"], shown["percent"]) == ("JO0070", "MODEE", "complete", 100)
    assert (shown["relevance"], shown["supporting"]) == ({"accountability": "نشر البيانات"}, ["ROS"])
    [milestone] = shown["milestones"]
    assert (milestone["label"], milestone["state"], milestone["percent"], milestone["civil_society_percent"]) == (
        "M1", "completed", 100, 80,
    )  # fmt: skip
    evidence = milestone["progress"][0]["evidence"]
    assert evidence[0]["file_name"] == "report.pdf" and len(evidence[0]["sha256"]) == 64
    assert evidence[1] == {"url": "https://example.org/data", "file_name": None, "size": 0, "sha256": None}
    listed = json.loads(ok(runner, "commitment", "list", "--json"))
    assert listed == [
        {"id": 1, "ref": "P-1", "ogp_id": "JO0070", "title": "منصة P-1", "lead": "MODEE", "start": "2021-11",
         "end": "2023-06", "completion": "complete", "percent": 100, "milestones": 1, "edited": True}
    ]  # fmt: skip
    [row] = json.loads(ok(runner, "milestone", "list", "P-1", "--json"))
    assert list(row) == [
        "id", "label", "ref", "position", "title", "output", "responsible", "start", "end", "planned_end", "state",
        "percent", "civil_society_percent", "next_events", "delays",
    ]  # fmt: skip
    assert "M1   P-1  completed  100% (cs 80%)" in ok(runner, "milestone", "list")

    history = json.loads(ok(runner, "history", "P-1", "--json"))
    assert [e["event"] for e in history][-6:] == [
        "edit_commitment", "add_milestone", "milestone_start", "record_progress", "record_progress",
        "milestone_complete",
    ]  # fmt: skip
    assert ok(runner, "audit", "verify").startswith("Audit chain verified:")


@pytest.mark.parametrize(
    ("args", "option", "problem"),
    [
        (("milestone", "advance", "M1", "finish"), "'EVENT'", "'finish' is not one of 'start', 'delay', 'complete', 'cancel'"),
        (("milestone", "advance", "M1", "start", "--dated", "2022-13-01"), "'--dated'", "'2022-13-01' is not a date"),
        (("milestone", "advance", "M1", "delay", "--new-end", "2022-5"), "'--new-end'", "'2022-5' is not a month: use YYYY-MM, e.g. 2022-05"),
        (("milestone", "add", "P-1", "--title", "x", "--start", "2021-1", "--end", "2022-01", "--responsible", "MOH"),
         "'--start'", "'2021-1' is not a month"),
        (("commitment", "edit", "P-1", "--relevance", "accountability"), "'--relevance'", "'accountability' is not VALUE=TEXT"),
        (("commitment", "edit", "P-1", "--end", "June"), "'--end'", "'June' is not a month"),
        (("progress", "record", "M1", "--percent", "101", "--note", "x", "--by", "government"), "'--percent'", "101 is not in the range 0<=x<=100"),
        (("progress", "record", "M1", "--percent", "1", "--note", "x", "--by", "ministry"), "'--by'", "'ministry' is not one of 'government', 'civil-society'"),
    ],
)  # fmt: skip
def test_bad_dates_months_periods_and_values_are_usage_errors_naming_the_option(
    runner: CliRunner, args: tuple[str, ...], option: str, problem: str
) -> None:
    before = head(runner)
    result = ogp(runner, *args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}: {problem}" in result.stderr
    assert head(runner) == before


def test_refusals_name_the_record_and_change_nothing(runner: CliRunner) -> None:
    add(runner, "P-1")
    before = head(runner)
    for args, message in (
        (("commitment", "show", "P-9"), "Error: no proposal 'P-9'.\n"),
        (("commitment", "show", "P-1"), "Error: no commitment P-1 (the proposal is 'submitted'; only committed ones are).\n"),
        (("commitment", "edit", "P-1", "--ogp-id", "JO1"),
         "Error: Cannot edit the commitment of proposal P-1: it is 'submitted'; this is done only while it is committed.\n"),
        (("milestone", "advance", "M99", "start"), "Error: no milestone 'M99'.\n"),
        (("progress", "record", "x7", "--percent", "1", "--note", "x", "--by", "government"), "Error: no milestone 'x7'.\n"),
    ):  # fmt: skip
        result = ogp(runner, *args)
        assert (result.exit_code, result.stderr) == (1, message), args
    assert head(runner) == before

