"""The built UI under src/lanner/ui/static/ is the build of the current ui/ source.

scripts/build-ui records a hash of ui/ in build-info.json (ui/tools/source-hash.ts); this test
recomputes it with the same rules, so editing the UI without rebuilding fails here, with no
Node.js needed to check.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from lanner.ui import build_info, static_dir

UI_SOURCE = Path(__file__).resolve().parents[2] / "ui"


def source_files(root: Path) -> list[str]:
    """List ui/ files as the build does: no node_modules, nothing dot-named, POSIX paths."""
    files: list[str] = []
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(part == "node_modules" or part.startswith(".") for part in parts):
            continue
        if path.is_file():
            files.append("/".join(parts))
    return sorted(files)


def source_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for name in source_files(root):
        content = (root / name).read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()


def test_the_build_records_how_it_hashed_the_source() -> None:
    assert build_info().get("algorithm") == "sha256-tree-v1"


def test_the_built_ui_is_up_to_date_with_its_source() -> None:
    recorded = build_info().get("sourceHash")
    assert recorded == source_hash(UI_SOURCE), (
        "src/lanner/ui/static/ was built from another ui/ source: run scripts/build-ui"
    )


def test_the_hash_covers_the_sources_but_not_installed_packages() -> None:
    files = source_files(UI_SOURCE)
    assert "package-lock.json" in files
    assert "index.html" in files
    assert any(name.startswith("src/") for name in files)
    assert not any("node_modules" in name for name in files)


def test_index_html_references_only_assets_that_exist() -> None:
    index = (static_dir() / "index.html").read_text(encoding="utf-8")
    references = re.findall(r'(?:src|href)="/ui/([^"]+)"', index)
    assert any(name.endswith(".js") for name in references)
    for name in references:
        assert (static_dir() / name).is_file(), name
