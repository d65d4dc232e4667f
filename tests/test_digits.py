"""Arabic-Indic digits only in Arabic prose (documents/digits.py): codes, addresses and numbers in
Latin text keep the digits they must be typed back with."""

from __future__ import annotations

import io

import docx
import pytest
from click.testing import CliRunner

from cli import cli
from documents.digits import arabic_indic_prose
from tests.helpers import cli_to_shortlisted
from workflow.db import Workspace


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الرقم: ت ح/5/2021/0001", "الرقم: ت ح/٥/٢٠٢١/٠٠٠١"),
        ("التاريخ: 18 ذو الحجة 1442هـ", "التاريخ: ١٨ ذو الحجة ١٤٤٢هـ"),
        ("المقترح P-001 المقدم في 2021", "المقترح P-001 المقدم في ٢٠٢١"),
        ("الرمز HX-12 والعدد 34", "الرمز HX-12 والعدد ٣٤"),
        ("راسلونا على info2@example.org أو https://ogp.jo/p/12 وwww.site1.jo", None),
        ("عبر Zoom 123 456 الساعة 10:00", "عبر Zoom 123 456 الساعة ١٠:٠٠"),
        ("(2021-2023)", "(٢٠٢١-٢٠٢٣)"),
        ("الرقم: MoPIC/5/2021/0001", None),
        ("Version 2 of the plan", None),
    ],
)
def test_digits_follow_the_text_they_stand_in(text: str, expected: str | None) -> None:
    assert arabic_indic_prose(text) == (expected if expected is not None else text)


def test_a_letter_in_arabic_indic_digits_keeps_codes_and_addresses(runner: CliRunner, workspace: Workspace) -> None:
    def ogp(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args))

    assert ogp("init", "--digits", "arabic-indic", "--plan", "الخطة الخامسة", "--period", "2021-2023").exit_code == 0
    assert ogp("proposal", "add", "--ref", "P-001", "--title", "بوابة P-001 وHX-12 على https://ogp.jo/p/12",
               "--org", "جهة 7", "--entity", "MODEE", "--submitted-on", "2021-06-20",
               "--problem", "راسلونا على info2@example.org").exit_code == 0  # fmt: skip
    cli_to_shortlisted(ogp, "P-001")
    assert ogp("advance", "P-001", "refer").exit_code == 0
    (letter,) = workspace.letters_dir.iterdir()
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(letter.read_bytes())).paragraphs)
    for kept in ("P-001", "HX-12", "https://ogp.jo/p/12", "info2@example.org"):
        assert kept in text
    assert "جهة ٧" in text and "(٢٠٢١-٢٠٢٣)" in text and text.startswith("الرقم:\tت ح/٥/")
    # Digits after Latin text stay Western: they belong to it (the bidirectional algorithm's rule W7).
    assert arabic_indic_prose("الخطة HX (2021-2023)") == "الخطة HX (2021-2023)"
