"""Identifiers in Kestra's style: 22 base62 characters from 128 random bits."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 22  # 62**22 > 2**128, so every 128-bit number fits


def new_id() -> str:
    """Return a new random 22-character base62 identifier."""
    number = secrets.randbits(128)
    chars = []
    for _ in range(_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))
