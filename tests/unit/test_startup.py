"""A long-running process settles once it started: types loaded, start-up objects frozen."""

from __future__ import annotations

import gc

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
