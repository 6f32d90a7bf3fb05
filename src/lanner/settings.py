"""Where lanner keeps its data and the knobs a deployment may turn."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanner.http_hosts import ALLOW_VARIABLE, DENY_VARIABLE, HostPolicy, parse_rules

DEFAULT_HOME = Path("~/.lanner")
# Kestra's limit when its JDBC queue's message protection is on (it is off by default there).
DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024
_JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}
DEFAULT_DATABASE_POOL_SIZE = 10
DEFAULT_KV_POOL_SIZE = 4
POOL_VARIABLE = "LANNER_DATABASE_POOL_SIZE"
KV_POOL_VARIABLE = "LANNER_DATABASE_KV_POOL_SIZE"
QUEUE_POOL_VARIABLE = "LANNER_QUEUE_POOL_SIZE"


@dataclass(frozen=True)
class Settings:
    """Process-wide configuration; build it with `Settings.load()`."""

    home: Path
    database_url: str
    env_prefix: str = "ENV_"
    """Environment variables with this prefix are exposed to expressions as `envs.*`."""
    globals: Mapping[str, Any] = field(default_factory=dict)
    """Server-wide variables exposed to expressions as `globals.*`."""
    worker_concurrency: int = 256
    """How many task runs one worker runs at once (HTTP calls are asyncio, so this can be high)."""
    environment_name: str | None = None
    url: str | None = None
    users: Mapping[str, str] = field(default_factory=dict)
    """HTTP basic-auth users of the server (name -> password); empty: no authentication."""
    max_request_bytes: int = 100 * 1024 * 1024
    """Largest request body the server accepts (file uploads included)."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the API from a browser; empty: CORS is off."""
    worker_lease: float = 30.0
    """Seconds a worker holds a job without a heartbeat before it runs again elsewhere."""
    storage_url: str | None = None
    """Where `kestra://` files live (`LANNER_STORAGE`): a directory, `file:///dir`,
    `s3://bucket/prefix` or any fsspec URL; default: `storage` under the home directory."""
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Options of an fsspec storage (`LANNER_STORAGE_OPTIONS`); they may hold secrets."""
    python: str = "python3"
    """The interpreter of Python Script tasks: a name looked up on PATH, or a path."""
    encryption_key: str | None = None
    """Base64 of the 32-byte AES key of encrypted outputs (Kestra's `encryption.secret-key`)."""
    http_hosts: HostPolicy = field(default_factory=HostPolicy)
    """Where HTTP tasks may connect (`LANNER_HTTP_ALLOW`, `LANNER_HTTP_DENY`)."""
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    """Largest execution (its JSON, task runs and outputs included) the engine keeps, as
    Kestra's JDBC queue does: a bigger submission is refused, a bigger task result fails."""
    database_pool_size: int = DEFAULT_DATABASE_POOL_SIZE
    """Most connections the PostgreSQL store opens in one process (`LANNER_DATABASE_POOL_SIZE`)."""
    kv_pool_size: int = DEFAULT_KV_POOL_SIZE
    """Most connections of the PostgreSQL KV store, beside the store's
    (`LANNER_DATABASE_KV_POOL_SIZE`)."""
    queue_pool_size: int | None = None
    """Most connections of the PostgreSQL queue (`LANNER_QUEUE_POOL_SIZE`); None: the default
    of the process's role (`lanner.queue_pool`)."""

    @classmethod
    def load(
        cls,
        home: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Build settings from arguments, then `LANNER_*` environment variables, then defaults."""
        env = os.environ if environ is None else environ
        base = Path(home or env.get("LANNER_HOME") or DEFAULT_HOME).expanduser()
        url = database_url or env.get("LANNER_DATABASE_URL") or f"sqlite:///{base / 'lanner.db'}"
        concurrency = int(env.get("LANNER_WORKER_CONCURRENCY", "256"))
        lease = float(env.get("LANNER_WORKER_LEASE", "30"))
        if lease <= 0:
            raise ValueError(f"LANNER_WORKER_LEASE must be a positive number of seconds: {lease}")
        origins = tuple(
            o.strip() for o in env.get("LANNER_CORS_ORIGINS", "").split(",") if o.strip()
        )
        return cls(
            home=base,
            database_url=url,
            env_prefix=env.get("LANNER_ENV_PREFIX", "ENV_"),
            worker_concurrency=concurrency,
            worker_lease=lease,
            users=parse_users(env.get("LANNER_USERS", "")),
            max_request_bytes=int(env.get("LANNER_MAX_REQUEST_BYTES", str(100 * 1024 * 1024))),
            cors_origins=origins,
            url=env.get("LANNER_URL"),
            python=env.get("LANNER_PYTHON") or "python3",
            storage_url=env.get("LANNER_STORAGE") or None,
            storage_options=parse_storage_options(env.get("LANNER_STORAGE_OPTIONS", "")),
            encryption_key=env.get("LANNER_ENCRYPTION_KEY") or None,
            http_hosts=HostPolicy(
                allow=parse_rules(env.get(ALLOW_VARIABLE, ""), ALLOW_VARIABLE),
                deny=parse_rules(env.get(DENY_VARIABLE, ""), DENY_VARIABLE),
            ),
            max_message_bytes=_positive_int(
                env, "LANNER_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES
            ),
            database_pool_size=_positive_int(
                env, POOL_VARIABLE, DEFAULT_DATABASE_POOL_SIZE, "connections"
            ),
            kv_pool_size=_positive_int(env, KV_POOL_VARIABLE, DEFAULT_KV_POOL_SIZE, "connections"),
            queue_pool_size=_optional_positive_int(env, QUEUE_POOL_VARIABLE, "connections"),
        )


def _positive_int(env: Mapping[str, str], name: str, default: int, unit: str = "bytes") -> int:
    value = _optional_positive_int(env, name, unit)
    return default if value is None else value


def _optional_positive_int(env: Mapping[str, str], name: str, unit: str) -> int | None:
    """Read a variable that must hold a whole number of at least 1; None when it is unset."""
    text = env.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name} must be a positive whole number of {unit}, got '{text}'")
    return value


def parse_storage_options(text: str) -> dict[str, Any]:
    """Read the JSON object of `LANNER_STORAGE_OPTIONS` ("" is no options).

    The text may hold secrets: messages say what is wrong, never what it holds.
    """
    if not text.strip():
        return {}
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"LANNER_STORAGE_OPTIONS must be a JSON object, but it is not valid JSON: "
            f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(options, dict):
        raise ValueError(
            "LANNER_STORAGE_OPTIONS must be a JSON object of fsspec options, such as "
            '{"endpoint_url": "http://127.0.0.1:9000"}, '
            f"not {_JSON_KINDS.get(type(options), 'another value')}"
        )
    return options


def parse_users(text: str) -> dict[str, str]:
    """Read `name:password` pairs separated by commas (the `LANNER_USERS` variable)."""
    users: dict[str, str] = {}
    for pair in text.split(","):
        name, sep, password = pair.strip().partition(":")
        if not pair.strip():
            continue
        if not sep or not name or not password:
            raise ValueError("LANNER_USERS must hold name:password pairs separated by commas")
        users[name] = password
    return users
