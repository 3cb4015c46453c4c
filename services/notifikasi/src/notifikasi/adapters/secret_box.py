"""Webhook secrets at rest: encrypted with a key from the configuration, never kept in clear.

A webhook's secret signs every delivery (HMAC), so the dispatcher needs it back: it is encrypted
(Fernet: AES-128-CBC with HMAC-SHA256), not hashed. The keys are ``NOTIFIKASI_SECRET_KEYS``
(comma-separated Fernet keys: the first encrypts, every one decrypts, so a key can be rotated by
putting the new one first); without them one key is derived from ``KINERJA_JWT_SECRET`` (HKDF,
its own purpose string), so a database copied without the configuration shows no secret.
Stored values read ``fernet:<token>``; a value without the prefix is a secret kept in clear by an
older version (the 0015 migration encrypts those).
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "fernet:"
PURPOSE = b"kinerja notifikasi webhook secrets v1"


class SecretUnreadable(Exception):
    """A stored secret no configured key opens (the keys changed?)."""


def derived_key(master: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(master.encode())
    return base64.urlsafe_b64encode(raw)


class SecretBox:
    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one key")
        self.fernet = MultiFernet([Fernet(k) for k in keys])

    @classmethod
    def from_config(cls, keys: str | None, master_secret: str) -> "SecretBox":
        """``keys``: comma-separated Fernet keys (``Fernet.generate_key()``), else one derived from
        ``master_secret`` (the JWT secret)."""
        listed = [k.strip().encode() for k in (keys or "").split(",") if k.strip()]
        return cls(listed or [derived_key(master_secret)])

    def seal(self, secret: str) -> str:
        return PREFIX + self.fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # kept in clear before encryption existed
        try:
            return self.fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("the webhook's secret cannot be decrypted with the configured keys") from None

    @staticmethod
    def sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)
