"""Files around a script: its working directory, the files put in it, the files taken out.

Every script task run gets a fresh temporary directory (`{{ workingDir }}`), removed with its
content when the task run ends, however it ends. Into it go the namespace files, the
`inputFiles` and a local copy of each `kestra://` file a command names; out of it come the
`outputFiles` (glob patterns, relative to the directory) and the files of `{{ outputDir }}`,
stored in internal storage under the task run's folder.

Paths are matched with Java's glob syntax, as Kestra matches them: `*` and `?` stay inside one
folder, `**` crosses folders, `[abc]` is a class and `{a,b}` an alternative.

Everything here is blocking file I/O: the tasks call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lanner.exceptions import NotFoundError, TaskError
from lanner.namespace_files import NamespaceFiles
from lanner.storage import SCHEME

if TYPE_CHECKING:
    from lanner.context import RunContext

_STORAGE_URI = re.compile(r"kestra://[-\w._+~#=/]*")


class WorkingDirectory:
    """The temporary directory of one script task run, with its optional output folder."""

    def __init__(self, with_output_dir: bool) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="lanner-script-"))
        self.output_dir: Path | None = None
        if with_output_dir:
            # A random name, as Kestra's, so that a script cannot rely on a fixed one.
            self.output_dir = Path(tempfile.mkdtemp(prefix="output-", dir=self.path))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def check_relative(path: str, what: str) -> None:
    """Refuse a file name that is absolute or leaves the working directory."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not path or path.startswith(("/", "./")) or ".." in parts:
        raise TaskError(f"Invalid {what} (only relative path is supported) for path '{path}'")


# -- files in --------------------------------------------------------------------------------


def write_input_files(ctx: RunContext, root: Path, files: Mapping[str, str | None]) -> None:
    """Write each input file: the content given, or a copy of the `kestra://` file it names."""
    for name, content in files.items():
        check_relative(name, "inputFile")
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            target.touch()
        elif content.startswith(SCHEME):
            _copy_from_storage(ctx, content, target, f"the input file '{name}'")
        else:
            target.write_text(content, encoding="utf-8")


def localize_uris(ctx: RunContext, root: Path, text: str) -> str:
    """Replace each `kestra://` URI in a command by the path of a local copy of its file."""

    def local_copy(match: re.Match[str]) -> str:
        uri = match.group(0)
        digest = hashlib.sha1(uri.encode()).hexdigest()[:12]
        target = root / f"{digest}-{PurePosixPath(uri).name}"
        if not target.exists():
            _copy_from_storage(ctx, uri, target, "a command")
        return str(target)

    return _STORAGE_URI.sub(local_copy, text)


def _copy_from_storage(ctx: RunContext, uri: str, target: Path, used_by: str) -> None:
    try:
        ctx.storage.download(uri, target)
    except ValueError as exc:
        raise TaskError(f"Invalid storage URI '{uri}' in {used_by}: {exc}") from exc
    except NotFoundError:
        raise TaskError(f"Unable to find the file '{uri}' used by {used_by}") from None


def copy_namespace_files(
    ctx: RunContext, root: Path, include: Iterable[str], exclude: Iterable[str]
) -> int:
    """Copy the flow's namespace files (those `include` keeps and `exclude` does not) to root."""
    namespace = ctx.flow.namespace
    files = NamespaceFiles(ctx.storage)
    include, exclude = list(include), list(exclude)
    copied = 0
    for path in files.all_files(namespace):
        relative = path.lstrip("/")
        if include and not matches_any(relative, include):
            continue
        if matches_any(relative, exclude):
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files.read(namespace, path))
        copied += 1
    return copied


# -- files out -------------------------------------------------------------------------------


def upload_output_files(ctx: RunContext, root: Path, patterns: Iterable[str]) -> dict[str, str]:
    """Store the files of the working directory that match a pattern; name -> `kestra://` URI."""
    patterns = list(patterns)
    for pattern in patterns:
        check_relative(pattern, "outputFile")
    found: dict[str, str] = {}
    for local in sorted(root.rglob("*")):
        relative = local.relative_to(root).as_posix()
        if local.is_file() and matches_any(relative, patterns):
            found[relative] = _store(ctx, local, relative)
    return found


def upload_output_dir(ctx: RunContext, output_dir: Path) -> dict[str, str]:
    """Store every file of the output directory; its path there -> `kestra://` URI."""
    return {
        local.relative_to(output_dir).as_posix(): _store(
            ctx, local, local.relative_to(output_dir).as_posix()
        )
        for local in sorted(output_dir.rglob("*"))
        if local.is_file()
    }


def _store(ctx: RunContext, local: Path, relative: str) -> str:
    folder = ctx.folder()
    # Two outputs may share a file name in different folders: the prefix keeps them apart.
    digest = hashlib.sha1(relative.encode()).hexdigest()[:12]
    return ctx.storage.upload(local, folder, f"{digest}-{local.name}")


# -- globs -----------------------------------------------------------------------------------


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """Say whether a relative `/`-separated path matches one of the glob patterns."""
    return any(glob_regex(pattern).fullmatch(path) for pattern in patterns)


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a Java-style glob (`*`, `**`, `?`, `[...]`, `{a,b}`) to a regular expression."""
    out: list[str] = []
    index, depth = 0, 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                raise TaskError(f"Invalid glob pattern '{pattern}': '[' is never closed")
            body = pattern[index + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            index = end
        elif char == "{":
            out.append("(?:")
            depth += 1
        elif char == "}" and depth:
            out.append(")")
            depth -= 1
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        index += 1
    if depth:
        raise TaskError(f"Invalid glob pattern '{pattern}': '{{' is never closed")
    return re.compile("".join(out))
