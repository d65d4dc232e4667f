"""The README's walkthrough is a script that runs: every `sh` block of "A session at the terminal",
top to bottom, in a fresh folder holding the sample files it uses, with the installed `ogp`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
pytestmark = pytest.mark.slow


def walkthrough() -> list[str]:
    section = README.split("## A session at the terminal", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_the_walkthrough_runs_from_start_to_a_commitment(tmp_path: Path) -> None:
    blocks = walkthrough()
    assert len(blocks) >= 4
    shutil.copytree(ROOT / "tests" / "data", tmp_path / "tests" / "data")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("OGP_DB", "OGP_TEMPLATES"):
        env.pop(name, None)
    script = "set -euo pipefail\n" + "\n".join(blocks)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "Audit chain verified" in done.stdout
    shown = subprocess.run(
        ["ogp", "proposal", "list", "--all", "--json"], cwd=tmp_path / "walkthrough", env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    states = {p["ref"]: p["state"] for p in json.loads(shown.stdout)}
    assert states == {"P-001": "committed", "P-002": "rejected", "P-003": "withdrawn"}


def test_the_sample_files_are_shown_as_they_are() -> None:
    shown = README.split("`proposals.csv`, as Excel saves it", 1)[1].split("```csv\n", 1)[1].split("```", 1)[0]
    on_disk = (ROOT / "tests" / "data" / "proposals.csv").read_text(encoding="utf-8").replace("\r\n", "\n")
    assert shown == on_disk


def test_ogp_help_starts_where_the_walkthrough_does() -> None:
    import click
    from click.testing import CliRunner

    from cli import cli

    help_text = CliRunner().invoke(cli, ["--help"]).stdout
    start = help_text.split("Start here", 1)[1].split("\n\n", 1)[0]
    commands = []
    for line in start.splitlines()[1:]:
        words = line.split()
        if not words or words[0] != "ogp":
            continue
        group = cli.commands.get(words[1])
        commands.append(" ".join(words[1:3]) if isinstance(group, click.Group) else words[1])
    script = "\n".join(walkthrough())
    position, found = 0, 0
    for command in commands:  # each in the walkthrough, after the one before it
        at = script.find(f"ogp {command} ", position)
        if at >= 0:
            position, found = at + 1, found + 1
    assert found >= 10, commands
