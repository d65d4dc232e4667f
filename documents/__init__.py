"""What the workflow writes to the outside world: official letters as .docx, from templates."""

from documents.files import write_atomic
from documents.letters import (
    LetterRenderer,
    LetterRequest,
    LetterTemplateError,
    RenderedLetter,
    template_name,
)
from documents.text import clean_block, clean_text, one_line, safe_filename, xml_safe

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
    "write_atomic",
    "xml_safe",
]
