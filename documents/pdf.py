"""Letters as PDF, for e-mail and Jordan's e-correspondence system: each .docx rendered by
LibreOffice, headless, in a profile of its own (so a LibreOffice the user has open cannot interfere)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from documents.files import write_atomic

PACKAGE = "libreoffice-writer-nogui"
TIMEOUT_SECONDS = 300


class PdfError(Exception):
    """LibreOffice is missing, failed, or did not write a PDF; says which letter and what to do."""


def soffice() -> str:
    """LibreOffice's command; `PdfError` naming the package to install when there is none."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise PdfError(
            f"LibreOffice is not installed, and it writes the PDFs: install it (e.g. 'apt-get install {PACKAGE}'); "
            "nothing was written."
        )
    return found


def letters_to_pdf(letters: Sequence[tuple[str, bytes]], target: Path) -> list[Path]:
    """Render each (file name, .docx bytes) to `target/<name>.pdf`; return the PDFs' paths.

    Raises `PdfError` (LibreOffice missing, failing or too slow) and OSError (the folder).
    """
    if not letters:
        return []
    command = soffice()
    with tempfile.TemporaryDirectory(prefix="ogp-pdf-") as folder:
        work = Path(folder)
        sources = work / "letters"
        sources.mkdir()
        for name, content in letters:
            (sources / name).write_bytes(content)
        out = work / "pdf"
        arguments = [
            command, f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--norestore",
            "--convert-to", "pdf", "--outdir", str(out), *(str(sources / name) for name, _ in letters),
        ]  # fmt: skip
        try:
            done = subprocess.run(arguments, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"LibreOffice took more than {TIMEOUT_SECONDS} s; nothing was written.") from exc
        written = []
        for name, _ in letters:
            pdf = out / (Path(name).stem + ".pdf")
            if not pdf.is_file():
                said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
                raise PdfError(f"LibreOffice wrote no PDF for {name} ({said[0]}); nothing more was written.")
            written.append(write_atomic(target, pdf.name, pdf.read_bytes()))
        return written
