"""A letter as plain data, on either side of the renderer (documents/letters.py): what the workflow
asks for (`LetterRequest`, naming the letter it `Replaces`), what comes back (`RenderedLetter`),
and the error a template gives (`LetterTemplateError`).

Standard library only, so that the workflow's reading paths (`ogp status`, `proposal show`,
`interview list`, `audit verify`) can name them without importing Jinja2 or python-docx (issue 13).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from documents.package import Parts, content_digest, with_properties, zip_parts


class LetterTemplateError(Exception):
    """A template is missing, broken, or failed while rendering; names the template and line."""

    def __init__(self, template: str, line: int | None, problem: str) -> None:
        self.template, self.line, self.problem = template, line, problem
        where = f"{template}, line {line}" if line else template
        super().__init__(f"template {where}: {problem}")

    def __reduce__(self) -> tuple[type[LetterTemplateError], tuple[str, int | None, str]]:
        return (type(self), (self.template, self.line, self.problem))


@dataclass(frozen=True)
class Replaces:
    """An earlier letter a new one takes the place of (a moved interview, say)."""

    reference: str
    issued_on: dt.date


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
    replaces: Replaces | None = None


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
