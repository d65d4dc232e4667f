"""A .docx's bytes as a package of parts, with the standard library alone: the deterministic ZIP
every letter is written as, its custom properties, and reading one back (the content digest the
audit trail records, and the properties naming the entry that wrote it).

Kept apart from the letter writer (documents/docx_writer.py, python-docx) so that `ogp audit
verify` and `letters verify`, which only read letters, never import python-docx or Jinja2
(issue 13).
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from documents.text import xml_safe

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# The one part a letter's digest leaves out: its custom properties, which name the audit entry that
# wrote it (and so cannot be part of what that entry records).
CUSTOM = "docProps/custom.xml"
_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the format id Word gives user-defined properties
MAX_PACKAGE_BYTES = 20 * 1024 * 1024
Parts = list[tuple[str, bytes]]


def declare_custom_part(name: str, data: bytes) -> bytes:
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
