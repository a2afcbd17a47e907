"""Evidence on a case: files stored by content (SHA-256), their metadata and an event each."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bankvoc.cases.events import append_event
from bankvoc.cases.models import Attachment, Case
from bankvoc.core.errors import BankvocError, Invalid, NotFound
from bankvoc.core.settings import get_settings
from bankvoc.customers import disclosure
from bankvoc.customers.disclosure import DIRECT, Via
from bankvoc.orgs.service import Actor

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\-() \u4e00-\u9fff]+")


class TooLarge(BankvocError):
    status = 413
    code = "too_large"


def storage_root() -> Path:
    return get_settings().data_dir / "attachments"


def _path_for(digest: str) -> Path:
    return storage_root() / digest[:2] / digest


def clean_filename(name: str) -> str:
    """A display name without directories or control characters."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    return base[:200] or "file"


def _store(stream: BinaryIO, limit: int) -> tuple[str, int]:
    """Copy the upload into content-addressed storage; returns (sha256, size)."""
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=root, delete=False) as handle:
        try:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"file is larger than {limit} bytes", field="file")
                digest.update(chunk)
                handle.write(chunk)
        except BaseException:
            os.unlink(handle.name)
            raise
    target = _path_for(digest.hexdigest())
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(handle.name, target)  # same content, same file: storing twice is harmless
    return digest.hexdigest(), size


def add_attachment(
    session: Session,
    *,
    actor: Actor,
    case: Case,
    filename: str,
    content_type: str | None,
    stream: BinaryIO,
) -> Attachment:
    actor.require("case.attach")
    digest, size = _store(stream, get_settings().attachment_max_bytes)
    if size == 0:
        raise Invalid("file is empty", field="file")
    attachment = Attachment(case_id=case.id, filename=clean_filename(filename),
                            content_type=(content_type or "application/octet-stream")[:100],
                            size=size, sha256=digest, storage_key=f"{digest[:2]}/{digest}",
                            uploaded_by=actor.user_id)
    session.add(attachment)
    session.flush()
    append_event(session, case=case, type="attachment_added", actor_user_id=actor.user_id,
                 data={"attachment_id": attachment.id, "filename": attachment.filename,
                       "size": size, "sha256": digest})
    return attachment


def list_attachments(session: Session, *, actor: Actor, case: Case) -> list[Attachment]:
    actor.require("case.read")
    return list(session.scalars(
        select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)))


def open_attachment(session: Session, *, actor: Actor, case: Case, attachment_id: int,
                    via: Via = DIRECT) -> tuple[Attachment, Path]:
    """The attachment and its file, after checking the file still matches its checksum.
    Evidence is kept as it came (an ID card's scan, a statement): handing the file out is a
    disclosure of unmasked personal data, recorded through the route `via`."""
    actor.require("case.read")
    attachment = session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.case_id == case.id))
    if attachment is None:
        raise NotFound(f"no attachment {attachment_id} on {case.reference}", field="attachment")
    path = storage_root() / attachment.storage_key
    if not path.is_file() or _sha256_of(path) != attachment.sha256:
        raise Invalid("the stored file is missing or fails its checksum", field="attachment")
    disclosure.record(session, actor=actor, subject="attachment", via=via,
                      case_reference=case.reference,
                      customer_ids=[case.customer_id] if case.customer_id else [],
                      fields=["file"], detail=f"attachment {attachment.id}")
    return attachment, path


FileState = Literal["ok", "missing", "altered"]


def check_file(attachment: Attachment) -> FileState:
    """Whether the stored file of an attachment is there and still matches its checksum."""
    path = storage_root() / attachment.storage_key
    if not path.is_file():
        return "missing"
    return "ok" if _sha256_of(path) == attachment.sha256 else "altered"


def remove_unreferenced_files(session: Session, *, digests: Iterable[str],
                              grace_seconds: float = 3600.0) -> int:
    """Delete the stored files of `digests` that no attachment refers to any more (run it after
    the rows are gone for good, i.e. after the commit); returns how many were deleted.

    Files are stored by content, so one file may serve several attachments: it goes only with
    the last of them. A file written in the last `grace_seconds` is left alone: an upload of
    the same content stores its file before its row is committed.
    """
    wanted = sorted(set(digests))
    still_used: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        still_used.update(session.scalars(
            select(Attachment.sha256).where(Attachment.sha256.in_(chunk)).distinct()))
    removed = 0
    for digest in wanted:
        path = _path_for(digest)
        if digest in still_used or not path.is_file():
            continue
        if time.time() - path.stat().st_mtime < grace_seconds:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
