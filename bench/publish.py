"""The published site at scale: a workspace of 10,000 proposals, and the time `ogp publish` takes.

The plan, its bodies, members and a meeting are made through the services. The proposals' rows are
then written in bulk, as the services would leave them (every state, interviews, decided standings
with criteria means, referral and rejection letters, the bodies' answers, and each proposal's audit
entries, hash-chained), but not through recorded steps: ten thousand proposals taken through every
move one at a time would take this script hours, and the site reads the same rows either way. So
`ogp audit verify` is not expected to pass on this workspace; the publication itself is a real
recorded step. It prints the build time of the site (gathering the record, rendering every page,
the .docx and the open data, writing the files, recording the step, swapping them in).

    python bench/publish.py                  # 10,000 proposals, SQLite
    python bench/publish.py --proposals 2000 --keep /tmp/big
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workflow import audit, db
from workflow.members import add_meeting, add_member
from workflow.models import (
    AuditEntry,
    DecidedStanding,
    Entity,
    Interview,
    Letter,
    Proposal,
    ProposalEntity,
    Response,
)
from workflow.plans import PlanSettings, add_entity, configure_plan, current_plan
from workflow.publish import publish, staged_site

NOW = dt.datetime(2021, 6, 1, 9, 0, tzinfo=dt.UTC)
ACTOR = "bench"
BODIES = ("MODEE", "ROS", "CCD", "MOH", "MOLA", "NL", "GTD", "MOENV")
VALUES = ("access_to_information", "accountability", "public_participation", "technology_innovation")
# Where the proposals end up, out of every 20.
STATES = (
    ["submitted"] * 5 + ["interviewed"] * 3 + ["shortlisted", "referred", "committed"] + ["rejected"] * 7
    + ["withdrawn"] * 2
)  # fmt: skip


class Chain:
    """Audit entries appended in bulk, each hashed onto the one before, as the client would on SQLite."""

    def __init__(self, session: Session) -> None:
        head = audit.current_head(session)
        self.seq, self.previous, self.rows = head.seq, head.hash, []

    def add(self, at: dt.datetime, proposal: tuple[int, str], event: str, before: str | None, after: str,
            reason: str = "") -> int:  # fmt: skip
        self.seq += 1
        body = json.dumps({"step": event, "proposal": {"id": proposal[0], "ref": proposal[1]}, "bench": True})
        stamp = audit.utc_stamp(at)
        digest = audit.entry_hash(self.seq, stamp, None, self.previous, body)
        self.rows.append(
            {"seq": self.seq, "at": stamp, "actor": ACTOR, "proposal_id": proposal[0], "proposal_ref": proposal[1],
             "event": event, "from_state": before, "to_state": after, "reason": reason, "letters": [],
             "prev_hash": self.previous, "hash": digest, "db_role": None, "body": body}
        )  # fmt: skip
        self.previous = digest
        return self.seq


def build(session: Session, count: int) -> None:
    """The plan through the services; `count` proposals in bulk."""
    configure_plan(session, PlanSettings(shortlist_size=count, commitment_target=count), actor=ACTOR, now=NOW)
    for code in BODIES:
        add_entity(session, f"جهة حكومية {code}", code, actor=ACTOR, now=NOW)
    for n in range(10):
        add_member(session, f"عضو {n}", f"جهة {n}", ("government", "civil-society", "private")[n % 3], actor=ACTOR,
                   now=NOW)  # fmt: skip
    add_meeting(session, dt.date(2021, 7, 28), attendees=[f"عضو {n}" for n in range(9)], apologies=["عضو 9"],
                topics=["المقابلات"], outcomes=["اختيار الأفكار"], actor=ACTOR, now=NOW)  # fmt: skip
    plan = current_plan(session)
    entities = {e.code: e.id for e in session.scalars(select(Entity))}
    codes = [c.code for c in plan.criteria]
    chain = Chain(session)
    proposals, links, interviews, standings, responses, letters = [], [], [], [], [], []
    number = 0
    first_id = 1
    for i in range(count):
        pid, ref, state = first_id + i, f"P-{i + 1:05d}", STATES[i % len(STATES)]
        bodies = [BODIES[i % len(BODIES)], BODIES[(i * 3 + 1) % len(BODIES)]][: 1 + i % 2]
        submitted = dt.date(2021, 6, 1) + dt.timedelta(days=i % 28)
        proposals.append(
            {"id": pid, "plan_id": plan.id, "ref": ref, "title": f"مقترح رقم {i + 1} لتعزيز الشفافية في الخدمات العامة",
             "organization": f"جمعية {i % 400}", "email": f"p{i}@example.org",
             "problem": "وصف المشكلة العامة التي يعالجها المقترح.\n\nفقرة ثانية.", "solution": "وصف الحل المقترح.",
             "values": [VALUES[i % 4], VALUES[(i + 1) % 4]], "submitted_on": submitted, "state": state,
             "version": 1, "language": "ar", "lead_entity_id": entities[bodies[0]] if state == "committed" else None}
        )  # fmt: skip
        links += [{"proposal_id": pid, "entity_id": entities[b], "position": n} for n, b in enumerate(bodies)]
        day = dt.datetime.combine(submitted, dt.time(9), dt.UTC)
        chain.add(day, (pid, ref), "submit", None, "submitted")
        if state == "submitted":
            continue
        if state == "withdrawn":
            chain.add(day + dt.timedelta(days=30), (pid, ref), "withdraw", "submitted", "withdrawn", "انسحاب الجهة")
            continue
        interview_day = dt.datetime(2021, 7, 28, 12, tzinfo=dt.UTC)
        interviews.append({"proposal_id": pid, "held_on": interview_day.date(), "platform": "Zoom", "notes": "",
                           "recorded_by": ACTOR, "recorded_at": audit.utc_stamp(interview_day), "needs": "",
                           "plans": "", "solves": ""})  # fmt: skip
        chain.add(interview_day, (pid, ref), "record_interview", "submitted", "submitted")
        chain.add(interview_day, (pid, ref), "interview", "submitted", "interviewed")
        for _ in range(8):
            chain.add(interview_day, (pid, ref), "score", "interviewed", "interviewed", "…")
        if state == "interviewed":
            continue
        mean = 2 + (i % 30) / 10
        shortlisted = state in ("shortlisted", "referred", "committed") or i % 7 == 0
        standings.append(
            {"proposal_id": pid, "event": "shortlist" if shortlisted else "reject", "rank": 1 + i % 500,
             "ranked": 500, "total": f"{round(mean * 10)}/10", "scorers": 8, "eligible": 9, "quorum": 6,
             "complete": True,
             "criteria": {c: {"mean": f"{round(mean * 10)}/10", "scorers": 8, "weight": 1} for c in codes}}
        )  # fmt: skip
        decided = interview_day + dt.timedelta(days=1)
        if not shortlisted:
            seq = chain.add(decided, (pid, ref), "reject", "interviewed", "rejected", "جاء ترتيبه دون خط القطع")
            number += 1
            letters.append(_letter(pid, ref, "rejection", None, number, decided.date(), seq))
            continue
        chain.add(decided, (pid, ref), "shortlist", "interviewed", "shortlisted", "ranked")
        if state == "shortlisted":
            continue
        referred = decided + dt.timedelta(days=4)
        seq = chain.add(referred, (pid, ref), "refer", "shortlisted", "referred")
        for code in bodies:
            number += 1
            letters.append(_letter(pid, ref, "referral", entities[code], number, referred.date(), seq))
        answered = referred + dt.timedelta(days=14)
        agreed = state != "rejected"
        responses.append({"proposal_id": pid, "entity_id": entities[bodies[0]], "agreed": agreed,
                          "responded_on": answered.date(), "note": "" if agreed else "خارج الخطة",
                          "recorded_by": ACTOR, "recorded_at": audit.utc_stamp(answered)})  # fmt: skip
        chain.add(answered, (pid, ref), "response", "referred", "referred")
        if state == "referred":
            continue
        final = answered + dt.timedelta(days=7)
        if state == "committed":
            seq = chain.add(final, (pid, ref), "commit", "referred", "committed", "وافقت الجهة")
            number += 1
            letters.append(_letter(pid, ref, "commitment", entities[bodies[0]], number, final.date(), seq))
            number += 1
            letters.append(_letter(pid, ref, "acceptance", None, number, final.date(), seq))
        else:
            seq = chain.add(final, (pid, ref), "reject", "referred", "rejected", "اعتذرت الجهة")
            number += 1
            letters.append(_letter(pid, ref, "rejection", None, number, final.date(), seq))
    for table, rows in ((Proposal, proposals), (ProposalEntity, links), (AuditEntry, chain.rows),
                        (Interview, interviews), (DecidedStanding, standings), (Response, responses),
                        (Letter, letters)):  # fmt: skip
        session.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]


def _letter(pid: int, ref: str, kind: str, entity_id: int | None, number: int, day: dt.date, seq: int) -> dict:  # type: ignore[type-arg]
    return {"proposal_id": pid, "audit_seq": seq, "kind": kind, "entity_id": entity_id, "year": day.year,
            "number": number, "reference": f"ت ح/5/{day.year}/{number:05d}", "issued_on": day,
            "subject": "موضوع", "file_name": f"{ref}_{kind}_{number}.docx", "sha256": "0" * 64, "content": b"x",
            "recipient": "", "language": "ar", "digest": "0" * 64, "void_reason": "", "replaces": ""}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build the workspace and the site here (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ogp-publish-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        workspace = db.resolve(str(folder / "ogp.db"))
        engine = db.make_engine(workspace)
        try:
            db.upgrade(engine)
            started = time.perf_counter()
            with Session(engine) as session, session.begin():
                build(session, args.proposals)
            print(f"workspace: {args.proposals:,} proposals built in {time.perf_counter() - started:.1f} s")
            site = folder / "site"
            started, cpu = time.perf_counter(), time.process_time()
            with staged_site(site, folder) as staging, Session(engine) as session, session.begin():
                result = publish(session, staging, actor=ACTOR, workspace_folder=folder)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            engine.dispose()
        size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
        print(
            f"site: {result.files:,} files, {size / 1e6:.0f} MB, for {result.proposals:,} proposals in "
            f"{', '.join(result.languages)}: built in {elapsed:.1f} s ({cpu:.1f} s of CPU; gather, render, write, "
            "record, swap in)"
        )


if __name__ == "__main__":
    main()
