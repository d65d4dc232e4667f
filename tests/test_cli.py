"""The command line: exit codes, exact messages, JSON shapes, letter files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

from cli import cli
from workflow.db import Workspace, head_revision


def ogp(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args), catch_exceptions=False)


def head(runner: CliRunner) -> int:
    """The audit chain's newest sequence number."""
    return int(ogp(runner, "audit", "head").stdout.split(":")[0])


def add(runner: CliRunner, ref: str, *extra: str) -> None:
    result = ogp(runner, "proposal", "add", "--ref", ref, "--title", f"منصة {ref}", "--org", "مركز الشفافية الأردني",
                 "--entity", "MODEE", "--submitted-on", "2021-06-20", *extra)  # fmt: skip
    assert result.exit_code == 0, result.output


CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


def to_shortlisted(runner: CliRunner, ref: str) -> None:
    assert ogp(runner, "interview", "record", ref, "--on", "28/7/2021", "--platform", "Zoom").exit_code == 0
    assert ogp(runner, "advance", ref, "interview").exit_code == 0
    if "ندى خاطر" not in ogp(runner, "member", "list").stdout:
        assert (
            ogp(
                runner, "member", "add", "ندى خاطر", "--org", "وزارة الاقتصاد الرقمي", "--sector", "government"
            ).exit_code
            == 0
        )
    for code in CRITERIA:
        assert ogp(runner, "score", ref, "--member", "ندى خاطر", "--criterion", code, "--value", "4").exit_code == 0
    assert ogp(runner, "advance", ref, "shortlist").exit_code == 0


def test_no_workspace_is_refused_without_creating_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["proposal", "list"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: no workspace at {tmp_path / 'ogp.db'}; create one with 'ogp init' "
        "(or point --db / OGP_DB at an existing one).\n"
    )
    assert not (tmp_path / "ogp.db").exists()


def test_init_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", "ws/ogp.db", "init", "--shortlist-size", "3", "--commitment-target", "2"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0] == f"Created workspace {tmp_path / 'ws' / 'ogp.db'} (schema {head_revision()})."
    assert "shortlist 3, commitments 2" in first.stdout
    again = runner.invoke(cli, ["--db", "ws/ogp.db", "init", "--commitment-target", "4"])
    assert again.exit_code == 1
    assert again.stderr == "Error: plan: commitment-target: 4 is more than the shortlist size 3\n"
    ok = runner.invoke(cli, ["--db", "ws/ogp.db", "init"])
    assert (
        ok.stdout.splitlines()[0] == f"Workspace {tmp_path / 'ws' / 'ogp.db'} is up to date (schema {head_revision()})."
    )
    assert "shortlist 3, commitments 2" in ok.stdout


def test_a_file_that_is_not_a_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("hello, not a database " * 100)
    result = CliRunner().invoke(cli, ["--db", "notes.db", "proposal", "list"])
    assert result.exit_code == 2  # a --db that names no workspace is bad usage
    assert result.stderr.endswith(
        f"Error: Invalid value for '--db': path: {tmp_path / 'notes.db'} is not a workspace: it is not a SQLite "
        "database (a CSV or another file?)\n"
    )


def test_bad_usage_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["advance", "P-1", "approve"])
    assert result.exit_code == 2
    assert (
        "Invalid value for 'EVENT': 'approve' is not one of 'interview', 'shortlist', 'refer', 'commit', 'reject', 'withdraw', 'discard'."
        in result.stderr
    )
    for args in (["advance", "P-1"], ["advance", "P-1", "P-2"], ["advance", "#3"]):  # the event left out
        left_out = runner.invoke(cli, args)
        assert left_out.exit_code == 2
        assert f"Error: Missing EVENT after {args[-1]!r}: one of 'interview', 'shortlist', 'refer'," in left_out.stderr
    misspelt = runner.invoke(cli, ["advance", "rejct"])
    assert misspelt.exit_code == 2 and "'rejct' is not one of 'interview'," in misspelt.stderr
    result = runner.invoke(cli, ["interview", "record", "P-1", "--on", "yesterday"])
    assert result.exit_code == 2
    assert "Invalid value for '--on': 'yesterday' is not a date: use YYYY-MM-DD (or D/M/YYYY)" in result.stderr
    assert runner.invoke(cli, ["--actor", "  ", "proposal", "list"]).exit_code == 2


