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


# The options s3, memory and local take are read from their signatures; values are never shown.
S3_TAKES = "it takes anon, endpoint_url, key, secret, token, use_ssl, client_kwargs, requester_pays"


@pytest.mark.parametrize(
    ("url", "name", "closest", "backend"),
    [
        ("s3://bucket/x", "endpoint_ur", "endpoint_url", "s3 (S3FileSystem)"),
        ("s3://bucket/x", "clientkwargs", "client_kwargs", "s3 (S3FileSystem)"),
        ("s3://bucket/x", "Endpoint_URL", "endpoint_url", "s3 (S3FileSystem)"),
        ("s3://bucket/x", "sekret", "secret", "s3 (S3FileSystem)"),
        ("memory://files", "global_stor", "global_store", "memory (MemoryFileSystem)"),
        ("memory://files", "use_listing_cache", "use_listings_cache", "memory (MemoryFileSystem)"),
        ("local:///srv/files", "auto_mkdr", "auto_mkdir", "local (LocalFileSystem)"),
    ],
)
def test_a_misspelled_option_names_the_closest_one(
    url: str, name: str, closest: str, backend: str
) -> None:
    options = {"key": "k", name: "secret-value"} if url.startswith("s3") else {name: "secret-value"}
    message = (
        f"storage '{url}': unknown option in LANNER_STORAGE_OPTIONS for {backend}: "
        f"'{name}' (did you mean '{closest}'?)"
    )

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$") as error:
        storage_at(url, options)

    assert "secret-value" not in str(error.value)


def test_an_option_like_none_lists_some_the_backend_takes() -> None:
    prefix = (
        "storage 's3://bucket/x': unknown option in LANNER_STORAGE_OPTIONS for s3 (S3FileSystem): "
        f"'colour'; {S3_TAKES}"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(prefix)} and [0-9]+ more$") as error:
        storage_at("s3://bucket/x", {"colour": "secret-value", "key": "k"})

    assert "secret-value" not in str(error.value)


def test_every_unknown_option_is_named() -> None:
    message = (
        "storage 'memory://files': unknown options in LANNER_STORAGE_OPTIONS for memory "
        "(MemoryFileSystem): 'colour', 'global_stor' (did you mean 'global_store'?); it takes "
        "global_store, use_listings_cache, listings_expiry_time, max_paths, skip_instance_cache, "
        "asynchronous, loop"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        storage_at("memory://files", {"colour": "blue", "global_stor": False})


@pytest.mark.parametrize(
    "options",
    [
        {"key": "k", "secret": "s", "endpoint_url": "http://127.0.0.1:9", "token": "t"},
        {"client_kwargs": {"region_name": "eu-west-1"}, "config_kwargs": {"retries": {}}},
        {"anon": True, "use_ssl": False, "default_block_size": 8 * 2**20},
        # s3fs passes on to fsspec's listings cache, and to botocore's session (`profile`).
        {"use_listings_cache": False, "listings_expiry_time": 5, "profile": "lanner"},
        # Read by fsspec's instance cache.
        {"skip_instance_cache": True},
    ],
    ids=["credentials", "clients", "connection", "caches-and-session", "instances"],
)
def test_the_options_s3fs_takes_are_accepted(options: dict[str, object]) -> None:
    storage = storage_at("s3://bucket/x", options)

    assert isinstance(storage, FsspecStorage)
    assert storage.root == "bucket/x"


@pytest.mark.parametrize("options", [{}, {"global_store": True, "use_listings_cache": False}])
def test_a_memory_store_takes_its_own_and_fsspec_options(options: dict[str, object]) -> None:
    storage = storage_at("memory://lanner-test-options", options)

    assert isinstance(storage, FsspecStorage)
    assert type(storage.fs).__name__ == "MemoryFileSystem"


def test_a_local_fsspec_url_takes_its_own_options(tmp_path: Path) -> None:
    storage = storage_at(f"local://{tmp_path}/files", {"auto_mkdir": True})

    assert isinstance(storage, FsspecStorage)
    assert type(storage.fs).__name__ == "LocalFileSystem"


@pytest.mark.parametrize(
    ("url", "options"),
    [
        # fsspec unpacks the options nested under the URL's protocol; the rest are still checked.
        ("s3://bucket/x", {"s3": {"endpoint_ur": "http://127.0.0.1:9"}, "key": "k"}),
        ("simplecache::s3://bucket/x", {"s3": {"endpoint_ur": "http://127.0.0.1:9", "key": "k"}}),
        ("simplecache::memory://lanner-test-chained", {"expiry_tim": 60}),
        # The `protocol` option replaces the URL's backend.
        ("s3://bucket/x", {"protocol": "memory", "global_stor": True}),
    ],
    ids=["nested", "chained-nested", "chained-top", "protocol"],
)
def test_chained_urls_and_nested_options_are_not_checked(
    url: str, options: dict[str, object]
) -> None:
    # Their names may go to a layer's **kwargs that takes any name: only plain URLs are checked.
    storage = storage_at(url, options)

    assert isinstance(storage, FsspecStorage)


def test_the_options_beside_those_nested_under_the_protocol_are_checked() -> None:
    message = (
        "storage 's3://bucket/x': unknown option in LANNER_STORAGE_OPTIONS for s3 (S3FileSystem): "
        "'ky' (did you mean 'key'?)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        storage_at("s3://bucket/x", {"s3": {"endpoint_url": "http://127.0.0.1:9"}, "ky": "k"})


def test_an_option_s3fs_does_not_pass_to_its_base_class_is_refused() -> None:
    # AsyncFileSystem takes `batch_size`, but s3fs would give it to botocore's session, which fails.
    message = "unknown option in LANNER_STORAGE_OPTIONS for s3 (S3FileSystem): 'batch_size'"
    with pytest.raises(ValueError, match=re.escape(message)):
        storage_at("s3://bucket/x", {"batch_size": 4})


def test_a_backend_taking_any_name_is_not_checked() -> None:
    # HTTPFileSystem keeps its **kwargs for each request: any aiohttp option is a fair name.
    options = {"headers": {"Authorization": "secret-value"}, "timeout": None}
    storage = storage_at("http://127.0.0.1:9/files", options)

    assert isinstance(storage, FsspecStorage)


def test_an_unknown_protocol_is_said_before_its_options() -> None:
    message = "storage 'nosuchproto://bucket/x': Protocol not known: nosuchproto"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        storage_at("nosuchproto://bucket/x", {"colour": "secret-value"})
