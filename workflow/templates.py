"""Letter and site templates: which folder is in force, exporting the defaults, checking a folder.

Letter templates sit at the top of a templates folder (KIND.LANG.j2); the published site's pages,
wording and stylesheet in its `site/` subfolder.

The renderers (Jinja2, python-docx) are imported by the functions that use them, not with this
module: every command that may write a letter imports it, and `ogp status` or `interview list`
must answer without loading them (issue 13)."""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from documents.files import write_atomic
from documents.request import LetterRequest, LetterTemplateError, template_name
from documents.text import LANGUAGES
from states import TRANSITIONS, DocumentKind
from workflow.errors import WorkflowError
from workflow.inputs import home_expanded
from workflow.models import Plan

if TYPE_CHECKING:
    from documents.letters import LetterRenderer
    from documents.site import SiteTemplateError
    from documents.site import data as site


@functools.cache
def renderer(templates_dir: Path | None = None) -> LetterRenderer:
    """One renderer per templates folder, so each template is compiled once per process."""
    from documents.letters import LetterRenderer

    return LetterRenderer(templates_dir)


def templates_folder(plan: Plan, workspace_folder: Path | None, override: Path | None = None) -> Path | None:
    """The folder of edited templates in force: `--templates`, else the workspace's setting."""
    if override is not None:
        folder, source = override, "--templates"
    elif plan.templates_dir:
        folder = home_expanded(Path(plan.templates_dir))
        if not folder.is_absolute() and workspace_folder is not None:
            folder = workspace_folder / folder
        source = "the workspace's settings (change it with 'ogp init --templates-dir')"
    else:
        return None
    if not folder.is_dir():
        raise WorkflowError(f"the templates folder {folder}, from {source}, does not exist.")
    return folder.resolve()


def default_template_names() -> list[str]:
    """Every template that ships with the program."""
    folder = resources.files("documents") / "templates"
    return sorted(item.name for item in folder.iterdir() if item.name.endswith(".j2"))


def default_site_names() -> list[str]:
    """Every file of the published site's templates that ships with the program."""
    folder = resources.files("documents.site") / "templates"
    return sorted(item.name for item in folder.iterdir() if item.name.endswith((".j2", ".css")))


def export_defaults(target: Path, *, force: bool = False) -> list[Path]:
    """Write the shipped templates into `target` (the site's into `target/site`); refuse to
    overwrite unless `force`."""
    from documents.site.render import SUBFOLDER

    sources = [(resources.files("documents") / "templates", name, target / name) for name in default_template_names()]
    site_source = resources.files("documents.site") / "templates"
    sources += [(site_source, name, target / SUBFOLDER / name) for name in default_site_names()]
    existing = [str(path.relative_to(target)) for _, _, path in sources if os.path.lexists(path)]
    if existing and not force:
        raise WorkflowError(
            f"{target} already has {', '.join(existing)}; nothing was written (use --force to overwrite)."
        )
    return [write_atomic(path.parent, name, (source / name).read_bytes()) for source, name, path in sources]


SAMPLE_CONTEXT = {
    "proposal": {
        "ref": "P-000",
        "title": "عنوان مقترح للتجربة",
        "organization": "جهة مقدمة للتجربة",
        "problem": "وصف المشكلة العامة.",
        "solution": "وصف الحل المقترح.",
        "ogp_values": ["المساءلة"],
        "bodies": ["وزارة للتجربة"],
        "lead": "وزارة للتجربة",
    },
    "recipient": {"name": "وزارة للتجربة", "addressee": "معالي وزير التجربة المحترم"},
    "plan": {"title": "خطة للتجربة", "period": "2021-2023"},
    "event": "reject",
    "from_state": "interviewed",
    "reason": "سبب للتجربة",
    "interview": {
        "date": "2021-07-28",
        "date_ar": "28 تموز 2021م",
        "date_en": "28 July 2021",
        "time": "10:00",
        "platform": "Zoom",
    },
    "referral": {
        "reference": "ت ح/5/2021/0001",
        "date": "2021-08-01",
        "date_ar": "1 آب 2021م",
        "date_hijri": "22 ذو الحجة 1442هـ",
        "date_en": "1 August 2021",
    },
    "reply_within": 30,
}


