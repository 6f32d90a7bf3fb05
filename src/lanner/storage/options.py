"""Refuse misspelled names in `LANNER_STORAGE_OPTIONS` for the fsspec backends lanner knows.

fsspec would drop a misspelled option (`endpoint_ur`) without a word, to fail much later. For the
backends of `_BACKENDS`, a name outside the signatures their options end in is refused at start-up
with the closest accepted name. Only names are shown: the values may be secrets.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fsspec.core import split_protocol
from fsspec.dircache import DirCache
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.spec import AbstractFileSystem

_SHOWN_NAMES = 8  # accepted names a message lists when none is close to an unknown one

# Names fsspec reads for every file system: its instance cache pops `skip_instance_cache` before
# `__init__`, and `asynchronous` and `loop` are documented options of all of them.
_FSSPEC_NAMES = ("skip_instance_cache", "asynchronous", "loop")

_Backend = tuple[type, list[Callable[..., Any]]]  # a class, the `__init__`s of all its options


def check_options(url: str, options: Mapping[str, Any]) -> None:
    """Raise ValueError naming each option the backend of a plain `url` does not take."""
    protocol = split_protocol(url)[0] or ""
    # Only `_BACKENDS` were verified to end in fixed names: other backends, the layers of a chained
    # URL and a `protocol` option (replacing the URL's) may pass any name to a `**kwargs`.
    if "::" in url or "protocol" in options or protocol not in _BACKENDS:
        return
    try:
        cls, inits = _BACKENDS[protocol]()
    except ImportError:
        return  # opening the storage says which package the protocol needs
    accepted = _accepted(inits)
    # Options nested under the URL's protocol (`{"s3": {...}}`) are unpacked by fsspec: unchecked.
    unknown = [
        name
        for name, value in options.items()
        if name not in accepted and not (name == protocol and isinstance(value, Mapping))
    ]
    if unknown:
        raise ValueError(_message(unknown, accepted, f"{protocol} ({cls.__qualname__})"))


def _accepted(inits: Iterable[Callable[..., Any]]) -> list[str]:
    # In signature order, duplicates dropped: a backend's own names come first in messages.
    keywords = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = [
        parameter.name
        for init in inits
        for parameter in inspect.signature(init).parameters.values()
        if parameter.kind in keywords and parameter.name != "self"
    ]
    return list(dict.fromkeys([*names, *_FSSPEC_NAMES]))


def _along_mro(cls: type) -> _Backend:
    """A class whose `**kwargs` go up its MRO to fsspec's base class and on to the cache."""
    classes = cls.__mro__[: cls.__mro__.index(AbstractFileSystem) + 1]
    inits = [klass.__dict__["__init__"] for klass in classes if "__init__" in klass.__dict__]
    return cls, [*inits, DirCache.__init__]


def _s3() -> _Backend:
    from aiobotocore.session import AioSession  # type: ignore[import-untyped]
    from s3fs import S3FileSystem

    return S3FileSystem, [S3FileSystem.__init__, DirCache.__init__, AioSession.__init__]


# As read in fsspec and s3fs 2026.9 and aiobotocore 3.10: MemoryFileSystem(global_store, **kw) and
# LocalFileSystem(auto_mkdir, **kw) hand **kw whole up to AbstractFileSystem, which gives them to
# DirCache(use_listings_cache, listings_expiry_time, max_paths, **kwargs), which drops the rest
# (AbstractFileSystem also pops `add_docs` and `add_aliases`, only to warn they are gone: refused).
# S3FileSystem gives its bases only `asynchronous`, `loop` and the DirCache names, and the rest of
# its **kwargs to AioSession(**kwargs), whose names are fixed. So its MRO is not walked: the
# `batch_size` of AsyncFileSystem never reaches it, and AioSession refuses it at the first request.
_BACKENDS: dict[str, Callable[[], _Backend]] = {
    "s3": _s3,
    "s3a": _s3,
    "memory": lambda: _along_mro(MemoryFileSystem),
    "file": lambda: _along_mro(LocalFileSystem),
    "local": lambda: _along_mro(LocalFileSystem),
}


def _message(unknown: Sequence[str], accepted: Sequence[str], backend: str) -> str:
    closest = {name: _closest(name, accepted) for name in unknown}
    described = ", ".join(
        repr(name) if near is None else f"{name!r} (did you mean {near!r}?)"
        for name, near in closest.items()
    )
    plural = "s" if len(unknown) > 1 else ""
    text = f"unknown option{plural} in LANNER_STORAGE_OPTIONS for {backend}: {described}"
    if None in closest.values():
        rest = len(accepted) - _SHOWN_NAMES
        text += f"; it takes {', '.join(accepted[:_SHOWN_NAMES])}"
        text += f" and {rest} more" if rest > 0 else ""
    return text


def _closest(name: str, accepted: Iterable[str]) -> str | None:
    # Compared without case, so `Endpoint_URL` still finds `endpoint_url`.
    by_lower = {option.lower(): option for option in accepted}
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
    return by_lower[found[0]] if found else None
