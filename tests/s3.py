"""A real S3-compatible server on 127.0.0.1 for the storage tests (moto's).

Every storage a test opens gets a fresh bucket, so tests never see each other's files.
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

# moto accepts any credentials; s3fs wants some rather than looking for them elsewhere.
KEY, SECRET = "lanner-test-key", "lanner-test-secret"
_buckets = itertools.count(1)


@contextmanager
def s3_server() -> Iterator[str]:
    """Run moto's server in a child process until the block ends; yield its endpoint URL.

    A process of its own: the objects it keeps in memory do not count in the memory of the
    tests (those that check a transfer streams), and its threads do not mix with theirs.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_it_answers(endpoint, process)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def _wait_until_it_answers(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(endpoint, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(f"moto's S3 server exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto's S3 server did not answer at {endpoint}") from None
            time.sleep(0.1)


def new_bucket(endpoint: str) -> str:
    """Create an empty bucket and return its name."""
    name = f"lanner-test-{next(_buckets)}"
    # CreateBucket is a bare PUT; moto checks no signature.
    httpx.put(f"{endpoint}/{name}").raise_for_status()
    return name


def object_content(endpoint: str, bucket: str, key: str) -> bytes | None:
    """Read an object with a client of its own (not lanner's); None when there is none."""
    from s3fs import S3FileSystem

    fs = S3FileSystem(skip_instance_cache=True, use_listings_cache=False, **s3_options(endpoint))
    try:
        content: bytes = fs.cat_file(f"{bucket}/{key}")
    except FileNotFoundError:
        return None
    return content


def s3_options(endpoint: str) -> dict[str, Any]:
    """The `LANNER_STORAGE_OPTIONS` of a storage on the test server."""
    return {
        "endpoint_url": endpoint,
        "key": KEY,
        "secret": SECRET,
        "client_kwargs": {"region_name": "us-east-1"},
    }
