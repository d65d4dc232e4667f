"""Fast, deterministic .docx assembly: a skeleton built once, one `document.xml` written per letter.

python-docx builds the skeleton (page, styles, the first-page letterhead header with the logo, the
page-number footer, right-to-left defaults) once per letter style. Each letter then only needs its
body paragraphs as XML and its core properties, zipped with the skeleton's other parts under fixed
timestamps, so the same letter always has the same bytes and no .docx is parsed per letter.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from documents.rtl import Align, set_paragraph_rtl, set_run_rtl, set_section_rtl
from documents.text import xml_safe

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_DOCUMENT = "word/document.xml"
_CORE = "docProps/core.xml"
# The one part a letter's digest leaves out: its custom properties, which name the audit entry that
# wrote it (and so cannot be part of what that entry records).
CUSTOM = "docProps/custom.xml"
_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the format id Word gives user-defined properties
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
Parts = list[tuple[str, bytes]]
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
        self.parts = [(name, _declare_custom_part(name, data)) for name, data in self.parts]
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


def _declare_custom_part(name: str, data: bytes) -> bytes:
    """The package's content types and relationships, with the custom-properties part declared."""
    if name == "[Content_Types].xml":
        override = f'<Override PartName="/{CUSTOM}" ContentType="{_CUSTOM_TYPE}"/>'
        return data.replace(b"</Types>", override.encode() + b"</Types>")
    if name == "_rels/.rels":
        relationship = f'<Relationship Id="rIdOgpCustom" Type="{_CUSTOM_REL}" Target="{CUSTOM}"/>'
        return data.replace(b"</Relationships>", relationship.encode() + b"</Relationships>")
    return data


def custom_properties(properties: dict[str, str]) -> bytes:
    """`docProps/custom.xml` with `properties` as text properties (Word: File › Properties › Custom)."""
    items = "".join(
        f'<property fmtid="{_CUSTOM_FMTID}" pid="{pid}" name="{escape(name, {chr(34): "&quot;"})}">'
        f"<vt:lpwstr>{escape(xml_safe(value))}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(sorted(properties.items()), start=2)
    )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{items}</Properties>"
    ).encode()


def with_properties(parts: Parts, properties: dict[str, str]) -> Parts:
    """`parts` with their custom properties replaced by `properties`."""
    return [(name, custom_properties(properties) if name == CUSTOM else data) for name, data in parts]


@functools.lru_cache(maxsize=256)
def _deflated(data: bytes) -> tuple[bytes, int]:
    """`data` deflated as a ZIP member holds it (raw deflate, zipfile's default level) and its
    CRC-32. Cached: the parts a letterhead's skeleton gives every letter (styles, theme, fonts,
    settings, header and footers) are deflated once, not once a letter."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data)


# The ZIP records zip_parts writes (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16), as zipfile writes them.
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_DOS_TIME = (_ZIP_TIME[3] << 11) | (_ZIP_TIME[4] << 5) | (_ZIP_TIME[5] // 2)
_DOS_DATE = ((_ZIP_TIME[0] - 1980) << 9) | (_ZIP_TIME[1] << 5) | _ZIP_TIME[2]


def zip_parts(parts: Parts) -> bytes:
    """A .docx of `parts`: deflated, fixed timestamps, so the same parts always give the same bytes
    (the bytes `zipfile` writes for them, record for record; tests/test_documents.py compares)."""
    out, central = bytearray(), bytearray()
    for name, data in parts:
        encoded = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8
        compressed, crc = _deflated(bytes(data))
        offset = len(out)
        out += _LOCAL.pack(0x04034B50, 20, flags, zipfile.ZIP_DEFLATED, _DOS_TIME, _DOS_DATE, crc,
                           len(compressed), len(data), len(encoded), 0)  # fmt: skip
        out += encoded
        out += compressed
        central += _CENTRAL.pack(
            0x02014B50, (3 << 8) | 20, 20, flags, zipfile.ZIP_DEFLATED, _DOS_TIME, _DOS_DATE,
            crc, len(compressed), len(data), len(encoded), 0, 0, 0, 0, 0o644 << 16, offset,
        )  # fmt: skip
        central += encoded
    start = len(out)
    out += central
    out += _END.pack(0x06054B50, 0, 0, len(parts), len(parts), len(central), start, 0)
    return bytes(out)


def repack(data: bytes) -> bytes:
    """A .docx another writer saved (python-docx stamps every part with the time it was saved),
    zipped again by `zip_parts`: the same document then always has the same bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return zip_parts([(info.filename, archive.read(info)) for info in archive.infolist()])


