"""Official letters as .docx: Arabic (right to left) or English, from sandboxed Jinja2 templates.

Takes plain data (`LetterRequest`) and returns bytes; knows nothing of the database. Each template
is compiled once and each letter style's skeleton built once per renderer; a letter then costs
two small template renders, some string building and one zip.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

from documents.dates import arabic_indic, gregorian_ar, gregorian_en, hijri_ar, hijri_en
from documents.docx_writer import LetterStyle, Para, Parts, Skeleton, content_digest, with_properties, zip_parts
from documents.text import one_line

LANGUAGES = ("ar", "en")
DEFAULT_FONTS = {"ar": "Simplified Arabic", "en": "Times New Roman"}
BODY_SIZE = 14.0
# Where the reference block starts (from the text's start edge, by language: an English date is
# longer) and where its values line up.
REFERENCE_BLOCK_START_CM = {"ar": 7.5, "en": 4.5}
REFERENCE_TAB_CM = 2.0
REQUIRED_BLOCKS = ("subject", "body")
OPTIONAL_BLOCKS = ("greeting", "closing")
DIGITS = ("western", "arabic-indic")

LABELS: dict[str, dict[str, str]] = {
    "ar": {
        "reference": "الرقم",
        "date": "التاريخ",
        "corresponding": "الموافق",
        "subject": "الموضوع",
        "greeting": "تحية طيبة وبعد،",
        "closing": "وتفضلوا بقبول فائق الاحترام",
        "copies": "نسخة إلى:",
        "replaces": "يحلّ هذا الكتاب محلّ كتابنا رقم {reference} تاريخ {date}، الذي أُلغي.",
    },
    "en": {
        "reference": "Ref.",
        "date": "Date",
        "subject": "Subject",
        "greeting": "Dear Sir or Madam,",
        "closing": "Yours faithfully,",
        "copies": "Copy to:",
        "replaces": "This letter replaces our letter No. {reference} of {date}, which is void.",
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
    # What the template may use: plain dicts and strings (proposal, recipient, plan …).
    context: Mapping[str, Any] = field(default_factory=dict)
    language: str = "ar"
    font: str = ""
    logo: bytes | None = None
    copy_to: tuple[str, ...] = ()
    digits: str = "western"
    # (reference, date) of a voided letter this one replaces: the letter says so under its subject.
    replaces: tuple[str, dt.date] | None = None


@dataclass(frozen=True)
class RenderedLetter:
    """A letter ready to store and send: its parts, and the digest the audit trail records of them.

    `content` is the .docx as rendered; `stamped` gives the .docx naming the audit entry that wrote
    it in its custom properties, which the digest leaves out.
    """

    subject: str
    parts: Parts

    @functools.cached_property
    def digest(self) -> str:
        return content_digest(self.parts)

    @functools.cached_property
    def content(self) -> bytes:
        return zip_parts(self.parts)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def stamped(self, properties: dict[str, str]) -> bytes:
        """The .docx with `properties` (e.g. the audit entry's number and hash) as custom properties."""
        return zip_parts(with_properties(self.parts, properties))


def template_name(kind: str, language: str) -> str:
    """The file a letter kind's template lives in, e.g. `referral.ar.j2`."""
    return f"{kind}.{language}.j2"


def make_environment(templates_dir: Path | None = None) -> ImmutableSandboxedEnvironment:
    """The sandbox letters are rendered in: `templates_dir` first, then the shipped defaults."""
    loaders: list[BaseLoader] = []
    if templates_dir is not None:
        loaders.append(FileSystemLoader(templates_dir))
    loaders.append(PackageLoader("documents", "templates"))
    # Sandboxed: a template edited by a coordinator cannot reach Python internals or files;
    # StrictUndefined: a misspelt variable is an error, never a silently empty sentence.
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,  # the text is escaped for XML when the paragraphs are written
        trim_blocks=True,
        lstrip_blocks=True,
    )


