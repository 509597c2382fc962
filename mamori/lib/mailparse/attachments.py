"""Attachments: name, size and SHA-256 of the decoded bytes; zip archives listed, never extracted."""

import hashlib
import io
import zipfile

from mamori.lib.mailparse.results import Attachment

MAX_ARCHIVE_MEMBERS = 1_000
ZIP_MAGIC = b"PK\x03\x04"
# The zip flag saying the names are UTF-8; without it Japanese Windows wrote them in CP932.
UTF8_NAMES = 0x800


def attachment_of(name: str, content_type: str, payload: bytes) -> tuple[Attachment, bool]:
    """The attachment, and whether it looked like a zip whose directory could not be read."""
    members: tuple[str, ...] = ()
    encrypted = unreadable = False
    if payload.startswith(ZIP_MAGIC) or name.lower().endswith(".zip"):
        listing = zip_listing(payload)
        if listing is None:
            unreadable = True
        else:
            members, encrypted = listing
    attachment = Attachment(
        name=name,
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        content_type=content_type,
        archive_members=members,
        archive_encrypted=encrypted,
    )
    return attachment, unreadable


def zip_listing(payload: bytes) -> tuple[tuple[str, ...], bool] | None:
    """Member names (at most MAX_ARCHIVE_MEMBERS) and whether any is encrypted (「PPAP」 zips); None when
    the central directory cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = archive.infolist()[:MAX_ARCHIVE_MEMBERS]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return None
    encrypted = any(member.flag_bits & 0x1 for member in members)
    return tuple(member_name(member) for member in members), encrypted


def member_name(member: zipfile.ZipInfo) -> str:
    name = member.filename
    if member.flag_bits & UTF8_NAMES or name.isascii():
        return name
    try:
        return name.encode("cp437").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name
