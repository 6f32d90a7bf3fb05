"""Which storage the settings open: `LANNER_STORAGE`, `LANNER_STORAGE_OPTIONS`, `--storage`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lanner.server import where_data_is
from lanner.settings import Settings
from lanner.storage import (
    FsspecStorage,
    LocalStorage,
    open_storage,
    storage_at,
    storage_location,
)
from lanner.storage.config import shown


def test_the_default_is_the_storage_folder_of_the_home(tmp_path: Path) -> None:
    storage = open_storage(Settings.load(home=tmp_path, environ={}))

    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "storage"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/srv/lanner-files", Path("/srv/lanner-files")),
        ("relative/files", Path("relative/files")),
        ("~/files", Path("~/files").expanduser()),
        ("file:///srv/lanner-files", Path("/srv/lanner-files")),
        ("FILE:///srv/x", Path("/srv/x")),
    ],
)
def test_a_path_or_file_url_is_a_local_directory(url: str, expected: Path) -> None:
    storage = open_storage(Settings.load(home="/home", environ={"LANNER_STORAGE": url}))

    assert isinstance(storage, LocalStorage)
    assert storage.root == expected


def test_an_s3_url_opens_fsspec_with_the_options() -> None:
    options = {"endpoint_url": "http://127.0.0.1:9", "key": "k", "secret": "s"}
    environ = {
        "LANNER_STORAGE": "s3://bucket/some/prefix/",
        "LANNER_STORAGE_OPTIONS": json.dumps(options),
    }

    storage = open_storage(Settings.load(home="/home", environ=environ))

    assert isinstance(storage, FsspecStorage)
    assert storage.root == "bucket/some/prefix"
    assert storage.location == "s3://bucket/some/prefix/"
    assert storage.fs.endpoint_url == "http://127.0.0.1:9"


def test_any_fsspec_url_works(tmp_path: Path) -> None:
    storage = storage_at("memory://lanner-test-files")
    uri = storage.put("/a", "b.txt", b"in memory")

    assert isinstance(storage, FsspecStorage)
    assert storage.read(uri) == b"in memory"


NOT_JSON = (
    "LANNER_STORAGE_OPTIONS must be a JSON object, but it is not valid JSON: "
    "Expecting property name enclosed in double quotes at line 1 column 2"
)
NOT_AN_OBJECT = (
    "LANNER_STORAGE_OPTIONS must be a JSON object of fsspec options, such as "
    '{"endpoint_url": "http://127.0.0.1:9000"}, not an array'
)
BAD_OPTIONS = [
    ("not-json", "{endpoint_url", NOT_JSON),
    ("array", '["secret-value"]', NOT_AN_OBJECT),
    ("string", '"secret-value"', "not a string"),
    ("number", "12", "not a number"),
]


@pytest.mark.parametrize(
    ("text", "message"), [b[1:] for b in BAD_OPTIONS], ids=[b[0] for b in BAD_OPTIONS]
)
def test_options_must_be_a_json_object(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^LANNER_STORAGE_OPTIONS must be a JSON object") as error:
        Settings.load(home="/home", environ={"LANNER_STORAGE_OPTIONS": text})

    assert message in str(error.value)
    assert "secret-value" not in str(error.value)


def test_options_with_a_local_directory_are_refused() -> None:
    environ = {"LANNER_STORAGE": "/srv/files", "LANNER_STORAGE_OPTIONS": '{"key": "k"}'}
    settings = Settings.load(home="/home", environ=environ)

    message = (
        "storage '/srv/files' is a local directory, which takes no options: "
        "unset LANNER_STORAGE_OPTIONS or give an fsspec URL such as s3://bucket/prefix"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        open_storage(settings)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://relative/x", "storage 'file://relative/x': a file:// URL needs an absolute path"),
        (
            "nosuchproto://bucket/x",
            "storage 'nosuchproto://bucket/x': Protocol not known: nosuchproto",
        ),
        ("s3://", "storage 's3://': the URL names no bucket or folder"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        storage_at(url)


def test_a_backend_refusing_its_options_is_named() -> None:
    # fsspec's backends mostly pass unknown options on silently; a missing one is refused.
    message = "storage 'reference://': ReferenceFileSystem.__init__() missing 1 required"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        storage_at("reference://")


def test_credentials_in_a_url_are_never_shown(tmp_path: Path) -> None:
    url = "ftp://user:secret-value@files.example/lanner"
    settings = Settings.load(
        home=tmp_path,
        environ={"LANNER_STORAGE": url, "LANNER_STORAGE_OPTIONS": '{"password": "other-secret"}'},
    )

    assert shown(url) == "ftp://***@files.example/lanner"
    assert storage_location(settings) == "ftp://***@files.example/lanner"
    assert where_data_is(settings) == f"data in {tmp_path}, files in ftp://***@files.example/lanner"
    assert "other-secret" not in repr(settings)
