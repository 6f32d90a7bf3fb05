"""lanner: run Kestra flows unchanged, in Python.

The names here are the surface for people who write their own task types.
"""

from __future__ import annotations

from lanner.context import RunContext
from lanner.exceptions import LannerError, TaskError
from lanner.flows import Flow
from lanner.tasks import FlowableTask, RunnableTask, Task, register

__version__ = "0.1.0"

__all__ = [
    "Flow",
    "FlowableTask",
    "LannerError",
    "RunContext",
    "RunnableTask",
    "Task",
    "TaskError",
    "__version__",
    "register",
]
