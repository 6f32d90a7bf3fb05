"""A long-running process settles once it started: types loaded, start-up objects frozen."""

from __future__ import annotations

import gc
import subprocess
import sys

from lanner.startup import settle
from lanner.tasks import registry as tasks
from lanner.triggers import registry as triggers


def test_settling_loads_every_type_and_freezes_what_start_up_made() -> None:
    try:
        settle()
        assert gc.get_freeze_count() > 10_000
        assert "io.kestra.plugin.core.http.Request" in tasks.known_types()
        assert "io.kestra.plugin.core.trigger.Schedule" in triggers.known_types()
    finally:
        gc.unfreeze()


def test_settling_imports_what_the_first_http_request_would() -> None:
    # In a fresh interpreter: this test process may have imported them already.
    check = (
        "import sys; from lanner.startup import settle; settle();"
        " print(all(name in sys.modules for name in"
        " ('httpcore', 'h11', 'anyio._backends._asyncio')))"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
