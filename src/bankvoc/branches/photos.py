"""Photos of a visit: stored by content (SHA-256) under `data_dir/inspection_photos`, accepted
only when their bytes are a JPEG, PNG or WebP image (what the browser calls the file does not
count) and no larger than `MAX_BYTES`."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from bankvoc.core.errors import BankvocError, Invalid
from bankvoc.core.settings import get_settings

MAX_BYTES = 10 * 1024 * 1024
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")


class PhotoTooLarge(BankvocError):
    status = 413
    code = "too_large"


class NotAnImage(Invalid):
    code = "not_an_image"


def storage_root() -> Path:
    return get_settings().data_dir / "inspection_photos"


def path_for(digest: str) -> Path:
    return storage_root() / digest[:2] / digest


def sniff(data: bytes) -> str | None:
    """The image type the bytes are (by their magic numbers), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(data: bytes, *, limit: int = MAX_BYTES) -> str:
    """The content type of an acceptable photo, or the error saying why it is refused."""
    if not data:
        raise Invalid("the photo is empty", field="photos")
    if len(data) > limit:
        raise PhotoTooLarge(f"a photo may be at most {limit // (1024 * 1024)} MB",
                            field="photos")
    found = sniff(data)
    if found is None:
        raise NotAnImage("only JPEG, PNG and WebP photos are accepted", field="photos")
    return found


def store(data: bytes) -> str:
    """Write the photo (once per content); returns its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if target.is_file():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, target)
    return digest


def read(digest: str) -> bytes | None:
    """The stored photo's bytes, None when missing or no longer matching its checksum."""
    path = path_for(digest)
    if not path.is_file():
        return None
    data = path.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == digest else None
