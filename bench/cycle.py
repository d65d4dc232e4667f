"""Benchmark: a whole national cycle for N proposals, driven through the CLI's batch commands.

    python bench/cycle.py 1000            # or: make bench (N = 1,000)

Builds a throw-away SQLite workspace and runs, one `ogp` process per stage:

  import N proposals → import N interviews → advance --state submitted interview →
  import 25·N scores (5 members × 5 criteria) → shortlist --top N/2 (caps N/2 and N/4) →
  advance --state shortlisted refer (2 bodies each, 2 letters) → import the bodies' answers →
  advance --from-file commit (N/4) → advance --state referred reject → audit verify → letters verify

and prints, per stage, the wall time, items per second and the stage's peak RSS (the `ogp`
process's own maximum resident set, from wait4). In the same run it times the per-command route
the batch commands replace (`ogp advance ID interview`, one process per proposal) on a sample of
proposals and extrapolates it to N, as the baseline.

Prints figures; asserts nothing (the targets are in issue 13 and its closing note).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OGP = [sys.executable, "-c", "import sys; from cli import main; sys.argv[0] = 'ogp'; main()"]
MEMBERS = (("ندى خاطر", "وزارة الاقتصاد الرقمي", "government"), ("هيلدا عجيلات", "مركز الشفافية", "civil-society"),
           ("صهيب ربابعه", "مركز وسطاء التغيير", "civil-society"), ("مي عليمات", "وحدة الحكومة الشفافة", "government"),
           ("ختام الشنيكات", "ديوان المحاسبة", "government"))  # fmt: skip
CRITERIA = ("importance", "global_trend", "ogp_values", "national_priorities", "government_mandate")


@dataclass
class Stage:
    name: str
    items: int
    seconds: float
    peak_mib: float


def ogp(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run `ogp ARGS` (it must exit 0); return (seconds, peak RSS in MiB of that process)."""
    started = time.perf_counter()
    process = subprocess.Popen([*OGP, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
        raise SystemExit(f"ogp {' '.join(args[:3])} … exited {code}:\n{error[:2000]}")
    return seconds, usage.ru_maxrss / 1024


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def refs(n: int) -> list[str]:
    return [f"P-{number:05d}" for number in range(1, n + 1)]


def score(ref: str, member: int, criterion: int) -> int:
    """A deterministic score: a quality per proposal, a little spread per member and criterion."""
    number = int(ref[2:])
    return max(1, min(5, 1 + (number * 7919) % 5 + ((member + criterion) % 3) - 1))


def run_cycle(n: int, folder: Path, sample: int, keep: bool = False) -> list[Stage]:
    env = {**os.environ, "OGP_DB": str(folder / "ogp.db"), "PYTHONPATH": str(ROOT), "OGP_ACTOR": "bench"}
    stages: list[Stage] = []

    def stage(name: str, items: int, args: list[str]) -> None:
        if keep:  # the workspace as this stage found it, to run the stage again under a profiler
            shutil.copyfile(folder / "ogp.db", folder / f"before-{len(stages) + 1:02d}.db")
        seconds, peak = ogp(args, env)
        stages.append(Stage(name, items, seconds, peak))
        print(f"  {name:<34} {items:>8} items {seconds:8.1f} s {items / seconds:9.0f}/s  peak {peak:6.0f} MiB",
              flush=True)  # fmt: skip

    top, commit = max(n // 2, 1), max(n // 4, 1)
    ogp(["init", "--shortlist-size", str(top), "--commitment-target", str(commit), "--quorum", "3"], env)
    for code, name in (("MODEE", "وزارة الاقتصاد الرقمي والريادة"), ("ROS", "سجل الجمعيات")):
        ogp(["entity", "add", name, "--code", code], env)
    for name, org, sector in MEMBERS:
        ogp(["member", "add", name, "--org", org, "--sector", sector], env)
    all_refs = refs(n)
    proposals = write_csv(
        folder / "proposals.csv",
        ["ref", "title", "organization", "problem", "solution", "values", "entities", "submitted_on"],
        [[ref, f"مقترح {ref} لتعزيز الشفافية", f"جمعية {int(ref[2:]) % 97}", "المشكلة العامة", "الحل المقترح",
          "access_to_information", "MODEE;ROS", "2021-06-20"] for ref in all_refs],
    )  # fmt: skip
    stage("proposal import", n, ["proposal", "import", str(proposals), "--quiet"])

    sample_refs = all_refs[:sample]
    interviews = write_csv(folder / "interviews.csv", ["ref", "held_on", "platform"],
                           [[ref, "2021-07-28", "Zoom"] for ref in all_refs])  # fmt: skip
    stage("interview import", n, ["interview", "import", str(interviews), "--quiet"])
    # The baseline: one process per proposal, as before batches, on a sample.
    started = time.perf_counter()
    for ref in sample_refs:
        ogp(["advance", ref, "interview"], env)
    per_command = (time.perf_counter() - started) / max(len(sample_refs), 1)
    stage("advance --state submitted interview", n - len(sample_refs),
          ["advance", "--state", "submitted", "interview", "--quiet"])  # fmt: skip

    scores = write_csv(
        folder / "scores.csv", ["proposal", "member", "criterion", "value"],
        [[ref, name, code, score(ref, m, c)] for ref in all_refs for m, (name, _, _) in enumerate(MEMBERS)
         for c, code in enumerate(CRITERIA)],
    )  # fmt: skip
    stage("score import", 25 * n, ["score", "import", str(scores), "--quiet"])
    stage("shortlist --top N/2", top, ["shortlist", "--top", str(top)])
    stage("advance --state shortlisted refer", top, ["advance", "--state", "shortlisted", "refer", "--quiet"])

    listed = subprocess.run([*OGP, "proposal", "list", "--state", "referred", "--json"], env=env, cwd=ROOT,
                            check=True, capture_output=True, text=True)  # fmt: skip
    referred = [p["ref"] for p in json.loads(listed.stdout)]
    agreeing = referred[:commit]
    answers = write_csv(
        folder / "responses.csv", ["ref", "entity", "agreed", "responded_on"],
        [[ref, code, "yes" if ref in agreeing else "no", ""]  # answered today: the letters are dated today
         for ref in referred for code in ("MODEE", "ROS")],
    )  # fmt: skip
    stage("response import", 2 * len(referred), ["response", "import", str(answers), "--quiet"])
    commits = write_csv(folder / "commit.csv", ["ref", "lead"], [[ref, "MODEE"] for ref in agreeing])
    stage("advance --from-file commit", len(agreeing), ["advance", "--from-file", str(commits), "commit", "--quiet"])
    stage("advance --state referred reject", len(referred) - len(agreeing),
          ["advance", "--state", "referred", "reject", "--reason", "اعتذرت الجهات", "--quiet"])  # fmt: skip
    head = subprocess.run([*OGP, "audit", "head"], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    entries = int(head.stdout.split(":")[0])
    stage("audit verify", entries, ["audit", "verify"])
    letters = len(json.loads(subprocess.run([*OGP, "letters", "list", "--json"], env=env, cwd=ROOT, check=True,
                                            capture_output=True, text=True).stdout))  # fmt: skip
    stage("letters verify", letters, ["letters", "verify"])
    total = sum(s.seconds for s in stages)
    peak = max(s.peak_mib for s in stages)
    print(f"  {'whole cycle (the stages above)':<34} {'':>8}       {total:8.1f} s  peak {peak:6.0f} MiB")
    print(f"  baseline: 'ogp advance ID interview' one process per proposal: {per_command:.2f} s each on a sample of "
          f"{len(sample_refs)}; × {n} = {per_command * n:.0f} s for that one stage (batch: "
          f"{stages[2].seconds:.1f} s for {stages[2].items})")  # fmt: skip
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000], help="N, the number of proposals (several: each)")
    parser.add_argument("--sample", type=int, default=20, help="Proposals moved one command each, for the baseline.")
    parser.add_argument("--keep", type=Path, help="Build the workspaces in this folder and keep them "
                        "(N/ogp.db, and N/before-KK.db as stage KK found it), to profile a stage again.")
    options = parser.parse_args()
    results: dict[int, list[Stage]] = {}
    for n in options.sizes:
        print(f"N = {n}:", flush=True)
        if options.keep:
            folder = options.keep / str(n)
            folder.mkdir(parents=True, exist_ok=False)
            results[n] = run_cycle(n, folder, min(options.sample, n), keep=True)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            results[n] = run_cycle(n, Path(tmp), min(options.sample, n))
    if len(results) > 1:
        small, large = min(results), max(results)
        print(f"per-item cost at N = {large} against N = {small} (1.0 = flat; target within 1.2):")
        for before, after in zip(results[small], results[large], strict=True):
            ratio = (after.seconds / max(after.items, 1)) / (before.seconds / max(before.items, 1))
            print(f"  {after.name:<34} {ratio:5.2f}x   peak RSS {after.peak_mib / before.peak_mib:4.2f}x")


if __name__ == "__main__":
    main()
