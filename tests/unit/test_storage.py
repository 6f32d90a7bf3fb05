"""The internal storage's contract, on a local directory, fsspec on a directory, and S3."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

import pytest

from lanner.exceptions import NotFoundError
from lanner.storage import FsspecStorage, LocalStorage, Storage, key_of
from lanner.storage.fsspec_storage import BLOCK

FOLDER = "/company/team/flow/executions/e1"


def test_put_then_read(any_storage: Storage) -> None:
    uri = any_storage.put(FOLDER, "a.txt", b"hello")

    assert uri == f"kestra://{FOLDER}/a.txt"
    assert any_storage.read(uri) == b"hello"
    assert any_storage.exists(uri)
    assert any_storage.size(uri) == 5


def test_put_keeps_only_the_last_segment_of_the_name(any_storage: Storage) -> None:
    uri = any_storage.put(FOLDER, "../../elsewhere/b.txt", b"b")

    assert uri == f"kestra://{FOLDER}/b.txt"
    assert any_storage.read(uri) == b"b"


def test_put_replaces_a_file(any_storage: Storage) -> None:
    uri = any_storage.put(FOLDER, "a.txt", b"old")
    any_storage.put(FOLDER, "a.txt", b"new content")

    assert any_storage.read(uri) == b"new content"
    assert any_storage.size(uri) == 11


def test_an_empty_file(any_storage: Storage) -> None:
    uri = any_storage.put(FOLDER, "empty", b"")

    assert any_storage.exists(uri)
    assert any_storage.read(uri) == b""
    assert any_storage.size(uri) == 0


def test_a_large_file_streams_both_ways(any_storage: Storage) -> None:
    # Larger than one block: S3 takes it as a multipart upload, read back in ranges.
    part = os.urandom(1 << 20)
    count = BLOCK // len(part) + 3
    uri = f"kestra://{FOLDER}/big.bin"
    with any_storage.open_write(uri) as handle:
        for _ in range(count):
            handle.write(part)

    assert any_storage.size(uri) == count * len(part)
    with any_storage.open_read(uri) as stream:
        chunks = iter(lambda: stream.read(len(part)), b"")
        assert all(chunk == part for chunk in chunks)


@pytest.mark.parametrize("written", [19, BLOCK + 1024], ids=["small", "multipart"])
def test_a_failed_write_keeps_no_new_content(any_storage: Storage, written: int) -> None:
    uri = any_storage.put(FOLDER, "a.txt", b"old")

    def write_then_fail() -> None:
        with any_storage.open_write(uri) as handle:
            handle.write(b"n" * written)
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        write_then_fail()

    names = [entry.name for entry in any_storage.children(key_of(f"kestra://{FOLDER}"))]
    if writes_in_place(any_storage):
        assert not any_storage.exists(uri)
        assert names == []
    else:
        # A local directory renames a finished file into place; S3 aborts the upload.
        assert any_storage.read(uri) == b"old"
        assert names == ["a.txt"]


def writes_in_place(storage: Storage) -> bool:
    """Say whether the storage is fsspec on a local disk, which writes files in place."""
    return isinstance(storage, FsspecStorage) and "LocalFileSystem" in type(storage.fs).__name__


def test_a_missing_file_is_not_found(any_storage: Storage) -> None:
    uri = f"kestra://{FOLDER}/missing.txt"
    message = re.escape(f"Unable to find file '{uri}'")

    assert not any_storage.exists(uri)
    with pytest.raises(NotFoundError, match=message):
        any_storage.read(uri)
    with pytest.raises(NotFoundError, match=message):
        any_storage.open_read(uri)
    with pytest.raises(NotFoundError, match=message):
        any_storage.size(uri)


def test_a_folder_is_not_a_file(any_storage: Storage) -> None:
    any_storage.put(f"{FOLDER}/sub", "a.txt", b"a")
    uri = f"kestra://{FOLDER}/sub"

    assert not any_storage.exists(uri)
    with pytest.raises(NotFoundError, match=re.escape(f"Unable to find file '{uri}'")):
        any_storage.read(uri)
    with pytest.raises(NotFoundError):
        any_storage.size(uri)


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("kestra:///a/b.txt", "a/b.txt"),
        ("kestra://a/b.txt", "a/b.txt"),
        ("kestra:////a//b/./c/", "a/b/c"),
        ("kestra:///./a/.hidden/..x", "a/.hidden/..x"),
        ("kestra:///", ""),
        ("kestra://", ""),
    ],
)
def test_key_of_normalises_like_a_posix_path(uri: str, key: str) -> None:
    assert key_of(uri) == key
    assert key == "/".join(PurePosixPath(uri[len("kestra://") :].lstrip("/")).parts)


BAD_URIS = [
    ("parent", "kestra:///company/../../etc/passwd", "'..' is not allowed in a storage URI"),
    ("parent-last", "kestra:///company/..", "'..' is not allowed in a storage URI"),
    ("file-scheme", "file:///etc/passwd", "not an internal storage URI: file:///etc/passwd"),
    ("plain-path", "/etc/passwd", "not an internal storage URI: /etc/passwd"),
]


@pytest.mark.parametrize(
    ("uri", "message"), [b[1:] for b in BAD_URIS], ids=[b[0] for b in BAD_URIS]
)
def test_uris_outside_the_storage_are_refused(any_storage: Storage, uri: str, message: str) -> None:
    for operation in (
        any_storage.read,
        any_storage.open_read,
        any_storage.exists,
        any_storage.size,
        any_storage.list_folders,
        any_storage.delete,
        lambda uri: any_storage.open_write(uri).__enter__(),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            operation(uri)


def test_list_folders(any_storage: Storage) -> None:
    any_storage.put(f"{FOLDER}/tasks/b/1", "out.ion", b"1")
    any_storage.put(f"{FOLDER}/tasks/a/2", "out.ion", b"2")
    any_storage.put(f"{FOLDER}/tasks", "file.txt", b"not a folder")

    assert any_storage.list_folders(f"kestra://{FOLDER}/tasks") == ["a", "b"]
    assert any_storage.list_folders(f"kestra://{FOLDER}/tasks/") == ["a", "b"]
    assert any_storage.list_folders(f"kestra://{FOLDER}/missing") == []
    assert any_storage.list_folders(f"kestra://{FOLDER}/tasks/file.txt") == []


def test_delete_a_file_and_a_folder(any_storage: Storage) -> None:
    kept = any_storage.put(f"{FOLDER}/kept", "k.txt", b"k")
    single = any_storage.put(FOLDER, "single.txt", b"s")
    inner = any_storage.put(f"{FOLDER}/gone/deep", "a.txt", b"a")

    any_storage.delete(single)
    any_storage.delete(f"kestra://{FOLDER}/gone")
    any_storage.delete(f"kestra://{FOLDER}/never-was")

    assert not any_storage.exists(single)
    assert not any_storage.exists(inner)
    assert any_storage.list_folders(f"kestra://{FOLDER}") == ["kept"]
    assert any_storage.read(kept) == b"k"


def test_the_root_cannot_be_deleted(any_storage: Storage) -> None:
    with pytest.raises(ValueError, match="the root of the internal storage cannot be deleted"):
        any_storage.delete("kestra:///")


def test_download_and_upload_copy_local_files(any_storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 100_000)

    uri = any_storage.upload(source, FOLDER, "copy.bin")
    any_storage.download(uri, tmp_path / "back.bin")

    assert uri == f"kestra://{FOLDER}/copy.bin"
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    with pytest.raises(NotFoundError, match="Unable to find file"):
        any_storage.download(f"kestra://{FOLDER}/missing", tmp_path / "missing")


# -- keys: what namespace files are built on --------------------------------------------------


def test_folders_and_children(any_storage: Storage) -> None:
    any_storage.make_folder("ns/empty")
    any_storage.put("/ns/full", "f.txt", b"abc")

    entries = {entry.name: entry for entry in any_storage.children("ns")}
    empty, full = entries["empty"], entries["full"]
    stat = any_storage.stat("ns/full/f.txt")

    assert set(entries) == {"empty", "full"}
    assert (empty.key, empty.is_dir, full.is_dir) == ("ns/empty", True, True)
    assert any_storage.children("ns/empty") == []
    assert stat is not None
    assert (stat.key, stat.name, stat.is_dir, stat.size) == ("ns/full/f.txt", "f.txt", False, 3)
    assert stat.modified > 1_600_000_000
    assert any_storage.stat("ns/nothing") is None
    assert any_storage.files_under("ns") == ["ns/full/f.txt"]


def test_an_empty_folder_lives_until_removed(any_storage: Storage) -> None:
    any_storage.make_folder("a/b")
    any_storage.make_folder("a/b")

    entry = any_storage.stat("a/b")
    assert entry is not None
    assert entry.is_dir
    any_storage.remove("a/b")
    assert any_storage.stat("a/b") is None


def test_rename_a_file_and_a_folder(any_storage: Storage) -> None:
    any_storage.put("/src", "one.txt", b"1")
    any_storage.put("/src/sub", "two.txt", b"2")
    any_storage.make_folder("src/empty")
    any_storage.put("/", "lone.txt", b"lone")

    any_storage.rename("src", "dst/moved")
    any_storage.rename("lone.txt", "far/away.txt")

    assert any_storage.stat("src") is None
    assert sorted(any_storage.files_under("dst")) == ["dst/moved/one.txt", "dst/moved/sub/two.txt"]
    assert any_storage.read("kestra:///dst/moved/sub/two.txt") == b"2"
    empty = any_storage.stat("dst/moved/empty")
    assert empty is not None
    assert empty.is_dir
    assert any_storage.read("kestra:///far/away.txt") == b"lone"
    assert any_storage.stat("lone.txt") is None


def test_keys_with_dot_dot_are_refused(any_storage: Storage) -> None:
    with pytest.raises(ValueError, match=r"'\.\.' is not allowed in a storage key: a/\.\./b"):
        any_storage.stat("a/../b")


def test_a_write_creates_the_folders_it_lacks(any_storage: Storage) -> None:
    folder = f"{FOLDER}/tasks/get/run1"
    assert any_storage.stat(key_of(f"kestra://{folder}")) is None

    uri = any_storage.put(folder, "exchange.har", b"{}")

    assert any_storage.read(uri) == b"{}"
    assert [entry.name for entry in any_storage.children(key_of(f"kestra://{folder}"))] == [
        "exchange.har"
    ]


def test_a_write_into_a_folder_that_exists_keeps_what_it_holds(any_storage: Storage) -> None:
    any_storage.make_folder(key_of(f"kestra://{FOLDER}/tasks"))
    first = any_storage.put(f"{FOLDER}/tasks", "one.txt", b"1")

    second = any_storage.put(f"{FOLDER}/tasks", "two.txt", b"2")

    assert (any_storage.read(first), any_storage.read(second)) == (b"1", b"2")
    names = sorted(entry.name for entry in any_storage.children(key_of(f"kestra://{FOLDER}/tasks")))
    assert names == ["one.txt", "two.txt"]


def test_a_local_write_under_a_file_fails_and_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    storage.put("/a", "file", b"not a folder")

    # The folder to write into is that file, then a folder below it.
    with pytest.raises(FileExistsError):
        storage.put("/a/file", "x.txt", b"x")
    with pytest.raises(NotADirectoryError):
        storage.put("/a/file/below", "x.txt", b"x")

    assert sorted(os.listdir(tmp_path / "storage" / "a")) == ["file"]
    assert storage.read("kestra:///a/file") == b"not a folder"
