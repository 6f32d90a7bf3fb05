"""Triggers: what starts executions without anyone asking (a cron schedule, an HTTP call).

Each trigger type is one class registered by its Kestra type name (`registry`); a flow's
`triggers` are validated with them (`TriggerRef`). The scheduler (`lanner.scheduler`) runs the
Schedule triggers and the HTTP polling ones; the webhook route (`lanner.api.webhooks`) runs the
Webhook ones.
"""

from __future__ import annotations

from lanner.triggers.base import Trigger, TriggerRef
from lanner.triggers.conditions import Condition, ConditionRef
from lanner.triggers.http import HttpTrigger
from lanner.triggers.registry import known_types, lookup, register
from lanner.triggers.schedule import RecoverMissedSchedules, Schedule, ScheduleBackfill
from lanner.triggers.webhook import Webhook

__all__ = [
    "Condition",
    "ConditionRef",
    "HttpTrigger",
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
