"""An uploaded XLSX is checked before openpyxl opens it: a small zip can unpack into what no
web process should read.

An XLSX is a zip of XML. openpyxl holds every shared string (each distinct text of the
workbook) in memory and reads every byte of a sheet, so a 2 MB upload of 1,000,000 shared
strings takes seconds of CPU and hundreds of MB. `check_xlsx` refuses, with a message the
uploader can act on, a file whose members declare more than MAX_UNCOMPRESSED bytes in all
(zipfile never unpacks a member past its declared size: a member that lies is a broken
file), or whose shared strings part (found as openpyxl finds it, through
`[Content_Types].xml`) holds more than MAX_SHARED_STRINGS strings, counted as it unpacks,
stopping past the limit. A table of 100,000 clients stays well inside both."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from crm.errors import ValidationFailed
from crm.i18n import N_

__all__ = ["MAX_SHARED_STRINGS", "MAX_UNCOMPRESSED", "NOT_XLSX", "check_xlsx"]

MAX_UNCOMPRESSED = 250 * 1024**2
MAX_SHARED_STRINGS = 500_000
MAX_CONTENT_TYPES = 1024**2  # [Content_Types].xml lists a few dozen parts
CONTENT_TYPES = "[Content_Types].xml"
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)

NOT_XLSX = N_("This is not a readable XLSX file")
TOO_LARGE = N_(
    "The XLSX file is too large to import once unpacked: split it into smaller files or "
    "save it as CSV"
)
TOO_MANY_STRINGS = N_(
    "The XLSX file holds too many different texts to import: split it into smaller files "
    "or save it as CSV"
)

_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")  # <si> or <x:si ...>
_OVERLAP = 64  # bytes kept between chunks: a tag cut in two is counted once
_PART = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Override\b[^>]*>")
_ATTRIBUTE = re.compile(rb'\b(PartName|ContentType)\s*=\s*["\']([^"\']*)["\']')


def check_xlsx(path: Path) -> None:
    """ValidationFailed when the file is not a zip, or passes the limits above."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(member.file_size for member in members) > MAX_UNCOMPRESSED:
                raise ValidationFailed.field("file", TOO_LARGE)
            part = _shared_strings_part(archive)
            if part is not None and _count_strings(archive, part) > MAX_SHARED_STRINGS:
                raise ValidationFailed.field("file", TOO_MANY_STRINGS)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError):
        raise ValidationFailed.field("file", NOT_XLSX) from None


def _shared_strings_part(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The member openpyxl reads the shared strings from, if any."""
    try:
        listing = archive.getinfo(CONTENT_TYPES)
    except KeyError:
        return None  # openpyxl refuses such a file itself
    if listing.file_size > MAX_CONTENT_TYPES:
        raise ValidationFailed.field("file", NOT_XLSX)
    for override in _PART.findall(archive.read(listing)):
        attributes = dict(_ATTRIBUTE.findall(override))
        if attributes.get(b"ContentType", b"").decode(errors="replace") == SHARED_STRINGS_TYPE:
            name = attributes.get(b"PartName", b"").decode(errors="replace").lstrip("/")
            try:
                return archive.getinfo(name)
            except KeyError:
                return None
    return None


def _count_strings(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> int:
    """The `<si>` elements of the shared strings part, counted chunk by chunk; stops
    counting once past MAX_SHARED_STRINGS."""
    count = 0
    carry = b""
    with archive.open(part) as source:
        while chunk := source.read(1024**2):
            buffer = carry + chunk
            edge = len(buffer) - _OVERLAP
            count += sum(1 for m in _STRING.finditer(buffer) if m.start() < edge)
            carry = buffer[max(edge, 0) :]
            if count > MAX_SHARED_STRINGS:
                return count
    return count + len(_STRING.findall(carry))
