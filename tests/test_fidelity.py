"""Letters as a person sees them: rendered by LibreOffice to PDF, and the PDF's text read back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from documents import LetterRenderer
from tests.test_documents import REQUEST

pytestmark = pytest.mark.slow

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(docx_bytes: bytes, folder: Path) -> str:
    if not (SOFFICE and PDFTOTEXT):
        reason = "LibreOffice (libreoffice-writer-nogui) and pdftotext (poppler-utils) are needed"
        if os.environ.get("OGP_REQUIRE_LIBREOFFICE"):
            pytest.fail(f"OGP_REQUIRE_LIBREOFFICE is set, but {reason}")
        pytest.skip(reason)
    source = folder / "letter.docx"
    source.write_bytes(docx_bytes)
    profile = folder / "profile"  # a profile of its own, so a running LibreOffice cannot interfere
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(folder), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    text = subprocess.run(
        [PDFTOTEXT, str(folder / "letter.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text


def readable(text: str) -> str:
    """Text as pdftotext gives it back: no bidi controls, folded spaces, lam-alef as a ligature."""
    text = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    return " ".join(text.split())


def as_extracted(text: str) -> str:
    # pdftotext writes the lam-alef ligature back as alef then lam («الاقتصاد» → «االقتصاد»).
    for alef in "اأإآ":
        text = text.replace("ل" + alef, alef + "ل")
    return readable(text)


def test_libreoffice_shows_the_subject_addressee_and_reference(tmp_path: Path) -> None:
    letter = LetterRenderer().render(REQUEST)
    text = readable(pdf_text(letter.content, tmp_path))
    assert as_extracted("«بوابة إلكترونية لطلبات الحصول على المعلومات»") in text
    assert as_extracted(REQUEST.addressee) in text
    assert "5/2021/0007" in text  # the reference number's digits, in their order
    assert as_extracted("وزارة التخطيط والتعاون الدولي") in text  # the letterhead, from the header
    assert as_extracted("وتفضلوا بقبول فائق الاحترام") in text
