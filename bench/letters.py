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
import sys
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from documents import LetterRenderer, LetterRequest
from documents.docx_writer import LetterStyle, Para, Skeleton

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


def timed(label: str, work) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"  {label:<40} {seconds:7.2f} s")
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--letters", type=int, default=1000, help="how many letters (default 1000)")
    count = parser.parse_args().letters
    batch = requests(count)
    print(f"Rendering {count} referral letters (Python {sys.version.split()[0]}):")

    renderer = LetterRenderer()
    ours_s, ours = timed("ogp-workflow LetterRenderer", lambda: [renderer.render(r).content for r in batch])

    # The floor: the same parts of every letter, zipped again with the same settings.
    parts = []
    for content in ours:  # type: ignore[attr-defined]
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

    floor_s, floored = timed("zipfile floor (same bytes)", floor)
    assert floored == ours, "the floor must write exactly the letters the renderer wrote"

    docxtpl_s = run_docxtpl(batch, renderer)

    rate = lambda seconds: count / seconds  # noqa: E731
    print()
    print(f"  {'ogp-workflow':<14} {rate(ours_s):8.0f} letters/s")
    if docxtpl_s:
        print(f"  {'docxtpl':<14} {rate(docxtpl_s):8.0f} letters/s")
    print(f"  {'zipfile floor':<14} {rate(floor_s):8.0f} letters/s")
    print()
    failures = 0
    if docxtpl_s:
        speedup = docxtpl_s / ours_s
        met = speedup >= 5
        failures += not met
        print(f"  vs docxtpl: {speedup:5.1f}x faster   (target >= 5x: {'met' if met else 'MISSED'})")
    over_floor = ours_s / floor_s
    met = over_floor <= 2
    failures += not met
    print(f"  vs floor:   {over_floor:5.2f}x the floor's time (target <= 2x: {'met' if met else 'MISSED'})")
    print(f"  peak memory of this run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 1 if failures else 0


def run_docxtpl(batch: list[LetterRequest], renderer: LetterRenderer) -> float | None:
    try:
        from docxtpl import DocxTemplate
    except ImportError:
        print("  docxtpl                                  not installed (pip install docxtpl)")
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
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.docx"
        path.write_bytes(template)
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

        seconds, _ = timed("docxtpl (equivalent template)", work)
    return seconds


if __name__ == "__main__":
    sys.exit(main())
