"""Secrets at rest: workspaces' Slack tokens are stored encrypted (Fernet: AES-128-CBC with an
HMAC), under keys from SENTIBOT_SECRET_KEYS.

SENTIBOT_SECRET_KEYS is a comma-separated list of Fernet keys, newest first: the first
encrypts, every one decrypts (MultiFernet), so a key is rotated by putting a new one in front,
running `sentibot reencrypt`, and then dropping the old one.
"""

from __future__ import annotations

from typing import overload

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from sentibot.config.settings import Settings

PREFIX = "fernet:"


class SecretKeyError(ValueError):
    """SENTIBOT_SECRET_KEYS is missing, malformed, or lacks the key a stored value needs."""


class Cipher:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise SecretKeyError("SENTIBOT_SECRET_KEYS holds no key")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError as exc:
            raise SecretKeyError(
                "SENTIBOT_SECRET_KEYS must hold Fernet keys (make one with "
                "`sentibot new-secret-key`)"
            ) from exc

    @overload
    def encrypt(self, value: str) -> str: ...
    @overload
    def encrypt(self, value: None) -> None: ...
    def encrypt(self, value: str | None) -> str | None:
        if value is None or value.startswith(PREFIX):
            return value
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    @overload
    def decrypt(self, value: str) -> str: ...
    @overload
    def decrypt(self, value: None) -> None: ...
    def decrypt(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value  # not yet encrypted (before the migration ran)
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored token was encrypted with a key SENTIBOT_SECRET_KEYS no longer holds"
            ) from exc

    def rotate(self, value: str | None) -> str | None:
        """`value` under the newest key."""
        if value is None:
            return None
        if not value.startswith(PREFIX):
            return self.encrypt(value)
        return PREFIX + self._fernet.rotate(value[len(PREFIX) :].encode()).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()


def cipher_for(settings: Settings) -> Cipher:
    return Cipher(settings.require("sentibot_secret_keys", "keeping workspaces' tokens encrypted"))


def optional_cipher(settings: Settings) -> Cipher | None:
    """The cipher where SENTIBOT_SECRET_KEYS is set; None where values are stored as given."""
    keys = settings.sentibot_secret_keys
    return Cipher(keys.get_secret_value()) if keys else None