def test_the_whole_path_from_the_command_line(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    add(runner, "P-1", "--entity", "سجل الجمعيات", "--value", "accountability")
    to_shortlisted(runner, "P-1")
    refer_seq = head(runner) + 1
    result = ogp(runner, "advance", "P-1", "refer")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"P-1: shortlisted → referred (audit #{refer_seq})"
    letters_dir = workspace.letters_dir
    files = sorted(letters_dir.iterdir())
    year = dt.date.today().year
    assert [f.name for f in files] == [f"P-1_referral_MODEE_{year}-0001.docx", f"P-1_referral_ROS_{year}-0002.docx"]
    assert lines[1:] == [f"  letter: {f}" for f in files]
    opened = docx.Document(str(files[0]))
    assert "معالي وزير الاقتصاد الرقمي والريادة المحترم" in [p.text for p in opened.paragraphs]
    assert not [p for p in letters_dir.iterdir() if p.name.startswith(".partial-")]

    listed = json.loads(ogp(runner, "letters", "list", "--proposal", "P-1", "--json").stdout)
    assert [set(item) for item in listed] == [
        {
            "id",
            "reference",
            "year",
            "number",
            "proposal_id",
            "ref",
            "kind",
            "entity",
            "addressee",
            "language",
            "issued_on",
            "subject",
            "file_name",
            "sha256",
            "digest",
            "audit_seq",
            "size",
            "void_reason",
            "replaces",
        }
    ] * 2
    assert [item["entity"] for item in listed] == ["MODEE", "ROS"]

    exported = ogp(runner, "letters", "export", "out")
    assert exported.stdout == "Wrote 2 letters to out\n"
    assert sorted(p.read_bytes() for p in (tmp_path / "out").iterdir()) == sorted(f.read_bytes() for f in files)

    refused = runner.invoke(cli, ["advance", "P-1", "commit"])
    assert refused.stderr == (
        "Error: Cannot commit proposal P-1: a relevant body must have agreed to it (ogp response record … --agreed) "
        "(no body has answered yet).\n"
    )
    early = runner.invoke(cli, ["response", "record", "P-1", "--entity", "ROS", "--agreed", "--on", "2021-08-01"])
    assert (early.exit_code, early.stderr) == (
        1, f"Error: proposal P-1: --on: 2021-08-01 is before the referral letter to ROS was issued "
        f"({listed[1]['reference']}, dated {listed[1]['issued_on']})\n",
    )  # fmt: skip
    today = dt.date.today().isoformat()
    answered = ogp(runner, "response", "record", "P-1", "--entity", "ROS", "--agreed")
    assert answered.stdout == f"P-1: ROS agreed on {today} (audit #{refer_seq + 1})\n"
    again = runner.invoke(cli, ["response", "record", "P-1", "--entity", "ROS", "--agreed"])
    assert (again.exit_code, again.stderr) == (
        1, f"Error: the answer of ROS on proposal P-1 (agreed on {today}) is already recorded; nothing was recorded.\n"
    )  # fmt: skip
    assert ogp(runner, "advance", "P-1", "commit", "--reason", "وافقت الجهة").exit_code == 0
    shown = json.loads(ogp(runner, "proposal", "show", "p-1", "--json").stdout)
    assert shown["state"] == "committed" and shown["next_events"] == []
    assert [e["code"] for e in shown["entities"]] == ["MODEE", "ROS"]
    assert ogp(runner, "proposal", "export", str(tmp_path / "c.csv"), "--state", "committed").exit_code == 0
    exported = (tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()
    assert exported[0].endswith(",state,lead") and exported[1].endswith(",committed,ROS"), exported
    history = json.loads(ogp(runner, "history", "P-1", "--json").stdout)
    assert [(e["event"], e["actor"], e["reason"]) for e in history] == [
        ("submit", "tester", ""), ("record_interview", "tester", "interview held on 2021-07-28 (Zoom)"),
        ("interview", "tester", ""),
        *[("score", "tester", f"ندى خاطر: {code} 4") for code in CRITERIA],
        ("shortlist", "tester", ""), ("refer", "tester", ""), ("response", "tester", f"ROS agreed on {today}"),
        ("commit", "tester", "وافقت الجهة"),
    ]  # fmt: skip
    assert history[-3]["letters"] == [item["digest"] for item in listed]
    verified = ogp(runner, "audit", "verify")
    assert verified.exit_code == 0
    last = refer_seq + 2
    assert verified.stdout.startswith(f"Audit chain verified: {last} entries, 4 letters, 1 proposals, ")
    assert f"rows match; head #{last} " in verified.stdout


def test_refusals_are_errors_with_exit_1_and_change_nothing(runner: CliRunner) -> None:
    add(runner, "P-1")
    cases = [
        (
            ("advance", "P-1", "refer"),
            "Error: Cannot refer proposal P-1: it is 'submitted'; refer is allowed from: shortlisted.\n",
        ),
        (("advance", "P-1", "reject"), "Error: Cannot reject proposal P-1: a reason is required (--reason).\n"),
        (("advance", "P-404", "reject", "--reason", "x"), "Error: no proposal 'P-404'.\n"),
        (("proposal", "show", "42"), "Error: no proposal '42'.\n"),
        (
            ("proposal", "add", "--ref", "P-1", "--title", "t", "--org", "o"),
            "Error: proposal P-1: ref: 'P-1' is already used by another proposal\n",
        ),
        (("entity", "add", "وزارة الصحة"), "Error: a government body with name 'وزارة الصحة' already exists.\n"),
        (
            ("entity", "add", "جهة", "--code", "a b"),
            "Error: government body 'جهة': code: 'a b' must be 1–32 Latin letters, digits, '-' or '_', starting with a letter or digit\n",
        ),
        (("proposal", "link", "P-1", "--entity", "XYZ"), "Error: no government body 'XYZ'.\n"),
    ]
    before = ogp(runner, "history", "P-1", "--json").stdout
    for args, message in cases:
        result = runner.invoke(cli, list(args))
        assert (result.exit_code, result.stderr) == (1, message), args
        assert result.stdout == ""
    assert ogp(runner, "history", "P-1", "--json").stdout == before


def test_a_broken_template_fails_the_move_and_writes_no_file(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    add(runner, "P-1")
    to_shortlisted(runner, "P-1")
    broken = tmp_path / "mine"
    broken.mkdir()
    (broken / "referral.ar.j2").write_text(
        "{% block subject %}{{ 1/0 }}{% endblock %}{% block body %}x{% endblock %}", encoding="utf-8"
    )
    result = runner.invoke(cli, ["--templates", str(broken), "advance", "P-1", "refer"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: could not write the referral letter for proposal P-1: template referral.ar.j2, line 1: "
        "ZeroDivisionError: division by zero; nothing was changed.\n"
    )
    assert not workspace.letters_dir.exists()
    assert json.loads(ogp(runner, "proposal", "show", "P-1", "--json").stdout)["state"] == "shortlisted"


def test_list_and_show_json_shapes(runner: CliRunner) -> None:
    add(runner, "P-1", "--value", "المساءلة", "--email", "a@example.org")
    listed = json.loads(ogp(runner, "proposal", "list", "--json").stdout)
    assert listed == [
        {"id": 1, "ref": "P-1", "title": "منصة P-1", "organization": "مركز الشفافية الأردني", "state": "submitted",
         "submitted_on": "2021-06-20", "entities": ["MODEE"], "version": 1, "language": "ar", "lead": None},
    ]  # fmt: skip
    assert json.loads(ogp(runner, "proposal", "list", "--state", "referred", "--json").stdout) == []
    add(runner, "P-2")
    lines = ogp(runner, "proposal", "list", "--json").stdout.splitlines()  # a listing: one object a line
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 4
    assert [json.loads(line.strip().rstrip(","))["ref"] for line in lines[1:-1]] == ["P-1", "P-2"]
    shown = json.loads(ogp(runner, "proposal", "show", "1", "--json").stdout)
    assert set(shown) == {"id", "ref", "title", "organization", "state", "submitted_on", "entities", "version",
                          "language", "lead", "email", "problem", "solution", "values", "interviews", "next_events", "decision", "corrections", "events"}  # fmt: skip
    assert shown["values"] == ["accountability"]
    assert shown["next_events"] == ["reject", "withdraw", "discard"]  # allowed now (with a reason)
    assert shown["events"][0] == {
        "event": "interview", "allowed": False, "needs": "",
        "blockers": ["an interview must be recorded first (ogp interview record) (no interview is recorded)"],
    }  # fmt: skip
    assert shown["events"][1] == {"event": "reject", "allowed": True, "blockers": [], "needs": "--reason"}
    entities = json.loads(ogp(runner, "entity", "list", "--json").stdout)
    assert entities[0] == {"id": 1, "name": "وزارة الاقتصاد الرقمي والريادة", "code": "MODEE",
                           "addressee": "معالي وزير الاقتصاد الرقمي والريادة المحترم",
                           "rank": None, "title": None, "language": "ar"}  # fmt: skip


def test_text_output_survives_arabic_titles(runner: CliRunner) -> None:
    add(runner, "P-1")
    table = ogp(runner, "proposal", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "REF", "STATE", "ORGANIZATION", "TITLE"]
    assert table[1].split() == ["1", "P-1", "submitted", "مركز", "الشفافية", "الأردني", "منصة", "P-1"]
    shown = ogp(runner, "proposal", "show", "P-1").stdout
    assert "Title:        منصة P-1\n" in shown
    assert "Allowed now:  reject (with --reason)\n" in shown
    assert "Not yet:      interview: an interview must be recorded first (ogp interview record)" in shown


def test_import_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("title,organization,entities\nفكرة,منظمة,MODEE;MOH\n", encoding="utf-8-sig")
    result = ogp(runner, "proposal", "import", str(good))
    assert (result.exit_code, result.stdout) == (0, "Imported 1 proposal: P-001\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("title,organization\nفكرة,\n", encoding="utf-8")
    result = runner.invoke(cli, ["proposal", "import", str(bad)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {bad}: 1 problem, nothing was imported:\n  line 2, column 'organization': is required\n"
    )
    missing = runner.invoke(cli, ["proposal", "import", "nope.csv"])
    assert missing.exit_code == 2


def test_actor_comes_from_the_option_or_the_environment(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    add(runner, "P-1")
    monkeypatch.setenv("OGP_ACTOR", "aya")
    assert ogp(runner, "advance", "P-1", "withdraw", "--reason", "انسحاب").exit_code == 0
    history = json.loads(ogp(runner, "--actor", "auditor", "history", "P-1", "--json").stdout)
    assert [e["actor"] for e in history] == ["tester", "aya"]


def test_demo_builds_a_verified_workspace_and_replaces_only_its_own(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--dir", "d"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Reached: 10 submitted → 9 interviewed → 7 shortlisted → 7 referred → 5 committed\n" in out
    assert "Final: 5 committed, 4 rejected, 1 withdrawn\n" in out
    assert "Working group: 10 members; 355 scores given\n" in out
    assert (
        "Shortlist of 7 by ranking; cut-line:\n"
        "  just above: #7 SAMPLE-07 3.800 (8 members)\n"
        "  just below: #8 SAMPLE-08 3.200 (8 members)\n"
    ) in out
    assert (
        "Refused, as the rules require: هيلدا عجيلات cannot score SAMPLE-01: belongs to the proposing "
        "organisation (مركز الشفافية الأردني); the score was refused.\n"
    ) in out
    assert "Refused, as the rules require: Cannot commit proposal SAMPLE-06: a relevant body must have agreed" in out
    assert "Refused, as the rules require: Cannot commit proposal SAMPLE-07: the plan's commitment target" in out
    assert "Audit chain verified: 500 entries" in out
    site = tmp_path / "d" / "site"
    assert f"Site: {site / 'index.html'} (the national OGP repository and the reasoned response, ar, en;" in out
    assert (site / "ar" / "proposals" / "SAMPLE-01.html").is_file()
    letters = sorted((tmp_path / "d" / "letters").iterdir())
    assert len(letters) == 35
    assert (
        f"Letters: 35 in {tmp_path / 'd' / 'letters'} "
        "(9 invitation, 4 rejection, 9 referral, 1 followup, 5 commitment, 5 acceptance, 2 referral_closed)\n"
    ) in out
    minutes = tmp_path / "d" / "minutes" / "meeting-2-2021-07-28.docx"
    assert f"Minutes of the second meeting: {minutes}\n" in out
    assert "الحضور" in [row.cells[0].text for row in docx.Document(str(minutes)).tables[0].rows]
    again = runner.invoke(cli, ["demo", "--dir", "d"])
    assert again.exit_code == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    refused = runner.invoke(cli, ["demo", "--dir", "mine"])
    assert refused.exit_code == 1
    assert refused.stderr == "Error: mine is not empty and holds no earlier demo; choose another --dir.\n"
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "keep me"


def test_entity_ranks_from_the_command_line(runner: CliRunner) -> None:
    result = ogp(
        runner, "entity", "add", "وزارة المالية", "--code", "MOF", "--rank", "minister", "--title", "وزير المالية"
    )
    assert result.stdout == "Added body 4: وزارة المالية (MOF)\n  letters address it as: معالي وزير المالية المحترم\n"
    refused = runner.invoke(cli, ["entity", "add", "جهة", "--rank", "minister"])
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: government body 'جهة': title: a rank needs the official's title, e.g. 'وزير الصحة'\n",
    )
    assert runner.invoke(cli, ["entity", "add", "جهة", "--rank", "king", "--title", "x"]).exit_code == 2


def test_init_letter_settings_and_a_bad_logo(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "logo.txt").write_text("not an image")
    bad = runner.invoke(cli, ["init", "--logo", "logo.txt"])
    assert bad.exit_code == 2
    assert bad.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--logo': logo.txt is not a PNG, JPEG, GIF or BMP image "
        "(its content is not one of these image formats)"  # never a parser's class name
    )
    both = runner.invoke(cli, ["init", "--copy-to", "x", "--no-copy-to"])
    assert (both.exit_code, both.stderr.splitlines()[-1]) == (2, "Error: give --copy-to or --no-copy-to, not both")
    assert ogp(runner, "init", "--digits", "arabic-indic", "--copy-to", "الملف").exit_code == 0
    add(runner, "P-1")
    to_shortlisted(runner, "P-1")
    assert ogp(runner, "advance", "P-1", "refer").exit_code == 0
    listed = json.loads(ogp(runner, "letters", "register", "--json").stdout)
    assert [item["reference"] for item in listed] == [f"ت ح/5/{dt.date.today().year}/0001"]


def test_templates_export_check_and_use(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    exported = ogp(runner, "templates", "export", "mine")
    assert exported.stdout.startswith("Wrote 32 templates to mine: acceptance.ar.j2, acceptance.en.j2, ")
    assert exported.stdout.endswith(", site/words.ar.j2, site/words.en.j2, site/working_group.html.j2\n")
    again = runner.invoke(cli, ["templates", "export", "mine"])
    assert again.exit_code == 1 and "use --force to overwrite" in again.stderr
    assert ogp(runner, "templates", "check", "mine").stdout == "Checked 31 templates from mine: 0 errors.\n"
    (tmp_path / "mine" / "referral.ar.j2").write_text(
        "{% block subject %}{{ proposal.titel }}{% endblock %}{% block body %}x{% endblock %}"
    )
    broken = runner.invoke(cli, ["templates", "check", "mine"])
    assert broken.exit_code == 1
    assert broken.stderr == (
        "  template referral.ar.j2, line 1: UndefinedError: 'dict object' has no attribute 'titel'\n"
        "Error: 1 templates do not render; the letters or pages using them would fail.\n"
    )
    assert broken.stdout == "Checked 31 templates from mine: 1 errors.\n"
    (tmp_path / "mine" / "site" / "words.en.j2").write_text("{% set T = {} %}")
    site_broken = runner.invoke(cli, ["templates", "check", "mine"])
    assert "  site template site/" in site_broken.stderr and "has no attribute" in site_broken.stderr
    (tmp_path / "mine" / "site" / "words.en.j2").unlink()
    add(runner, "P-1")
    to_shortlisted(runner, "P-1")
    assert ogp(runner, "init", "--templates-dir", "mine").exit_code == 0
    refused = runner.invoke(cli, ["advance", "P-1", "refer"])
    assert refused.exit_code == 1
    assert "template referral.ar.j2, line 1: UndefinedError" in refused.stderr
    assert ogp(runner, "--templates", str(tmp_path / "nowhere-else"), "proposal", "list").exit_code == 2
    assert ogp(runner, "init", "--templates-dir", "").exit_code == 0
    assert ogp(runner, "advance", "P-1", "refer").exit_code == 0
    # A folder that is not there is refused when it is set, not at the first letter.
    settings = ogp(runner, "plan", "show", "--json").stdout
    for missing in ("nowhere", str(tmp_path / "mine" / "referral.ar.j2")):
        refused = runner.invoke(cli, ["init", "--templates-dir", missing])
        assert refused.exit_code == 1
        assert refused.stderr.startswith(f"Error: plan: templates-dir: {missing!r} is not a folder (a relative one is ")
    assert ogp(runner, "plan", "show", "--json").stdout == settings


def test_letters_verify_from_the_command_line(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    to_shortlisted(runner, "P-1")
    ogp(runner, "advance", "P-1", "refer")
    ok = ogp(runner, "letters", "verify")
    assert ok.exit_code == 0
    assert ok.stdout == (
        "Stored letters: 1 checked, 0 differ from the audit trail.\n"
        f"{workspace.letters_dir}: 1 match, 0 altered, 0 missing, 0 not in the register, "
        "0 from entries the chain no longer holds\n"
    )
    # The workspace's own folder named again, however it is written, is checked once.
    again = ogp(runner, "letters", "verify", str(workspace.letters_dir), str(workspace.letters_dir / ".." / "letters"))
    assert again.stdout == ok.stdout, again.output
    (letter,) = workspace.letters_dir.iterdir()
    letter.write_bytes(letter.read_bytes() + b"\0")
    bad = runner.invoke(cli, ["letters", "verify"])
    assert bad.exit_code == 1
    assert bad.stderr == (
        f"  altered: {letter.name}\nError: some letters are not the letters the register and the audit trail hold.\n"
    )


def test_the_evaluation_flow_from_the_command_line(runner: CliRunner, workspace: Workspace, tmp_path: Path) -> None:
    for name, org in (
        ("مي عليمات", "وحدة الحكومة الشفافة"),
        ("هيلدا عجيلات", "مركز الشفافية الأردني"),
        ("ندى خاطر", "وزارة الاقتصاد الرقمي"),
    ):
        assert ogp(runner, "member", "add", name, "--org", org).exit_code == 0
    assert [m["name"] for m in json.loads(ogp(runner, "member", "list", "--json").stdout)] == [
        "مي عليمات",
        "هيلدا عجيلات",
        "ندى خاطر",
    ]
    add(runner, "P-1")
    add(runner, "P-2")
    soon = dt.date.today() + dt.timedelta(days=30)
    scheduled = ogp(runner, "interview", "schedule", "P-1", "--at", f"{soon} 10:00", "--platform", "Zoom")
    assert scheduled.stdout.splitlines()[0] == f"Scheduled the interview of P-1 on {soon} 10:00 (audit #{head(runner)})"
    assert "_invitation_" in scheduled.stdout
    assert runner.invoke(cli, ["interview", "schedule", "P-1", "--at", "tomorrow"]).exit_code == 2
    listed = json.loads(ogp(runner, "interview", "list", "--json").stdout)
    assert [(i["ref"], i["at"], i["held_on"]) for i in listed] == [("P-1", f"{soon}T10:00", None)]
    for ref in ("P-1", "P-2"):
        assert (
            ogp(
                runner,
                "interview",
                "record",
                ref,
                "--on",
                "2021-07-28",
                "--member",
                "مي عليمات",
                "--needs",
                "شريك حكومي",
            ).exit_code
            == 0
        )
        assert ogp(runner, "advance", ref, "interview").exit_code == 0
    refused = runner.invoke(
        cli, ["score", "P-1", "--member", "هيلدا عجيلات", "--criterion", "importance", "--value", "5"]
    )
    assert (refused.exit_code, refused.stderr) == (
        1,
        "Error: هيلدا عجيلات cannot score P-1: belongs to the proposing organisation (مركز الشفافية الأردني); the score was refused.\n",
    )
    off_scale = runner.invoke(
        cli, ["score", "P-1", "--member", "مي عليمات", "--criterion", "importance", "--value", "7"]
    )
    assert (off_scale.exit_code, off_scale.stderr) == (
        1,
        "Error: score of proposal P-1: value: 7 is outside importance's scale 1–5\n",
    )
    rows = ["proposal,member,criterion,value,note"] + [
        f"{ref},{member},{code},{value},"
        for ref, value in (("P-1", 5), ("P-2", 3)) for member in ("مي عليمات", "ندى خاطر") for code in CRITERIA
    ]  # fmt: skip
    (tmp_path / "scores.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert ogp(runner, "score", "import", str(tmp_path / "scores.csv")).stdout == "Imported 20 scores.\n"
    ranked = json.loads(ogp(runner, "ranking", "--json").stdout)
    assert [(r["rank"], r["ref"], r["total"], r["scorers"], r["eligible"], r["quorum"], r["complete"]) for r in ranked] == [
        (1, "P-1", 5.0, 2, 2, 2, True), (2, "P-2", 3.0, 2, 2, 2, True),
    ]  # fmt: skip
    dry = ogp(runner, "shortlist", "--top", "1", "--dry-run")
    assert dry.stdout == (
        "Would shortlist 1: P-1\nCut-line:\n  just above: #1 P-1 5.000 (2 members)\n  just below: #2 P-2 3.000 (2 members)\n"
    )
    assert json.loads(ogp(runner, "proposal", "show", "P-1", "--json").stdout)["state"] == "interviewed"
    assert ogp(runner, "shortlist", "--top", "1").stdout.startswith("Shortlisted 1: P-1\n")
    assert ogp(runner, "criterion", "set-weight", "importance", "3").stdout == "importance now weighs 3.\n"
    assert [c["weight"] for c in json.loads(ogp(runner, "criterion", "list", "--json").stdout)] == [3, 1, 1, 1, 1]
    declared = ogp(runner, "conflict", "declare", "--member", "ندى خاطر", "--proposal", "P-2", "--reason", "قرابة")
    assert declared.stdout == "ندى خاطر may no longer score P-2.\n"
    assert json.loads(ogp(runner, "conflict", "list", "--json").stdout)[0]["ref"] == "P-2"
    assert json.loads(ogp(runner, "ranking", "--json").stdout)[0]["scorers"] == 1
    assert ogp(runner, "advance", "P-1", "refer").exit_code == 0
    answered = ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--declined", "--note", "لا")
    assert answered.stdout.startswith(f"P-1: MODEE declined on {dt.date.today().isoformat()}: لا (audit #")
    assert json.loads(ogp(runner, "response", "list", "--json").stdout)[0]["agreed"] is False
    meeting = ogp(
        runner,
        "meeting",
        "add",
        "--on",
        "2021-07-28",
        "--attendee",
        "مي عليمات",
        "--apology",
        "ندى خاطر",
        "--outcome",
        "اختيار",
    )
    assert meeting.stdout == "Recorded meeting 1 on 2021-07-28 (2 members listed).\n"
    assert (
        ogp(runner, "meeting", "minutes", "1", "--out", "m.docx").stdout == "Wrote the minutes of meeting 1 to m.docx\n"
    )
    assert "• مي عليمات – وحدة الحكومة الشفافة" in [
        p.text for p in docx.Document(str(tmp_path / "m.docx")).tables[0].rows[2].cells[1].paragraphs
    ]
    assert ogp(runner, "meeting", "minutes", "1").stdout.endswith("minutes/meeting-1-2021-07-28.docx\n")
    assert runner.invoke(cli, ["meeting", "minutes", "9"]).stderr == "Error: no meeting '9'.\n"
    assert ogp(runner, "audit", "verify").exit_code == 0


# What no command that only reads may import (issue 13: each is loaded by the commands that write
# letters, minutes, spreadsheets or the site, or upgrade the schema, and costs start-up time).
HEAVY_MODULES = ("jinja2", "alembic", "mako", "pygments", "docx", "lxml", "openpyxl", "documents.letters",
                 "documents.docx_writer", "documents.minutes", "documents.site")  # fmt: skip
READ_ONLY = (
    ("--help",), ("proposal", "list", "--json"), ("proposal", "show", "P-1"), ("history", "P-1"),
    ("status", "--json"), ("ranking",), ("audit", "verify"), ("letters", "verify"), ("letters", "list"),
    ("interview", "list"), ("due",), ("member", "list"),
)  # fmt: skip


def test_read_only_commands_never_import_the_letter_and_schema_machinery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command runs in a fresh interpreter on a workspace with a referred proposal (so its
    letters are listed, verified and counted), answers with exit 0, and has imported none of
    `HEAVY_MODULES`."""
    import os
    import subprocess
    import sys

    monkeypatch.setenv("OGP_DB", str(tmp_path / "ogp.db"))
    runner = CliRunner()
    assert ogp(runner, "init").exit_code == 0
    assert ogp(runner, "entity", "add", "وزارة الاقتصاد الرقمي والريادة", "--code", "MODEE").exit_code == 0
    add(runner, "P-1")
    to_shortlisted(runner, "P-1")
    assert ogp(runner, "advance", "P-1", "refer", "--dated", "2021-08-01").exit_code == 0
    probe = (
        "import sys\nfrom cli import main\nsys.argv = ['ogp', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\nelse:\n    code = 0\n"
        f"print(code, *sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules), file=sys.stderr)"
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    for args in READ_ONLY:
        done = subprocess.run([sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True, check=False)
        answer = done.stderr.splitlines()[-1].split()
        assert answer == ["0"], f"ogp {' '.join(args)}: exit and heavy imports {answer}\n{done.stderr}"
    # A listing needs neither the ORM nor the models (workflow/listing.py), filtered or not; only
    # a listing by body loads them, to find the body as every command does.
    lean = probe.replace(repr(HEAVY_MODULES), repr(("sqlalchemy.orm", "workflow.models", *HEAVY_MODULES)))
    for args in (("proposal", "list", "--json"), ("proposal", "list", "--state", "referred", "--search", "P-1")):
        done = subprocess.run([sys.executable, "-c", lean, *args], env=env, capture_output=True, text=True, check=False)
        answer = done.stderr.splitlines()[-1].split()
        assert answer == ["0"], f"ogp {' '.join(args)}: exit and imports {answer}\n{done.stderr}"


def _one_proposal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, CliRunner]:
    """A SQLite workspace (its file, and a runner on it) holding one body and proposal P-1."""
    path = tmp_path / "ogp.db"
    monkeypatch.setenv("OGP_DB", str(path))
    runner = CliRunner()
    assert ogp(runner, "init").exit_code == 0
    assert ogp(runner, "entity", "add", "وزارة الاقتصاد الرقمي والريادة", "--code", "MODEE").exit_code == 0
    add(runner, "P-1")
    return path, runner


@pytest.mark.parametrize(
    ("column", "value"), [("submitted_on", "garbage"), ("values", "not json"), ("submitted_on", "2021-13-45")]
)
def test_a_value_written_behind_the_product_s_back_is_refused_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, value: str
) -> None:
    """SQLite keeps whatever it is given: a date that is no date or a JSON column that is no JSON,
    written with another tool, makes every command that reads the row refuse with one sentence
    (exit 1, pointing at 'ogp audit verify', which names where), never a traceback."""
    import sqlite3

    path, runner = _one_proposal(tmp_path, monkeypatch)
    with sqlite3.connect(path) as raw:
        raw.execute(f'UPDATE proposals SET "{column}" = ?', (value,))
    for args in (("proposal", "show", "P-1"), ("history", "P-1"), ("status",), ("proposal", "export", str(tmp_path / "x.csv"))):
        done = runner.invoke(cli, list(args))
        assert done.exit_code == 1, (args, done.output, done.exception)
        assert done.stderr.startswith("Error: the workspace holds a value its column cannot hold ("), (args, done.stderr)
        assert done.stderr.rstrip().endswith("'ogp audit verify' says where; nothing was changed."), done.stderr
    verify = ogp(runner, "audit", "verify")
    assert verify.exit_code == 1 and "table proposals" in verify.stderr, verify.output


def test_only_a_failure_reading_a_row_is_called_a_stored_value() -> None:
    """The command's own ValueError (a bug) still surfaces as itself; one raised while SQLAlchemy
    reads a row's values is the stored value's."""
    from sqlalchemy import Date, column, create_engine, select, table

    from cli import read_from_a_row

    try:
        raise ValueError("the command's own")
    except ValueError as own:
        assert not read_from_a_row(own)
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (d DATE)")
        connection.exec_driver_sql("INSERT INTO t VALUES ('garbage')")
        with pytest.raises(ValueError) as stored:
            connection.execute(select(table("t", column("d", Date)))).all()
    assert read_from_a_row(stored.value)


def _without_state_check(path: Path) -> None:
    """Rebuild the proposals table's definition without its CHECK on the state, as someone with
    the database file could, behind the product's back."""
    import re
    import sqlite3

    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA writable_schema=ON")
        (sql,) = raw.execute("SELECT sql FROM sqlite_master WHERE name = 'proposals'").fetchone()
        loose = re.sub(r"CHECK \(state IN \([^)]*\)\)", "CHECK (1)", sql)
        assert loose != sql
        raw.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'proposals'", (loose,))
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE proposals SET state = 'bogus'")


@pytest.mark.parametrize(
    "tamper",
    ["state", "UPDATE proposals SET lead_entity_id = 999", "UPDATE proposals SET lead_entity_id = 'MODEE'",
     "UPDATE proposal_entities SET entity_id = 77", "UPDATE proposals SET title = x'00ff'"],
)  # fmt: skip
def test_what_no_step_writes_is_refused_by_the_listing_and_by_audit_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: str
) -> None:
    """A state no machine has, a body that is not there, a title that is not text: the listing
    (which reads plain columns, not the models) names the row instead of showing it, and audit
    verify refuses with one sentence, never a traceback (an attacker found both)."""
    import sqlite3

    path, runner = _one_proposal(tmp_path, monkeypatch)
    if tamper == "state":
        _without_state_check(path)
    else:
        with sqlite3.connect(path) as raw:
            raw.execute(tamper)
    readers = [("proposal", "list"), ("proposal", "list", "--json", "--all"), ("audit", "verify")]
    if "proposal_entities" in tamper:  # the objects' own view of a proposal names it too
        readers.append(("proposal", "show", "P-1"))
    for args in readers:
        done = runner.invoke(cli, list(args))
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception  # no traceback
        assert done.exit_code == 1 and done.stderr.startswith("Error: "), (args, done.output)
        if args[0] == "proposal":
            assert "the workspace holds a value its column cannot hold (proposal" in done.stderr, done.stderr


def test_a_row_read_by_looping_over_a_result_is_a_stored_value_too() -> None:
    """SQLAlchemy 2.1 reads a row in compiled code (engine/_result_cy) when a loop walks the
    result: that is reading a row as well."""
    from sqlalchemy import Date, column, create_engine, select, table

    from cli import read_from_a_row

    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (d DATE)")
        connection.exec_driver_sql("INSERT INTO t VALUES ('garbage')")
        with pytest.raises(ValueError) as stored:
            for _ in connection.execute(select(table("t", column("d", Date)))):
                pass
    assert read_from_a_row(stored.value)


@pytest.mark.parametrize(
    ("tamper", "filters", "detail"),
    [("UPDATE proposals SET \"values\" = '7'", [("--value", "accountability")],
      "proposals.values holds 7, not a list of OGP value codes"),
     ("UPDATE proposals SET organization = x'00ff'", [("--value", "accountability"), ("--org", "جهة"), ("--search", "فكرة")],
      "proposals #1: a ref, title, organisation, problem or solution that is not text")],
)  # fmt: skip
def test_a_filter_never_reads_what_no_step_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: str, filters: list[tuple[str, str]], detail: str
) -> None:
    """The listing's filters read the OGP values and the texts: those are checked before they are
    compared (the values by their column's type, as they are read), so a list that is no list, or
    text that is no text, is named, never a traceback."""
    import sqlite3

    path, runner = _one_proposal(tmp_path, monkeypatch)
    with sqlite3.connect(path) as raw:
        raw.execute(tamper)
    for args in filters:
        done = runner.invoke(cli, ["proposal", "list", *args])
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception  # no traceback
        assert done.exit_code == 1 and f"the workspace holds a value its column cannot hold ({detail}): " in (
            done.stderr), (args, done.output)  # fmt: skip
