"""`ogp publish`: the recorded step, the files, privacy by default, the folder rules, the command line."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import cli
from documents.site.folder import MANIFEST, MARKER
from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import bring_to, move, register, score_all
from workflow import audit, replay
from workflow.errors import InvalidInputError, WorkflowError
from workflow.members import add_member
from workflow.models import AuditEntry, Publication
from workflow.proposals import ProposalInput, add_proposal
from workflow.publish import parse_languages, publish, staged_site

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
NOW = dt.datetime(2021, 9, 1, 9, 0, tzinfo=dt.UTC)


def build(session_scope: SessionFactory) -> None:
    """A plan with a commitment, a rejection with its reason, a withdrawal and an open proposal."""
    with session_scope() as s:
        for ref in ("P-1", "P-2", "P-3", "P-4"):
            register(s, ref)
        raw = ProposalInput("فكرة مع بريد", "جمعية", "P-5", "me@example.org",
                            "راسلونا على contact@example.org", "حل", entities=("ROS",), submitted_on="2021-06-21")  # fmt: skip
        add_proposal(s, raw, actor="tester", now=NOW)
        bring_to(s, "P-1", State.COMMITTED)
        bring_to(s, "P-2", State.INTERVIEWED)
        score_all(s, "P-2", 2)
        move(s, "P-2", Event.REJECT, "دون خط القطع")
        move(s, "P-3", Event.WITHDRAW, "انسحبت الجهة")
        add_member(s, "عضو ثان", "جهة أخرى", "civil-society", actor="tester")


def run_publish(session_scope: SessionFactory, folder: Path, **options: object) -> object:
    with staged_site(folder) as staging, session_scope() as s:
        options.setdefault("now", NOW)
        return publish(s, staging, actor="tester", **options)  # type: ignore[arg-type]


def site_text(folder: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.suffix in {".html", ".csv", ".json"}
    )


def test_a_publication_is_one_recorded_step_naming_the_head_before_it(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    build(session_scope)
    with session_scope() as s:
        before = audit.current_head(s)
    result = run_publish(session_scope, tmp_path / "site", published_on=dt.date(2021, 8, 31))
    with session_scope() as s:
        publication = s.scalars(select(Publication)).one()
        entry = s.get(AuditEntry, before.seq + 1)
        assert entry is not None and entry.event == "publish" and audit.current_head(s).seq == before.seq + 1
        assert (publication.head_seq, publication.head_hash) == (before.seq, before.hash)
        assert publication.published_on == dt.date(2021, 8, 31) and publication.languages == ["ar", "en"]
        assert replay.verify(s).entries == before.seq + 1  # the publication replays like any step
        recorded = publication.manifest_sha256
    site = tmp_path / "site"
    listing = (site / MANIFEST).read_bytes()
    assert hashlib.sha256(listing).hexdigest() == recorded == result.manifest_sha256  # type: ignore[attr-defined]
    for line in listing.decode().splitlines():
        digest, path = line.split("  ", 1)
        assert hashlib.sha256((site / path).read_bytes()).hexdigest() == digest
    assert (site / MARKER).is_file()
    home = (site / "ar" / "index.html").read_text(encoding="utf-8")
    assert f"القيد رقم <bdi>{before.seq}</bdi>" in home
    verify = (site / "en" / "verify.html").read_text(encoding="utf-8")
    assert f'audit verify --expect-head "{before.seq}:{before.hash}"' in verify


def test_every_proposal_has_its_decision_and_reasons(session_scope: SessionFactory, tmp_path: Path) -> None:
    build(session_scope)
    run_publish(session_scope, tmp_path / "site")
    site = tmp_path / "site"
    rows = {r["ref"]: r for r in json.loads((site / "data" / "response.json").read_text(encoding="utf-8"))}
    assert {ref: r["outcome"] for ref, r in rows.items()} == {
        "P-1": "committed", "P-2": "not_adopted", "P-3": "withdrawn", "P-4": "open", "P-5": "open",
    }  # fmt: skip
    assert rows["P-2"]["reason"] == "دون خط القطع" and rows["P-2"]["left_at"] == "interviewed"
    assert rows["P-2"]["weighted_mean"] == 2.0 and rows["P-2"]["cut_line"] == 4.0
    assert rows["P-1"]["lead"] == "MODEE" and rows["P-1"]["answers"] == {"MODEE": "agreed"}
    page = (site / "ar" / "proposals" / "P-2.html").read_text(encoding="utf-8")
    assert "دون خط القطع" in page and "وهو دون خط القطع البالغ 4.00" in page
    response = (site / "en" / "response.html").read_text(encoding="utf-8")
    assert '<article id="P-3" class="response">' in response and "انسحبت الجهة" in response
    document = docx.Document(str(site / "downloads" / "reasoned-response.ar.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "الرد المعلل على المساهمات المقدمة" in text and "السبب: دون خط القطع" in text
    body = document.element.body
    assert body.find(".//{*}sectPr/{*}bidi") is not None
    assert all(p.find("./{*}pPr/{*}bidi") is not None for p in body.iter("{*}p") if p.getparent() is body)


def test_privacy_by_default_and_names_only_when_asked(session_scope: SessionFactory, tmp_path: Path) -> None:
    build(session_scope)
    run_publish(session_scope, tmp_path / "plain")
    text = site_text(tmp_path / "plain")
    assert not EMAIL.search(text)
    assert not (tmp_path / "plain" / "data" / "scores.csv").exists()
    page = (tmp_path / "plain" / "en" / "proposals" / "P-2.html").read_text(encoding="utf-8")
    assert "عضو الاختبار" not in page  # the one member who scored it is not named beside a score
    run_publish(session_scope, tmp_path / "named", name_scorers=True)
    named = (tmp_path / "named" / "en" / "proposals" / "P-2.html").read_text(encoding="utf-8")
    assert "Scores by member" in named and "عضو الاختبار" in named
    scores = json.loads((tmp_path / "named" / "data" / "scores.json").read_text(encoding="utf-8"))
    assert {s["ref"] for s in scores} == {"P-1", "P-2"} and all(s["counted"] for s in scores)


def test_letters_to_proposers_name_no_one(session_scope: SessionFactory, tmp_path: Path) -> None:
    build(session_scope)
    run_publish(session_scope, tmp_path / "site")
    letters = json.loads((tmp_path / "site" / "data" / "letters.json").read_text(encoding="utf-8"))
    to_proposers = [row for row in letters if row["kind"] in ("acceptance", "rejection")]
    assert to_proposers and all(row["body"] is None and row["body_name"] is None for row in to_proposers)
    page = (tmp_path / "site" / "ar" / "letters.html").read_text(encoding="utf-8")
    assert "مركز الشفافية الأردني" not in page  # the proposing organisation is not listed as an addressee


def test_the_update_log_lists_earlier_publications_and_dates_only_move_forward(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    build(session_scope)
    first = run_publish(session_scope, tmp_path / "site", published_on=dt.date(2021, 8, 1))
    (tmp_path / "site" / "notes.txt").write_text("mine")
    second = run_publish(session_scope, tmp_path / "site", published_on=dt.date(2021, 8, 31))
    log = json.loads((tmp_path / "site" / "data" / "publications.json").read_text(encoding="utf-8"))
    assert [p["published_on"] for p in log] == ["2021-08-01", "2021-08-31"]
    assert log[0]["manifest_sha256"] == first.manifest_sha256 and log[1]["manifest_sha256"] is None  # type: ignore[attr-defined]
    assert log[1]["head_seq"] == first.seq  # type: ignore[attr-defined]
    assert second.earlier == 1  # type: ignore[attr-defined]
    assert (tmp_path / "site" / "notes.txt").read_text() == "mine"  # not ours: left alone
    with pytest.raises(InvalidInputError, match="2021-07-01 is before the last publication, of 2021-08-31"):
        run_publish(session_scope, tmp_path / "site", published_on=dt.date(2021, 7, 1))
    with pytest.raises(InvalidInputError, match="2021-09-02 is in the future"):
        run_publish(session_scope, tmp_path / "site", published_on=dt.date(2021, 9, 2))
    with session_scope() as s:
        assert len(s.scalars(select(Publication)).all()) == 2
    assert not list((tmp_path / "site").glob(".ogp-publishing-*"))  # refused: nothing staged is left


def test_republishing_removes_only_the_files_the_earlier_site_listed(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    build(session_scope)
    run_publish(session_scope, tmp_path / "site")
    stale = tmp_path / "site" / "en" / "proposals" / "P-OLD.html"
    stale.write_text("old")
    manifest = tmp_path / "site" / MANIFEST
    manifest.write_text(manifest.read_text() + f"{'0' * 64}  en/proposals/P-OLD.html\n{'0' * 64}  ../outside.txt\n")
    (tmp_path / "outside.txt").write_text("keep")
    run_publish(session_scope, tmp_path / "site")
    assert not stale.exists() and (tmp_path / "outside.txt").read_text() == "keep"


def test_a_folder_that_is_not_a_site_is_refused_and_left_as_it_was(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    build(session_scope)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    with pytest.raises(WorkflowError, match="is not empty and holds no earlier site"):
        run_publish(session_scope, tmp_path / "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["thesis.txt"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(WorkflowError, match="is a file, not a folder"):
        run_publish(session_scope, tmp_path / "afile")
    with session_scope() as s:
        assert s.scalars(select(Publication)).first() is None


def test_the_same_record_gives_the_same_site(session_scope: SessionFactory, tmp_path: Path) -> None:
    build(session_scope)
    day = dt.date(2021, 8, 31)
    first = run_publish(session_scope, tmp_path / "a", published_on=day)
    with session_scope() as s:  # the second shows a head one further (the first publication's entry)
        head = audit.current_head(s)
    second = run_publish(session_scope, tmp_path / "b", published_on=day)
    assert first.manifest_sha256 != second.manifest_sha256  # type: ignore[attr-defined]
    a = dict(line.split("  ")[::-1] for line in (tmp_path / "a" / MANIFEST).read_text().splitlines())
    b = dict(line.split("  ")[::-1] for line in (tmp_path / "b" / MANIFEST).read_text().splitlines())
    assert a.keys() == b.keys()
    assert a["data/proposals.csv"] == b["data/proposals.csv"]  # nothing but the head and the log differ
    assert head.seq == second.head.seq  # type: ignore[attr-defined]


def test_languages_are_parsed_strictly() -> None:
    assert parse_languages("ar") == ("ar",)
    assert parse_languages(" en , ar ") == ("en", "ar")
    for bad, message in (("fr", "'fr' is not a language of the site (use ar, en)"), ("ar,ar", "'ar,ar' names a language twice"),
                         (",", "name at least one language (ar, en)")):  # fmt: skip
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_languages(bad)


def test_one_language_only(session_scope: SessionFactory, tmp_path: Path) -> None:
    build(session_scope)
    run_publish(session_scope, tmp_path / "site", languages=("en",))
    assert (tmp_path / "site" / "en" / "index.html").is_file() and not (tmp_path / "site" / "ar").exists()
    assert "hreflang" not in (tmp_path / "site" / "en" / "index.html").read_text(encoding="utf-8")


# --- the command line ---------------------------------------------------------------------------


def ogp(runner: CliRunner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, list(args))


def test_publish_prints_where_and_what_it_recorded(runner: CliRunner, tmp_path: Path) -> None:
    assert ogp(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--email", "a@b.org",
               "--entity", "MODEE", "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    head = ogp(runner, "audit", "head").stdout.strip()
    result = ogp(runner, "publish", "site", "--dated", dt.date.today().isoformat())
    assert result.exit_code == 0, result.output
    seq = int(head.split(":")[0])
    assert result.stdout.splitlines() == [
        f"Published the national OGP repository to {tmp_path / 'site'} (ar, en): 1 proposals, "
        f"{len((tmp_path / 'site' / MANIFEST).read_text().splitlines())} files.",
        f"  dated {dt.date.today().isoformat()}; it shows the audit chain up to #{head}",
        f"  recorded as audit entry #{seq + 1}; sha256 of its manifest.sha256: "
        f"{hashlib.sha256((tmp_path / 'site' / MANIFEST).read_bytes()).hexdigest()}",
        f"  open {tmp_path / 'site' / 'index.html'}",
    ]
    again = json.loads(ogp(runner, "publish", "site", "--lang", "en", "--json").stdout)
    assert set(again) == {"folder", "published_on", "languages", "head", "audit_seq", "manifest_sha256", "files",
                          "proposals", "earlier_publications"}  # fmt: skip
    assert again["languages"] == ["en"] and again["earlier_publications"] == 1 and again["head"]["seq"] == seq + 1
    assert not (tmp_path / "site" / "ar").exists()  # the Arabic pages of the first were its files: replaced


def test_publish_refusals_exit_codes_and_messages(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = ogp(runner, "audit", "head").stdout
    (tmp_path / "afile").write_text("x")
    result = ogp(runner, "publish", "afile")
    assert result.exit_code == 2 and "Directory 'afile' is a file." in result.stderr
    result = ogp(runner, "publish", "site", "--lang", "ar,fr")
    assert result.exit_code == 2 and "'fr' is not a language of the site (use ar, en)" in result.stderr
    result = ogp(runner, "publish", "site", "--dated", "2070-01-01")
    assert result.exit_code == 1
    assert result.stderr == "Error: publication: --dated: 2070-01-01 is in the future\n"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    result = ogp(runner, "publish", "mine")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot publish to mine: {tmp_path / 'mine'} is not empty and holds no earlier site (no .ogp-site and "
        "manifest.sha256); choose an empty or new folder. Nothing was published.\n"
    )
    monkeypatch.setattr("documents.site.folder.os.access", lambda *_: False)
    result = ogp(runner, "publish", "new/site")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot publish to new/site: cannot write to {tmp_path} (permission denied). Nothing was published.\n"
    )
    assert ogp(runner, "audit", "head").stdout == head
    assert not (tmp_path / "site").exists() and not (tmp_path / "new").exists()


def test_a_publication_is_not_dated_before_what_it_shows(runner: CliRunner, tmp_path: Path) -> None:
    assert ogp(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    head = ogp(runner, "audit", "head").stdout

    def refused(dated: str, problem: str) -> None:
        result = ogp(runner, "publish", "site", "--dated", dated)
        assert (result.exit_code, result.stderr) == (1, f"Error: publication: --dated: {problem}\n")
        assert ogp(runner, "audit", "head").stdout == head and not (tmp_path / "site").exists()

    refused("2011-01-01", "2011-01-01 is before the OGP's launch (2011-09-20); a publication cannot be earlier")
    refused("٢٠٢١-٠٦-١٩", "2021-06-19 is before the submission of P-1 (2021-06-20), which the publication shows; "
            "date it on or after 2021-06-20")  # fmt: skip
    assert ogp(runner, "advance", "P-1", "reject", "--reason", "خارج النطاق", "--dated", "2021-07-05").exit_code == 0
    head = ogp(runner, "audit", "head").stdout
    letter = json.loads(ogp(runner, "letters", "list", "--json").stdout)[0]["reference"]
    refused("2021-07-04", f"2021-07-04 is before letter {letter} (2021-07-05), which the publication shows; "
            "date it on or after 2021-07-05")  # fmt: skip
    # A meeting recorded ahead of its day does not keep the repository from being published today.
    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    assert ogp(runner, "meeting", "add", "--on", soon).exit_code == 0
    assert ogp(runner, "publish", "site", "--dated", "2021-07-05").exit_code == 0
    assert ogp(runner, "publish", "site").exit_code == 0


def test_publish_refuses_the_letters_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", "ws/ogp.db", "init"]).exit_code == 0
    result = runner.invoke(cli, ["--db", "ws/ogp.db", "publish", "ws/letters/site"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: cannot publish to ws/letters/site: it is inside the workspace's letters/ folder, which holds only "
        "letters; choose another folder. Nothing was published.\n"
    )


def test_a_broken_site_template_is_named_and_nothing_is_published(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "tpl" / "site").mkdir(parents=True)
    (tmp_path / "tpl" / "site" / "home.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block main %}{{ nope }}{% endblock %}\n'
    )
    head = ogp(runner, "audit", "head").stdout
    result = ogp(runner, "--templates", "tpl", "publish", "site")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: could not build the site: site template site/home.html.j2, line 2: UndefinedError: 'nope' is "
        "undefined; nothing was published.\n"
    )
    assert ogp(runner, "audit", "head").stdout == head and not (tmp_path / "site").exists()


def _site_template(tmp_path: Path, name: str, text: str | bytes) -> None:
    folder = tmp_path / "tpl" / "site"
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        (folder / name).write_bytes(text)
    else:
        (folder / name).write_text(text, encoding="utf-8")


_LATER_MEMBERS = itertools.count(1)


def _refused_publication(runner: CliRunner, tmp_path: Path, problem: str) -> None:
    """`publish` with the edited folder is refused with `problem`, records nothing, writes no site,
    and leaves the record free for the next command."""
    head = ogp(runner, "audit", "head").stdout
    result = ogp(runner, "--templates", "tpl", "publish", "site")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: could not build the site: {problem}; nothing was published.\n",
    )
    assert ogp(runner, "audit", "head").stdout == head and not (tmp_path / "site").exists()
    member = f"عضو بعد الرفض {next(_LATER_MEMBERS)}"
    assert ogp(runner, "member", "add", member, "--org", "جهة").exit_code == 0  # the write lock is free


def test_a_site_template_that_never_ends_is_stopped_and_named(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("documents.site.render.PAGE_SECONDS", 1.0)
    _site_template(tmp_path, "home.html.j2", (
        '{% extends "base.html.j2" %}\n{% block main %}{% for i in range(100000) %}{% for j in range(100000) %}'
        "{% endfor %}{% endfor %}{% endblock %}\n"
    ))  # fmt: skip
    _refused_publication(
        runner,
        tmp_path,
        "site template site/home.html.j2: took longer than 1 seconds and was stopped (a loop that does not end?)",
    )
    checked = ogp(runner, "templates", "check", "tpl")
    assert checked.exit_code == 1 and "site/home.html.j2: took longer than 1 seconds" in checked.output


def test_a_site_template_writing_too_much_is_stopped_and_named(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("documents.site.render.MAX_PAGE_CHARS", 50_000)
    _site_template(tmp_path, "proposal.html.j2", "{% for i in range(60000) %}x{% endfor %}")
    assert ogp(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة",
               "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
    _refused_publication(runner, tmp_path, "site template site/proposal.html.j2: writes more than 50,000 characters")
    # one huge piece at once (a string multiplied) is caught by the worker's memory cap or the size
    _site_template(tmp_path, "proposal.html.j2", '{{ "x" * 60000 }}')
    _refused_publication(runner, tmp_path, "site template site/proposal.html.j2: writes more than 50,000 characters")


def test_site_templates_are_read_only_inside_their_folder_and_as_utf8(runner: CliRunner, tmp_path: Path) -> None:
    outside = tmp_path / "secret.html.j2"
    outside.write_text("كلمة السر", encoding="utf-8")
    _site_template(tmp_path, "style.css", "body {}")
    (tmp_path / "tpl" / "site" / "home.html.j2").symlink_to(outside)
    _refused_publication(
        runner, tmp_path, "site template site/home.html.j2: cannot load it (home.html.j2: is a link to a file outside "
        "the templates folder; copy the file in instead)",
    )  # fmt: skip
    (tmp_path / "tpl" / "site" / "home.html.j2").unlink()
    _site_template(tmp_path, "home.html.j2", '{% include "../../secret.html.j2" %}')
    _refused_publication(
        runner, tmp_path, "site template site/home.html.j2, line 1: ../../secret.html.j2: a template may only "
        "name files inside the templates folder (no '..')",
    )  # fmt: skip
    (tmp_path / "tpl" / "site" / "home.html.j2").unlink()
    # The site/ subfolder itself a link out of the templates folder: nothing in it is read.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "home.html.j2").write_text("{{ secret }}", encoding="utf-8")
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "site").symlink_to(elsewhere)
    linked = ogp(runner, "--templates", "linked", "publish", "site")
    assert linked.exit_code == 1
    assert "site/home.html.j2: cannot load it (home.html.j2: is a link to a file outside" in linked.stderr
    # A stylesheet may embed its fonts: larger than any letter template, and still published.
    _site_template(tmp_path, "style.css", "body {}\n/* " + "x" * 600_000 + " */\n")
    assert ogp(runner, "--templates", "tpl", "publish", "big").exit_code == 0
    assert (tmp_path / "big" / "style.css").stat().st_size > 600_000
    _site_template(tmp_path, "words.ar.j2", "{% set T = {} %}\nكلمة".encode("cp1256"))
    _refused_publication(
        runner, tmp_path, "site template site/words.ar.j2: cannot load it (words.ar.j2: is not UTF-8 text (byte 0xdf "
        "on line 2); save it as UTF-8)",
    )  # fmt: skip


def test_reasoned_response_docx_in_both_languages_is_deterministic(
    session_scope: SessionFactory, tmp_path: Path
) -> None:
    build(session_scope)
    run_publish(session_scope, tmp_path / "site", published_on=dt.date(2021, 8, 31))
    english = tmp_path / "site" / "downloads" / "reasoned-response.en.docx"
    text = "\n".join(p.text for p in docx.Document(str(english)).paragraphs)
    assert "Reasoned response to the contributions received" in text and "Reason: انسحبت الجهة" in text
    with zipfile.ZipFile(english) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
