"""Exports (CSV, .xlsx, JSON with stable columns, formulas never run) and letters as PDF."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from cli import cli
from workflow.exports import KINDS

CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")
COLUMNS = {
    "proposals": ["ref", "title", "organization", "email", "problem", "solution", "values", "entities",
                  "submitted_on", "language", "state", "lead"],
    "scores": ["ref", "member", "criterion", "value", "note", "updated_at", "updated_by"],
    "ranking": ["rank", "ref", "title", "state", "total", *CRITERIA, "scorers", "eligible", "quorum", "complete",
                "decided"],
    "responses": ["ref", "entity", "agreed", "on", "note", "recorded_by", "recorded_at"],
    "register": ["reference", "issued_on", "kind", "ref", "entity", "addressee", "language", "subject", "file_name",
                 "sha256", "audit_seq", "void_reason", "replaces"],
    "history": ["seq", "at", "actor", "db_role", "ref", "event", "from_state", "to_state", "reason", "letters",
                "hash"],
}  # fmt: skip


def ok(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.fixture
def record(runner: CliRunner) -> CliRunner:
    """One proposal, with a formula-looking title, referred with an answer; the others registered."""
    ok(runner, "member", "add", "أ", "--org", "جهة")
    ok(runner, "proposal", "add", "--ref", "P-1", "--title", "=HYPERLINK(\"http://x\")", "--org", "جمعية",
       "--entity", "MODEE", "--submitted-on", "2021-06-20")  # fmt: skip
    ok(runner, "proposal", "add", "--ref", "P-2", "--title", "موازنات تشاركية", "--org", "جمعية", "--submitted-on",
       "2021-06-21")  # fmt: skip
    ok(runner, "interview", "record", "P-1", "--on", "2021-07-28")
    ok(runner, "advance", "P-1", "interview")
    for code in CRITERIA:
        ok(runner, "score", "P-1", "--member", "أ", "--criterion", code, "--value", "4")
    ok(runner, "advance", "P-1", "shortlist")
    ok(runner, "advance", "P-1", "refer", "--dated", "2021-08-01")
    ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--on", "2021-08-10")
    return runner


def test_every_kind_exports_its_documented_columns_in_every_format(record: CliRunner, tmp_path: Path) -> None:
    assert set(KINDS) == set(COLUMNS)
    for kind, columns in COLUMNS.items():
        ok(record, "export", kind, "--format", "json", "--out", f"{kind}.json")
        rows = json.loads((tmp_path / f"{kind}.json").read_text(encoding="utf-8"))
        assert rows and all(list(row) == columns for row in rows), kind

        ok(record, "export", kind, "--out", f"{kind}.csv")  # CSV is the default
        raw = (tmp_path / f"{kind}.csv").read_bytes()
        assert raw.startswith("\ufeff".encode())
        table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert table[0] == columns and len(table) == len(rows) + 1, kind

        ok(record, "export", kind, "--format", "xlsx", "--out", f"{kind}.xlsx")
        sheet = openpyxl.load_workbook(tmp_path / f"{kind}.xlsx").active
        assert sheet is not None
        assert [c.value for c in sheet[1]] == columns
        assert sheet.sheet_view.rightToLeft is True and sheet.freeze_panes == "A2"
        assert sheet.max_row == len(rows) + 1

    proposals = json.loads((tmp_path / "proposals.json").read_text(encoding="utf-8"))
    assert (proposals[0]["state"], proposals[0]["entities"]) == ("referred", ["MODEE"])
    ranking = json.loads((tmp_path / "ranking.json").read_text(encoding="utf-8"))
    assert [(r["ref"], r["decided"], r["total"]) for r in ranking] == [("P-1", "shortlist", 4.0)]


def test_a_formula_looking_cell_is_written_as_text(record: CliRunner, tmp_path: Path) -> None:
    ok(record, "export", "proposals", "--out", "p.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    ok(record, "export", "proposals", "--format", "xlsx", "--out", "p.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "p.xlsx").active["B2"]  # type: ignore[index]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")', "s")


def test_an_exported_proposals_file_reads_back_where_it_says_what_an_import_registers(
    record: CliRunner, tmp_path: Path
) -> None:
    ok(record, "export", "proposals", "--out", "all.csv")
    text = (tmp_path / "all.csv").read_text(encoding="utf-8-sig").replace("P-", "Q-")
    (tmp_path / "again.csv").write_text(text, encoding="utf-8")
    refused = record.invoke(cli, ["proposal", "import", "again.csv"])
    assert refused.exit_code == 1
    assert "line 2, column 'state': 'referred': an import registers proposals as submitted" in refused.stderr
    assert "nothing was imported" in refused.stderr and "line 3" not in refused.stderr  # Q-2 is submitted
    lines = text.splitlines()
    (tmp_path / "submitted.csv").write_text("\n".join([lines[0], lines[2]]) + "\n", encoding="utf-8")
    ok(record, "proposal", "import", "submitted.csv")
    shown = json.loads(ok(record, "proposal", "show", "Q-2", "--json").stdout)
    assert (shown["title"], shown["state"]) == ("موازنات تشاركية", "submitted")
    (tmp_path / "led.csv").write_text(lines[0] + "\n" + lines[2].replace("Q-2", "Q-3") + "MODEE\n", encoding="utf-8")
    refused = record.invoke(cli, ["proposal", "import", "led.csv"])
    assert "column 'lead': a lead body is named when a proposal is committed, not at registration" in refused.stderr


def test_bad_export_requests_are_refused(record: CliRunner, tmp_path: Path) -> None:
    assert record.invoke(cli, ["export", "members", "--out", "x.csv"]).exit_code == 2
    assert record.invoke(cli, ["export", "proposals", "--format", "ods", "--out", "x.ods"]).exit_code == 2
    assert record.invoke(cli, ["export", "proposals"]).exit_code == 2  # --out is required
    climbing = record.invoke(cli, ["export", "proposals", "--out", "../x.csv"])
    assert climbing.exit_code == 2 and "climbs out of the current folder" in climbing.stderr
    missing = record.invoke(cli, ["export", "proposals", "--out", "nowhere/x.csv"])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    # The format follows the file's extension; one that contradicts it is refused, nothing written.
    mismatch = record.invoke(cli, ["export", "proposals", "--format", "xlsx", "--out", "x.csv"])
    assert (mismatch.exit_code, mismatch.stderr.splitlines()[-1]) == (
        2, "Error: Invalid value for '--format': xlsx does not go in a file named 'x.csv' "
        "(name it x.xlsx, or leave --format out)",
    )  # fmt: skip
    assert not (tmp_path / "x.csv").exists()
    unknown = record.invoke(cli, ["export", "ranking", "--out", "ranking.ods"])
    assert (unknown.exit_code, unknown.stderr.splitlines()[-1]) == (
        2, "Error: Invalid value for '--out': cannot tell the format from 'ranking.ods': "
        "name it .csv, .xlsx or .json, or give --format",
    )  # fmt: skip
    assert ok(record, "export", "proposals", "--out", "p.xlsx").exit_code == 0
    assert (tmp_path / "p.xlsx").read_bytes()[:2] == b"PK"  # an .xlsx, not CSV under that name
    usage = record.invoke(cli, ["export", "bogus", "--out", "x.csv"])
    assert usage.exit_code == 2 and " export [OPTIONS] KIND\n" in usage.stderr


def test_an_export_to_standard_output(record: CliRunner, tmp_path: Path) -> None:
    piped = ok(record, "export", "proposals", "--format", "json", "--out", "-")
    refs = [row["ref"] for row in json.loads(piped.stdout)]
    assert refs[0] == "P-1" and piped.stderr == f"Wrote {len(refs)} rows of proposals to standard output\n"
    assert not (tmp_path / "-").exists()


@pytest.mark.slow
def test_letters_become_pdfs_whose_text_reads_back(record: CliRunner, tmp_path: Path) -> None:
    if not (shutil.which("soffice") and shutil.which("pdftotext")):
        reason = "LibreOffice (libreoffice-writer-nogui) and pdftotext (poppler-utils) are needed"
        if os.environ.get("OGP_REQUIRE_LIBREOFFICE"):
            pytest.fail(f"OGP_REQUIRE_LIBREOFFICE is set, but {reason}")
        pytest.skip(reason)
    done = ok(record, "letters", "pdf", "--proposal", "P-1", "pdf")
    assert done.stdout == "Wrote 1 letter as PDF to pdf\n"
    (pdf,) = (tmp_path / "pdf").iterdir()
    assert pdf.name.startswith("P-1_referral_MODEE_") and pdf.suffix == ".pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "HYPERLINK" in text  # the proposal's title, quoted in the letter
    assert "5/" in text  # the reference number


def test_letters_as_pdf_without_libreoffice_name_the_package(
    record: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    refused = record.invoke(cli, ["letters", "pdf", "out"])
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: LibreOffice is not installed, and it writes the PDFs: install it "
        "(e.g. 'apt-get install libreoffice-writer-nogui'); nothing was written.\n"
    )


def test_the_kinds_the_command_line_offers_are_the_kinds_exports_builds() -> None:
    from workflow.exports import KINDS
    from workflow.vocabulary import EXPORT_KINDS

    assert tuple(KINDS) == EXPORT_KINDS
