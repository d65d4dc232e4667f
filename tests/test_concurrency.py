"""Two coordinators at once: separate processes acting on the same workspace at the same moment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from states import Event, State
from tests.conftest import SessionFactory
from tests.helpers import bring_to, register, score_all
from workflow.db import Workspace
from workflow.models import AuditEntry, Letter
from workflow.plans import PlanSettings, configure_plan
from workflow.proposals import get_proposal

pytestmark = pytest.mark.slow

# Imports the CLI first, then waits for the shared start time, so the commands really overlap.
STARTER = (
    "import sys, time; import cli; start = float(sys.argv[1]); "
    "time.sleep(max(0.0, start - time.time())); sys.argv = ['ogp'] + sys.argv[2:]; cli.main()"
)


def run_together(workspace: Workspace, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "OGP_DB": workspace.url.render_as_string(hide_password=False), "OGP_ACTOR": "racer"}
    start = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(start), *command],
            env=env,
            cwd=workspace.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for process, command in zip(processes, commands, strict=True):
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


def test_two_processes_advancing_the_same_proposal_one_wins(
    workspace: Workspace, session_scope: SessionFactory
) -> None:
    with session_scope() as s:
        register(s, "P-1")
    with session_scope() as s:
        bring_to(s, "P-1", State.SHORTLISTED)
    results = run_together(workspace, [["advance", "P-1", "refer"], ["advance", "P-1", "refer"]])
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 1], [r.stderr for r in results]
    loser = next(r for r in results if r.returncode == 1)
    assert loser.stderr in {
        "Error: Cannot refer proposal P-1: it is 'referred'; refer is allowed from: shortlisted.\n",
        "Error: proposal P-1 was changed by someone else while this command ran; nothing was changed, try again.\n",
    }
    assert "Traceback" not in loser.stderr
    with session_scope() as s:
        refers = s.scalars(select(AuditEntry).where(AuditEntry.event == Event.REFER.value)).all()
        assert len(refers) == 1
        assert len(s.scalars(select(Letter)).all()) == 1
        assert get_proposal(s, "P-1").version == 4


def test_two_processes_racing_for_the_last_shortlist_place(workspace: Workspace, session_scope: SessionFactory) -> None:
    with session_scope() as s:
        configure_plan(s, PlanSettings(shortlist_size=1, commitment_target=1), actor="tester")
        register(s, "A")
        register(s, "B")
    with session_scope() as s:
        bring_to(s, "A", State.INTERVIEWED)
        bring_to(s, "B", State.INTERVIEWED)
        score_all(s, "A")
        score_all(s, "B")
    results = run_together(workspace, [["advance", "A", "shortlist"], ["advance", "B", "shortlist"]])
    assert sorted(r.returncode for r in results) == [0, 1]
    loser = next(r for r in results if r.returncode == 1)
    assert "the plan's shortlist size may not be exceeded (1 of 1 places are taken)" in loser.stderr
    with session_scope() as s:
        states = sorted(get_proposal(s, ref).state.value for ref in ("A", "B"))
        assert states == ["interviewed", "shortlisted"]


def test_concurrent_referrals_get_unique_gap_free_reference_numbers(
    workspace: Workspace, session_scope: SessionFactory
) -> None:
    refs = [f"R-{i}" for i in range(4)]
    with session_scope() as s:
        for ref in refs:
            register(s, ref, entities=("MODEE", "ROS"))
    with session_scope() as s:
        for ref in refs:
            bring_to(s, ref, State.SHORTLISTED)
    results = run_together(workspace, [["advance", ref, "refer"] for ref in refs])
    assert [r.returncode for r in results] == [0] * 4, [r.stderr for r in results]
    with session_scope() as s:
        numbers = sorted(letter.number for letter in s.scalars(select(Letter)))
        assert numbers == list(range(1, 9))
        seqs = [entry.seq for entry in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert seqs == list(range(1, len(seqs) + 1))
    files = sorted(p.name for p in (Path(workspace.folder) / "letters").iterdir())
    assert len(files) == 8
