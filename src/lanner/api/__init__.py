"""lanner's HTTP API (Kestra-compatible)."""

from __future__ import annotations

from lanner.api.app import create_app

__all__ = ["create_app"]
