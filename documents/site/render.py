"""The site's pages: sandboxed, autoescaped Jinja2 templates rendered on `SiteData`, every file of the
site returned as (path, bytes); the templates in force are those of an edited folder's `site/` over
the shipped ones (documents/site/templates)."""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from documents.dates import gregorian_ar, gregorian_en
from documents.loader import MAX_SITE_FILE_BYTES, FolderLoader, TemplateFileError
from documents.minutes import render_minutes
from documents.package import repack
from documents.reasoned_response import render_reasoned_response
from documents.site import opendata
from documents.site.data import OUTCOMES, ProposalEntry, SiteData
from documents.worker import Progress, WorkerLimitError, run_limited

LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}
DIRECTIONS = {"ar": "rtl", "en": "ltr"}
# The sections every page links to: (the key of their name in words.LANG.j2, their file).
SECTIONS = (
    ("home", "index.html"),
    ("register", "register.html"),
    ("response", "response.html"),
    ("group", "working-group.html"),
    ("letters", "letters.html"),
    ("data", "data.html"),
    ("verify", "verify.html"),
)
# The contribution register, sorted on the server: one page per order, no script needed.
ORDERS = (
    ("ref", "register.html"),
    ("title", "register-title.html"),
    ("organization", "register-organization.html"),
    ("date", "register-date.html"),
    ("state", "register-state.html"),
)
SUBFOLDER = "site"  # where a templates folder keeps its edited site templates
STYLESHEET = "style.css"
RESPONSE_DOCX = "downloads/reasoned-response.{lang}.docx"
MINUTES_FOLDER = "downloads/minutes"
# Limits on a coordinator's site templates (the shipped ones are the product's own code): each
# template run (a page, a register row, a language's wording) may take PAGE_SECONDS and write
# MAX_PAGE_CHARS; all of them together SITE_SECONDS plus SITE_SECONDS_PER_PROPOSAL a proposal
# (the 10,000-proposal bench renders in about 20 s), in a worker whose memory may grow by
# SITE_MEMORY. The workspace's write lock is held meanwhile, so a template past a limit is
# stopped and the publication refused at once.
PAGE_SECONDS = 10.0
SITE_SECONDS = 60.0
SITE_SECONDS_PER_PROPOSAL = 0.02
SITE_MEMORY = 2 << 30
MAX_PAGE_CHARS = 32_000_000


class SiteTemplateError(Exception):
    """A site template is missing, broken, or failed while rendering; names the template and line."""

    def __init__(self, template: str, line: int | None, problem: str) -> None:
        self.template, self.line, self.problem = template, line, problem
        where = f"site template {SUBFOLDER}/{template}" if template else "the site's templates"
        super().__init__(f"{where}" + (f", line {line}" if line else "") + f": {problem}")

    def __reduce__(self) -> tuple[type[SiteTemplateError], tuple[str, int | None, str]]:
        return (type(self), (self.template, self.line, self.problem))  # back from the worker whole


