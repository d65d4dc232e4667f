"""Benchmark: how long the `ogp` command takes to answer, against the imports it cannot avoid.

Measured side by side, interleaved round by round (so a busy moment of the machine falls on
every command alike), the median of `--rounds` runs each:

- `python -c "import click"` and `python -c "import sqlalchemy.orm"`: the floors;
- `ogp --help`: target at most 2x `import click`;
- `ogp proposal list --json` on a workspace of N proposals (default 10,000, built once by
  `ogp proposal import`): target at most 1.5x `import sqlalchemy.orm`;
- `ogp history ID` and `ogp status --json` on the same workspace, for the record;
- which heavy packages `ogp proposal list` imports (none of jinja2, alembic, mako, docx and the
  documents package should be among them, nor the ORM and the models: workflow/listing.py).

Prints figures; asserts nothing. Run with `make bench` or `python bench/cli.py [--proposals N]`.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OGP = [sys.executable, "-c", "import sys; from cli import main; sys.argv[0] = 'ogp'; main()"]
HEAVY = ("jinja2", "alembic", "mako", "docx", "documents.letters", "lxml", "openpyxl", "transitions", "sqlalchemy.orm",
         "workflow.models")  # fmt: skip


def run(command: list[str], env: dict[str, str]) -> float:
    """Seconds `command` takes, wall clock; it must exit 0."""
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def build_workspace(folder: Path, proposals: int, env: dict[str, str]) -> None:
    """A workspace holding `proposals` submitted proposals, imported from one CSV."""
    subprocess.run([*OGP, "init"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    data = folder / "proposals.csv"
    with data.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ref", "title", "organization", "problem", "solution", "values", "submitted_on"])
        for number in range(1, proposals + 1):
            writer.writerow([
                f"P-{number:05d}", f"مقترح رقم {number} لتعزيز الشفافية", f"جمعية {number % 97}",
                "وصف المشكلة العامة التي يعالجها المقترح", "الحل المقترح وكيفية تنفيذه",
                "access_to_information", "2021-06-20",
            ])  # fmt: skip
    subprocess.run([*OGP, "proposal", "import", str(data), "--quiet"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def imported_by(args: list[str], env: dict[str, str]) -> list[str]:
    """The heavy packages (of `HEAVY`) that running `ogp ARGS` imports."""
    probe = (
        "import sys, runpy; from cli import main; sys.argv = ['ogp', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe, *args], env=env, cwd=ROOT, check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    return done.stderr.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {**os.environ, "OGP_DB": str(folder / "ogp.db"), "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        build_workspace(folder, options.proposals, env)
        print(f"workspace: {options.proposals} proposals imported in {time.perf_counter() - started:.1f} s")
        commands = {
            "import click": [sys.executable, "-c", "import click"],
            "import sqlalchemy.orm": [sys.executable, "-c", "import sqlalchemy.orm"],
            "ogp --help": [*OGP, "--help"],
            "ogp proposal list --json": [*OGP, "proposal", "list", "--json"],
            "ogp history P-00001": [*OGP, "history", "P-00001"],
            "ogp status --json": [*OGP, "status", "--json"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.rounds):
            for name, command in commands.items():
                times[name].append(run(command, env))
        median = {name: statistics.median(values) for name, values in times.items()}
        print(f"median of {options.rounds} interleaved rounds, wall clock:")
        for name, value in median.items():
            print(f"  {name:<28} {value * 1000:8.0f} ms")
        click_floor, orm_floor = median["import click"], median["import sqlalchemy.orm"]
        help_ratio = median["ogp --help"] / click_floor
        list_ratio = median["ogp proposal list --json"] / orm_floor
        print(f"ogp --help / import click: {help_ratio:.2f}x (target <= 2x: {'met' if help_ratio <= 2 else 'MISSED'})")
        print(f"ogp proposal list --json ({options.proposals} proposals) / import sqlalchemy.orm: {list_ratio:.2f}x "
              f"(target <= 1.5x: {'met' if list_ratio <= 1.5 else 'MISSED'})")  # fmt: skip
        for args in (["--help"], ["proposal", "list", "--json"], ["history", "P-00001"]):
            heavy = imported_by(args, env)
            print(f"heavy packages imported by 'ogp {' '.join(args)}': {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
