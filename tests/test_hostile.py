"""Hostile input, generated: the importers and the command line get random and adversarial data
(invalid UTF-8, NUL and control characters, formula-looking cells, enormous fields, mixed-direction
text, duplicate keys, paths with '..'). Whatever comes in: no traceback, a clear error or a clean
result, and nothing changed when refused."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cli import cli
from documents import one_line
from workflow.fields import REASON

pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
NASTY = st.sampled_from(
    [
        "=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@HYPERLINK(\"x\")", "\x00", "\x07\x1b[31m", "\ud800",
        "\u202eالعنوان\u202c", "\u200fRTL\u200e", "مرحبا abc 123 שלום", "\ufeffBOM", "a\r\nb", "\"quoted, comma\"",
        "x" * 30_000, "", "   ", "../../etc/passwd", "ﷺ", "\U0001f600",
    ]
)  # fmt: skip
TEXT = st.one_of(NASTY, st.text(max_size=200))


def ogp(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code:
        assert result.stderr.startswith(("Error:", "Usage:")), result.stderr
    return result


def snapshot(runner: CliRunner) -> tuple[str, str]:
    return ogp(runner, "proposal", "list", "--json").stdout, ogp(runner, "audit", "head").stdout


@SETTINGS
@given(content=st.binary(max_size=2_000))
def test_random_bytes_never_crash_the_proposal_import(runner: CliRunner, tmp_path: Path, content: bytes) -> None:
    before = snapshot(runner)
    for suffix in (".csv", ".json"):
        path = tmp_path / f"random{suffix}"
        path.write_bytes(content)
        result = ogp(runner, "proposal", "import", str(path))
        if result.exit_code:
            assert snapshot(runner) == before


@SETTINGS
@given(rows=st.lists(st.lists(TEXT, min_size=9, max_size=10), min_size=1, max_size=4))
def test_adversarial_csv_rows_import_whole_or_not_at_all(
    runner: CliRunner, tmp_path: Path, rows: list[list[str]]
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(
        ["ref", "title", "organization", "email", "problem", "solution", "values", "entities", "submitted_on"]
    )
    for row in rows:
        writer.writerow(row)
    path = tmp_path / "adversarial.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    before = json.loads(ogp(runner, "proposal", "list", "--json").stdout)
    result = ogp(runner, "proposal", "import", str(path))
    after = json.loads(ogp(runner, "proposal", "list", "--json").stdout)
    if result.exit_code:
        assert after == before
        assert "nothing was imported" in result.stderr
    else:
        assert len(after) == len(before) + len(rows)
        for proposal in after[len(before) :]:
            assert "\x00" not in proposal["title"] and proposal["title"] == proposal["title"].strip()


@SETTINGS
@given(
    document=st.recursive(
        st.none() | st.booleans() | st.integers() | TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=12,
    )
)
def test_arbitrary_json_never_crashes_the_importers(runner: CliRunner, tmp_path: Path, document: object) -> None:
    path = tmp_path / "any.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = snapshot(runner)
    for command in ("proposal", "score"):
        if ogp(runner, command, "import", str(path)).exit_code:
            assert snapshot(runner) == before


@SETTINGS
@given(title=TEXT, org=TEXT, reason=TEXT)
def test_arguments_are_cleaned_or_refused(runner: CliRunner, title: str, org: str, reason: str) -> None:
    before = snapshot(runner)
    added = ogp(runner, "proposal", "add", "--title", title, "--org", org)
    if added.exit_code:
        assert snapshot(runner) == before
        assert added.stderr.startswith("Error: proposal ")
        return
    ref = added.stdout.split()[1]
    shown = json.loads(ogp(runner, "proposal", "show", ref, "--json").stdout)
    assert shown["title"] and "\x00" not in shown["title"]
    withdrawn = ogp(runner, "advance", ref, "withdraw", "--reason", reason)
    if len(one_line(reason)) > REASON:
        assert (withdrawn.exit_code, withdrawn.stderr) == (
            1,
            f"Error: proposal {ref}: --reason: is {len(one_line(reason))} characters long; "
            f"at most {REASON} are allowed\n",
        )
    elif one_line(reason):
        assert withdrawn.exit_code == 0
        assert json.loads(ogp(runner, "history", ref, "--json").stdout)[-1]["reason"] == one_line(reason)
    else:
        assert (withdrawn.exit_code, withdrawn.stderr) == (
            1,
            f"Error: Cannot withdraw proposal {ref}: a reason is required (--reason).\n",
        )
    assert ogp(runner, "audit", "verify").exit_code == 0


@SETTINGS
@given(rows=st.lists(st.tuples(TEXT, TEXT, TEXT, TEXT | st.integers(), TEXT), min_size=1, max_size=4))
@example(rows=[("\x00", "x", "y", 1, "z")])  # found on PostgreSQL: a NUL in a lookup reached the server
def test_adversarial_score_files_change_nothing_when_refused(
    runner: CliRunner, tmp_path: Path, rows: list[tuple]
) -> None:  # type: ignore[type-arg]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["proposal", "member", "criterion", "value", "note"])
    writer.writerows(rows)
    path = tmp_path / "scores.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    before = snapshot(runner)
    result = ogp(runner, "score", "import", str(path))
    assert result.exit_code == 1  # there is no member and no proposal: every row is refused
    assert result.stderr.startswith(f"Error: {path}: ") and "nothing was imported:" in result.stderr
    assert snapshot(runner) == before


def test_output_paths_may_not_climb_out_with_dot_dot(runner: CliRunner, tmp_path: Path) -> None:
    assert ogp(runner, "member", "add", "أ", "--org", "ج").exit_code == 0
    assert ogp(runner, "meeting", "add", "--on", "2021-07-28", "--attendee", "أ").exit_code == 0
    for out in ("../x.docx", "a/../../x.docx"):
        refused = ogp(runner, "meeting", "minutes", "1", "--out", out)
        assert refused.exit_code == 2
        assert "climbs out of the current folder with '..'" in refused.stderr
        refused = ogp(runner, "report", "plan", "--out", out)
        assert refused.exit_code == 2 and "climbs out of the current folder with '..'" in refused.stderr
    missing = ogp(runner, "meeting", "minutes", "1", "--out", "no/such/folder/x.docx")
    assert missing.exit_code == 2 and "the folder no/such/folder does not exist" in missing.stderr
    assert ogp(runner, "meeting", "minutes", "1", "--out", str(tmp_path / "ok.docx")).exit_code == 0
    assert not (tmp_path.parent / "x.docx").exists()


def test_exported_csv_neutralises_formulas_and_imports_back(runner: CliRunner, tmp_path: Path) -> None:
    formulas = ["=cmd|' /C calc'!A0", "+1+1", "-1", "@SUM(A1)"]
    for index, title in enumerate(formulas, start=1):
        assert (
            ogp(
                runner, "proposal", "add", "--ref", f"F-{index}", "--title", title, "--org", '=HYPERLINK("x")'
            ).exit_code
            == 0
        )
    assert ogp(runner, "proposal", "export", "out.csv").stdout == "Wrote 4 proposals to out.csv\n"
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [f"'{title}" for title in formulas]
    assert {row[2] for row in rows[1:]} == {'\'=HYPERLINK("x")'}
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    # The same file, as it is but for new refs (its state column too), imports back to the original text.
    (tmp_path / "back.csv").write_bytes(raw.replace(b"F-", b"G-"))
    imported = ogp(runner, "proposal", "import", "back.csv")
    assert imported.exit_code == 0, imported.output
    assert json.loads(ogp(runner, "proposal", "show", "G-1", "--json").stdout)["title"] == formulas[0]
    assert ogp(runner, "proposal", "export", "../escape.csv").exit_code == 2


@SETTINGS
@given(text=TEXT, evidence=TEXT)
def test_the_commitment_s_text_milestones_progress_and_evidence_are_cleaned_or_refused(
    runner: CliRunner, text: str, evidence: str
) -> None:
    from tests.test_cli import to_shortlisted

    if not json.loads(ogp(runner, "commitment", "list", "--json").stdout):  # once per workspace
        assert ogp(runner, "proposal", "add", "--ref", "P-1", "--title", "فكرة", "--org", "جهة", "--entity", "MODEE",
                   "--submitted-on", "2021-06-20").exit_code == 0  # fmt: skip
        to_shortlisted(runner, "P-1")
        assert ogp(runner, "advance", "P-1", "refer").exit_code == 0
        assert ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed").exit_code == 0
        assert ogp(runner, "advance", "P-1", "commit").exit_code == 0
    steps = [
        ("commitment", "edit", "P-1", "--status-quo", text, "--relevance", f"accountability={text}",
         "--supporting-org", text),
        ("milestone", "add", "P-1", "--title", text, "--output", text, "--start", "2021-11", "--end", "2022-01",
         "--responsible", "MODEE"),
    ]  # fmt: skip
    for args in steps:
        before = snapshot(runner)
        result = ogp(runner, *args)
        if result.exit_code:
            assert snapshot(runner) == before and result.stderr.startswith("Error: ")
    milestones = json.loads(ogp(runner, "milestone", "list", "--json").stdout)
    if milestones:
        label = milestones[-1]["label"]
        for args in (
            ("progress", "record", label, "--percent", "5", "--note", text, "--by", "government", "--evidence", evidence),
            ("milestone", "advance", label, "delay", "--reason", text, "--new-end", "2022-03"),
        ):
            before = snapshot(runner)
            result = ogp(runner, *args)
            if result.exit_code:
                assert snapshot(runner) == before and result.stderr.startswith(("Error: ", "Usage: "))
    verified = ogp(runner, "audit", "verify")
    assert verified.exit_code == 0, verified.stderr
    assert ogp(runner, "report", "progress", "--period", "H1-2022", "--out", "r.docx").exit_code == 0
    assert ogp(runner, "report", "plan", "--out", "p.docx").exit_code == 0
