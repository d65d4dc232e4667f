"""Benchmark: render 1,000 letters and print letters/second, side by side in one run, for

- this project's renderer (`documents.LetterRenderer`: sandboxed Jinja2 blocks, a skeleton built
  once, one document.xml written per letter);
- docxtpl rendering an equivalent template (the same skeleton, parts and paragraph formatting,
  with a Jinja placeholder per paragraph), as docxtpl is meant to be used: one DocxTemplate
  rendered and saved per letter;
- the floor: writing the very same bytes (every part of every letter, already rendered) with
  zipfile, under the same compression.

Targets (issue: official letters): at least 5x docxtpl's throughput, and within 2x of the floor.
Run with `make bench` (installs docxtpl, which the product itself does not need).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import resource
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from documents import LetterRenderer, LetterRequest
from documents.docx_writer import LetterStyle, Para, Skeleton
from documents.package import zip_parts

TITLES = (
    "منصة بيانات مفتوحة عن الجمعيات وأنشطتها",
    "الإفصاح عن المستفيدين الحقيقيين من الشركات",
    "بوابة إلكترونية لطلبات الحصول على المعلومات",
    "موازنات بلدية تشاركية",
)
BASE = LetterRequest(
    kind="referral",
    reference="",
    issued_on=dt.date(2021, 7, 28),
    addressee="معالي وزير الاقتصاد الرقمي والريادة المحترم",
    letterhead=("المملكة الأردنية الهاشمية", "وزارة التخطيط والتعاون الدولي", "وحدة الحكومة الشفافة"),
    signatory_name="",
    signatory_title="وزير التخطيط والتعاون الدولي",
    copy_to=("الملف",),
    context={
        "proposal": {
            "ref": "",
            "title": "",
            "organization": "مركز الشفافية الأردني",
            "problem": "صعوبة وصول المواطنين إلى بيانات محدثة.",
            "solution": "نشر البيانات بصيغة مفتوحة قابلة لإعادة الاستخدام.",
            "ogp_values": ["إتاحة الوصول إلى المعلومات", "المساءلة"],
            "bodies": ["وزارة الاقتصاد الرقمي والريادة"],
            "lead": "",
        },
        "recipient": {
            "name": "وزارة الاقتصاد الرقمي والريادة",
            "addressee": "معالي وزير الاقتصاد الرقمي والريادة المحترم",
        },
        "plan": {"title": "الخطة الوطنية الخامسة لمبادرة شراكة الحكومات الشفافة", "period": "2021-2023"},
        "event": "refer",
        "reason": "",
    },
)


def requests(count: int) -> list[LetterRequest]:
    out = []
    for n in range(1, count + 1):
        title = f"{TITLES[n % len(TITLES)]} ({n})"
        proposal = {**BASE.context["proposal"], "ref": f"P-{n:04d}", "title": title}
        out.append(replace(BASE, reference=f"ت ح/5/2021/{n:04d}", context={**BASE.context, "proposal": proposal}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--letters", type=int, default=500, help="letters per engine per round (default 500)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed (default 5)")
    options = parser.parse_args()
    count, rounds = options.letters, options.rounds
    batch = requests(count)
    version = sys.version.split()[0]
    print(f"Rendering {count} referral letters per engine, {rounds} interleaved rounds (Python {version}):")

    renderer = LetterRenderer()
    ours = [renderer.render(r).content for r in batch]
    # The floor: the same parts of every letter, zipped again with the same settings.
    parts = []
    for content in ours:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts.append([(info, archive.read(info.filename)) for info in archive.infolist()])

    def floor() -> list[bytes]:
        out = []
        for letter in parts:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for info, data in letter:
                    archive.writestr(info, data)
            out.append(buffer.getvalue())
        return out

    assert floor() == ours, "the floor must write exactly the letters the renderer wrote"
    engines = {"ogp-workflow": lambda: [renderer.render(r).content for r in batch], "zipfile floor": floor}
    with tempfile.TemporaryDirectory() as folder:
        docxtpl = prepare_docxtpl(batch, renderer, Path(folder))
        if docxtpl is not None:
            engines["docxtpl"] = docxtpl
        # Each round times every engine once, one after the other, so that a busy moment of the
        # machine falls on all of them alike; the ratios are taken within a round.
        times: dict[str, list[float]] = {name: [] for name in engines}
        for round_number in range(1, rounds + 1):
            for name, work in engines.items():
                start = time.perf_counter()
                work()
                times[name].append(time.perf_counter() - start)
            line = "  ".join(f"{name} {times[name][-1]:6.2f} s" for name in engines)
            print(f"  round {round_number}: {line}")

    rate = lambda seconds: count / seconds  # noqa: E731
    median = {name: statistics.median(values) for name, values in times.items()}
    print()
    for name, seconds in median.items():
        print(f"  {name:<14} {rate(seconds):8.0f} letters/s (median)")
    print()
    failures = 0
    if "docxtpl" in times:
        ratios = [d / o for d, o in zip(times["docxtpl"], times["ogp-workflow"], strict=True)]
        worst, middle = min(ratios), statistics.median(ratios)
        met = worst >= 5
        failures += not met
        print(f"  vs docxtpl: {middle:5.1f}x faster (median), {worst:5.1f}x in the worst round "
              f"(target >= 5x in every round: {'met' if met else 'MISSED'})")  # fmt: skip
    over_floor = median["ogp-workflow"] / median["zipfile floor"]
    met = over_floor <= 2
    failures += not met
    print(f"  vs floor:   {over_floor:5.2f}x the floor's time (median; target <= 2x: {'met' if met else 'MISSED'})")
    print(f"  peak memory of this run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 1 if failures else 0


def prepare_docxtpl(batch: list[LetterRequest], renderer: LetterRenderer, folder: Path):  # type: ignore[no-untyped-def]
    """docxtpl's work for the same letters, ready to time; None if docxtpl is not installed."""
    try:
        from docxtpl import DocxTemplate
    except ImportError:
        print("  docxtpl: not installed (pip install docxtpl); only the floor is compared")
        return None
    # The equivalent template: our skeleton and paragraph formatting, one placeholder per paragraph.
    first = renderer.render(batch[0])
    import docx

    paragraphs = docx.Document(io.BytesIO(first.content)).paragraphs
    style = LetterStyle(True, "Simplified Arabic", 14.0, BASE.letterhead)
    template = Skeleton(style).assemble(
        [Para(f"{{{{ p{i} }}}}", bold=bool(p.runs and p.runs[0].bold)) for i, p in enumerate(paragraphs)],
        title="{{ subject }}",
        issued_on=BASE.issued_on,
    )
    path = folder / "template.docx"
    path.write_bytes(zip_parts(template))
    contexts = []
    for request in batch:
        rendered = docx.Document(io.BytesIO(renderer.render(request).content))
        contexts.append({f"p{i}": p.text for i, p in enumerate(rendered.paragraphs)})

    def work() -> list[bytes]:
        out = []
        tpl = DocxTemplate(str(path))
        for context in contexts:
            tpl.render(context, autoescape=True)
            buffer = io.BytesIO()
            tpl.save(buffer)
            out.append(buffer.getvalue())
        return out

    return work


if __name__ == "__main__":
    sys.exit(main())