class LetterRenderer:
    """Renders letters; compiles each template once and builds each letter style once."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir
        self.env = make_environment(templates_dir)
        self._skeletons: dict[tuple[Any, ...], Skeleton] = {}

    def template(self, name: str) -> Template:
        """A compiled template with the blocks a letter needs (cached by Jinja)."""
        try:
            template = self.env.get_template(name)
        except TemplateSyntaxError as exc:
            raise LetterTemplateError(name, exc.lineno, exc.message or "syntax error") from exc
        except TemplateError as exc:
            raise LetterTemplateError(name, None, f"cannot load it ({exc})") from exc
        missing = [block for block in REQUIRED_BLOCKS if block not in template.blocks]
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

    def _skeleton(self, request: LetterRequest, font: str) -> Skeleton:
        logo_key = hashlib.sha256(request.logo).hexdigest() if request.logo else ""
        key = (request.language, font, request.letterhead, logo_key)
        skeleton = self._skeletons.get(key)
        if skeleton is None:
            lang = "ar-JO" if request.language == "ar" else "en-GB"
            style = LetterStyle(request.language == "ar", font, BODY_SIZE, request.letterhead, request.logo, lang)
            skeleton = self._skeletons[key] = Skeleton(style)
        return skeleton

    def render(self, request: LetterRequest) -> RenderedLetter:
        """Render one letter to .docx bytes."""
        name = template_name(request.kind, request.language)
        if request.language not in LANGUAGES:
            raise LetterTemplateError(name, None, f"no such language {request.language!r} (use ar or en)")
        template = self.template(name)
        labels = LABELS[request.language]
        context = {**request.context, "letter": _letter_context(request)}
        subject = one_line(self._block(template, "subject", context))
        body = [one_line(p) for p in self._block(template, "body", context).split("\n\n")]
        body = [p for p in body if p]
        if not subject or not body:
            raise LetterTemplateError(name, None, "renders an empty subject or body")
        greeting, closing = (
            one_line(self._block(template, block, context)) if block in template.blocks else labels[block]
            for block in OPTIONAL_BLOCKS
        )
        paragraphs = _layout(request, labels, subject, greeting, body, closing)
        if request.language == "ar" and request.digits == "arabic-indic":
            paragraphs = [
                Para(arabic_indic(p.text), p.align, p.bold, p.size, p.space_after, p.first_line_indent_cm)
                for p in paragraphs
            ]
        font = request.font or DEFAULT_FONTS[request.language]
        parts = self._skeleton(request, font).assemble(paragraphs, title=subject, issued_on=request.issued_on)
        return RenderedLetter(subject, parts)


def _layout(
    request: LetterRequest, labels: dict[str, str], subject: str, greeting: str, body: list[str], closing: str
) -> list[Para]:
    arabic = request.language == "ar"
    day = request.issued_on
    # The reference block stands at the end of the line (the left of an Arabic letter), its labels
    # and its values each lined up, as on a typed letter.
    block = [(labels["reference"], request.reference)]
    if arabic:
        block += [(labels["date"], hijri_ar(day)), (labels["corresponding"], gregorian_ar(day))]
    else:
        block += [(labels["date"], gregorian_en(day)), ("", f"({hijri_en(day)})")]
    lines = [
        Para(f"{label}:\t{value}" if label else f"\t{value}", space_after=0 if index < len(block) - 1 else 6,
             start_indent_cm=REFERENCE_BLOCK_START_CM[request.language], tab_cm=REFERENCE_TAB_CM)
        for index, (label, value) in enumerate(block)
    ]  # fmt: skip
    lines += [
        Para(""),
        Para(one_line(request.addressee), bold=True),
        Para(""),
        Para(f"{labels['subject']}: {subject}", bold=True),
    ]
    if request.replaces is not None:
        replaced, on = request.replaces
        date = gregorian_ar(on) if arabic else gregorian_en(on)
        lines.append(Para(labels["replaces"].format(reference=replaced, date=date), bold=True))
    lines += [
        Para(greeting),
    ]
    lines += [Para(text, "both", space_after=8, first_line_indent_cm=1 if arabic else 0) for text in body]
    lines.append(Para(closing, "center" if arabic else "start", space_after=30))
    if request.signatory_name:
        lines.append(Para(one_line(request.signatory_name), "end", bold=True, space_after=0))
    if request.signatory_title:
        lines.append(Para(one_line(request.signatory_title), "end", bold=True))
    copies = [one_line(c) for c in request.copy_to if one_line(c)]
    if copies:
        lines.append(Para(labels["copies"], size=12, space_after=0))
        lines += [Para(f"- {copy}", size=12, space_after=0) for copy in copies]
    return lines


def _template_line(exc: BaseException, template: Template) -> int | None:
    # A block's frames run the template's compiled code under the template's file name; Jinja
    # maps the compiled code's line back to the template's own line.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if template.filename and frame.filename == template.filename and frame.lineno:
            return template.get_corresponding_lineno(frame.lineno)
    return None


def _letter_context(request: LetterRequest) -> dict[str, str]:
    day = request.issued_on
    arabic = request.language == "ar"
    return {
        "reference": request.reference,
        "date_gregorian": gregorian_ar(day) if arabic else gregorian_en(day),
        "date_hijri": hijri_ar(day) if arabic else hijri_en(day),
        "addressee": request.addressee,
        "language": request.language,
    }
