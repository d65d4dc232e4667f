"""What a new coordinator's first day found (a trial of the README on a fresh clone), each kept as a
test of the right behaviour: contradictory flags, dates that only letters carry, listings' layout,
letters dated before what they report, files that are not what their names say."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner, Result

from cli import cli
from tests.helpers import cli_to_shortlisted, dump_tables
from workflow.db import Workspace


def ogp(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli, list(args))


def ok(runner: CliRunner, *args: str) -> Result:
    result = ogp(runner, *args)
    assert result.exit_code == 0, (args, result.output)
    return result


def url_of(workspace: Workspace) -> str:
    return workspace.url.render_as_string(hide_password=False)


def add(runner: CliRunner, ref: str, *extra: str) -> None:
    ok(runner, "proposal", "add", "--ref", ref, "--title", f"منصة {ref}", "--org", "مركز الشفافية الأردني",
       "--entity", "MODEE", "--submitted-on", "2021-06-20", *extra)  # fmt: skip


def referred(runner: CliRunner, ref: str) -> None:
    """`ref` interviewed on 2021-07-28, scored, shortlisted and referred with letters dated 2021-08-01."""
    add(runner, ref)
    cli_to_shortlisted(lambda *args: ogp(runner, *args), ref)
    ok(runner, "advance", ref, "refer", "--dated", "2021-08-01")


def test_a_body_agreed_or_declined_never_both(runner: CliRunner, workspace: Workspace) -> None:
    referred(runner, "P-1")
    before = dump_tables(url_of(workspace))
    both = ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--agreed", "--declined", "--on", "2021-08-10")
    assert both.exit_code == 2 and "give --agreed or --declined, not both" in both.stderr
    neither = ogp(runner, "response", "record", "P-1", "--entity", "MODEE", "--on", "2021-08-10")
    assert neither.exit_code == 2 and "Missing option '--agreed' or '--declined'" in neither.stderr
    assert dump_tables(url_of(workspace)) == before
    done = ok(runner, "response", "record", "P-1", "--entity", "MODEE", "--declined", "--on", "2021-08-10")
    assert "declined" in done.stdout


def test_every_listing_prints_one_object_per_line(runner: CliRunner, workspace: Workspace) -> None:
    add(runner, "P-1")
    add(runner, "P-2")
    ok(runner, "interview", "record", "P-2", "--on", "2021-07-28", "--platform", "Zoom")
    ok(runner, "advance", "P-2", "interview")
    cli_to_shortlisted(lambda *args: ogp(runner, *args), "P-1")  # P-1 scored and shortlisted
    ok(runner, "advance", "P-1", "refer", "--dated", "2021-08-01")
    listings = [
        ("proposal", "list"), ("score", "list", "P-1"), ("ranking", "--all"), ("due", "--as-of", "2021-09-30"),
        ("compliance", "--as-of", "2021-09-30"), ("letters", "list"), ("member", "list"), ("entity", "list"),
    ]  # fmt: skip
    shown = 0
    for args in listings:
        out = ok(runner, *args, "--json").stdout
        records = json.loads(out)
        assert isinstance(records, list), args
        lines = out.splitlines()
        if not records:
            assert lines == ["[]"], args
            continue
        shown += 1
        assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(records) + 2, (args, out[:300])
        assert [json.loads(line.strip().rstrip(",")) for line in lines[1:-1]] == records, args
    assert shown >= 6  # the layout was seen, not only empty listings
