"""A real S3-compatible server on 127.0.0.1 for the storage tests (moto's, in a thread).

Every storage a test opens gets a fresh bucket, so tests never see each other's files.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from moto.server import ThreadedMotoServer

# moto accepts any credentials; s3fs wants some rather than looking for them elsewhere.
KEY, SECRET = "lanner-test-key", "lanner-test-secret"
_buckets = itertools.count(1)


@contextmanager
def s3_server() -> Iterator[str]:
    """Run the server until the block ends; yield its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def new_bucket(endpoint: str) -> str:
    """Create an empty bucket and return its name."""
    name = f"lanner-test-{next(_buckets)}"
    # CreateBucket is a bare PUT; moto checks no signature.
    httpx.put(f"{endpoint}/{name}").raise_for_status()
    return name


def s3_options(endpoint: str) -> dict[str, Any]:
    """The `LANNER_STORAGE_OPTIONS` of a storage on the test server."""
    return {
        "endpoint_url": endpoint,
        "key": KEY,
        "secret": SECRET,
        "client_kwargs": {"region_name": "us-east-1"},
    }
