"""Personal data at rest: AES-GCM ciphertexts tagged with their key id, and keyed blind indexes.

The key ring comes from `BANKVOC_PII_KEY` as "id:base64key[,id:base64key…]": the first key
encrypts and indexes, every key decrypts and is searched, so keys can rotate without downtime.
Separate sub-keys for encryption and for the blind index are derived with HKDF, so knowing an
index never helps decrypt (PIPL art. 28: ID numbers and accounts are sensitive data).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bankvoc.core.errors import ConfigurationError, Invalid


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class _Key:
    key_id: str
    aead: AESGCM
    index_key: bytes


class KeyRing:
    def __init__(self, spec: str) -> None:
        self._keys: dict[str, _Key] = {}
        self._order: list[str] = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key_id, sep, encoded = part.partition(":")
            if not sep or not key_id.isalnum():
                raise ConfigurationError("BANKVOC_PII_KEY entries look like id:base64key",
                                         field="BANKVOC_PII_KEY")
            try:
                master = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise ConfigurationError(f"PII key {key_id!r} is not valid base64",
                                         field="BANKVOC_PII_KEY") from None
            if len(master) < 16:
                raise ConfigurationError(f"PII key {key_id!r} must hold at least 16 bytes",
                                         field="BANKVOC_PII_KEY")
            self._keys[key_id] = _Key(
                key_id=key_id,
                aead=AESGCM(_derive(master, b"bankvoc/pii/aes-gcm/v1")),
                index_key=_derive(master, b"bankvoc/pii/blind-index/v1"),
            )
            self._order.append(key_id)
        if not self._order:
            raise ConfigurationError("BANKVOC_PII_KEY holds no key", field="BANKVOC_PII_KEY")

    @property
    def active_id(self) -> str:
        return self._order[0]

    @property
    def key_ids(self) -> list[str]:
        """Every key id of the ring, the active one first."""
        return list(self._order)

    def encrypt(self, plaintext: str, *, field: str) -> str:
        """`key_id:base64(nonce|ciphertext)`; the field name is bound in as associated data."""
        key = self._keys[self.active_id]
        nonce = os.urandom(12)
        sealed = key.aead.encrypt(nonce, plaintext.encode(), field.encode())
        return f"{key.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, field: str) -> str:
        key_id, _, encoded = token.partition(":")
        key = self._keys.get(key_id)
        if key is None:
            raise ConfigurationError(f"no PII key {key_id!r} in the key ring",
                                     field="BANKVOC_PII_KEY")
        raw = base64.b64decode(encoded)
        try:
            return key.aead.decrypt(raw[:12], raw[12:], field.encode()).decode()
        except InvalidTag:
            raise Invalid(f"stored {field} failed its integrity check", field=field) from None

    def blind_index(self, normalised: str, *, field: str) -> str:
        return self._index(self._keys[self.active_id], normalised, field)

    def blind_indexes(self, normalised: str, *, field: str) -> list[str]:
        """The value's index under every key, for look-ups during a rotation."""
        return [self._index(self._keys[k], normalised, field) for k in self._order]

    @staticmethod
    def _index(key: _Key, normalised: str, field: str) -> str:
        digest = hmac.new(key.index_key, f"{field}\x00{normalised}".encode(), hashlib.sha256)
        return f"{key.key_id}:{digest.hexdigest()[:40]}"


@lru_cache(maxsize=4)
def keyring(spec: str) -> KeyRing:
    return KeyRing(spec)