def sample_site() -> site.SiteData:
    """A small publication to render the site's templates on: one proposal of each outcome."""
    from documents.minutes import MinutesData
    from documents.site import data as site

    day = dt.date(2021, 8, 31)
    criteria = (site.CriterionInfo("importance", site.Label("أهمية الفكرة", "Importance"), 1, 1, 5),)
    body = site.Body("وزارة للتجربة", "TEST")
    standing = site.Standing(
        "reject", 2, 3, 3.2, "16/5", (site.CriterionMean("importance", criteria[0].name, 1, 3.2, 5),), 5, 6, 4, True
    )
    decisions = {
        "committed": site.Decision(
            "committed", "committed", "commit", day, "referred", "وافقت الجهة", 9, lead=body,
            referrals=(site.Referral(body, "0000/2021/0001", "L-2021-0001", day, "agreed", day, ""),),
        ),
        "open": site.Decision("open", "interviewed"),
        "not_adopted": site.Decision(
            "not_adopted", "rejected", "reject", day, "interviewed", "سبب للتجربة", 8, standing, 4.0,
            conflicts=1, late_conflicts=1,
        ),
        "withdrawn": site.Decision("withdrawn", "withdrawn", "withdraw", day, "submitted", "انسحاب", 7),
        "discarded": site.Decision("discarded", "discarded", "discard", day, "submitted", "مكرر", 6),
    }  # fmt: skip
    proposals = tuple(
        site.ProposalEntry(
            f"P-{n}", "عنوان مقترح للتجربة", "جهة مقدمة للتجربة", day, decision.state,
            (site.Label("المساءلة", "Accountability"),), ("accountability",), (body,), "وصف المشكلة.", "وصف الحل.",
            decision,
            (site.Step(day, "submit", 1), site.Step(day, "scores", count=5),
             site.Step(day, "answer", body=body, answer="agreed", detail="ملاحظة"),
             site.Step(day, "letter", body=None, letter="0000/2021/0001", letter_kind="rejection",
                       letter_anchor="L-2021-0001")),
            (site.NamedScore("عضو", "importance", 4, True),),
        )
        for n, decision in enumerate(decisions.values(), start=1)
    )  # fmt: skip
    minutes = MinutesData("اجتماع للتجربة", day, "عن بعد", ["عضو"], [], ["موضوع"], ["مخرج"], "1:" + "0" * 64)
    return site.SiteData(
        published_on=day, languages=LANGUAGES, head_seq=9, head_hash="0" * 64,
        plan=site.PlanInfo(site.Label("خطة للتجربة", "A plan to try"), "2021-2023", site.Label("وزارة", "Ministry"),
                           7, 5, 4, criteria, {"ar": ("المملكة",), "en": ("The Kingdom",)}),
        counts=(("submitted", 0), ("interviewed", 1), ("committed", 1), ("rejected", 1), ("withdrawn", 1),
                ("discarded", 1)),
        milestones=(site.Milestone("submissions", day, day, 5), site.Milestone("meeting", day, day, 0, "اجتماع")),
        proposals=proposals,
        members=(site.MemberInfo("عضو", "جهة", "government", True),),
        meetings=(site.MeetingInfo(1, day, "اجتماع", "عن بعد", ("عضو",), (), ("موضوع",), ("مخرج",), minutes),),
        letters=(site.LetterInfo("0000/2021/0001", 2021, 1, day, "rejection", None, "P-3", "ar"),),
        publications=(site.PublicationInfo(day, 8, "1" * 64, "2" * 64, LANGUAGES),
                      site.PublicationInfo(day, 9, "0" * 64, "", LANGUAGES, current=True)),
        name_scorers=True,
    )  # fmt: skip


def _stray(letters: LetterRenderer, name: str) -> list[tuple[int, str]]:
    from documents.letters import stray_text

    return stray_text(letters.template(name))


@dataclass(frozen=True)
class TemplateReport:
    """What checking a templates folder found."""

    checked: list[str]
    errors: list[LetterTemplateError | SiteTemplateError]
    unknown: list[str]


def check(folder: Path | None) -> TemplateReport:
    """Render every letter kind in every language from `folder` (over the defaults) on sample data,
    once for each state a move writing it may leave (`from_state`), each under the renderer's
    limits; also report text outside a template's blocks, which no letter ever shows."""
    from documents.letters import LetterRenderer
    from documents.site import SiteRenderer, SiteTemplateError
    from documents.site.render import STYLESHEET, SUBFOLDER

    letters = LetterRenderer(folder)
    checked: list[str] = []
    errors: list[LetterTemplateError | SiteTemplateError] = []
    for kind in DocumentKind:
        # Each state a move writing this kind may leave (`from_state`): a branch a template takes
        # only for one of them (a rejection before the interview) is rendered too.
        sources = sorted({s.value for t in TRANSITIONS for s in t.sources if any(d.kind is kind for d in t.documents)})
        for language in LANGUAGES:
            name = template_name(kind.value, language)
            requests = [
                LetterRequest(
                    kind=kind.value,
                    reference="0000/2021/0001",
                    issued_on=dt.date(2021, 7, 28),
                    addressee="معالي وزير التجربة المحترم",
                    letterhead=("المملكة الأردنية الهاشمية",),
                    signatory_name="",
                    signatory_title="",
                    context={**SAMPLE_CONTEXT, "from_state": source},
                    language=language,
                )
                for source in sources or [""]
            ]
            try:
                for request in requests:
                    letters.render(request)
                stray = letters.limited(name, functools.partial(_stray, letters, name))
            except LetterTemplateError as exc:
                errors.append(exc)
            else:
                errors += [
                    LetterTemplateError(name, line, f"text outside the blocks is never printed: {text!r}")
                    for line, text in stray
                ]
            checked.append(name)
    try:  # the site's templates render together, on a small sample publication
        SiteRenderer(folder).render(sample_site())
    except SiteTemplateError as exc:
        errors.append(exc)
    site_names = default_site_names()
    checked += [f"{SUBFOLDER}/{name}" for name in site_names if name != STYLESHEET]
    known = set(checked)
    unknown = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in known) if folder else []
    if folder is not None and (folder / SUBFOLDER).is_dir():
        unknown += sorted(
            f"{SUBFOLDER}/{p.name}" for p in (folder / SUBFOLDER).iterdir() if p.is_file() and p.name not in site_names
        )
    return TemplateReport(checked, errors, unknown)
