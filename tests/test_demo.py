"""The demo past its commitments: each commitment in OGP's template with two or three milestones,
a progress round from each side, a delay with its reason, a follow-up to a late body, and `ogp due`
and `ogp compliance` telling the truth about the record they read."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn

from cli import cli
from workflow.demo import AS_OF, MILESTONES, TEMPLATES

H1_2022 = (dt.date(2022, 1, 1), dt.date(2022, 6, 30))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The demo's workspace, built once for this module, and its output."""
    folder = tmp_path_factory.mktemp("demo") / "d"
    result = CliRunner().invoke(cli, ["--actor", "tester", "demo", "--dir", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield folder, result.stdout


def ogp(folder: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(folder / "ogp.db"), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def listing(folder: Path, *args: str) -> Any:
    return json.loads(ogp(folder, *args, "--json"))


def test_each_commitment_is_written_up_in_ogp_s_template_with_two_or_three_milestones(demo: tuple[Path, str]) -> None:
    folder, _ = demo
    commitments = listing(folder, "commitment", "list")
    assert [c["ref"] for c in commitments] == [ref for ref, *_ in TEMPLATES]
    for commitment in commitments:
        shown = listing(folder, "commitment", "show", commitment["ref"])
        assert shown["edited"] and shown["ogp_id"] == f"JO-{commitment['ref']}"
        for name in ("problem", "status_quo", "description", "how_it_solves"):
            assert shown[name], (commitment["ref"], name)
        assert shown["relevance"] and (shown["start"], shown["end"]) == ("2021-10", "2023-06")
        assert shown["supporting_orgs"]  # the proposing organisation works beside the lead body
        assert 2 <= len(shown["milestones"]) <= 3
        for milestone in shown["milestones"]:
            assert shown["start"] <= milestone["start"] <= milestone["end"] <= shown["end"]
    assert sum(len(listing(folder, "commitment", "show", c["ref"])["milestones"]) for c in commitments) == len(
        MILESTONES
    )


def test_both_sides_report_on_every_milestone_open_in_the_half_year_apart(demo: tuple[Path, str]) -> None:
    folder, _ = demo
    milestones = [m for c in listing(folder, "commitment", "list") for m in listing(folder, "commitment", "show", c["ref"])["milestones"]]
    first, last = (d.isoformat() for d in H1_2022)
    for milestone in milestones:
        if milestone["start"] > "2022-06" or milestone["state"] == "cancelled":
            assert milestone["progress"] == []
            continue
        sides = {p["side"]: p for p in milestone["progress"] if first <= p["on"] <= last}
        assert set(sides) == {"government", "civil-society"}, milestone["label"]
    # Civil society's figure stands beside the government's, not merged into it.
    portal = next(m for m in milestones if m["title"].startswith("تطوير البوابة"))
    assert (portal["percent"], portal["civil_society_percent"]) == (70, 50)
    # Every delivered milestone has evidence; the delayed one its reason and new end month.
    for milestone in (m for m in milestones if m["state"] == "completed"):
        assert any(p["evidence"] for p in milestone["progress"]), milestone["label"]
    [delayed] = [m for m in milestones if m["state"] == "delayed"]
    assert (delayed["planned_end"], delayed["end"]) == ("2022-06", "2022-12")
    assert delayed["delays"][0]["reason"].startswith("طلب ديوان التشريع والرأي")
    [cancelled] = [m for m in milestones if m["state"] == "cancelled"]
    assert cancelled["title"] == "منصة إلكترونية جديدة للموازنات البلدية"


def test_one_late_body_receives_a_follow_up_citing_the_referral(demo: tuple[Path, str]) -> None:
    folder, out = demo
    [followup] = [letter for letter in listing(folder, "letters", "list") if letter["kind"] == "followup"]
    [referral] = [
        letter for letter in listing(folder, "letters", "list")
        if letter["kind"] == "referral" and letter["ref"] == "SAMPLE-06"
    ]  # fmt: skip
    assert (followup["ref"], followup["entity"], followup["issued_on"]) == ("SAMPLE-06", "GTD", "2021-08-17")
    body = [p.text for p in docx.Document(str(folder / "letters" / followup["file_name"])).paragraphs]
    assert any(f"إلحاقاً بكتابنا رقم {referral['reference']} تاريخ 1 آب 2021م" in line for line in body)
    reason = f"follow-up to GTD on referral {referral['reference']} of 2021-08-01 (reply overdue since 2021-08-15)"
    assert f"Followed up: SAMPLE-06 → GTD: {reason}\n" in out
    events = [(e["event"], e["reason"]) for e in listing(folder, "history", "SAMPLE-06")]
    assert ("followup", reason) in events
    assert events.index(("followup", reason)) < [e for e, _ in events].index("response")  # chased, then answered


def test_due_tells_what_was_late_and_what_is_due_as_the_record_stands(demo: tuple[Path, str]) -> None:
    folder, out = demo
    assert dt.date(2022, 7, 15) == AS_OF  # the day the texts below speak of
    found = listing(folder, "due", "--as-of", AS_OF.isoformat())
    # From the record, independently: milestones past their end month and not delivered or cancelled.
    milestones = listing(folder, "milestone", "list")
    late = [m["label"] for m in milestones if m["end"] < "2022-07" and m["state"] not in ("completed", "cancelled")]
    assert late == [item["subject"] for item in found if item["kind"] == "milestone"] == ["M11"]
    # The half-year just ended has both sides' reports; the one under way wants them by its end.
    progress = [(i["status"], i["ref"], i["subject"]) for i in found if i["kind"] == "progress"]
    assert progress == [("due", ref, "H2-2022") for ref, *_ in TEMPLATES]
    assert [i for i in found if i["kind"] == "reply"] == []  # every body answered, the late one after a follow-up
    requirements = {i["subject"]: i["status"] for i in found if i["kind"] == "requirement"}
    assert requirements == {"2.2": "overdue"}  # published once, on 31 August 2021: twice a year are due
    overdue = sum(1 for item in found if item["status"] == "overdue")
    assert f"Due as of 2022-07-15: {overdue} overdue, {len(found) - overdue} due\n" in out
    text = ogp(folder, "due", "--as-of", "2022-07-15")
    assert text.startswith("As of 2022-07-15: 2 overdue, 5 due.\n")
    assert "SAMPLE-05 M11: M11 «تطوير البوابة الإلكترونية لطلبات الحصول على المعلومات ومتابعتها» (MODEE) was to end in 2022-06; it is started\n" in text
    assert "→ ogp milestone advance M11 complete (or: ogp milestone advance M11 delay --reason … --new-end YYYY-MM)\n" in text
    # Before the round, the half-year that then ran wanted both sides' reports on every open milestone.
    before = [i for i in listing(folder, "due", "--as-of", "2022-06-19") if i["kind"] == "progress"]
    assert {i["ref"] for i in before} == {ref for ref, *_ in TEMPLATES}


def test_compliance_tells_which_calendar_obligations_the_record_meets(demo: tuple[Path, str]) -> None:
    folder, out = demo
    found = {f["requirement"]: f for f in listing(folder, "compliance", "--as-of", AS_OF.isoformat())}
    assert {k: f["status"] for k, f in found.items()} == {
        "1.1": "met", "2.2": "not met", "3.1": "met", "4.1": "met", "5.1": "met",
    }  # fmt: skip
    held = [m["held_on"] for m in listing(folder, "meeting", "list")]
    assert held == ["2021-07-15", "2021-07-28", "2022-01-20", "2022-07-05"]
    assert found["1.1"]["detail"] == f"met on {', '.join(held)}; the next meeting is due by 2023-01-05"
    assert found["3.1"]["detail"] == (
        "published on 2021-05-16, 16 days before co-creation began on 2021-06-01 (due by 2021-05-18)"
    )
    assert found["4.1"]["detail"] == "published on 2021-08-31, before the plan was submitted on 2021-09-30"
    assert found["2.2"]["detail"] == (
        "1 publication from 2021-07-16 to 2022-07-15 (2021-08-31); two a year were due (the second by 2022-06-01)"
    )
    assert found["5.1"]["detail"].startswith("2 meetings from 2021-07-16 to 2022-07-15 (2022-01-20, 2022-07-05)")
    assert "OGP requirements as of 2022-07-15: 1.1 met, 2.2 not met, 3.1 met, 4.1 met, 5.1 met\n" in out


def test_the_demo_writes_the_half_year_s_report_and_the_plan_and_its_chain_verifies(demo: tuple[Path, str]) -> None:
    folder, out = demo
    report = folder / "reports" / "progress-H1-2022.ar.docx"
    assert f"Report: {report}\n" in out and f"Report: {folder / 'reports' / 'plan.ar.docx'}\n" in out
    document = docx.Document(io.BytesIO(report.read_bytes()))
    assert document.sections[0]._sectPr.find(qn("w:bidi")) is not None
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert any(c.startswith("• moh-youth-councils-decision.txt\nsha256 ") for c in cells)  # the evidence file
    assert any("طلب ديوان التشريع والرأي" in c for c in cells)
    assert "Implementation: 5 commitments in OGP's template; milestones on 2022-07-15: 1 cancelled, 3 completed, 1 delayed, 2 planned, 5 started; progress reported: 9 by government, 9 by civil society\n" in out
    assert ogp(folder, "audit", "verify").startswith("Audit chain verified: ")
    # The letters' files are the stamped bytes the register keeps (the demo wrote them unstamped).
    checked = ogp(folder, "letters", "verify")  # exit 0 (`ogp` asserts it)
    assert ": 35 match, 0 altered, 0 missing, 0 not in the register" in checked, checked


def test_the_demo_s_hints_name_the_program_as_it_can_be_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` runs .venv/bin/ogp, which is not on the PATH: the hints after the demo say
    `.venv/bin/ogp …`, not an `ogp` the shell would not find."""
    import cli as cli_module

    program = tmp_path / ".venv" / "bin" / "ogp"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "argv", [".venv/bin/ogp", "demo"])
    assert cli_module._program() == ".venv/bin/ogp"
    monkeypatch.setenv("PATH", str(program.parent))
    program.chmod(0o755)
    assert cli_module._program() == "ogp"  # what the shell finds is this very program
