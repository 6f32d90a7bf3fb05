"""Flow triggers in a running server: an upstream execution ending starts the downstream flow."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lanner.executions import Execution
from lanner.services import Services
from tests.api.test_logs import run

EXTRACT = """
id: extract
namespace: company.team
labels:
  team: data
tasks:
  - id: day
    type: io.kestra.plugin.core.debug.Return
    format: "2026-03-04"
outputs:
  - id: date
    type: STRING
    value: "{{ outputs.day.value }}"
"""

TRANSFORM = """
id: transform
namespace: company.team
inputs:
  - id: date
    type: STRING
    defaults: "2025-01-01"
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.date }} after {{ trigger.executionId }} ({{ trigger.state }})"
triggers:
  - id: after_extract
    type: io.kestra.plugin.core.trigger.Flow
    inputs:
      date: "{{ trigger.outputs.date }}"
    preconditions:
      id: upstream
      flows:
        - namespace: company.team
          flowId: extract
          states: [SUCCESS]
          labels:
            team: data
"""


async def downstream(services: Services, flow_id: str, count: int = 1) -> list[Execution]:
    """Wait for the Flow triggers to settle, then for `count` executions of a flow to end."""
    for _ in range(200):
        await services.flow_triggers.idle()
        found = await services.store.search_executions(flow_id=flow_id, size=50)
        if len(found.results) >= count:
            return [await services.runner.wait(e.id, timeout=30) for e in found.results]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no execution of {flow_id}")


async def test_a_successful_upstream_starts_the_downstream_with_its_outputs(
    services: Services,
) -> None:
    await services.flows.save(TRANSFORM)
    upstream = await run(services, EXTRACT)

    [started] = await downstream(services, "transform")
    assert started.current.name == "SUCCESS"
    assert started.inputs == {"date": "2026-03-04"}
    assert started.trigger is not None
    assert started.trigger["id"] == "after_extract"
    assert started.trigger["type"] == "io.kestra.plugin.core.trigger.Flow"
    variables = started.trigger["variables"]
    assert variables["executionId"] == upstream.id
    assert variables["flowId"] == "extract"
    assert variables["executionLabels"] == {"team": "data"}
    [show] = started.task_runs
    assert show.outputs == {"value": f"2026-03-04 after {upstream.id} (SUCCESS)"}


async def test_a_failed_upstream_does_not_match_a_success_precondition(
    services: Services,
) -> None:
    await services.flows.save(TRANSFORM)
    failing = EXTRACT.replace(
        'type: io.kestra.plugin.core.debug.Return\n    format: "2026-03-04"',
        "type: io.kestra.plugin.core.execution.Fail",
    )
    upstream = await run(services, failing)
    assert upstream.current.name == "FAILED"
    await services.flow_triggers.idle()
    assert (await services.store.search_executions(flow_id="transform")).total == 0


async def test_a_disabled_trigger_starts_nothing(services: Services) -> None:
    disabled = TRANSFORM.replace(
        "    type: io.kestra.plugin.core.trigger.Flow\n",
        "    type: io.kestra.plugin.core.trigger.Flow\n    disabled: true\n",
    )
    assert "disabled: true" in disabled
    await services.flows.save(disabled)
    await run(services, EXTRACT)
    await services.flow_triggers.idle()
    assert (await services.store.search_executions(flow_id="transform")).total == 0


async def test_invalid_inputs_are_logged_and_start_nothing(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    await services.flows.save(
        TRANSFORM.replace("type: STRING\n    defaults", "type: INT\n    defaults").replace(
            'defaults: "2025-01-01"', "defaults: 1"
        )
    )
    with caplog.at_level(logging.WARNING, logger="lanner.flow_triggers"):
        await run(services, EXTRACT)
        await services.flow_triggers.idle()
    assert (await services.store.search_executions(flow_id="transform")).total == 0
    [record] = caplog.records
    assert record.getMessage().startswith(
        "Flow trigger company.team.transform.after_extract could not start company.team.transform:"
    )
    assert "date" in record.getMessage()
