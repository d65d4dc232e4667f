"""Names that look equal compare equal (workflow/names.py), wherever names are compared; stored
text keeps what was typed, minus invisible controls."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from cli import cli
from documents import clean_text, one_line
from workflow.db import Workspace
from workflow.ledger import checked_reason
from workflow.names import name_key, same_name

RLM, LRM, ZWNJ, ZWJ, BOM = "\u200f", "\u200e", "\u200c", "\u200d", "\ufeff"


@pytest.mark.parametrize(
    ("typed", "as_stored"),
    [
        ("ندى خاطر" + RLM, "ندى خاطر"),
        (LRM + "مركز المثال", "مركز المثال"),
        ("مركز" + ZWNJ + " المثال", "مركز المثال"),
        ("مركز" + ZWJ + " المثال", "مركز المثال"),
        (BOM + "جمعية المثال", "جمعية المثال"),
        ("\u202eجمعية\u202c المثال", "جمعية المثال"),  # a right-to-left override and its pop
        ("\u2067جمعية\u2069 المثال", "جمعية المثال"),  # an isolate
        ("كتاب", "کتاب"),  # Arabic kaf, Persian keheh
        ("علي", "علی"),  # Arabic yeh, Farsi yeh
        ("مدرسة", "مدرسه"),  # ta marbuta, heh
        ("مدرسه", "مدرسە"),  # heh, Kurdish ae
        ("مدرسه", "مدرسہ"),  # heh, Urdu heh goal
        ("أحمد", "احمد"),
        ("مُحَمَّد", "محمد"),  # tashkeel
        ("محـــمد", "محمد"),  # tatweel
        (unicodedata.normalize("NFD", "إسلام آباد"), unicodedata.normalize("NFC", "إسلام آباد")),
        ("José", unicodedata.normalize("NFD", "José")),
        ("ﻣﺮﻛﺰ", "مركز"),  # presentation forms
        ("وزارة  الصحة ", "وزارة الصحة"),
        ("مدرسة ٣", "مدرسة 3"),  # Arabic-Indic digits
        ("مدرسة ۳", "مدرسة 3"),  # Persian digits
        ("MODEE", "modee"),
        ("ندى\u3164 خاطر", "ندى خاطر"),  # a Hangul filler shows as a blank
        ("ندى\u3164خاطر", "ندى خاطر"),
        ("ندى\u2800خاطر", "ندى خاطر"),  # a braille blank
        ("\uffa0مركز المثال", "مركز المثال"),
    ],
)
def test_names_that_look_the_same_have_the_same_key(typed: str, as_stored: str) -> None:
    assert name_key(typed) == name_key(as_stored)
    assert same_name(typed, as_stored)


@pytest.mark.parametrize(("a", "b"), [("وزارة الصحة", "وزارة المالية"), ("مركز أ", "مركز ب"), ("P-1", "P-2")])
def test_different_names_have_different_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


@given(st.text(max_size=60))
@example("\u200f")
@example("\ud800")
def test_the_key_is_idempotent_and_never_fails(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert name_key(text + RLM + ZWNJ) == key


def test_stored_text_keeps_what_was_typed_minus_invisible_controls() -> None:
    assert clean_text("مركز\u200c المثال" + RLM) == "مركز\u200c المثال"  # the joiner Persian needs is kept
    assert clean_text("\u202eabc\u202c\x1b[31m\x9b") == "abc[31m"
    assert one_line("a\n\nb" + BOM) == "a b"
    # What shows as a blank or a line break is stored as one, never dropped to join two words.
    assert one_line("مركز\u3164المثال\u2800حق") == "مركز المثال حق"
    assert clean_text("a\x0bb\x0cc\x85d") == "a\nb\nc\nd" and one_line("a\x0bb") == "a b"
    assert checked_reason("خطأ\x0bفي\x0cالعنوان\x00", "letter 1") == "خطأ في العنوان"  # a reason too


def test_members_organisations_and_bodies_match_by_the_key(runner: CliRunner, workspace: Workspace) -> None:
    def ogp(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args))
        assert "Traceback" not in result.output
        return result.exit_code, result.stdout, result.stderr

    assert ogp("member", "add", "علی رضا", "--org", "مرکز المثال")[0] == 0
    # The same member typed on an Arabic keyboard, decomposed, with a mark: refused as a duplicate.
    for again in ("علي رضا", unicodedata.normalize("NFD", "علی رضا"), "علی رضا" + RLM):
        code, _, err = ogp("member", "add", again, "--org", "x")
        assert (code, err) == (1, "Error: a member with name 'علی رضا' already exists.\n")
    # Bodies: by a name with Persian letters, a pasted mark or tashkeel.
    for typed in ("سجل الجمعيات" + RLM, "سجلّ الجمعيات", "سجل الجمعیات"):
        code, out, _ = ogp("proposal", "add", "--title", f"فكرة {len(typed)} {typed[-1]}", "--org", "جهة أخرى",
                           "--entity", typed, "--submitted-on", "2021-06-20")  # fmt: skip
        assert code == 0, out
    assert {tuple(p["entities"]) for p in json.loads(ogp("proposal", "list", "--json")[1])} == {("ROS",)}
    code, _, err = ogp("entity", "add", "وزارة الصحه")
    assert (code, err) == (1, "Error: a government body with name 'وزارة الصحة' already exists.\n")
    # The member's organisation, typed with Arabic letters, is the proposer's, typed with Persian ones.
    assert ogp("proposal", "add", "--ref", "P-9", "--title", "فكرة", "--org", "مركز المثال",
               "--submitted-on", "2021-06-20")[0] == 0  # fmt: skip
    code, _, err = ogp("score", "P-9", "--member", "علي رضا", "--criterion", "importance", "--value", "3")
    assert code == 1 and "belongs to the proposing organisation" in err
    # A Hangul filler or a braille blank typed for the space: it shows as one, so it is one.
    for n, blank in enumerate(("\u3164", "\u2800", "\uffa0")):
        assert ogp("member", "add", f"عضو {n}", "--org", f"مركز{blank}المثال")[0] == 0
        code, _, err = ogp("score", "P-9", "--member", f"عضو {n}", "--criterion", "importance", "--value", "3")
        assert code == 1 and "belongs to the proposing organisation" in err, err
        code, _, err = ogp("member", "add", f"علی{blank}رضا", "--org", "x")
        assert (code, err) == (1, "Error: a member with name 'علی رضا' already exists.\n")
    members = json.loads(ogp("member", "list", "--json")[1])
    assert {m["organization"] for m in members} == {"مرکز المثال", "مركز المثال"}  # stored as shown
    # A member named by a decomposed form of their name is found.
    code, _, _ = ogp("conflict", "declare", "--member", unicodedata.normalize("NFD", "علی رضا") + LRM,
                     "--proposal", "P-9", "--reason", "قرابة")  # fmt: skip
    assert code == 0


def test_letters_verify_finds_a_letter_saved_under_a_decomposed_name(
    runner: CliRunner, workspace: Workspace, tmp_path: Path
) -> None:
    assert runner.invoke(cli, ["proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "مؤسسة إعلام",
                               "--submitted-on", "2021-06-20"]).exit_code == 0  # fmt: skip
    assert runner.invoke(cli, ["advance", "P-1", "reject", "--reason", "خارج الصلاحيات"]).exit_code == 0
    (letter,) = workspace.letters_dir.iterdir()
    exported = tmp_path / "exported"
    exported.mkdir()
    (exported / unicodedata.normalize("NFD", letter.name)).write_bytes(letter.read_bytes())
    assert unicodedata.normalize("NFD", letter.name) != letter.name
    checked = runner.invoke(cli, ["letters", "verify", str(exported)])
    assert checked.exit_code == 0
    assert f"{exported}: 1 match, 0 altered, 0 missing, 0 not in the register" in checked.stdout
