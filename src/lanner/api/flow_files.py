"""Flow sources in and out of files: a ZIP archive of YAML files, or one multi-document YAML."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from lanner.exceptions import LannerError
from lanner.store import FlowRecord
from lanner.yamlsource import split_documents

__all__ = ["Upload", "read_upload", "zip_sources"]

# What an uploaded archive may expand to: the request size limit does not bound it.
MAX_EXPANDED_BYTES = 64 * 1024 * 1024
_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class Upload:
    """The flow sources of an uploaded file, each with a name, and the entries not readable."""

    sources: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def read_upload(data: bytes) -> Upload:
    """Read a ZIP archive of `.yml`/`.yaml` files, or else YAML text (documents named by index)."""
    buffer = io.BytesIO(data)
    if zipfile.is_zipfile(buffer):
        return _read_archive(zipfile.ZipFile(buffer))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LannerError("The file is neither a ZIP archive nor UTF-8 YAML text") from exc
    return Upload([(str(doc.index), doc.text) for doc in split_documents(text)])


def _read_archive(archive: zipfile.ZipFile) -> Upload:
    entries = [
        e for e in archive.infolist() if not e.is_dir() and e.filename.endswith(_YAML_SUFFIXES)
    ]
    if sum(entry.file_size for entry in entries) > MAX_EXPANDED_BYTES:
        raise LannerError(f"The archive expands to more than {MAX_EXPANDED_BYTES} bytes")
    upload = Upload()
    for entry in entries:
        try:
            upload.sources.append((entry.filename, archive.read(entry).decode("utf-8")))
        except (UnicodeDecodeError, zipfile.BadZipFile):
            upload.unreadable.append(entry.filename)
    return upload


def zip_sources(records: Iterable[FlowRecord]) -> bytes:
    """Return a ZIP archive holding each flow's source as `<namespace>.<id>.yml`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in records:
            archive.writestr(f"{record.namespace}.{record.id}.yml", record.source)
    return buffer.getvalue()
