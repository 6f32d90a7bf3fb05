"""Which internal storage a process opens: a local directory, or any fsspec URL.

`LANNER_STORAGE` (or `--storage`) names it: a plain path or `file:///path` is a local directory
(`LocalStorage`); any other URL (`s3://bucket/prefix`, `gs://...`, `memory://...`) goes to
fsspec with the options of `LANNER_STORAGE_OPTIONS` (`FsspecStorage`), whose names are first
checked for the backends lanner knows (`lanner.storage.options`). fsspec and its backends are
imported only for such a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lanner.settings import Settings
from lanner.storage.base import Storage
from lanner.storage.fsspec_storage import FsspecStorage
from lanner.storage.local import LocalStorage

_PROTOCOL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_storage(settings: Settings) -> Storage:
    """Open the storage the settings name; `storage` under the home directory by default."""
    url = settings.storage_url or str(settings.home / "storage")
    return storage_at(url, settings.storage_options)


def storage_location(settings: Settings) -> str:
    """Say where the settings put the storage, for people: credentials left out."""
    return shown(settings.storage_url) if settings.storage_url else str(settings.home / "storage")


def storage_at(url: str, options: Mapping[str, Any] | None = None) -> Storage:
    """Open the storage at a path or URL; ValueError saying what is wrong with them."""
    options = dict(options or {})
    match = _PROTOCOL.match(url)
    if match is None and "::" not in url:
        _refuse_options(url, options)
        return LocalStorage(Path(url).expanduser())
    if match is not None and match.group(1).lower() == "file":
        _refuse_options(url, options)
        path = url[match.end() :]
        if not path.startswith("/"):
            raise ValueError(f"storage '{url}': a file:// URL needs an absolute path (file:///srv)")
        return LocalStorage(Path(path))
    return _fsspec_storage(url, options)


def shown(url: str) -> str:
    """Return the URL without the user and password it may carry (`ftp://u:p@host/x`)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _refuse_options(url: str, options: Mapping[str, Any]) -> None:
    if options:
        raise ValueError(
            f"storage '{url}' is a local directory, which takes no options: "
            "unset LANNER_STORAGE_OPTIONS or give an fsspec URL such as s3://bucket/prefix"
        )


def _fsspec_storage(url: str, options: dict[str, Any]) -> Storage:
    where = shown(url)
    try:
        from fsspec.core import url_to_fs

        from lanner.storage.options import check_options
    except ImportError:
        raise ValueError(
            f"storage '{where}' needs fsspec: install lanner with the `s3` extra"
            " (pip install 'lanner[s3]'), or fsspec and the package of your backend"
        ) from None
    try:
        # fsspec backends drop most unknown options silently: the check refuses them first.
        check_options(url, options)
        fs, root = url_to_fs(url, **options)
    except ImportError as exc:
        # fsspec names the package the protocol needs ("Install s3fs to access S3").
        raise ValueError(f"storage '{where}': {exc}") from None
    except (ValueError, TypeError) as exc:
        # An unknown protocol, or an option the backend does not take (named, never its value).
        raise ValueError(f"storage '{where}': {exc}") from None
    if not str(root).strip("/"):
        raise ValueError(f"storage '{where}': the URL names no bucket or folder")
    return FsspecStorage(fs, str(root), where)
