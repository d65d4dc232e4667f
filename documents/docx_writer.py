"""Fast, deterministic .docx assembly: a skeleton built once, one `document.xml` written per letter.

python-docx builds the skeleton (page, styles, the first-page letterhead header with the logo, the
page-number footer, right-to-left defaults) once per letter style. Each letter then only needs its
body paragraphs as XML and its core properties, zipped with the skeleton's other parts under fixed
timestamps, so the same letter always has the same bytes and no .docx is parsed per letter.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from documents.package import CUSTOM, Parts, custom_properties, declare_custom_part
from documents.rtl import Align, set_paragraph_rtl, set_run_rtl, set_section_rtl
from documents.text import xml_safe

_DOCUMENT = "word/document.xml"
_CORE = "docProps/core.xml"
# Parts of python-docx's default template that a letter does not need and that only add weight.
_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
_DROPPED_DOCUMENT_RELS = {_STYLES_WITH_EFFECTS, RT.CUSTOM_XML, RT.WEB_SETTINGS, RT.NUMBERING}
_DROPPED_PACKAGE_RELS = {RT.THUMBNAIL}


@dataclass(frozen=True)
class LetterStyle:
    """What is the same for every letter of one look: language, font, letterhead, logo."""

    rtl: bool
    font: str
    size: float
    letterhead: tuple[str, ...]
    logo: bytes | None = None
    lang: str = "ar-JO"


@dataclass(frozen=True)
class Para:
    """One paragraph of a letter's body."""

    text: str
    align: Align = "start"
    bold: bool = False
    size: float | None = None
    space_after: float = 6
    first_line_indent_cm: float = 0
    # A block set in from the paragraph's start (the right in Arabic), with a tab stop in it, so
    # that the labels and the values of the reference block line up as on a typed letter.
    start_indent_cm: float = 0
    tab_cm: float = 0


class Skeleton:
    """The parts of a letter that do not change from one letter to the next."""

    def __init__(self, style: LetterStyle) -> None:
        self.style = style
        document = Document()
        package = document.part.package
        for rel_id, rel in list(document.part.rels.items()):
            if rel.reltype in _DROPPED_DOCUMENT_RELS:
                document.part.drop_rel(rel_id)
        for rel_id, rel in list(package.rels.items()):
            if rel.reltype in _DROPPED_PACKAGE_RELS:
                package.rels.pop(rel_id)
        self._style_defaults(document)
        section = document.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin, section.bottom_margin = Cm(1.5), Cm(2)
        section.header_distance = section.footer_distance = Cm(1)
        if style.rtl:
            set_section_rtl(section._sectPr)
        # The letterhead belongs to the first page only, as on a ministry's printed paper.
        section.different_first_page_header_footer = True
        header = section.first_page_header
        first = header.paragraphs[0]
        if style.logo:
            self._place(first, "center")
            first.add_run().add_picture(io.BytesIO(style.logo), height=Cm(2.2))
            first = header.add_paragraph()
        for index, line in enumerate(style.letterhead):
            paragraph = first if index == 0 else header.add_paragraph()
            self._place(paragraph, "center")
            self._run(paragraph, line, bold=True, size=16 if index == 0 else 14)
        for footer in (section.footer, section.first_page_footer):
            self._page_number(footer.paragraphs[0])
        _prune_styles(document, [header._element, section.footer._element, section.first_page_footer._element])
        document.core_properties.title = ""  # make sure the core-properties part exists
        buffer = io.BytesIO()
        document.save(buffer)
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
            self.parts = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
        self.parts = [(name, declare_custom_part(name, data)) for name, data in self.parts]
        self.parts.append((CUSTOM, custom_properties({})))
        xml = dict(self.parts)[_DOCUMENT].decode("utf-8")
        head, _, rest = xml.partition("<w:body>")
        section_xml = rest[rest.index("<w:sectPr") : rest.rindex("</w:body>")]
        self._document_head = head + "<w:body>"
        self._document_tail = section_xml + "</w:body></w:document>"

    def _style_defaults(self, document: object) -> None:
        normal = document.styles["Normal"]  # type: ignore[attr-defined]
        normal.font.name = self.style.font
        normal.font.size = Pt(self.style.size)
        r_pr = normal.element.get_or_add_rPr()
        r_pr.get_or_add_rFonts().set(qn("w:cs"), self.style.font)

    def _place(self, paragraph: Paragraph, align: Align) -> None:
        if self.style.rtl:
            set_paragraph_rtl(paragraph, align)
        elif align == "center":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(0)

    def _run(self, paragraph: Paragraph, text: str, *, bold: bool = False, size: float | None = None) -> None:
        run = paragraph.add_run(xml_safe(text))
        set_run_rtl(run, self.style.font, size or self.style.size, bold, rtl=self.style.rtl, lang=self.style.lang)

    def _page_number(self, paragraph: Paragraph) -> None:
        self._place(paragraph, "center")
        run = paragraph.add_run()
        set_run_rtl(run, self.style.font, 11, rtl=self.style.rtl, lang=self.style.lang)
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
            if kind:
                element = OxmlElement("w:fldChar")
                element.set(qn("w:fldCharType"), kind)
            elif text == " PAGE ":
                element = OxmlElement("w:instrText")
                element.set(qn("xml:space"), "preserve")
                element.text = text
            else:
                element = OxmlElement("w:t")
                element.text = text
            run._r.append(element)

    def paragraph_xml(self, para: Para) -> str:
        """A body paragraph as WordprocessingML, its text escaped for XML."""
        style = self.style
        size = round((para.size or style.size) * 2)
        p_pr = ""
        if para.tab_cm:
            position = round((para.start_indent_cm + para.tab_cm) * 567)
            p_pr += f'<w:tabs><w:tab w:val="start" w:pos="{position}"/></w:tabs>'
        p_pr += "<w:bidi/>" if style.rtl else ""
        p_pr += f'<w:spacing w:after="{round(para.space_after * 20)}"/>'
        if para.first_line_indent_cm:
            p_pr += f'<w:ind w:firstLine="{round(para.first_line_indent_cm * 567)}"/>'
        elif para.start_indent_cm:  # w:left is the leading edge: the right of a right-to-left paragraph
            p_pr += f'<w:ind w:left="{round(para.start_indent_cm * 567)}"/>'
        align: str = para.align
        if not style.rtl and align == "end":  # Word 2007 reads 'right', not 'end', in a left-to-right letter
            align = "right"
        if align != "start":
            p_pr += f'<w:jc w:val="{align}"/>'
        if not para.text:
            return f"<w:p><w:pPr>{p_pr}</w:pPr></w:p>"
        font = escape(style.font, {'"': "&quot;"})
        r_pr = f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:cs="{font}"/>'
        if para.bold:
            r_pr += "<w:b/><w:bCs/>"
        r_pr += f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>'
        if style.rtl:
            r_pr += "<w:rtl/>"
        r_pr += f'<w:lang w:bidi="{style.lang}"/>' if style.rtl else f'<w:lang w:val="{style.lang}"/>'
        pieces = [f'<w:t xml:space="preserve">{escape(xml_safe(piece))}</w:t>' for piece in para.text.split("\t")]
        return f"<w:p><w:pPr>{p_pr}</w:pPr><w:r><w:rPr>{r_pr}</w:rPr>{'<w:tab/>'.join(pieces)}</w:r></w:p>"

    def assemble(self, paragraphs: list[Para], *, title: str, issued_on: dt.date) -> Parts:
        """The letter's parts, in package order; `zip_parts` makes the .docx of them."""
        body = "".join(self.paragraph_xml(p) for p in paragraphs)
        replaced = {
            _DOCUMENT: (self._document_head + body + self._document_tail).encode("utf-8"),
            _CORE: _core_properties(title, issued_on),
        }
        return [(name, replaced.get(name, data)) for name, data in self.parts]


