"""Namespace files: paths, escapes, reading, writing, moving, deleting, archives.

They run on every kind of internal storage (`any_storage`); what only a directory has
(symbolic links, the files on disk) is tested on `LocalStorage`.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lanner.exceptions import IllegalStateError, LannerError, NotFoundError
from lanner.namespace_files import (
    PATH_PATTERN,
    FileType,
    NamespaceFiles,
    flow_file_name,
    normalize,
    unzip,
)
from lanner.storage import LocalStorage, Storage

NS = "company.team"


@pytest.fixture
def files(any_storage: Storage) -> NamespaceFiles:
    return NamespaceFiles(any_storage)


@pytest.fixture
def local_files(tmp_path: Path) -> NamespaceFiles:
    return NamespaceFiles(LocalStorage(tmp_path / "storage"))


def folder_of(tmp_path: Path, namespace: str = NS) -> Path:
    """The directory of a namespace's files in `local_files`."""
    return tmp_path / "storage" / "namespaces" / namespace / "_files"


NORMAL = [
    (None, "/"),
    ("", "/"),
    ("/", "/"),
    ("a.txt", "/a.txt"),
    ("/a//b/./c/", "/a/b/c"),
    ("/dir/ space.txt", "/dir/ space.txt"),
    ("/..data/x..y", "/..data/x..y"),
]


@pytest.mark.parametrize(("path", "expected"), NORMAL, ids=[str(path) for path, _ in NORMAL])
def test_normalize(path: str | None, expected: str) -> None:
    assert normalize(path) == expected


ESCAPES = [
    ("parent", "/.."),
    ("parent-relative", "../outside.txt"),
    ("parent-inside", "/a/../../b"),
    ("parent-last", "/a/.."),
    ("backslash", "..\\..\\outside.txt"),
    ("nul", "/a\0b"),
    ("long-name", "/" + "x" * 256),
]


@pytest.mark.parametrize("path", [path for _, path in ESCAPES], ids=[name for name, _ in ESCAPES])
def test_normalize_refuses_escapes_and_bad_names(path: str) -> None:
    with pytest.raises(LannerError, match="Invalid path"):
        normalize(path)


PATTERN_SAMPLES = [
    *(path for path, _ in NORMAL if path is not None),
    *(path for _, path in ESCAPES if len(path) < 100),
    *["...", ".", ".a", "..a", "a..", "/.../..", "../", ".\\.", "a\n", "/_flows/x"],
]


@pytest.mark.parametrize("path", PATTERN_SAMPLES)
def test_the_documented_pattern_accepts_what_normalize_accepts(path: str) -> None:
    try:
        normalize(path)
        accepted = True
    except LannerError:
        accepted = False

    assert bool(re.fullmatch(PATH_PATTERN, path)) is accepted


@pytest.mark.parametrize("path", [path for _, path in ESCAPES], ids=[name for name, _ in ESCAPES])
def test_no_operation_accepts_an_escaping_path(files: NamespaceFiles, path: str) -> None:
    operations: list[Callable[[], object]] = [
        lambda: files.read(NS, path),
        lambda: files.write(NS, path, b"x"),
        lambda: files.stats(NS, path),
        lambda: files.listing(NS, path),
        lambda: files.make_directory(NS, path),
        lambda: files.delete(NS, path),
        lambda: files.move(NS, path, "/b"),
        lambda: files.move(NS, "/b", path),
    ]
    files.write(NS, "/b", b"b")
    for operation in operations:
        with pytest.raises(LannerError, match="Invalid path"):
            operation()