def content_digest(parts: Parts) -> str:
    """sha256 over every part but the custom properties, in name order, each framed by its name and
    length: what the audit trail records of a letter, however the file was zipped."""
    digest = hashlib.sha256()
    for name, data in sorted(parts):
        if name == CUSTOM:
            continue
        digest.update(f"{name}\n{len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class PackageReading:
    """What a .docx file says of itself: its content digest and its custom properties."""

    digest: str
    properties: dict[str, str]


@functools.lru_cache(maxsize=256)
def _inflated(compressed: bytes, size: int, crc: int) -> bytes | None:
    """A ZIP member's bytes from its raw deflate stream, or None unless they are exactly `size`
    bytes with CRC-32 `crc`. Cached, as `_deflated` is: the parts letters share are read once."""
    try:
        inflater = zlib.decompressobj(-15)
        data = inflater.decompress(compressed, size + 1)
    except zlib.error:
        return None
    if len(data) != size or not inflater.eof or inflater.unused_data or zlib.crc32(data) != crc:
        return None
    return data


def _own_zip(data: bytes) -> Parts | None:
    """The parts of a ZIP laid out exactly as `zip_parts` writes one (every letter this program
    stores), read with `struct` and `zlib` alone; None for any other layout, which `read_package`
    then reads with zipfile. A letter is read in a fraction of zipfile's time, which `audit
    verify` and `letters verify` spend on every letter of the plan."""
    try:
        signature, _, _, count, total, size, start, comment = _END.unpack_from(data, len(data) - _END.size)
        if signature != 0x06054B50 or count != total or comment or start + size != len(data) - _END.size:
            return None
        parts: Parts = []
        at, expected, unpacked = start, 0, 0
        for _ in range(count):
            (signature, _, need, flags, method, _, _, crc, packed, length, name_length, extra, note, disk, _, _,
             offset) = _CENTRAL.unpack_from(data, at)  # fmt: skip
            raw_name = data[at + _CENTRAL.size : at + _CENTRAL.size + name_length]
            at += _CENTRAL.size + name_length
            if signature != 0x02014B50 or need != 20 or method != zipfile.ZIP_DEFLATED or extra or note or disk:
                return None
            if flags not in (0, 0x800) or offset != expected or (flags == 0 and not raw_name.isascii()):
                return None
            local = _LOCAL.unpack_from(data, offset)
            if local != (0x04034B50, 20, flags, method, _DOS_TIME, _DOS_DATE, crc, packed, length, name_length, 0):
                return None
            begin = offset + _LOCAL.size
            if data[begin : begin + name_length] != raw_name:
                return None
            unpacked += length
            if unpacked > MAX_PACKAGE_BYTES:
                return None
            content = _inflated(data[begin + name_length : begin + name_length + packed], length, crc)
            if content is None:
                return None
            parts.append((raw_name.decode("utf-8"), content))
            expected = begin + name_length + packed
        if expected != start or at != start + size or len({name for name, _ in parts}) != len(parts):
            return None
        return parts
    except (struct.error, UnicodeDecodeError):
        return None


def read_package(data: bytes) -> PackageReading:
    """The digest and custom properties of a .docx's bytes; ValueError if they are not a .docx."""
    parts = _own_zip(data)
    if parts is None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                if sum(info.file_size for info in infos) > MAX_PACKAGE_BYTES:
                    raise ValueError(f"it unpacks to more than {MAX_PACKAGE_BYTES} bytes")
                parts = [(info.filename, archive.read(info)) for info in infos]
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ValueError(f"not a .docx ({exc})") from exc  # zlib.error: a damaged deflate stream
    properties: dict[str, str] = {}
    custom = dict(parts).get(CUSTOM)
    if custom:
        try:
            root = ElementTree.fromstring(custom)
        except ElementTree.ParseError as exc:
            raise ValueError(f"its custom properties are not XML ({exc})") from exc
        for item in root:
            value = "".join(item.itertext())
            properties[item.get("name", "")] = value
    return PackageReading(content_digest(parts), properties)


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