def _date(day: dt.date, language: str) -> str:
    return gregorian_ar(day) if language == "ar" else gregorian_en(day)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _paragraphs(text: str) -> Markup:
    """Text as typed, as HTML paragraphs: a blank line separates paragraphs, a line break stays one."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
    return Markup("".join(f"<p>{Markup('<br>').join(escape(line) for line in b.splitlines())}</p>" for b in blocks))


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, remembering its verdict on each (type, attribute): a publication reads the same
    few attributes of the same few plain-data types hundreds of thousands of times, and the verdict
    depends on nothing else for them (the checks look at the object's type and the name)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._verdicts: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), attr)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


def make_environment(templates_dir: Path | None = None) -> ImmutableSandboxedEnvironment:
    """The sandbox pages are rendered in: `templates_dir/site` first, then the shipped templates."""
    loaders: list[BaseLoader] = []
    if templates_dir is not None and (templates_dir / SUBFOLDER).is_dir():
        # documents/loader.py: only regular files inside the templates folder (its site/ too)
        loaders.append(FolderLoader(templates_dir / SUBFOLDER, MAX_SITE_FILE_BYTES, root=templates_dir))
    loaders.append(PackageLoader("documents.site", "templates"))
    # Sandboxed as letters are; autoescaped: a title typed with <script> is shown, never run;
    # StrictUndefined: a misspelt variable is an error, never a silently empty heading.
    env = _Sandbox(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # one publication, one reading of each template
    )
    env.filters.update(date=_date, num=_num, paragraphs=_paragraphs)
    return env


def natural_key(ref: str) -> tuple[Any, ...]:
    """P-9 before P-10."""
    parts = re.split(r"([0-9]+)", ref)
    return tuple(int(part) if part.isascii() and part.isdigit() else part.casefold() for part in parts)


class SiteRenderer:
    """Renders a publication's files; compiles each template once. A coordinator's site templates
    run in a worker with the limits above (`PAGE_SECONDS`, `MAX_PAGE_CHARS` …)."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir
        self.env = make_environment(templates_dir)
        self.edited = templates_dir is not None and (templates_dir / SUBFOLDER).is_dir()
        self._progress: Progress = lambda _label: None

    def template(self, name: str) -> Template:
        try:
            return self.env.get_template(name)
        except TemplateSyntaxError as exc:
            raise SiteTemplateError(name, exc.lineno, exc.message or "syntax error") from exc
        except TemplateError as exc:
            raise SiteTemplateError(name, None, f"cannot load it ({exc})") from exc

    def stylesheet(self) -> bytes:
        """The stylesheet in force (an edited `site/style.css` replaces the shipped one)."""
        loader = self.env.loader
        assert loader is not None
        try:
            source, _, _ = loader.get_source(self.env, STYLESHEET)
        except TemplateError as exc:
            raise SiteTemplateError(STYLESHEET, None, f"cannot load it ({exc})") from exc
        return source.encode("utf-8")

    def _run(self, name: str, call: Callable[[], str]) -> str:
        self._progress(name)  # in a worker: this template's own time limit starts now
        try:
            return call()
        except SiteTemplateError:
            raise
        except TemplateSyntaxError as exc:
            raise SiteTemplateError(exc.name or name, exc.lineno, exc.message or "syntax error") from exc
        except MemoryError:
            raise SiteTemplateError(name, None, "needs more memory than a site may take") from None
        except Exception as exc:  # the template's own failure, reported with its file and line
            where, line = _template_frame(exc, name)
            problem = str(exc) if isinstance(exc, TemplateFileError) else f"{type(exc).__name__}: {exc}"
            raise SiteTemplateError(where, line, problem) from exc

    def _render(self, name: str, **context: Any) -> str:
        def written() -> str:
            pieces, size = [], 0
            for piece in self.template(name).generate(**context):
                size += len(piece)
                if size > MAX_PAGE_CHARS:
                    raise SiteTemplateError(name, None, f"writes more than {MAX_PAGE_CHARS:,} characters")
                pieces.append(piece)
            return "".join(pieces)

        return self._run(name, written)

    def words(self, language: str) -> Any:
        """The wording of one language (words.LANG.j2), as a module: labels in T, sentences as macros."""
        name = f"words.{language}.j2"
        return self._run(name, lambda: self.template(name).make_module())  # type: ignore[arg-type, return-value]

    def render(self, site: SiteData) -> dict[str, bytes]:
        """Every file of the site, by its path from the site's top. Raises `SiteTemplateError`
        naming the template (and line) that is broken, fails, or passes a limit."""
        proposals = sorted(site.proposals, key=lambda p: natural_key(p.ref))
        files = self.pages(site, proposals)
        for language in site.languages:
            files[RESPONSE_DOCX.format(lang=language)] = render_reasoned_response(site, language, proposals)
        for meeting in site.meetings:
            files[f"{MINUTES_FOLDER}/{meeting.minutes_file}"] = repack(render_minutes(meeting.minutes))
        files.update(opendata.files(site, proposals))
        return files

    def pages(self, site: SiteData, proposals: list[ProposalEntry]) -> dict[str, bytes]:
        """The files the templates make (the pages and the stylesheet): with a coordinator's
        templates, in a worker under the limits above; else here."""
        if not self.edited:
            return self._pages(site, proposals)

        def work(progress: Progress) -> dict[str, bytes]:
            self._progress = progress
            return self._pages(site, proposals)

        seconds = SITE_SECONDS + SITE_SECONDS_PER_PROPOSAL * len(proposals)
        try:
            return run_limited(work, seconds=seconds, memory_bytes=SITE_MEMORY, step_seconds=PAGE_SECONDS)
        except WorkerLimitError as exc:
            raise SiteTemplateError(exc.label, None, exc.problem) from None
        except MemoryError:
            raise SiteTemplateError("", None, "need more memory than a site may take") from None

    def _pages(self, site: SiteData, proposals: list[ProposalEntry]) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        words = {language: self.words(language) for language in site.languages}
        for language in site.languages:
            files.update(self._language(site, language, words[language], proposals))
        landing = self._render("landing.html.j2", site=site, languages=site.languages, words=words)
        files["index.html"] = landing.encode("utf-8")
        files[STYLESHEET] = self.stylesheet()
        return files

    def _language(
        self, site: SiteData, language: str, words: Any, proposals: list[ProposalEntry]
    ) -> Iterable[tuple[str, bytes]]:
        common = {
            "site": site,
            "lang": language,
            "dir": DIRECTIONS[language],
            "w": words,
            "others": [other for other in site.languages if other != language],
            "language_names": LANGUAGE_NAMES,
            "sections": SECTIONS,
        }

        def page(path: str, template: str, section: str, **context: Any) -> tuple[str, bytes]:
            depth = path.count("/")
            up = "../" * depth
            html = self._render(template, **common, page=section, up=up, root=up + "../", here=path, **context)
            return f"{language}/{path}", html.encode("utf-8")

        yield page("index.html", "home.html.j2", "home")
        rows = [Markup(self._render("register_row.html.j2", p=p, lang=language, w=words, up="")) for p in proposals]
        states = [state for state, _ in site.counts]
        order_keys: dict[str, Callable[[int], Any]] = {
            "ref": lambda i: i,
            "title": lambda i: (proposals[i].title.casefold(), i),
            "organization": lambda i: (proposals[i].organization.casefold(), i),
            "date": lambda i: (proposals[i].submitted_on, i),
            "state": lambda i: (states.index(proposals[i].state) if proposals[i].state in states else 99, i),
        }
        for key, file in ORDERS:
            order = sorted(range(len(proposals)), key=order_keys[key])
            grouped: list[tuple[str, Markup]] = []
            previous = None
            for i in order:
                state = proposals[i].state
                grouped.append((state if key == "state" and state != previous else "", rows[i]))
                previous = state
            yield page(
                file, "register.html.j2", "register",
                rows=grouped, order=key, orders=ORDERS, order_files=dict(ORDERS),
            )  # fmt: skip
        groups = [(o, [p for p in proposals if p.decision.outcome == o]) for o in OUTCOMES]
        yield page(
            "response.html",
            "response.html.j2",
            "response",
            groups=[(o, ps) for o, ps in groups if ps],
            docx=RESPONSE_DOCX.format(lang=language),
        )
        sectors = [(s, [m for m in site.members if m.sector == s]) for s in ("government", "civil-society", "private")]
        yield page("working-group.html", "working_group.html.j2", "group", sectors=[(s, m) for s, m in sectors if m])
        yield page("letters.html", "letters.html.j2", "letters")
        yield page("data.html", "data.html.j2", "data", resources=opendata.resources(site))
        yield page("verify.html", "verify.html.j2", "verify")
        for p in proposals:
            yield page(f"proposals/{p.ref}.html", "proposal.html.j2", "register", p=p)


def _template_frame(exc: BaseException, fallback: str) -> tuple[str, int | None]:
    # Jinja rewrites a rendering error's traceback so that template code shows as the template's
    # own file and line: the innermost such frame is where the template failed.
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return Path(frame.filename).name, frame.lineno
    return fallback, None
