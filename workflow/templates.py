"""Letter templates: which folder is in force, exporting the defaults, checking a folder."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from documents import LetterRenderer, LetterRequest, LetterTemplateError, template_name
from documents.letters import LANGUAGES
from states import DocumentKind
from workflow.errors import WorkflowError
from workflow.models import Plan


@functools.cache
def renderer(templates_dir: Path | None = None) -> LetterRenderer:
    """One renderer per templates folder, so each template is compiled once per process."""
    return LetterRenderer(templates_dir)


def templates_folder(plan: Plan, workspace_folder: Path | None, override: Path | None = None) -> Path | None:
    """The folder of edited templates in force: `--templates`, else the workspace's setting."""
    if override is not None:
        folder, source = override, "--templates"
    elif plan.templates_dir:
        folder = Path(plan.templates_dir).expanduser()
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


def export_defaults(target: Path, *, force: bool = False) -> list[Path]:
    """Write the shipped templates into `target`; refuse to overwrite unless `force`."""
    names = default_template_names()
    existing = [name for name in names if (target / name).exists()]
    if existing and not force:
        raise WorkflowError(
            f"{target} already has {', '.join(existing)}; nothing was written (use --force to overwrite)."
        )
    target.mkdir(parents=True, exist_ok=True)
    source = resources.files("documents") / "templates"
    written = []
    for name in names:
        path = target / name
        path.write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
        written.append(path)
    return written


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


@dataclass(frozen=True)
class TemplateReport:
    """What checking a templates folder found."""

    checked: list[str]
    errors: list[LetterTemplateError]
    unknown: list[str]


def check(folder: Path | None) -> TemplateReport:
    """Render every letter kind in every language from `folder` (over the defaults) on sample data."""
    letters = LetterRenderer(folder)
    checked, errors = [], []
    for kind in DocumentKind:
        for language in LANGUAGES:
            name = template_name(kind.value, language)
            request = LetterRequest(
                kind=kind.value,
                reference="0000/2021/0001",
                issued_on=dt.date(2021, 7, 28),
                addressee="معالي وزير التجربة المحترم",
                letterhead=("المملكة الأردنية الهاشمية",),
                signatory_name="",
                signatory_title="",
                context=SAMPLE_CONTEXT,
                language=language,
            )
            try:
                letters.render(request)
            except LetterTemplateError as exc:
                errors.append(exc)
            checked.append(name)
    known = set(checked)
    unknown = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in known) if folder else []
    return TemplateReport(checked, errors, unknown)
