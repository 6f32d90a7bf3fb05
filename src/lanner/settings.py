"""Where lanner keeps its data and the knobs a deployment may turn."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HOME = Path("~/.lanner")


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
        return cls(
            home=base,
            database_url=url,
            env_prefix=env.get("LANNER_ENV_PREFIX", "ENV_"),
            worker_concurrency=concurrency,
        )

    @property
    def storage_dir(self) -> Path:
        """Return the directory behind `kestra://` URIs."""
        return self.home / "storage"
