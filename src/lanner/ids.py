"""Identifiers in Kestra's style: 22 base62 characters from 128 bits.

Most are random. Some are derived from what asked for them (`derived_id`): an executor that
dies before its decision is sent decides it again, and must then name the same execution.
"""

from __future__ import annotations

import hashlib
import json
import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 22  # 62**22 > 2**128, so every 128-bit number fits


def new_id() -> str:
    """Return a new random 22-character base62 identifier."""
    return _base62(secrets.randbits(128))


def derived_id(kind: str, *parts: str | int | None) -> str:
    """Return the identifier of `kind` for these parts: the same parts, the same identifier.

    128 bits of a SHA-256 digest: distinct parts (or kinds) give distinct identifiers, with the
    same odds of a clash as two random ones.
    """
    # JSON keeps the parts apart: ("a", "bc") and ("ab", "c") are different texts.
    text = json.dumps([kind, *parts], separators=(",", ":"))
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return _base62(int.from_bytes(digest[:16], "big"))


def _base62(number: int) -> str:
    chars = []
    for _ in range(_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