def test_an_absolute_path_stays_inside_the_namespace(
    local_files: NamespaceFiles, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")

    local_files.write(NS, str(secret), b"mine")

    assert secret.read_text() == "secret"
    assert local_files.read(NS, str(secret)) == b"mine"
    assert (folder_of(tmp_path) / str(secret).lstrip("/")).is_file()


def test_a_symbolic_link_out_of_the_namespace_is_refused(
    local_files: NamespaceFiles, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    folder_of(tmp_path).mkdir(parents=True)
    (folder_of(tmp_path) / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(LannerError, match="leads outside the namespace"):
        local_files.read(NS, "/link/secret.txt")
    with pytest.raises(LannerError, match="leads outside the namespace"):
        local_files.write(NS, "/link/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_a_symbolic_link_to_another_namespace_is_refused(
    local_files: NamespaceFiles, tmp_path: Path
) -> None:
    local_files.write("other", "/secret.txt", b"theirs")
    folder_of(tmp_path).mkdir(parents=True)
    (folder_of(tmp_path) / "link").symlink_to(folder_of(tmp_path, "other"))

    with pytest.raises(LannerError, match="leads outside the namespace"):
        local_files.read(NS, "/link/secret.txt")


@pytest.mark.parametrize("namespace", ["..", "a/b", "Company", "", "-team", "a\0", "a" * 151])
def test_invalid_namespaces_are_refused(files: NamespaceFiles, namespace: str) -> None:
    with pytest.raises(LannerError, match="Invalid namespace"):
        files.read(namespace, "/a.txt")


@pytest.mark.parametrize("path", ["/_flows", "/_flows/hello.yml", "_flows/sub/x"])
def test_the_flows_folder_is_reserved(files: NamespaceFiles, path: str) -> None:
    with pytest.raises(LannerError, match="Forbidden path"):
        files.write(NS, path, b"x")
    with pytest.raises(LannerError, match="Forbidden path"):
        files.read(NS, path)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/_flows/hello.yml", "hello.yml"),
        ("_flows//x.yaml", "x.yaml"),
        ("/_flows", None),
        ("/_flows/a/b.yml", None),
        ("/other/hello.yml", None),
    ],
)
def test_flow_file_name(path: str, name: str | None) -> None:
    assert flow_file_name(path) == name


# -- reading and writing ----------------------------------------------------------------------


def test_write_then_read(files: NamespaceFiles) -> None:
    files.write(NS, "/scripts/etl.py", b"print(1)")
    files.write(NS, "/scripts/etl.py", b"print(2)")

    assert files.read(NS, "scripts/etl.py") == b"print(2)"
    assert files.read(NS, "/scripts//etl.py") == b"print(2)"
    assert [info.file_name for info in files.listing(NS, "/scripts")] == ["etl.py"]


def test_a_replaced_file_leaves_nothing_beside_it_on_disk(
    local_files: NamespaceFiles, tmp_path: Path
) -> None:
    local_files.write(NS, "/scripts/etl.py", b"print(1)")
    local_files.write(NS, "/scripts/etl.py", b"print(2)")

    assert [p.name for p in (folder_of(tmp_path) / "scripts").iterdir()] == ["etl.py"]


def test_namespaces_do_not_share_files(files: NamespaceFiles) -> None:
    files.write(NS, "/a.txt", b"mine")

    with pytest.raises(NotFoundError):
        files.read("company", "/a.txt")
    with pytest.raises(NotFoundError):
        files.read("company.team.sub", "/a.txt")


def test_reading_what_is_not_a_file(files: NamespaceFiles) -> None:
    files.make_directory(NS, "/dir")

    with pytest.raises(NotFoundError, match=r"File '/nope\.txt' was not found in namespace"):
        files.read(NS, "/nope.txt")
    with pytest.raises(NotFoundError, match="File '/dir' was not found"):
        files.read(NS, "/dir")


def test_a_file_and_a_folder_cannot_take_each_others_place(files: NamespaceFiles) -> None:
    files.write(NS, "/file", b"x")
    files.make_directory(NS, "/dir")

    with pytest.raises(IllegalStateError, match="'/dir' is a directory"):
        files.write(NS, "/dir", b"x")
    with pytest.raises(IllegalStateError, match="is a directory"):
        files.write(NS, "/", b"x")
    with pytest.raises(IllegalStateError, match="'/file' is a file, not a directory"):
        files.write(NS, "/file/inner.txt", b"x")
    with pytest.raises(IllegalStateError, match="'/file' is a file, not a directory"):
        files.make_directory(NS, "/file/sub")


def test_stats(files: NamespaceFiles) -> None:
    files.write(NS, "/dir/data.csv", b"a,b\n")

    data = files.stats(NS, "/dir/data.csv")
    folder = files.stats(NS, "/dir")
    root = files.stats("fresh", None)

    assert (data.file_name, data.type, data.size) == ("data.csv", FileType.File, 4)
    assert data.last_modified_time > 1_600_000_000_000
    assert data.creation_time > 1_600_000_000_000
    assert (folder.file_name, folder.type, folder.size) == ("dir", FileType.Directory, 0)
    assert (root.file_name, root.type) == ("_files", FileType.Directory)
    assert set(data.to_json()) == {
        "fileName",
        "type",
        "size",
        "lastModifiedTime",
        "creationTime",
    }
    with pytest.raises(NotFoundError):
        files.stats(NS, "/missing")


def test_listing(files: NamespaceFiles) -> None:
    files.write(NS, "/b.txt", b"b")
    files.write(NS, "/a.txt", b"a")
    files.write(NS, "/z/inner.txt", b"z")
    files.make_directory(NS, "/y")

    assert files.listing("fresh") == []
    assert [(i.file_name, i.type) for i in files.listing(NS)] == [
        ("y", FileType.Directory),
        ("z", FileType.Directory),
        ("a.txt", FileType.File),
        ("b.txt", FileType.File),
    ]
    assert [i.file_name for i in files.listing(NS, "/z")] == ["inner.txt"]
    with pytest.raises(NotFoundError):
        files.listing(NS, "/missing")
    with pytest.raises(IllegalStateError, match="is a file, not a directory"):
        files.listing(NS, "/a.txt")


def test_search_matches_a_part_of_the_path(files: NamespaceFiles) -> None:
    for path in ("/file.txt", "/another_file.json", "/folder/file.txt", "/folder/sub/script.py"):
        files.write(NS, path, b"")
    files.make_directory(NS, "/empty_file_folder")

    assert files.search(NS, "file") == ["/another_file.json", "/file.txt", "/folder/file.txt"]
    assert files.search(NS, "folder") == ["/folder/file.txt", "/folder/sub/script.py"]
    assert files.search(NS, ".py") == ["/folder/sub/script.py"]
    assert files.search("fresh", "x") == []


# -- moving and deleting ----------------------------------------------------------------------


def test_move_a_file_and_a_folder(files: NamespaceFiles) -> None:
    files.write(NS, "/a.txt", b"a")
    files.write(NS, "/dir/inner.txt", b"i")

    files.move(NS, "/a.txt", "/renamed/b.txt")
    files.move(NS, "/dir", "/other")

    assert files.read(NS, "/renamed/b.txt") == b"a"
    assert files.read(NS, "/other/inner.txt") == b"i"
    assert files.all_files(NS) == ["/other/inner.txt", "/renamed/b.txt"]


MOVES = [
    ("target-exists", "/a.txt", "/b.txt", "already exists"),
    ("into-itself", "/dir", "/dir/sub", "inside itself"),
    ("root", "/", "/x", "root folder"),
    ("onto-root", "/a.txt", "/", "root folder"),
]


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [(source, target, message) for _, source, target, message in MOVES],
    ids=[name for name, *_ in MOVES],
)
def test_refused_moves(files: NamespaceFiles, source: str, target: str, message: str) -> None:
    files.write(NS, "/a.txt", b"a")
    files.write(NS, "/b.txt", b"b")
    files.make_directory(NS, "/dir")

    with pytest.raises(IllegalStateError, match=message):
        files.move(NS, source, target)
    assert files.read(NS, "/b.txt") == b"b"


