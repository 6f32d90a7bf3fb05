"""The web UI's built assets (made from ui/ by scripts/build-ui; no Node.js at run time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).parent / "static"
BUILD_INFO = "build-info.json"


def static_dir() -> Path:
    """Return the directory holding index.html and the hashed assets."""
    return STATIC_DIR


def build_info() -> dict[str, Any]:
    """Return what the build recorded (the source hash), or an empty dict without a build."""
    try:
        info: dict[str, Any] = json.loads((STATIC_DIR / BUILD_INFO).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return info