def _prune_styles(document: Any, parts: list[Any]) -> None:
    """Drop the styles a letter never uses: python-docx's default template defines 164 (mostly
    table styles, 350 kB), and every letter would carry and compress them."""
    styles = document.styles.element
    by_id = {style.get(qn("w:styleId")): style for style in styles.findall(qn("w:style"))}
    keep = {sid for sid, style in by_id.items() if style.get(qn("w:default")) in ("1", "true")}
    for part in parts:
        for tag in ("w:pStyle", "w:rStyle", "w:tblStyle"):
            keep.update(element.get(qn("w:val")) for element in part.iter(qn(tag)))
    pending = list(keep)
    while pending:  # and what those styles are based on or linked to
        style = by_id.get(pending.pop())
        if style is None:
            continue
        for tag in ("w:basedOn", "w:link", "w:next"):
            element = style.find(qn(tag))
            if element is not None and element.get(qn("w:val")) not in keep:
                keep.add(element.get(qn("w:val")))
                pending.append(element.get(qn("w:val")))
    for sid, style in by_id.items():
        if sid not in keep:
            styles.remove(style)


def _core_properties(title: str, issued_on: dt.date) -> bytes:
    stamp = f"{issued_on.isoformat()}T00:00:00Z"
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(xml_safe(title))}</dc:title><dc:creator></dc:creator>"
        "<cp:lastModifiedBy></cp:lastModifiedBy><cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()


# A letterhead logo is a few hundred pixels across; beyond this a file is not a logo.
MAX_IMAGE_PIXELS = 10_000


def check_image(data: bytes) -> str:
    """The image's content type if Word can show it in a letterhead; ValueError if not (not an
    image, an empty image such as 0×0, or one larger than `MAX_IMAGE_PIXELS` on a side)."""
    try:
        image = Image.from_blob(data)
        kind, width, height = str(image.content_type), int(image.px_width), int(image.px_height)
    except Exception as exc:  # a truncated or odd file fails in many ways inside the parsers
        # Their messages are for programmers (an empty UnrecognizedImageError, a struct error):
        # the coordinator is told what the file is not, by the caller.
        raise ValueError("its content is not one of these image formats") from exc
    if width < 1 or height < 1:
        raise ValueError(f"it is {width}×{height} pixels: an empty image")
    if width > MAX_IMAGE_PIXELS or height > MAX_IMAGE_PIXELS:
        raise ValueError(f"it is {width}×{height} pixels; at most {MAX_IMAGE_PIXELS} on a side")
    return kind
