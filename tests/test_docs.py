"""Every command has help with an example, and the README documents it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from cli import cli

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group = cli, prefix: str = "ogp") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if command.hidden:  # `ogp score give` is reached as `ogp score ID`, checked below
            continue
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield path, command


ALL = list(commands())


def example(path: str) -> str:
    """A line that runs the command, perhaps after global options (`ogp --db X db copy …`)."""
    words = path.split(" ", 1)[1]
    return rf"^\s*ogp(?: --[\w-]+ \S+)* {re.escape(words)}\b"


def test_the_expected_commands_exist() -> None:
    assert [path for path, _ in ALL] == [
        "ogp advance", "ogp audit head", "ogp audit verify", "ogp commitment edit", "ogp commitment list",
        "ogp commitment show", "ogp compliance", "ogp conflict declare", "ogp conflict list", "ogp criterion list",
        "ogp criterion set-weight", "ogp db copy", "ogp db roles", "ogp demo", "ogp due", "ogp entity add",
        "ogp entity edit", "ogp entity list", "ogp export", "ogp followup", "ogp history", "ogp init",
        "ogp interview cancel", "ogp interview import", "ogp interview list", "ogp interview record",
        "ogp interview schedule",
        "ogp letters export", "ogp letters list", "ogp letters pdf", "ogp letters register", "ogp letters verify",
        "ogp letters void", "ogp meeting add", "ogp meeting list", "ogp meeting minutes", "ogp member add",
        "ogp member deactivate", "ogp member edit", "ogp member list", "ogp member reactivate", "ogp milestone add",
        "ogp milestone advance", "ogp milestone list", "ogp plan show", "ogp plan timeline", "ogp progress record",
        "ogp proposal add", "ogp proposal discard", "ogp proposal edit", "ogp proposal export", "ogp proposal import",
        "ogp proposal link", "ogp proposal list", "ogp proposal show", "ogp publish", "ogp ranking",
        "ogp report plan", "ogp report progress", "ogp response import", "ogp response list", "ogp response record",
        "ogp score give", "ogp score import",
        "ogp score list", "ogp score withdraw", "ogp shortlist", "ogp status", "ogp templates check",
        "ogp templates export",
    ]  # fmt: skip


def test_scoring_is_documented_as_ogp_score_id() -> None:
    assert re.search(r"^### `ogp score ID", README, re.M)
    assert re.search(r"^ogp score P-\d+ --member", README, re.M)


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_every_command_has_help_with_an_example(path: str, command: click.Command) -> None:
    assert command.help and len(command.help.split()) > 5
    assert "Example" in command.help
    assert re.search(example(path), command.help, re.M), f"{path}'s example does not show the command"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{path} {param.opts[0]} has no help"


@pytest.mark.parametrize(("path", "command"), ALL, ids=[p for p, _ in ALL])
def test_every_command_is_in_the_readme(path: str, command: click.Command) -> None:
    assert re.search(rf"^### .*`{re.escape(path)}", README, re.M), f"no README section for {path}"
    assert re.search(example(path), README, re.M), f"no README example for {path}"


def test_the_quick_start_is_exactly_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make demo", "make test"]
