"""What the workflow writes to the outside world: official letters as .docx, from templates.

The names below are loaded when first used (PEP 562), so that a command which only needs
`one_line` does not import Jinja2 and python-docx with the letter renderer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from documents.files import write_all_atomic, write_atomic
    from documents.letters import LetterRenderer
    from documents.request import LetterRequest, LetterTemplateError, RenderedLetter, template_name
    from documents.text import clean_block, clean_text, one_line, safe_filename, xml_safe

_HOMES = {
    "write_atomic": "documents.files",
    "write_all_atomic": "documents.files",
    "LetterRenderer": "documents.letters",
    "LetterRequest": "documents.request",
    "LetterTemplateError": "documents.request",
    "RenderedLetter": "documents.request",
    "template_name": "documents.request",
    "clean_block": "documents.text",
    "clean_text": "documents.text",
    "one_line": "documents.text",
    "safe_filename": "documents.text",
    "xml_safe": "documents.text",
}

__all__ = [
    "LetterRenderer",
    "LetterRequest",
    "LetterTemplateError",
    "RenderedLetter",
    "clean_block",
    "clean_text",
    "one_line",
    "safe_filename",
    "template_name",
    "write_all_atomic",
    "write_atomic",
    "xml_safe",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'documents' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # found once; later lookups do not come back here
    return value
