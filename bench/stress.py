"""Proof under load and faults, on SQLite and on PostgreSQL, with the figures printed.

Load: W worker processes each run N commands (moves, scores, responses, referrals with letters)
against the same plan at once, as coordinators at their terminals would. Then: every success is
in the database (zero lost writes), no proposal took the same event twice (zero double
transitions), no reference number was given twice, the audit chain verifies, and every refusal
was an `Error: …` with exit code 1, never a traceback.

Crashes: a batch (referring many proposals one command at a time, or `ogp shortlist --top N` in
one transaction) is killed with SIGKILL at K random moments. After each kill: every proposal's
state equals its last audit entry's, every stored letter matches the sha256 in its entry, the
chain verifies, no letter file stands in letters/ under its final name with other bytes; then
the batch runs again and finishes without duplicates.

    python bench/stress.py                      # both backends, 8 x 200 actions, 50 kills
    python bench/stress.py --backend sqlite --workers 4 --actions 50 --kills 10
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cli import cli
from states import (
    Event,
    State,
)
from tests.pgcluster import PostgresCluster
from workflow import db, replay
from workflow.evaluation import ScoreInput, list_criteria, record_score
from workflow.interviews import record_interview
from workflow.letters import verify as verify_letters
from workflow.members import add_member
from workflow.models import AuditEntry, Letter, Response, ScoreChange
from workflow.moves import advance
from workflow.plans import PlanSettings, add_entity, configure_plan
from workflow.proposals import ProposalInput, add_proposal, list_proposals

MEMBERS = ("عضو أ", "عضو ب", "عضو ج")
CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")
TRANSITIONS = {"interview", "shortlist", "refer", "commit", "reject", "withdraw"}


def workspace(url: str, folder: Path, proposals: int, *, shortlist_size: int, target: int) -> db.Workspace:
    """A plan with two bodies, three members and `proposals` interviewed proposals."""
    where = db.resolve(url, cwd=folder)
    engine = db.make_engine(where)
    db.upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as s, s.begin():
        configure_plan(s, PlanSettings(shortlist_size=shortlist_size, commitment_target=target), actor="tester")
        add_entity(
            s,
            "وزارة الاقتصاد الرقمي والريادة",
            "MODEE",
            rank="minister",
            title="وزير الاقتصاد الرقمي والريادة",
            actor="tester",
        )
        add_entity(s, "سجل الجمعيات", "ROS", rank="director", title="أمين سجل الجمعيات", actor="tester")
        for name in MEMBERS:
            add_member(s, name, f"جهة {name}", "government", actor="tester")
        for n in range(1, proposals + 1):
            raw = ProposalInput(
                f"مقترح رقم {n}",
                "مركز الشفافية الأردني",
                f"S-{n:03d}",
                entities=("MODEE", "ROS"),
                submitted_on="2021-06-01",
            )
            add_proposal(s, raw, actor="setup", now=now)
            record_interview(s, f"S-{n:03d}", dt.date(2021, 7, 28), actor="setup", now=now)
            advance(s, f"S-{n:03d}", Event.INTERVIEW, actor="setup", now=now, workspace_folder=folder)
    engine.dispose()
    return where


def score_everything(where: db.Workspace, refs: list[str]) -> None:
    engine = db.make_engine(where)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as s, s.begin():
        codes = [c.code for c in list_criteria(s)]
        for ref in refs:
            for member in MEMBERS:
                for code in codes:
                    record_score(s, ScoreInput(ref, member, code, 4), actor="setup", now=now)
    engine.dispose()


# --- load --------------------------------------------------------------------------------------


def worker(args: tuple[str, str, int, int, int, float]) -> list[tuple[list[str], int, str]]:
    url, folder, seed, actions, proposals, start = args
    os.chdir(folder)
    os.environ["OGP_DB"] = url
    os.environ["OGP_ACTOR"] = f"worker-{seed}"
    rng = random.Random(seed)
    runner = CliRunner()
    time.sleep(max(0.0, start - time.time()))
    results = []
    for _ in range(actions):
        ref = f"S-{rng.randint(1, proposals):03d}"
        roll = rng.random()
        if roll < 0.35:
            command = [
                "score",
                ref,
                "--member",
                rng.choice(MEMBERS),
                "--criterion",
                rng.choice(CRITERIA),
                "--value",
                str(rng.randint(1, 5)),
            ]
        elif roll < 0.5:
            command = ["advance", ref, "shortlist"]
        elif roll < 0.7:
            command = ["advance", ref, "refer"]
        elif roll < 0.8:
            command = ["response", "record", ref, "--entity", rng.choice(("MODEE", "ROS")), "--agreed"]
        elif roll < 0.98:
            command = ["advance", ref, "commit"]
        else:
            command = ["advance", ref, "reject", "--reason", f"رفض تجريبي {seed}"]
        result = runner.invoke(cli, command)
        results.append((command, result.exit_code, result.output))
    return results


def load(url: str, folder: Path, workers: int, actions: int) -> dict[str, object]:
    proposals = 80
    where = workspace(url, folder, proposals, shortlist_size=60, target=30)
    score_everything(where, [f"S-{n:03d}" for n in range(1, proposals + 1, 2)])  # half have their quorum
    start = time.time() + 3
    began = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        batches = pool.map(worker, [(url, str(folder), seed, actions, proposals, start) for seed in range(workers)])
    seconds = time.perf_counter() - began - max(0.0, start - time.time())
    results = [r for batch in batches for r in batch]
    # A score given again with the value it has writes nothing ("… is already 4"): not a write to find.
    ok = collections.Counter(
        cmd[0] if cmd[0] != "advance" else cmd[2]
        for cmd, code, output in results
        if code == 0 and not (cmd[0] == "score" and " is already " in output)
    )
    unchanged = sum(1 for cmd, code, output in results if code == 0 and cmd[0] == "score" and " is already " in output)
    refused = collections.Counter()
    bad = []
    for cmd, code, output in results:
        if code == 0:
            continue
        first = output.strip().splitlines()[-1] if output.strip() else ""
        if code != 1 or "Traceback" in output or not first.startswith("Error: "):
            bad.append((cmd, code, output[-300:]))
        else:
            refused[re.sub(r"S-\d{3}", "S-…", first)[7:90]] += 1

    engine = db.make_engine(where)
    with Session(engine) as s:
        entries = s.scalars(select(AuditEntry)).all()
        moves = collections.Counter(e.event for e in entries if e.event in TRANSITIONS and e.actor.startswith("worker"))
        per_proposal = collections.Counter((e.proposal_id, e.event) for e in entries if e.event in TRANSITIONS)
        doubles = sum(1 for n in per_proposal.values() if n > 1)
        score_rows = s.scalar(select(func.count(ScoreChange.id)).where(ScoreChange.actor.like("worker%"))) or 0
        responses = s.scalar(select(func.count(Response.id))) or 0
        references = s.execute(select(Letter.year, Letter.number)).all()
        chain = replay.verify(s)
    engine.dispose()
    lost = (
        sum(abs(ok[e] - moves[e]) for e in TRANSITIONS)
        + abs(ok["score"] - score_rows)
        + abs(ok["response"] - responses)
    )
    return {
        "commands": len(results),
        "seconds": round(seconds, 1),
        "commands_per_second": round(len(results) / seconds, 1),
        "succeeded": dict(ok),
        "scores_given_again_unchanged": unchanged,
        "refused": sum(refused.values()),
        "refusals_by_message": dict(refused.most_common(6)),
        "lost_writes": lost,
        "double_transitions": doubles,
        "duplicate_reference_numbers": len(references) - len(set(references)),
        "letters": len(references),
        "chain_entries": chain.entries,
        "unclear_refusals_or_tracebacks": len(bad),
        "examples_of_unclear": bad[:3],
    }


# --- crashes -----------------------------------------------------------------------------------

BATCH = """
import os, sys
from click.testing import CliRunner
from cli import cli
runner = CliRunner()
kind, refs = sys.argv[1], sys.argv[2:]
if kind == "shortlist":
    print(runner.invoke(cli, ["shortlist", "--top", str(len(refs))]).output, flush=True)
