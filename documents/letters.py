"""Official letters as .docx: Arabic, right to left, from sandboxed Jinja2 templates.

Takes plain data (`LetterRequest`) and returns bytes; knows nothing of the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import traceback
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Cm, Pt
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment

from documents.dates import gregorian_ar, hijri_ar
from documents.rtl import Align, set_paragraph_rtl, set_run_rtl, set_section_rtl
from documents.text import one_line, xml_safe

DEFAULT_FONT = "Simplified Arabic"
BODY_SIZE = 14.0
# A fixed time for every entry of the .docx zip, so the same letter always has the same bytes
# and the sha256 kept in the audit trail identifies it.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
TEMPLATE_BLOCKS = ("subject", "body")

LABELS = {
    "ar": {
        "reference": "الرقم",
        "date": "التاريخ",
        "corresponding": "الموافق",
        "subject": "الموضوع",
        "greeting": "تحية طيبة وبعد،",
        "closing": "وتفضلوا بقبول فائق الاحترام",
    },
}


class LetterTemplateError(Exception):
    """A template is missing, broken, or failed while rendering; names the template and line."""

    def __init__(self, template: str, line: int | None, problem: str) -> None:
        self.template, self.line, self.problem = template, line, problem
        where = f"{template}, line {line}" if line else template
        super().__init__(f"template {where}: {problem}")


@dataclass(frozen=True)
class LetterRequest:
    """Everything one letter needs, as plain data."""

    kind: str
    reference: str
    issued_on: dt.date
    addressee: str
    letterhead: tuple[str, ...]
    signatory_name: str
    signatory_title: str
    # What the template may use: plain dicts and strings (proposal, entity, plan …).
    context: Mapping[str, Any] = field(default_factory=dict)
    language: str = "ar"
    font: str = DEFAULT_FONT


@dataclass(frozen=True)
class RenderedLetter:
    """A letter ready to store and send."""

    subject: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def template_name(kind: str, language: str) -> str:
    """The file a letter kind's template lives in, e.g. `referral.ar.j2`."""
    return f"{kind}.{language}.j2"


class LetterRenderer:
    """Renders letters; compiles each template once and reuses it."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if templates_dir is not None:
            loaders.append(FileSystemLoader(templates_dir))
        loaders.append(PackageLoader("documents", "templates"))
        # Sandboxed: a template edited by a coordinator cannot reach Python internals or files.
        self.env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _template(self, name: str) -> Template:
        try:
            template = self.env.get_template(name)
        except TemplateSyntaxError as exc:
            raise LetterTemplateError(name, exc.lineno, exc.message or "syntax error") from exc
        except TemplateError as exc:
            raise LetterTemplateError(name, None, f"cannot load it ({exc})") from exc
        missing = [block for block in TEMPLATE_BLOCKS if block not in template.blocks]
        if missing:
            raise LetterTemplateError(name, None, f"has no block {', '.join(missing)}")
        return template

    def _block(self, template: Template, block: str, context: Mapping[str, Any]) -> str:
        try:
            return "".join(template.blocks[block](template.new_context(dict(context))))
        except Exception as exc:  # the template's own failure, reported with its line
            raise LetterTemplateError(
                str(template.name), _template_line(exc, template), f"{type(exc).__name__}: {exc}"
            ) from exc

    def render(self, request: LetterRequest) -> RenderedLetter:
        """Render one letter to .docx bytes."""
        if request.language not in LABELS:
            raise LetterTemplateError(template_name(request.kind, request.language), None, "no such language")
        template = self._template(template_name(request.kind, request.language))
        context = {**request.context, "letter": _letter_context(request)}
        subject = one_line(self._block(template, "subject", context))
        body = [one_line(p) for p in self._block(template, "body", context).split("\n\n")]
        body = [p for p in body if p]
        if not subject or not body:
            raise LetterTemplateError(str(template.name), None, "renders an empty subject or body")
        return RenderedLetter(subject, _build_docx(request, subject, body))


def _template_line(exc: BaseException, template: Template) -> int | None:
    # A block's frames run the template's compiled code under the template's file name; Jinja
    # maps the compiled code's line back to the template's own line.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if template.filename and frame.filename == template.filename and frame.lineno:
            return template.get_corresponding_lineno(frame.lineno)
    return None


def _letter_context(request: LetterRequest) -> dict[str, str]:
    return {
        "reference": request.reference,
        "date_gregorian": gregorian_ar(request.issued_on),
        "date_hijri": hijri_ar(request.issued_on),
        "addressee": request.addressee,
    }


def _build_docx(request: LetterRequest, subject: str, body: list[str]) -> bytes:
    labels = LABELS[request.language]
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    set_section_rtl(section._sectPr)

    def paragraph(
        text: str,
        align: Align = "start",
        bold: bool = False,
        size: float = BODY_SIZE,
        space_after: float = 6,
    ) -> None:
        p = document.add_paragraph()
        set_paragraph_rtl(p, align)
        p.paragraph_format.space_after = Pt(space_after)
        if text:
            set_run_rtl(p.add_run(xml_safe(text)), request.font, size, bold)

    for index, line in enumerate(request.letterhead):
        paragraph(line, "center", bold=True, size=16 if index == 0 else 14, space_after=0)
    paragraph("")
    paragraph(f"{labels['reference']}: {request.reference}", "end", space_after=0)
    paragraph(f"{labels['date']}: {hijri_ar(request.issued_on)}", "end", space_after=0)
    paragraph(f"{labels['corresponding']}: {gregorian_ar(request.issued_on)}", "end")
    paragraph("")
    paragraph(one_line(request.addressee), bold=True)
    paragraph("")
    paragraph(f"{labels['subject']}: {subject}", bold=True)
    paragraph(labels["greeting"])
    for text in body:
        paragraph(text, "both")
        document.paragraphs[-1].paragraph_format.first_line_indent = Cm(1)
    paragraph(labels["closing"], "center", space_after=24)
    if request.signatory_name:
        paragraph(one_line(request.signatory_name), "end", bold=True, space_after=0)
    if request.signatory_title:
        paragraph(one_line(request.signatory_title), "end", bold=True)

    properties = document.core_properties
    properties.title = subject
    properties.author = properties.last_modified_by = ""
    properties.revision = 1
    stamp = dt.datetime.combine(request.issued_on, dt.time())
    properties.created = properties.modified = stamp
    buffer = io.BytesIO()
    document.save(buffer)
    return _deterministic_zip(buffer.getvalue())


def _deterministic_zip(data: bytes) -> bytes:
    """The same zip with fixed entry times, so equal letters are equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(item.filename))
    return out.getvalue()
