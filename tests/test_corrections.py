"""Corrections (each a recorded step with a reason, old and new values kept), letters dated
earlier, and finding proposals: on SQLite and PostgreSQL, through the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
from click.testing import CliRunner, Result

from cli import cli
from tests.helpers import SOON
from workflow.db import Workspace

CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


def ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def ok(runner: CliRunner, *args: str) -> Result:
    result = ogp(runner, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


def head(runner: CliRunner) -> str:
    return ogp(runner, "audit", "head").stdout


def add(runner: CliRunner, ref: str, *extra: str) -> None:
    ok(runner, "proposal", "add", "--ref", ref, "--title", f"منصة {ref}", "--org", "مركز الشفافية الأردني",
       "--entity", "MODEE", "--submitted-on", "2021-06-20", *extra)  # fmt: skip


def text_of(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(path.read_bytes())).paragraphs)


def test_a_proposal_is_corrected_with_its_old_and_new_values_kept(runner: CliRunner) -> None:
    add(runner, "P-1", "--email", "old@example.org")
    done = ok(runner, "proposal", "edit", "P-1", "--title", "بوابة مصححة", "--email", "new@example.org",
              "--value", "accountability", "--reason", "خطأ مطبعي")  # fmt: skip
    assert done.stdout.startswith("Corrected P-1: title, email, values (audit #")
    shown = json.loads(ok(runner, "proposal", "show", "P-1", "--json").stdout)
    assert (shown["title"], shown["email"], shown["values"]) == ("بوابة مصححة", "new@example.org", ["accountability"])
    (correction,) = shown["corrections"]
    assert correction["reason"] == "خطأ مطبعي"
    assert correction["fields"]["title"] == {"old": "منصة P-1", "new": "بوابة مصححة"}
    assert correction["fields"]["email"] == {"old": "old@example.org", "new": "new@example.org"}
    assert "Corrected:" in ok(runner, "proposal", "show", "P-1").stdout
    history = ok(runner, "history", "P-1").stdout
    assert "title: «منصة P-1» → «بوابة مصححة»" in history and "خطأ مطبعي" in history
    ok(runner, "audit", "verify")

    before = head(runner)
    for args, code, message in (
        (("--email", "not-mail"), 1, "Error: proposal P-1: email: 'not-mail' is not an e-mail address\n"),
        (("--title", "بوابة مصححة"), 1,
         "Error: proposal P-1: nothing to correct, every field given is as it was; nothing was recorded.\n"),
        (("--entity", "NOPE"), 1,
         "Error: proposal P-1: entities: unknown government body 'NOPE' (register it with 'ogp entity add')\n"),
    ):  # fmt: skip
        refused = ogp(runner, "proposal", "edit", "P-1", *args, "--reason", "x")
        assert (refused.exit_code, refused.stderr) == (code, message)
    blank = ogp(runner, "proposal", "edit", "P-1", "--title", "y", "--reason", "   ")
    assert blank.stderr == "Error: proposal P-1: --reason: is required: say why, for the record\n"
    assert ogp(runner, "proposal", "edit", "P-1", "--title", "y").exit_code == 2  # --reason is required
    assert head(runner) == before


def test_a_duplicate_is_discarded_without_a_letter_but_a_written_proposal_is_not(
    runner: CliRunner, workspace: Workspace
) -> None:
    add(runner, "P-1")
    add(runner, "P-2")
    done = ok(runner, "proposal", "discard", "P-2", "--reason", "مكرر: هو نفسه P-1")
    assert done.stdout.startswith("P-2: discarded (audit #")
    assert not workspace.letters_dir.exists() or not list(workspace.letters_dir.iterdir())
    listed = [p["ref"] for p in json.loads(ok(runner, "proposal", "list", "--json").stdout)]
    assert listed == ["P-1"]
    everything = json.loads(ok(runner, "proposal", "list", "--all", "--json").stdout)
    assert [(p["ref"], p["state"]) for p in everything] == [("P-1", "submitted"), ("P-2", "discarded")]
    ok(runner, "interview", "schedule", "P-1", "--at", f"{SOON} 10:00")  # an invitation went out
    refused = ogp(runner, "proposal", "discard", "P-1", "--reason", "x")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: Cannot discard proposal P-1: only a proposal no letter and no score refer to can be discarded "
        "(else reject it) (1 letters and 0 scores refer to it).\n"
    )
    ok(runner, "audit", "verify")


def test_bodies_and_members_are_corrected_and_members_leave(runner: CliRunner) -> None:
    changed = ok(runner, "entity", "edit", "MOH", "--rank", "minister", "--title", "وزير الصحة", "--reason", "لقب")
    assert (
        changed.stdout
        == "Corrected body MOH: rank, title, addressee\n  letters address it as: معالي وزير الصحة المحترم\n"
    )
    refused = ogp(runner, "entity", "edit", "MOH", "--code", "ros", "--reason", "x")
    assert (refused.exit_code, refused.stderr) == (1, "Error: a government body with code 'ros' already exists.\n")
    # A correction refuses what registering refuses: a name that is another body's code, a code that
    # is another body's name; either would make the name find the other body.
    ok(runner, "entity", "add", "Registry", "--code", "REG")
    refused = ogp(runner, "entity", "edit", "REG", "--name", "Ros", "--reason", "x")
    assert (refused.exit_code, refused.stderr) == (
        1, "Error: government body 'REG': --name: 'Ros' is the code of سجل الجمعيات; name this body otherwise\n"
    )  # fmt: skip
    refused = ogp(runner, "entity", "edit", "MOH", "--code", "registry", "--reason", "x")
    assert (refused.exit_code, refused.stderr) == (
        1, "Error: government body 'MOH': --code: 'registry' is the name of another body; give another code\n"
    )  # fmt: skip
    # A body addressed by its name is addressed by the corrected one; a chosen addressee stays.
    renamed = ok(runner, "entity", "edit", "REG", "--name", "Registry of Societies", "--reason", "الاسم الرسمي")
    assert renamed.stdout.splitlines() == [
        "Corrected body REG: name, addressee", "  letters address it as: السادة Registry of Societies المحترمين",
    ]  # fmt: skip
    ok(runner, "entity", "edit", "REG", "--addressee", "مدير السجل المحترم", "--reason", "المخاطب")
    kept = ok(runner, "entity", "edit", "REG", "--name", "Societies Registry", "--reason", "الاسم")
    assert kept.stdout.splitlines() == ["Corrected body REG: name", "  letters address it as: مدير السجل المحترم"]
    for name in ("أ", "ب", "ج"):
        ok(runner, "member", "add", name, "--org", f"جهة {name}")
    add(runner, "P-1")
    ok(runner, "interview", "record", "P-1", "--on", "2021-07-28")
    ok(runner, "advance", "P-1", "interview")
    for member in ("أ", "ب"):
        for code in CRITERIA:
            ok(runner, "score", "P-1", "--member", member, "--criterion", code, "--value", "4")
    quorum = json.loads(ok(runner, "ranking", "--json").stdout)[0]["quorum"]
    assert quorum == 2  # a majority of three
    ok(runner, "member", "deactivate", "ج", "--reason", "غادر المجموعة")
    after = json.loads(ok(runner, "ranking", "--json").stdout)[0]
    assert (after["quorum"], after["eligible"]) == (2, 2)  # a majority of the two still active
    again = ogp(runner, "member", "deactivate", "ج", "--reason", "x")
    assert again.stderr == "Error: ج is already no longer an active member; nothing was recorded.\n"
    refused = ogp(runner, "score", "P-1", "--member", "ج", "--criterion", "importance", "--value", "3")
    assert refused.exit_code == 1 and "ج is no longer an active member" in refused.stderr
    ok(runner, "member", "reactivate", "ج")
    ok(runner, "member", "edit", "ج", "--org", "جهة أخرى", "--reason", "تغيّرت جهته")
    members = {m["name"]: m for m in json.loads(ok(runner, "member", "list", "--json").stdout)}
    assert (members["ج"]["active"], members["ج"]["organization"]) == (True, "جهة أخرى")
    ok(runner, "audit", "verify")


def test_a_score_given_by_mistake_is_withdrawn_and_kept_in_the_history(runner: CliRunner) -> None:
    ok(runner, "member", "add", "ندى خاطر", "--org", "وزارة")
    add(runner, "P-1")
    ok(runner, "interview", "record", "P-1", "--on", "2021-07-28")
    ok(runner, "advance", "P-1", "interview")
    ok(runner, "score", "P-1", "--member", "ندى خاطر", "--criterion", "importance", "--value", "2")
    done = ok(runner, "score", "withdraw", "P-1", "--member", "ندى خاطر", "--criterion", "importance",
              "--reason", "أدخلت للمقترح الخطأ")  # fmt: skip
    assert done.stdout == "Withdrew the score 2 of ندى خاطر on importance for P-1.\n"
    assert json.loads(ok(runner, "score", "list", "P-1", "--json").stdout) == []
    history = json.loads(ok(runner, "score", "list", "P-1", "--history", "--json").stdout)
    assert [(h["old_value"], h["new_value"], h["note"]) for h in history] == [
        (None, 2, ""), (2, None, "أدخلت للمقترح الخطأ")
    ]  # fmt: skip
    again = ogp(
        runner, "score", "withdraw", "P-1", "--member", "ندى خاطر", "--criterion", "importance", "--reason", "x"
    )
    assert again.stderr == "Error: ندى خاطر has not scored P-1 on importance; nothing was withdrawn.\n"
    ok(runner, "audit", "verify")


def test_an_interview_is_called_off_and_the_proposer_told(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    none = ogp(runner, "interview", "cancel", "P-1", "--reason", "x")
    assert none.stderr == "Error: proposal P-1 has no interview scheduled; nothing was cancelled.\n"
    ok(runner, "interview", "schedule", "P-1", "--at", f"{SOON} 10:00", "--platform", "Zoom")
    done = ok(runner, "interview", "cancel", "P-1", "--reason", "لتعذر انعقاد المجموعة")
    letter = Path(done.stdout.splitlines()[1].split("letter: ", 1)[1])
    assert "_cancellation_" in letter.name
    body = text_of(letter)
    assert "إلغاء موعد المقابلة" in body and "لتعذر انعقاد المجموعة" in body
    # The schedule shows it as called off, with why; never as an interview still to come.
    (listed,) = json.loads(ok(runner, "interview", "list", "--json").stdout)
    assert (listed["ref"], listed["cancelled"], listed["held_on"]) == ("P-1", "لتعذر انعقاد المجموعة", None)
    header, row = ok(runner, "interview", "list").stdout.splitlines()
    assert header.split() == ["AT", "REF", "PLATFORM", "STATE", "HELD", "CANCELLED", "TITLE"]
    assert "لتعذر انعقاد المجموعة" in row
    ok(runner, "audit", "verify")


def test_an_interview_outlived_by_its_proposal_is_shown_and_can_still_be_called_off(
    runner: CliRunner, workspace: Workspace
) -> None:
    """A proposal withdrawn (or turned down) before its interview: `status` warns that the
    interview is still scheduled, and `interview cancel` calls it off and tells the proposer. Once
    an interview was held, there is nothing to call off."""
    add(runner, "P-1")
    add(runner, "P-2")
    ok(runner, "interview", "schedule", "P-1", "--at", f"{SOON} 10:00", "--platform", "Zoom")
    # (entered after the fact: invited on 20 July for the 28th, when it was held)
    ok(runner, "interview", "schedule", "P-2", "--at", "2021-07-28 10:00", "--platform", "Zoom", "--dated", "2021-07-20")
    ok(runner, "advance", "P-1", "withdraw", "--reason", "انسحب المقدم")
    warned = ok(runner, "status").stdout + ok(runner, "status").stderr
    assert f"P-1 is withdrawn but its interview on {SOON} 10:00 is still scheduled" in warned
    assert "ogp interview cancel P-1 --reason TEXT" in warned and "P-2 is" not in warned
    done = ok(runner, "interview", "cancel", "P-1", "--reason", "انسحب المقدم")
    assert "_cancellation_" in done.stdout
    assert "still scheduled" not in ok(runner, "status").stderr + ok(runner, "status").stdout
    ok(runner, "interview", "record", "P-2", "--on", "2021-07-28", "--platform", "Zoom")
    ok(runner, "advance", "P-2", "interview")
    ok(runner, "advance", "P-2", "reject", "--reason", "دون خط القطع")
    held = ogp(runner, "interview", "cancel", "P-2", "--reason", "x")
    assert held.exit_code == 1
    assert held.stderr == (
        "Error: proposal P-2 is 'rejected' and its interview was held on 2021-07-28; nothing was cancelled.\n"
    )
    # An interview held, then another booked (P-3 asked to be heard again), then a withdrawal: the
    # second is still to come, and can be called off.
    add(runner, "P-3")
    ok(runner, "interview", "record", "P-3", "--on", "2021-07-28", "--platform", "Zoom")
    ok(runner, "interview", "schedule", "P-3", "--at", f"{SOON} 11:00", "--platform", "Zoom")
    ok(runner, "advance", "P-3", "withdraw", "--reason", "انسحب المقدم")
    shown = ok(runner, "status")
    assert f"P-3 is withdrawn but its interview on {SOON} 11:00 is still scheduled" in shown.stdout + shown.stderr
    assert "_cancellation_" in ok(runner, "interview", "cancel", "P-3", "--reason", "انسحب المقدم").stdout
    ok(runner, "audit", "verify")


def test_a_letter_is_voided_and_reissued_naming_the_one_it_replaces(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    ok(runner, "interview", "schedule", "P-1", "--at", f"{SOON} 10:00")
    (first,) = json.loads(ok(runner, "letters", "list", "--json").stdout)
    ok(runner, "proposal", "edit", "P-1", "--title", "العنوان الصحيح", "--reason", "خطأ في العنوان")
    done = ok(runner, "letters", "void", first["reference"], "--reason", "خطأ في العنوان", "--reissue")
    replacement = Path(done.stdout.splitlines()[1].split("replacement: ", 1)[1])
    body = text_of(replacement)
    assert f"يحل هذا الكتاب محل كتابنا رقم {first['reference']}" in body
    assert "العنوان الصحيح" in body
    listed = json.loads(ok(runner, "letters", "list", "--json").stdout)
    assert [(x["void_reason"], x["replaces"]) for x in listed] == [("خطأ في العنوان", ""), ("", first["reference"])]
    assert "VOID: خطأ في العنوان" in ok(runner, "letters", "register").stdout
    again = ogp(runner, "letters", "void", first["reference"], "--reason", "x")
    assert again.exit_code == 1 and "is already void" in again.stderr
    missing = ogp(runner, "letters", "void", "2020/0099", "--reason", "x")
    assert missing.stderr == "Error: no letter '2020/0099'.\n"
    ok(runner, "audit", "verify")
    ok(runner, "letters", "verify")


def test_letters_dated_earlier_bear_that_date_and_that_year_s_numbers(runner: CliRunner) -> None:
    add(runner, "P-1")
    done = ok(runner, "interview", "schedule", "P-1", "--at", "2021-07-28 10:00", "--dated", "2021-07-18")
    assert "_2021-0001.docx" in done.stdout
    (letter,) = json.loads(ok(runner, "letters", "list", "--json").stdout)
    assert (letter["issued_on"], letter["reference"]) == ("2021-07-18", "ت ح/5/2021/0001")
    body = text_of(Path(done.stdout.splitlines()[1].split("letter: ", 1)[1]))
    assert "18 تموز 2021م" in body
    for dated, problem in (
        ("2070-01-01", "2070-01-01 is in the future; a letter is dated when signed"),
        ("2021-06-01", "2021-06-01 is before the proposal was submitted (2021-06-20)"),
    ):
        refused = ogp(runner, "interview", "cancel", "P-1", "--reason", "x", "--dated", dated)
        assert (refused.exit_code, refused.stderr) == (1, f"Error: proposal P-1: --dated: {problem}\n")
    assert ogp(runner, "advance", "P-1", "reject", "--reason", "x", "--dated", "soon").exit_code == 2


def test_proposals_are_found_as_arabic_is_typed(runner: CliRunner) -> None:
    ok(runner, "proposal", "add", "--ref", "A", "--title", "بوابة إلكترونية للمعلومات", "--org", "مركز الشفافية الأردني",
       "--value", "access_to_information", "--entity", "MODEE")  # fmt: skip
    ok(runner, "proposal", "add", "--ref", "B", "--title", "موازنات بلدية تشاركية", "--org", "جمعية أخرى",
       "--entity", "ROS")  # fmt: skip

    def refs(*args: str) -> list[str]:
        return [p["ref"] for p in json.loads(ok(runner, "proposal", "list", "--json", *args).stdout)]

    assert refs("--search", "الكترونيه") == ["A"]  # no hamza, ta marbuta typed as ha
    assert refs("--search", "مُوازنات\u200f") == ["B"]  # tashkeel and an invisible mark
    assert refs("--entity", "ros") == ["B"]
    assert refs("--value", "الوصول إلى المعلومات") == ["A"]
    assert refs("--org", "مركز الشفافيه الاردني") == ["A"]
    assert refs("--search", "لا شيء") == []
    assert ok(runner, "proposal", "list", "--search", "لا شيء").stdout == "No proposals match.\n"
    assert ok(runner, "proposal", "list", "--state", "referred").stdout == "No proposals in state 'referred'.\n"
    assert ok(runner, "conflict", "list").stdout == "No conflicts of interest are declared.\n"
    assert ok(runner, "letters", "list", "--json").stdout == "[]\n"
    bad = ogp(runner, "proposal", "list", "--value", "transparency")
    assert bad.exit_code == 2 and "'transparency' is not an OGP value (known: access_to_information" in bad.stderr
    misspelt = ogp(runner, "proposal", "add", "--title", "فكرة", "--org", "جهة", "--value", "accountabilty")
    assert misspelt.exit_code == 2 and "'accountabilty' is not an OGP value" in misspelt.stderr  # as --sector is
    assert ok(runner, "proposal", "list", "--value", "المساءلة").exit_code == 0  # the Arabic name is one
