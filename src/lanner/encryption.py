"""AES-256-GCM encryption of texts, and Kestra's encrypted outputs.

The format is Kestra's: the base64 of a random 12-byte nonce followed by the ciphertext and its
tag, under a key given as the base64 of 32 bytes. The expression functions `encrypt` and
`decrypt` take the key as an argument; encrypted task outputs (`encryptBody: true`) use the
server's key, `LANNER_ENCRYPTION_KEY`, and are stored as `{type, value}` maps that are decrypted
when a later expression reads them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lanner.exceptions import ExpressionError

ENCRYPTED_TYPE = "io.kestra.datatype:aes_encrypted"
_NONCE_BYTES = 12


def _aes_key(key: Any) -> AESGCM:
    try:
        raw = base64.b64decode(str(key), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ExpressionError("The encryption key must be base64 text.") from exc
    if len(raw) != 32:
        raise ExpressionError(
            f"The encryption key must be 32 bytes (AES-256) once base64-decoded, not {len(raw)}."
        )
    return AESGCM(raw)


def seal(key: Any, plaintext: str) -> str:
    """Encrypt `plaintext`: the base64 of a random nonce followed by the ciphertext."""
    cipher = _aes_key(key)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = cipher.encrypt(nonce, plaintext.encode("utf-8"), None)
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(key: Any, encrypted: str) -> str:
    """Return the plaintext `seal` encrypted with the same key."""
    cipher = _aes_key(key)
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ExpressionError("Unable to decrypt: the encrypted text is not base64.") from exc
    if len(data) <= _NONCE_BYTES:
        raise ExpressionError("Unable to decrypt: the encrypted text is too short.")
    try:
        plain = cipher.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], None)
        return plain.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise ExpressionError("Unable to decrypt: wrong key or corrupt encrypted text.") from exc


def encrypted_output(value: str) -> dict[str, str]:
    """Return how an encrypted output is stored (Kestra's `EncryptedString`)."""
    return {"type": ENCRYPTED_TYPE, "value": value}


def is_encrypted(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") == ENCRYPTED_TYPE


def decrypt_outputs(value: Any, key: str | None, path: str = "outputs") -> Any:
    """Return `value` with every encrypted output inside replaced by its plaintext.

    Without a key, the stored value is returned as it is (Kestra logs a warning and does the
    same); maps holding nothing encrypted are returned unchanged, not copied.
    """
    if not isinstance(value, dict):
        return value
    if is_encrypted(value):
        stored = str(value.get("value", ""))
        if key is None:
            return stored
        try:
            return unseal(key, stored)
        except ExpressionError as exc:
            raise ExpressionError(f"Unable to decrypt '{path}': {exc.message}") from exc
    changed = {
        name: decrypted
        for name, item in value.items()
        if (decrypted := decrypt_outputs(item, key, f"{path}.{name}")) is not item
    }
    return {**value, **changed} if changed else value
