"""Official letters as .docx: Arabic (right to left) or English, from sandboxed Jinja2 templates.

Takes plain data (`LetterRequest`) and returns bytes; knows nothing of the database. The template
code runs in a worker process with a time, memory and output limit (`documents.worker`), so an
edited template that loops for ever fails the letter, naming the template, instead of hanging the
command; each letter style's skeleton is built once per renderer, in this process.

What a template inserts is data, never layout: every string in the context (a proposer's title,
problem and solution among them) reaches the template as one line, so a blank line a proposer
typed cannot start a paragraph that looks like the letter's own closing or signature.
"""

from __future__ import annotations

import dataclasses
import hashlib
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    nodes,
)
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from documents.dates import gregorian_ar, gregorian_en, hijri_ar, hijri_en
from documents.digits import arabic_indic_prose
from documents.docx_writer import LetterStyle, Para, Skeleton
from documents.loader import FolderLoader, TemplateFileError
from documents.request import LetterRequest, LetterTemplateError, RenderedLetter, template_name
from documents.text import LANGUAGES, one_line
from documents.worker import WorkerLimitError, run_limited

T = TypeVar("T")
DEFAULT_FONTS = {"ar": "Simplified Arabic", "en": "Times New Roman"}
BODY_SIZE = 14.0
# Where the reference block starts (from the text's start edge, by language: an English date is
# longer) and where its values line up.
REFERENCE_BLOCK_START_CM = {"ar": 7.5, "en": 4.5}
REFERENCE_TAB_CM = 2.0
REQUIRED_BLOCKS = ("subject", "body")
OPTIONAL_BLOCKS = ("greeting", "closing")
# A letter's template code may run this long (seconds) before it is stopped; far below the 30 s a
# second coordinator's command waits for the workspace's write lock.
RENDER_SECONDS = 4.0
# How much memory the template code may take, and how much text one block may produce (a
# proposer's problem and solution are 20,000 characters each at most).
RENDER_MEMORY = 256 * 1024 * 1024
MAX_BLOCK_CHARS = 200_000

LABELS: dict[str, dict[str, str]] = {
    "ar": {
        "reference": "الرقم",
        "date": "التاريخ",
        "corresponding": "الموافق",
        "subject": "الموضوع",
        "greeting": "تحية طيبة وبعد،",
        "closing": "وتفضلوا بقبول فائق الاحترام",
        "copies": "نسخة إلى:",
    },
    "en": {
        "reference": "Ref.",
        "date": "Date",
        "subject": "Subject",
        "greeting": "Dear Sir or Madam,",
        "closing": "Yours faithfully,",
        "copies": "Copy to:",
    },
}


@dataclass(frozen=True)
class LetterTexts:
    """What a letter's template produced: the texts the layout places."""

    subject: str
    greeting: str
    body: list[str]
    closing: str


def make_environment(templates_dir: Path | None = None) -> ImmutableSandboxedEnvironment:
    """The sandbox letters are rendered in: `templates_dir` first, then the shipped defaults."""
    loaders: list[BaseLoader] = []
    if templates_dir is not None:
        loaders.append(FolderLoader(templates_dir))  # inside the folder only (documents/loader.py)
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
    """Renders letters: template code in a limited worker, layout and .docx here, each letter
    style's skeleton built once."""

    def __init__(self, templates_dir: Path | None = None, *, seconds: float = RENDER_SECONDS) -> None:
        self.templates_dir = templates_dir
        self.env = make_environment(templates_dir)
        self.seconds = seconds
        self._skeletons: dict[tuple[Any, ...], Skeleton] = {}

    def template(self, name: str) -> Template:
        """A compiled template. Runs template code: call it in the worker (`run_limited`), as
        `render` and `check` do."""
        try:
            return self.env.get_template(name)
        except TemplateSyntaxError as exc:
            raise LetterTemplateError(exc.name or name, exc.lineno, exc.message or "syntax error") from exc
        except TemplateError as exc:
            raise LetterTemplateError(name, None, f"cannot load it ({exc})") from exc

    def _text(self, template: Template, pieces: Iterable[str], what: str) -> str:
        """Everything `pieces` (a block, or a template's top level) writes, up to `MAX_BLOCK_CHARS`."""
        written, size = [], 0
        try:
            for piece in pieces:
                size += len(piece)
                if size > MAX_BLOCK_CHARS:
                    raise LetterTemplateError(
                        str(template.name), None, f"{what} writes more than {MAX_BLOCK_CHARS} characters"
                    )
                written.append(piece)
        except LetterTemplateError:
            raise
        except Exception as exc:  # the template's own failure, reported with its name and line
            name, line = _where(exc, template, self.env)
            if isinstance(exc, MemoryError):
                problem = "needs more memory than a letter may take"
            else:  # a file refused by the loader says why itself; anything else names its kind
                problem = str(exc) if isinstance(exc, TemplateFileError) else f"{type(exc).__name__}: {exc}"
            raise LetterTemplateError(name, line, problem) from None
        return "".join(written)

    def _context(self, template: Template, data: Mapping[str, Any]) -> Context:
        """The context a letter's blocks render in; for a template that extends another, with the
        blocks it inherits (Jinja resolves `extends` when the template's top level runs)."""
        context = template.new_context(dict(data))
        if _extends(template):
            self._text(template, template.root_render_func(context), "the template")
        return context

    def texts(self, request: LetterRequest) -> LetterTexts:
        """Run the letter's template on the request's data. Runs template code: see `template`."""
        name = template_name(request.kind, request.language)
        template = self.template(name)
        labels = LABELS[request.language]
        context = self._context(template, {**as_data(request.context), "letter": _letter_context(request)})
        missing = [block for block in REQUIRED_BLOCKS if block not in context.blocks]
        if missing:
            raise LetterTemplateError(name, None, f"has no block {', '.join(missing)}")

        def block(block: str) -> str:
            return self._text(template, context.blocks[block][0](context), f"its {block} block")

        subject = one_line(block("subject"))
        body = [p for p in (one_line(p) for p in block("body").split("\n\n")) if p]
        if not subject or not body:
            raise LetterTemplateError(name, None, "renders an empty subject or body")
        greeting, closing = (
            one_line(block(extra)) if extra in context.blocks else labels[extra] for extra in OPTIONAL_BLOCKS
        )
        return LetterTexts(subject, greeting, body, closing)

    def limited(self, name: str, task: Callable[[], T]) -> T:
        """Run `task` (template code for the template `name`) in a worker with this renderer's
        time limit; a template that exceeds a limit is a LetterTemplateError naming it.

        Only a coordinator's templates folder can bring code that never ends: without one, every
        template is the product's own (documents/templates/, reviewed and tested like the rest of
        the code), so it runs here, in the sandbox but without the fork a worker costs (about
        30 ms a letter, which a batch of thousands of moves would pay for each letter)."""
        if self.templates_dir is None:
            try:
                return task()
            except MemoryError as exc:
                raise LetterTemplateError(name, None, "needs more memory than a letter may take") from exc

        def work(progress: Callable[[str], None]) -> T:
            progress(name)
            return task()

        try:
            return run_limited(work, seconds=self.seconds, memory_bytes=RENDER_MEMORY)
        except WorkerLimitError as exc:
            raise LetterTemplateError(exc.label or name, None, exc.problem) from None
        except MemoryError as exc:
            raise LetterTemplateError(name, None, "needs more memory than a letter may take") from exc

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
        texts = self.limited(name, lambda: self.texts(request))
        labels = LABELS[request.language]
        paragraphs = _layout(request, labels, texts)
        if request.language == "ar" and request.digits == "arabic-indic":
            paragraphs = [dataclasses.replace(p, text=arabic_indic_prose(p.text)) for p in paragraphs]
        font = request.font or DEFAULT_FONTS[request.language]
        parts = self._skeleton(request, font).assemble(paragraphs, title=texts.subject, issued_on=request.issued_on)
        return RenderedLetter(texts.subject, parts)


