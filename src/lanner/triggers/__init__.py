"""Triggers: what starts executions without anyone asking (a cron schedule, an HTTP call).

Each trigger type is one class registered by its Kestra type name (`registry`); a flow's
`triggers` are validated with them (`TriggerRef`). The scheduler (`lanner.scheduler`) runs the
Schedule triggers and the HTTP polling ones; the webhook route (`lanner.api.webhooks`) runs the
Webhook ones. The HTTP polling trigger (`lanner.triggers.http`) is not imported here: it builds
on the HTTP tasks, which need the run context, and the registry loads it when it is looked up.
"""

from __future__ import annotations

from lanner.triggers.base import Trigger, TriggerRef
from lanner.triggers.conditions import Condition, ConditionRef
from lanner.triggers.registry import known_types, lookup, register
from lanner.triggers.schedule import RecoverMissedSchedules, Schedule, ScheduleBackfill
from lanner.triggers.webhook import Webhook

__all__ = [
    "Condition",
    "ConditionRef",
    "RecoverMissedSchedules",
    "Schedule",
    "ScheduleBackfill",
    "Trigger",
    "TriggerRef",
    "Webhook",
    "known_types",
    "lookup",
    "register",
]
