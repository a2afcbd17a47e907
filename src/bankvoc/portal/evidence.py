"""Evidence a customer uploads: a few files, each of a known kind and within the size limit.

The kind is read from the file's first bytes, never taken from its name or from what the
browser claims, and the stored content type is the one found: a page, script or program
renamed `receipt.pdf` is refused. Accepted: PDF, JPEG, PNG, GIF and WebP (receipts, statements,
screenshots, photos). Stored through the cases feature's attachment storage (by content, with
its checksum and an event on the case).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bankvoc.cases import attachments
from bankvoc.cases.models import Case
from bankvoc.core.settings import get_settings
from bankvoc.orgs.service import Actor
from bankvoc.portal.errors import PortalInvalid

FIELD = "evidence"
# (content type, the bytes a file of that kind starts with).
SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("application/pdf", b"%PDF-"),
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF87a"),
    ("image/gif", b"GIF89a"),
)
KINDS = "PDF, JPG, PNG, GIF, WebP"


@dataclass(frozen=True)
class Upload:
    """One file as the form sent it."""

    filename: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type of a file of an accepted kind, from its first bytes; None otherwise."""
    for content_type, magic in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def max_bytes() -> int:
    settings = get_settings()
    return min(settings.portal_file_max_bytes, settings.attachment_max_bytes)


def check(uploads: list[Upload]) -> list[PortalInvalid]:
    """What is wrong with the files (an empty list when nothing is): too many, empty, too large
    or of a kind not accepted, each naming the file."""
    settings = get_settings()
    limit = max_bytes()
    problems: list[PortalInvalid] = []
    if len(uploads) > settings.portal_max_files:
        problems.append(PortalInvalid(FIELD, "file_count", max=settings.portal_max_files))
        return problems
    for upload in uploads:
        name = attachments.clean_filename(upload.filename)
        if not upload.data:
            problems.append(PortalInvalid(FIELD, "file_empty", name=name))
        elif len(upload.data) > limit:
            problems.append(PortalInvalid(FIELD, "file_size", name=name,
                                          max=f"{limit / 1024 / 1024:.0f} MB"))
        elif sniff(upload.data) is None:
            problems.append(PortalInvalid(FIELD, "file_type", name=name, kinds=KINDS))
    return problems


def store(session: Session, *, actor: Actor, case: Case, uploads: list[Upload]) -> int:
    """Attach the (checked) files to the case, each content once; returns how many were new."""
    present = {a.sha256 for a in attachments.list_attachments(session, actor=actor, case=case)}
    added = 0
    for upload in uploads:
        digest = hashlib.sha256(upload.data).hexdigest()
        if digest in present:
            continue
        attachments.add_attachment(session, actor=actor, case=case, filename=upload.filename,
                                   content_type=sniff(upload.data),
                                   stream=io.BytesIO(upload.data))
        present.add(digest)
        added += 1
    return added