def as_data(value: Any) -> Any:
    """`value` with every string in it on one line (see the module's docstring), dicts and lists
    kept as they are."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, Mapping):
        return {key: as_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_data(item) for item in value]
    return value


def stray_text(template: Template) -> list[tuple[int, str]]:
    """Text a template has outside its blocks, which a letter never shows: (line, text) each."""
    source = template.environment.loader.get_source(template.environment, str(template.name))[0]  # type: ignore[union-attr]
    found = []
    for node in template.environment.parse(source).body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                text = child.data if isinstance(child, nodes.TemplateData) else "{{ … }}"
                if text.strip():
                    found.append((child.lineno, " ".join(text.split())[:60]))
    return found


def _layout(request: LetterRequest, labels: dict[str, str], texts: LetterTexts) -> list[Para]:
    arabic = request.language == "ar"
    subject, greeting, body, closing = texts.subject, texts.greeting, texts.body, texts.closing
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
        Para(greeting),
    ]
    if request.replaces:
        lines.append(Para(_replaces_line(request), "both", space_after=8, first_line_indent_cm=1 if arabic else 0))
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


def _replaces_line(request: LetterRequest) -> str:
    """The sentence that says which earlier letter this one replaces."""
    earlier = request.replaces
    assert earlier is not None
    if request.language == "ar":
        return f"يحل هذا الكتاب محل كتابنا رقم {earlier.reference} تاريخ {gregorian_ar(earlier.issued_on)}."
    return f"This letter replaces our letter Ref. {earlier.reference} of {gregorian_en(earlier.issued_on)}."


def _where(exc: BaseException, template: Template, env: Environment) -> tuple[str, int | None]:
    """The template and line a rendering error comes from: the innermost template frame, which
    may be in a template the letter's template includes or imports."""
    if isinstance(exc, TemplateSyntaxError):  # an included template that does not compile
        return exc.name or str(template.name), exc.lineno
    names = {t.filename: t.name for t in _loaded(env)}
    names.setdefault(template.filename, template.name)
    try:  # Jinja rewrites the traceback so that template frames carry the template's own lines
        env.handle_exception()
    except BaseException as rewritten:
        for frame in reversed(traceback.extract_tb(rewritten.__traceback__)):
            if frame.filename in names and frame.lineno:
                return str(names[frame.filename]), frame.lineno
    return str(template.name), None


def _extends(template: Template) -> bool:
    """Whether `template` extends another (its source has an `extends` tag). Parsed once per
    compiled template: the environment compiles a template again when its file changes."""
    known: bool | None = getattr(template, "_ogp_extends", None)
    if known is not None:
        return known
    loader = template.environment.loader
    if loader is None or template.name is None:
        return False
    source = loader.get_source(template.environment, template.name)[0]
    known = template.environment.parse(source).find(nodes.Extends) is not None
    template._ogp_extends = known  # type: ignore[attr-defined]
    return known


def _loaded(env: Environment) -> list[Template]:
    cache = env.cache or {}
    return [t for t in cache.values() if isinstance(t, Template)]


def _letter_context(request: LetterRequest) -> dict[str, str]:
    day = request.issued_on
    arabic = request.language == "ar"
    return {
        "reference": request.reference,
        "date_gregorian": gregorian_ar(day) if arabic else gregorian_en(day),
        "date_hijri": hijri_ar(day) if arabic else hijri_en(day),
        "addressee": request.addressee,
        "language": request.language,
        "replaces": request.replaces.reference if request.replaces else "",
    }