def test_moving_what_does_not_exist(files: NamespaceFiles) -> None:
    with pytest.raises(NotFoundError):
        files.move(NS, "/nope", "/there")


def test_delete_a_file_removes_the_folders_it_leaves_empty(files: NamespaceFiles) -> None:
    files.write(NS, "/deep/er/file.txt", b"x")
    files.write(NS, "/kept/one.txt", b"1")
    files.write(NS, "/kept/two.txt", b"2")

    files.delete(NS, "/deep/er/file.txt")
    files.delete(NS, "/kept/one.txt")

    assert [info.file_name for info in files.listing(NS)] == ["kept"]
    assert files.all_files(NS) == ["/kept/two.txt"]
    assert files.stats(NS).type is FileType.Directory


def test_delete_a_folder_and_the_root(files: NamespaceFiles) -> None:
    files.write(NS, "/dir/a.txt", b"a")
    files.write(NS, "/dir/sub/b.txt", b"b")
    files.write(NS, "/c.txt", b"c")

    files.delete(NS, "/dir")
    assert files.all_files(NS) == ["/c.txt"]

    files.delete(NS, "/")
    assert files.all_files(NS) == []
    assert files.listing(NS) == []
    with pytest.raises(NotFoundError):
        files.delete(NS, "/c.txt")


# -- archives ---------------------------------------------------------------------------------


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_export_then_unzip_gives_the_same_files(files: NamespaceFiles) -> None:
    files.write(NS, "/a.txt", b"a")
    files.write(NS, "/dir/b.bin", bytes(range(256)))
    files.make_directory(NS, "/empty")

    archive = files.export(NS)

    assert zipfile.ZipFile(io.BytesIO(archive)).namelist() == ["a.txt", "dir/b.bin"]
    assert unzip(archive) == [("/a.txt", b"a"), ("/dir/b.bin", bytes(range(256)))]


def test_unzip_skips_folders(files: NamespaceFiles) -> None:
    assert unzip(zip_of({"dir/": b"", "dir/x.txt": b"x"})) == [("/dir/x.txt", b"x")]


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "..\\evil.txt"])
def test_unzip_refuses_entries_that_escape(name: str) -> None:
    with pytest.raises(LannerError, match="Invalid path"):
        unzip(zip_of({"fine.txt": b"ok", name: b"evil"}))


def test_unzip_refuses_an_archive_that_expands_too_much() -> None:
    archive = zip_of({"a.txt": b"0" * 600, "b.txt": b"0" * 600})

    assert len(unzip(archive, limit=1200)) == 2
    with pytest.raises(LannerError, match="expands to more than 1000 bytes"):
        unzip(archive, limit=1000)


def test_unzip_refuses_what_is_not_a_zip() -> None:
    with pytest.raises(LannerError, match="Invalid zip archive"):
        unzip(b"not a zip")
