"""Seeing what is going on: status, plan settings, what a move would do, why an event is not yet
allowed; and the small things that make letters and minutes read as hand-made."""

from __future__ import annotations

import json
from pathlib import Path

import docx
from click.testing import CliRunner, Result
from sqlalchemy import Engine, event

from cli import cli
from states import State
from tests.conftest import SessionFactory
from tests.helpers import SOON, bring_to, cli_to_shortlisted, register
from workflow.members import for_the
from workflow.status import plan_status

CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


def ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def ok(runner: CliRunner, *args: str) -> Result:
    result = ogp(runner, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


def test_status_says_what_each_open_proposal_waits_for(runner: CliRunner) -> None:
    for name in ("أ", "ب", "ج"):
        ok(runner, "member", "add", name, "--org", f"جهة {name}")
    for ref, bodies in (("P-1", ("MODEE",)), ("P-2", ("MODEE", "ROS")), ("P-3", ("MOH",))):
        ok(runner, "proposal", "add", "--ref", ref, "--title", f"فكرة {ref}", "--org", "جمعية", "--submitted-on",
           "2021-06-20", *[x for b in bodies for x in ("--entity", b)])  # fmt: skip
    ok(runner, "interview", "schedule", "P-1", "--at", f"{SOON} 10:00")
    for ref in ("P-2", "P-3"):
        ok(runner, "interview", "record", ref, "--on", "2021-07-28")
        ok(runner, "advance", ref, "interview")
    for member in ("أ", "ب"):
        for code in CRITERIA:
            ok(runner, "score", "P-2", "--member", member, "--criterion", code, "--value", "4")
    ok(runner, "score", "P-3", "--member", "أ", "--criterion", "importance", "--value", "3")
    ok(runner, "advance", "P-2", "shortlist")
    ok(runner, "advance", "P-2", "refer", "--dated", "2021-08-01")
    ok(runner, "response", "record", "P-2", "--entity", "ROS", "--declined", "--on", "2021-08-10")

    shown = json.loads(ok(runner, "status", "--json").stdout)
    assert shown["counts"]["submitted"] == 1 and shown["counts"]["referred"] == 1
    assert shown["shortlist"] == {"taken": 1, "size": 7} and shown["commitments"] == {"made": 0, "target": 5}
    assert (shown["active_members"], shown["quorum"]) == (3, 2)
    assert shown["warnings"] == ["letters go out unsigned: no signatory name is set (ogp init --signatory-name NAME)"]
    waiting = {w["ref"]: w for w in shown["waiting"]}
    assert waiting["P-1"]["waits_for"] == [f"no interview recorded (scheduled for {SOON} 10:00)"]
    assert waiting["P-1"]["command"] == "ogp interview record P-1 --on DATE"
    p3 = waiting["P-3"]["waits_for"]
    assert p3[0].startswith("quorum not reached (importance 1 of 2, global_trend 0 of 2")
    assert "scores missing from أ: global_trend, ogp_values, national_priorities, government_mandate" in p3
    assert "scores missing from ب: every criterion" in p3
    (awaited,) = waiting["P-2"]["waits_for"]
    assert awaited.startswith("an answer from MODEE, written to ") and awaited.endswith(" days ago")
    # What to do next is to record that answer, not to commit (which would be refused).
    assert waiting["P-2"]["command"] == "ogp response record P-2 --entity MODEE --agreed|--declined"
    text = ok(runner, "status").stdout
    assert "P-3 [interviewed] → shortlist; next: ogp shortlist --top N --dry-run\n    - quorum not reached (" in text
    assert "Warning: letters go out unsigned" in text
    # Once one body agrees the commitment can be made: the others' answers are not waited for.
    ok(runner, "response", "record", "P-2", "--entity", "ROS", "--agreed", "--on", "2021-08-12")
    after = {w["ref"]: w for w in json.loads(ok(runner, "status", "--json").stdout)["waiting"]}
    assert (after["P-2"]["waits_for"], after["P-2"]["command"]) == ([], "ogp advance P-2 commit")

    plan = json.loads(ok(runner, "plan", "show", "--json").stdout)
    assert (plan["shortlist_size"], plan["commitment_target"], plan["quorum"], plan["quorum_in_force"]) == (
        7,
        5,
        None,
        2,
    )
    assert plan["letter_prefix"] == "ت ح/5" and plan["letter_prefix_en"] == ""


def test_a_dry_run_explains_instead_of_refusing(runner: CliRunner) -> None:
    ok(runner, "member", "add", "أ", "--org", "جهة")
    ok(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جمعية", "--entity", "MODEE",
       "--entity", "ROS", "--submitted-on", "2021-06-20")  # fmt: skip
    before = ok(runner, "audit", "head").stdout
    refused = ok(runner, "advance", "P-1", "interview", "--dry-run")
    assert refused.stdout == (
        "Would not move P-1: interview (submitted → interviewed); what stands in the way:\n"
        "  - an interview must be recorded first (ogp interview record) (no interview is recorded)\n"
    )
    wrong = ok(runner, "advance", "P-1", "commit", "--dry-run")
    assert "  - it is 'submitted'; commit is allowed from: referred\n" in wrong.stdout
    ok(runner, "interview", "record", "P-1", "--on", "2021-07-28")
    ok(runner, "advance", "P-1", "interview")
    for code in CRITERIA:
        ok(runner, "score", "P-1", "--member", "أ", "--criterion", code, "--value", "4")
    ok(runner, "advance", "P-1", "shortlist")
    would = ok(runner, "advance", "P-1", "refer", "--dry-run")
    assert would.stdout == (
        "Would move P-1: refer (shortlisted → referred).\n"
        "  would write a letter (referral) to معالي وزير الاقتصاد الرقمي والريادة المحترم\n"
        "  would write a letter (referral) to عطوفة أمين سجل الجمعيات المحترم\n"
    )
    short = ok(runner, "shortlist", "--top", "3", "--dry-run")
    assert short.stdout.startswith("Would not shortlist the top 3 yet; ranked there now (0): (none)\n")
    assert "What stands in the way: no proposal is interviewed yet" in short.stdout
    refused_for_real = ogp(runner, "shortlist", "--top", "3")
    assert refused_for_real.exit_code == 1 and "no proposal is interviewed yet" in refused_for_real.stderr
    head = ok(runner, "audit", "head").stdout
    assert head != before  # the real steps above were recorded …
    ok(runner, "advance", "P-1", "reject", "--dry-run", "--reason", "x")
    assert ok(runner, "audit", "head").stdout == head  # … and no dry run was
    # A commit's dry run names its letter to the lead body it would choose, as the commit writes it.
    ok(runner, "advance", "P-1", "refer", "--dated", "2021-08-01")
    ok(runner, "response", "record", "P-1", "--entity", "ROS", "--agreed", "--on", "2021-08-10")
    commit = ok(runner, "advance", "P-1", "commit", "--dry-run")
    assert commit.stdout == (
        "Would move P-1: commit (referred → committed).\n"
        "  would write a letter (commitment) to عطوفة أمين سجل الجمعيات المحترم\n"
        "  would write a letter (acceptance) to السادة جمعية المحترمين\n"
    ), commit.stdout
    named = ok(runner, "advance", "P-1", "commit", "--lead", "MODEE", "--dry-run")
    assert "'MODEE' has not agreed to lead it (bodies that agreed: ROS)" in named.stdout


def test_status_warns_of_a_quorum_the_working_group_cannot_meet(runner: CliRunner) -> None:
    ok(runner, "member", "add", "عضو أول", "--org", "جهة")
    ok(runner, "member", "add", "عضو ثان", "--org", "جهة أخرى")
    ok(runner, "init", "--quorum", "3", "--signatory-name", "م. أحمد")
    warning = (
        "the quorum (3) is more than the 2 active members: no proposal can be shortlisted "
        "(ogp init --quorum N, or 0 for a majority)"
    )
    assert json.loads(ok(runner, "status", "--json").stdout)["warnings"] == [warning]
    ok(runner, "member", "add", "عضو ثالث", "--org", "جهة ثالثة")
    assert json.loads(ok(runner, "status", "--json").stdout)["warnings"] == []


def test_a_dry_run_names_a_template_that_would_refuse_the_move(runner: CliRunner, tmp_path: Path) -> None:
    ok(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--submitted-on", "2021-06-20")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "rejection.ar.j2").write_text(
        "{% block subject %}{{ nope }}{% endblock %}{% block body %}x{% endblock %}", encoding="utf-8"
    )
    trial = ok(runner, "--templates", "tpl", "advance", "P-1", "reject", "--reason", "x", "--dry-run")
    assert trial.stdout.splitlines() == [
        "Would not move P-1: reject (submitted → rejected); what stands in the way:",
        "  - could not write the rejection letter for proposal P-1: template rejection.ar.j2, line 1: "
        "UndefinedError: 'nope' is undefined",
    ]
    batch = ok(runner, "--templates", "tpl", "advance", "P-1", "#1", "reject", "--reason", "x", "--dry-run")
    assert "Would refuse P-1: could not write the rejection letter" in batch.stdout  # the same finding
    assert json.loads(ok(runner, "letters", "list", "--json").stdout) == []  # no number was taken
    assert "Would move P-1" in ok(runner, "advance", "P-1", "reject", "--reason", "x", "--dry-run").stdout
    # A date the letters may not bear is explained too, not refused: a dry run refuses nothing.
    early = ok(runner, "advance", "P-1", "reject", "--reason", "x", "--dry-run", "--dated", "2021-06-01")
    assert early.stdout.splitlines()[1] == (
        "  - proposal P-1: --dated: 2021-06-01 is before the proposal was submitted (2021-06-20)"
    )
    refused = runner.invoke(cli, ["--templates", "tpl", "advance", "P-1", "reject", "--reason", "x"])
    assert refused.exit_code == 1 and "UndefinedError: 'nope' is undefined" in refused.stderr


def test_init_says_when_letters_would_go_out_unsigned(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", "w.db", "init"])
    assert "Note: no signatory name is set, so letters go out unsigned" in first.stdout
    signed = runner.invoke(cli, ["--db", "w.db", "init", "--signatory-name", "د. سامية"])
    assert "unsigned" not in signed.stdout
    assert "Note: this plan is not the seed's fifth" not in signed.stdout  # the seed's plan: nothing left over
    # A new plan that keeps the fifth plan's reference prefix and English title is told so.
    sixth = runner.invoke(cli, ["--db", "w.db", "init", "--plan", "الخطة الوطنية السادسة", "--period", "2025-2027"])
    assert sixth.stdout.splitlines()[-2:] == [
        "Note: this plan is not the seed's fifth, but letters are numbered «ت ح/5/…», the fifth plan's prefix "
        "(--letter-prefix).",
        "Note: this plan is not the seed's fifth, but English letters name the plan «Fifth National Action Plan of "
        "the Open Government Partnership» (--plan-en).",
    ]
    # An Arabic signatory title (or issuer) changed, its English one left as the seed's: told so.
    director = runner.invoke(cli, ["--db", "w.db", "init", "--signatory-title", "مديرة وحدة الحكومة الشفافة"])
    assert (
        "Note: English letters are signed as «Minister of Planning and International Cooperation» while Arabic ones "
        "are signed as «مديرة وحدة الحكومة الشفافة» (--signatory-title-en)." in director.stdout
    )
    translated = runner.invoke(cli, ["--db", "w.db", "init", "--signatory-title-en", "Director, Open Government Unit"])
    assert "--signatory-title-en" not in translated.stdout
    renamed = runner.invoke(cli, ["--db", "w.db", "init", "--letter-prefix", "ت ح/6", "--plan-en", "Sixth plan"])
    assert "Note: this plan is not the seed's fifth" not in renamed.stdout


def test_english_letters_use_their_own_reference_prefix(runner: CliRunner, tmp_path: Path) -> None:
    ok(runner, "init", "--letter-prefix-en", "OGU/5")
    ok(runner, "proposal", "add", "--ref", "E-1", "--title", "Open data", "--org", "Eco Org", "--language", "en",
       "--submitted-on", "2021-06-20")  # fmt: skip
    ok(runner, "proposal", "add", "--ref", "A-1", "--title", "بيانات", "--org", "جمعية", "--submitted-on", "2021-06-20")
    ok(runner, "interview", "schedule", "E-1", "--at", f"{SOON} 10:00")
    ok(runner, "interview", "schedule", "A-1", "--at", f"{SOON} 11:00")
    references = [x["reference"] for x in json.loads(ok(runner, "letters", "list", "--json").stdout)]
    year = references[0].split("/")[-2]
    assert references == [f"OGU/5/{year}/0001", f"ت ح/5/{year}/0002"]  # one register, numbered gap-free


def test_the_default_minutes_title_joins_the_preposition_as_arabic_does(runner: CliRunner, tmp_path: Path) -> None:
    assert for_the("الخطة الوطنية") == "للخطة الوطنية"
    assert for_the("خطة العمل") == "لخطة العمل"
    ok(runner, "meeting", "add", "--on", "2021-07-28")
    ok(runner, "meeting", "minutes", "1", "--out", "m.docx")
    title = docx.Document(str(tmp_path / "m.docx")).paragraphs[0].text
    assert title.startswith("اجتماع مجموعة العمل الوطنية للخطة الوطنية الخامسة")
    assert "لـال" not in title


def test_when_every_body_declined_status_points_at_the_rejection(runner: CliRunner) -> None:
    ok(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جمعية", "--entity", "MODEE",
       "--submitted-on", "2021-06-20")  # fmt: skip
    cli_to_shortlisted(lambda *args: runner.invoke(cli, list(args)), "P-1")
    ok(runner, "advance", "P-1", "refer", "--dated", "2021-08-01")
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--declined", "--on", "2021-08-10")
    (waiting,) = json.loads(ok(runner, "status", "--json").stdout)["waiting"]
    assert (waiting["next_event"], waiting["command"]) == ("reject", "ogp advance P-1 reject --reason TEXT")
    assert "P-1 [referred] → reject; next: ogp advance P-1 reject --reason TEXT\n" in ok(runner, "status").stdout


def test_status_reads_the_plan_in_as_many_statements_whatever_its_size(
    engine: Engine, session_scope: SessionFactory
) -> None:
    """Issue 13: no query inside the per-proposal loop. A status of a plan with two proposals in
    each open state runs as many SQL statements as one with a single proposal in each."""
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def add(round_: int) -> None:
        with session_scope() as s:
            for state in (State.SUBMITTED, State.INTERVIEWED, State.SHORTLISTED, State.REFERRED):
                ref = f"P-{state.value[:3]}-{round_}"
                register(s, ref, title=f"فكرة {ref}")
                if state is not State.SUBMITTED:
                    bring_to(s, ref, state)

    def counted() -> tuple[int, int]:
        statements.clear()
        with session_scope() as s:
            found = plan_status(s)
        return len(statements), len(found.waiting)

    add(1)
    small, waiting = counted()
    assert waiting == 4
    add(2)
    assert counted() == (small, 8)
