"""The merchants' webhook secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key of the service.

`MultiFernet` encrypts with the active key and decrypts with the active key, then the previous
ones: rotating the key means setting a new active key and moving the old one to the previous
keys; secrets encrypted under it keep working until they are re-encrypted (`rotate`).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from paysaga.platform.secrets import split_secrets

KEY_HINT = "32 random bytes, url-safe base64, e.g. the output of Fernet.generate_key()"


class SecretUndecryptable(Exception):
    """A stored secret that none of the keys decrypts (a key was dropped too early, or the data is corrupt)."""


def fernet_key(value: str) -> bytes:
    """`value` as a Fernet key (its base64 padding may be missing); ValueError if it is not one."""
    text = value.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError(f"not url-safe base64 ({KEY_HINT})") from None
    if len(raw) != 32:
        raise ValueError(f"decodes to {len(raw)} bytes, not 32 ({KEY_HINT})")
    return base64.urlsafe_b64encode(raw)


class SecretBox:
    """Encrypts new secrets with the active key; decrypts with the active key, then the previous ones."""

    def __init__(self, active: str, previous: list[str] | tuple[str, ...] = ()) -> None:
        self._fernet = MultiFernet([Fernet(fernet_key(k)) for k in (active, *previous)])

    @classmethod
    def of(cls, active: str, previous: str) -> SecretBox:
        """From the settings' values: the active key and the comma-separated previous keys."""
        return cls(active, split_secrets(previous))

    def encrypt(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            raise SecretUndecryptable("neither MERCHANT_CALLBACK_SECRETS_KEY nor a previous key decrypts it") from None

    def rotate(self, token: bytes) -> bytes:
        """The same secret encrypted under the active key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise SecretUndecryptable("neither MERCHANT_CALLBACK_SECRETS_KEY nor a previous key decrypts it") from None

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"