else:
    for ref in refs:
        print(runner.invoke(cli, ["advance", ref, "refer"]).output, flush=True)
"""


def check_after_crash(where: db.Workspace) -> tuple[bool, int, str]:
    engine = db.make_engine(where)
    try:
        with Session(engine) as s:
            replay.verify(s)  # states = last entries, letters = their sha256, the chain holds
            files = verify_letters(s, [where.letters_dir], expect_all=[where.letters_dir])
            folder = files.folders[0]
            return not folder.altered and not folder.unknown and files.ok, len(folder.missing), ""
    except Exception as exc:  # reported in the figures, not raised: the point is to count them
        return False, 0, f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


def crashes(url: str, folder: Path, kills: int, seed: int) -> dict[str, object]:
    per_round = 8
    where = workspace(url, folder, kills * per_round, shortlist_size=kills * per_round, target=1)
    rng = random.Random(seed)
    env = {**os.environ, "OGP_DB": url, "OGP_ACTOR": "batch", "PYTHONPATH": str(ROOT)}
    failures, killed_mid_batch, missing_files = [], 0, 0
    for round_no in range(kills):
        refs = [f"S-{round_no * per_round + i:03d}" for i in range(1, per_round + 1)]
        kind = "shortlist" if round_no % 2 else "refer"
        if kind == "refer":  # the batch refers proposals already shortlisted
            score_everything(where, refs)
            engine = db.make_engine(where)
            with Session(engine) as s, s.begin():
                for ref in refs:
                    advance(s, ref, Event.SHORTLIST, actor="setup", workspace_folder=folder)
            engine.dispose()
        else:
            score_everything(where, refs)
        command = [sys.executable, "-c", BATCH, kind, *refs]
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.4, 1.8))
        if process.poll() is None:
            killed_mid_batch += 1
        process.send_signal(signal.SIGKILL)
        process.communicate()
        healthy, missing, error = check_after_crash(where)
        missing_files += missing
        # Re-run the batch to the end: it must finish without doing anything twice.
        subprocess.run(command, cwd=folder, env=env, capture_output=True, timeout=300)
        engine = db.make_engine(where)
        with Session(engine) as s:
            wanted = State.REFERRED if kind == "refer" else State.SHORTLISTED
            states = {p.ref: p.state for p in list_proposals(s) if p.ref in refs}
            events = collections.Counter(
                (e.proposal_ref, e.event)
                for e in s.scalars(select(AuditEntry).where(AuditEntry.proposal_ref.in_(refs)))
            )
        engine.dispose()
        finished = all(state is wanted for state in states.values())
        doubled = [key for key, n in events.items() if n > 1 and key[1] in TRANSITIONS]
        if not healthy or not finished or doubled:
            failures.append(
                {
                    "round": round_no,
                    "kind": kind,
                    "healthy": healthy,
                    "finished": finished,
                    "doubled": doubled,
                    "error": error,
                }
            )
    healthy, _, error = check_after_crash(where)
    return {
        "kills": kills,
        "killed_while_running": killed_mid_batch,
        "rounds_failing_a_check": len(failures),
        "failures": failures[:3],
        "letter_files_missing_after_kills (restored by 'letters export')": missing_files,
        "healthy_at_the_end": healthy,
        "error": error,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2021)
    options = parser.parse_args()
    backends = ("sqlite", "postgresql") if options.backend == "both" else (options.backend,)
    problems = 0
    with ExitStack() as stack:
        cluster = None
        if "postgresql" in backends:
            cluster = PostgresCluster()
            cluster.start()
            stack.callback(cluster.stop)
            if not cluster.url_base:
                print(f"postgresql: skipped ({cluster.reason})")
                backends = tuple(b for b in backends if b != "postgresql")
        for backend in backends:
            for phase in ("load", "crashes"):
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"ogp-{phase}-")))
                with ExitStack() as database:
                    if backend == "sqlite":
                        url = f"sqlite:///{folder / 'ogp.db'}"
                    else:
                        assert cluster is not None
                        url = database.enter_context(cluster.database())
                    if phase == "load":
                        figures = load(url, folder, options.workers, options.actions)
                    else:
                        figures = crashes(url, folder, options.kills, options.seed)
                print(f"== {backend}: {phase}")
                print(json.dumps(figures, ensure_ascii=False, indent=2))
                if phase == "load":
                    checks = (
                        "lost_writes",
                        "double_transitions",
                        "duplicate_reference_numbers",
                        "unclear_refusals_or_tracebacks",
                    )
                    problems += sum(int(figures[k]) for k in checks)  # type: ignore[call-overload]
                else:
                    problems += int(figures["rounds_failing_a_check"])  # type: ignore[call-overload]
                    problems += 0 if figures["healthy_at_the_end"] else 1
    print("ALL CHECKS HELD" if not problems else f"{problems} CHECKS FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
