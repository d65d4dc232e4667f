"""Right-to-left Word markup that python-docx does not expose, added in schema order.

See shared/notes/rtl-docx.md: in a paragraph with `w:bidi`, `w:jc` is read relative to the
paragraph's direction, so text that starts at the right needs no `w:jc` at all, and a block that
belongs on the left takes `end` (never python-docx's RIGHT, which would put Arabic on the left).
"""

from __future__ import annotations

from typing import Literal

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

Align = Literal["start", "end", "center", "both"]

# What may follow each element we add, per the WordprocessingML schema.
_AFTER_BIDI_IN_PPR = (
    "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing",
    "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
    "w:pPrChange",
)  # fmt: skip
_AFTER_SZCS_IN_RPR = (
    "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl",
    "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip
_AFTER_LANG_IN_RPR = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
_AFTER_BIDI_IN_SECTPR = ("w:rtlGutter", "w:docGrid", "w:printerSettings", "w:sectPrChange")


def _ensure(parent: BaseOxmlElement, tag: str, successors: tuple[str, ...]) -> BaseOxmlElement:
    found: BaseOxmlElement | None = parent.find(qn(tag))
    if found is None:
        found = OxmlElement(tag)
        parent.insert_element_before(found, *successors)
    return found


def set_paragraph_rtl(paragraph: Paragraph, align: Align = "start") -> None:
    """Make `paragraph` right to left (`w:bidi`) and place it; `start` leaves `w:jc` out."""
    p_pr = paragraph._p.get_or_add_pPr()
    _ensure(p_pr, "w:bidi", _AFTER_BIDI_IN_PPR)
    if align == "start":
        p_pr._remove_jc()
    else:
        p_pr.get_or_add_jc().set(qn("w:val"), align)


def set_run_rtl(run: Run, font: str, size: float, bold: bool = False, *, rtl: bool = True, lang: str = "ar-JO") -> None:
    """Give `run` `font` and `size` in both the Latin and complex-script slots; right to left
    unless `rtl` is False (an English letter).

    Word takes an Arabic run's font, size and weight from the complex-script properties
    (`w:rFonts/@w:cs`, `w:szCs`, `w:bCs`), not from the Latin ones.
    """
    if rtl:
        run.font.rtl = True
    run.font.size = Pt(size)
    if bold:
        run.font.bold = True
        run.font.cs_bold = True
    r_pr = run._r.get_or_add_rPr()
    fonts = r_pr.get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), font)
    _ensure(r_pr, "w:szCs", _AFTER_SZCS_IN_RPR).set(qn("w:val"), str(round(size * 2)))
    _ensure(r_pr, "w:lang", _AFTER_LANG_IN_RPR).set(qn("w:bidi" if rtl else "w:val"), lang)


def set_section_rtl(sect_pr: BaseOxmlElement) -> None:
    """Make a section right to left (columns, page numbering and gutter follow)."""
    _ensure(sect_pr, "w:bidi", _AFTER_BIDI_IN_SECTPR)
