"""What a task sees while it runs: its variables, a renderer, a logger, storage.

`RunContext` is built for one task run, in the worker (runnable tasks) or in the executor
(flowable tasks, `runIf`, flow outputs). The variables follow Kestra's names (expressions.md §4).
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from lanner.clock import utcnow
from lanner.durations import format_duration
from lanner.encryption import decrypt_outputs, seal, unseal
from lanner.exceptions import ExpressionError, LannerError
from lanner.execution_files import ExecutionFiles, FileAccessError
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.expressions import CallContext, Function, render, render_typed, render_value
from lanner.flowable import ExecutionIndex, loop_outputs
from lanner.httpclient import ClientPool
from lanner.inputs import secret_input_ids
from lanner.metrics import MetricEntry, MetricType, metric_entry
from lanner.properties import Expr, coerce_duration
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import Storage, task_prefix

if TYPE_CHECKING:
    from lanner.flows import Flow
    from lanner.store.kv import KVStore
    from lanner.tasks.base import Task

T = TypeVar("T")
MASK = "********"

LogSink = Callable[[LogEntry], None]


def millis_iso(moment: datetime) -> str:
    """Format an instant with exactly three fraction digits, as Kestra's dates render."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def env_variables(prefix: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return `envs.*`: variables with the prefix, lower-cased without it."""
    env = os.environ if environ is None else environ
    # Keys first, values only for the matches: reading every value of `os.environ` (decoding
    # each) made this the costliest part of building a task run's variables.
    return {key[len(prefix) :].lower(): env[key] for key in env if key.startswith(prefix)}


def read_secret(key: str, environ: Mapping[str, str] | None = None) -> str:
    """Return the secret `key` from `SECRET_<KEY>` (base64), like Kestra's open-source edition."""
    env = os.environ if environ is None else environ
    encoded = env.get(f"SECRET_{key.upper()}")
    if encoded is None:
        raise ExpressionError(f"Cannot find secret for key '{key}'.")
    try:
        return base64.b64decode("".join(encoded.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ExpressionError(f"The secret '{key}' is not valid base64.") from exc


def secret_values(flow: Flow, inputs: Mapping[str, Any]) -> list[str]:
    """Return the values of the flow's SECRET inputs (dotted ids nest), to mask them."""
    values = []
    for input_id in secret_input_ids(flow.inputs or []):
        value: Any = inputs
        for part in input_id.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str):
            values.append(value)
    return values


def error_logs_function(execution: Execution, entries: Sequence[LogEntry]) -> Function:
    """Return `errorLogs()`: the ERROR lines of the execution's failed task runs."""

    def error_logs(call: CallContext, *_: Any) -> list[dict[str, Any]]:
        failed = {run.id for run in execution.task_runs if run.current is State.FAILED}
        return [entry.to_json() for entry in entries if entry.task_run_id in failed]

    return error_logs


class Masker:
    """Replaces known secret values in text with `********`."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self._secrets = {secret for secret in secrets if secret}
        # The longest first, so a secret holding another is replaced whole; sorted once per
        # change rather than for every text masked.
        self._ordered = sorted(self._secrets, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets.add(secret)
            self._ordered = sorted(self._secrets, key=len, reverse=True)

    @property
    def empty(self) -> bool:
        """Say whether there is nothing to mask: `mask` then returns every text as it is."""
        return not self._ordered

    def mask(self, text: str) -> str:
        for secret in self._ordered:
            text = text.replace(secret, MASK)
        return text


class TaskLogger:
    """Writes log entries of one task run, dropping those under the task's `logLevel`."""

    def __init__(
        self, base: LogEntry, sink: LogSink, masker: Masker, min_level: Level = Level.TRACE
    ) -> None:
        self._base = base
        self._sink = sink
        self._masker = masker
        self._min_level = min_level
        self.entries: list[LogEntry] = []

    def log(self, level: Level, message: str) -> None:
        if level < self._min_level:
            return
        entry = LogEntry(
            namespace=self._base.namespace,
            flow_id=self._base.flow_id,
            execution_id=self._base.execution_id,
            timestamp=utcnow(),
            level=level,
            message=self._masker.mask(message),
            task_id=self._base.task_id,
            task_run_id=self._base.task_run_id,
            attempt_number=self._base.attempt_number,
            thread=self._base.thread,
        )
        self.entries.append(entry)
        self._sink(entry)

    def trace(self, message: str) -> None:
        self.log(Level.TRACE, message)

    def debug(self, message: str) -> None:
        self.log(Level.DEBUG, message)

    def info(self, message: str) -> None:
        self.log(Level.INFO, message)

    def warn(self, message: str) -> None:
        self.log(Level.WARN, message)

    def error(self, message: str) -> None:
        self.log(Level.ERROR, message)


class RunContext:
    """Everything one task run may use: variables, rendering, logging, storage, settings."""

    def __init__(
        self,
        *,
        flow: Flow,
        execution: Execution,
        task: Task,
        task_run: TaskRun,
        variables: Mapping[str, Any],
        functions: dict[str, Function],
        logger: TaskLogger,
        masker: Masker,
        storage: Storage,
        settings: Settings,
        http: ClientPool,
        kv: KVStore | None = None,
    ) -> None:
        self.flow = flow
        self.execution = execution
        self.task = task
        self.task_run = task_run
        self.variables = variables
        self.functions = functions
        self.logger = logger
        self.masker = masker
        self.storage = storage
        self.settings = settings
        self.http = http
        self.kv = kv
        # A task that ends without failing may still end WARNING (a script that wrote to
        # stderr); it says so here, as Kestra's outputs do with their final state.
        self.final_state: State | None = None
        self.metrics: list[MetricEntry] = []
        self._metric_base: MetricEntry | None = None

    def folder(self) -> str:
        """Return the storage folder of this task run, where the files it makes are stored."""
        execution, run = self.execution, self.task_run
        return task_prefix(
            execution.namespace, execution.flow_id, execution.id, run.task_id, run.id
        )

    def with_variables(self, extra: Mapping[str, Any]) -> RunContext:
        """Return a context that renders with `extra` variables over this one's.

        Logging, storage and everything else are shared; `final_state` is not, so a task
        reads it from the context it was given.
        """
        scoped = copy.copy(self)
        scoped.variables = Overlay(extra, self.variables)
        return scoped

    def metric(
        self,
        name: str,
        value: float,
        *,
        type: str = "counter",
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Report a metric of this task run: a counter's value, or a timer's seconds.

        Raises LannerError for an unknown type or a value that is not a finite number.
        """
        now = utcnow()
        base = self._metric_base
        if base is None:
            # The task run's identity, made once: each metric copies it with its own values.
            run = self.task_run
            base = self._metric_base = MetricEntry(
                namespace=run.namespace,
                flow_id=run.flow_id,
                execution_id=run.execution_id,
                task_id=run.task_id,
                task_run_id=run.id,
                type=MetricType.COUNTER,
                name="",
                value=0.0,
                timestamp=now,
            )
        self.metrics.append(metric_entry(base, name, value, type, tags, timestamp=now))

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a text with the server's key; without a key, warn and keep it as it is."""
        key = self.settings.encryption_key
        if key is None:
            self.logger.warn("Unable to encrypt the output as encryption is not configured")
            return plaintext
        try:
            return seal(key, plaintext)
        except ExpressionError as exc:
            raise LannerError(f"LANNER_ENCRYPTION_KEY is not usable: {exc.message}") from exc

    def render(self, template: str | Expr | None) -> str:
        """Render a template as text; None renders as the empty string."""
        if template is None:
            return ""
        return render(str(template), self.variables, self.functions)

    def render_typed(self, template: Any) -> Any:
        """Render a template keeping the native value of a lone `{{ expr }}`."""
        if isinstance(template, Expr):
            template = template.source
        if not isinstance(template, str):
            return template
        return render_typed(template, self.variables, self.functions)

    def render_value(self, value: Any) -> Any:
        """Render every string inside nested maps and lists (keys too)."""
        return render_value(value, self.variables, self.functions)

    def duration(self, value: timedelta | Expr | None) -> timedelta | None:
        """Resolve a duration property that may be a template."""
        if value is None or isinstance(value, timedelta):
            return value
        return coerce_duration(self.render_typed(value))

    def resolve(self, value: T | Expr, convert: Callable[[Any], T]) -> T:
        """Resolve a typed property that may be a template, converting the rendered value."""
        if isinstance(value, Expr):
            return convert(self.render_typed(value))
        return value


# -- building the variables ------------------------------------------------------------------


class LazyVariables(Mapping[str, Any]):
    """Variables where costly entries (`outputs`, `tasks`) are built on first read only."""

    def __init__(self, values: dict[str, Any], lazy: dict[str, Callable[[], Any]]) -> None:
        self._values = values
        self._lazy = lazy

    def __getitem__(self, key: str) -> Any:
        if key in self._values:
            return self._values[key]
        build = self._lazy.pop(key, None)
        if build is None:
            raise KeyError(key)
        value = self._values[key] = build()
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._lazy

    def __iter__(self) -> Iterator[str]:
        yield from list(self._values)
        yield from list(self._lazy)

    def __len__(self) -> int:
        return len(self._values) + len(self._lazy)


def label_variables(labels: Mapping[str, str]) -> dict[str, Any]:
    """Return the `labels` variable: each label by key, dotted keys also as nested maps.

    Kestra flows read `{{ labels.system.correlationId }}` as well as `labels['a.b']`; a nested
    entry never hides a label whose key is the first part of the dotted one.
    """
    variables: dict[str, Any] = dict(labels)
    for key, value in labels.items():
        head, _, rest = key.partition(".")
        if not rest or head in labels:
            continue
        node = variables.setdefault(head, {})
        if not isinstance(node, dict):
            continue
        *middle, last = rest.split(".")
        for part in middle:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node.setdefault(last, value)
    return variables


class Overlay(Mapping[str, Any]):
    """Variables of `top` over those of `base`, without copying `base` (its entries stay lazy)."""

    def __init__(self, top: Mapping[str, Any], base: Mapping[str, Any]) -> None:
        self._top = dict(top)
        self._base = base

    def __getitem__(self, key: str) -> Any:
        if key in self._top:
            return self._top[key]
        return self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._top
        yield from (key for key in self._base if key not in self._top)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def base_variables(flow: Flow, execution: Execution, settings: Settings) -> dict[str, Any]:
    """Return the variables every task run of an execution shares."""
    variables: dict[str, Any] = {
        "flow": {
            "id": flow.id,
            "namespace": flow.namespace,
            "revision": execution.flow_revision,
            "tenantId": execution.tenant_id,
        },
        "execution": {
            "id": execution.id,
            "startDate": millis_iso(execution.state.start_date),
            "originalId": execution.original_id,
            "state": execution.current.value,
        },
        "vars": dict(flow.variables or {}),
        "labels": label_variables(execution.labels_map()),
        "envs": env_variables(settings.env_prefix),
        "globals": dict(settings.globals),
        "kestra": {"environment": {"name": settings.environment_name}, "url": settings.url},
    }
    if execution.inputs:
        # Like Kestra, an execution without inputs has no `inputs` variable at all.
        variables["inputs"] = dict(execution.inputs)
    if execution.trigger is not None:
        # A trigger's encrypted body (HTTP Trigger, `encryptBody`) reads decrypted, as outputs do.
        found = dict(execution.trigger.get("variables") or {})
        variables["trigger"] = decrypt_outputs(found, settings.encryption_key, "trigger")
    return variables


def task_variables(
    shared: Mapping[str, Any],
    index: ExecutionIndex,
    task: Task,
    task_run: TaskRun | None,
    encryption_key: str | None = None,
) -> LazyVariables:
    """Return the variables of one task run: the shared ones plus task, taskrun, outputs...

    Encrypted outputs are read decrypted with `encryption_key`.
    """
    variables = dict(shared)
    variables["task"] = {"id": task.id, "type": task.type}
    lazy: dict[str, Callable[[], Any]] = {
        "outputs": lambda: decrypt_outputs(loop_outputs(index), encryption_key),
        "tasks": lambda: _task_states(index),
    }
    if task_run is None:
        return LazyVariables(variables, lazy)
    ancestors = index.ancestors(task_run)
    variables["taskrun"] = {
        "id": task_run.id,
        "startDate": millis_iso(task_run.state.start_date),
        "attemptsCount": max(len(task_run.attempts) - 1, 0),
        "parentId": task_run.parent_task_run_id,
        "value": task_run.value,
        "iteration": task_run.iteration,
    }
    parents = _parents(ancestors)
    if parents:
        variables["parents"] = parents
        variables["parent"] = parents[0]
    return LazyVariables(variables, lazy)


def _parents(ancestors: Sequence[TaskRun]) -> list[dict[str, Any]]:
    """Return `parents`: nearest first, each with its loop value and outputs when it has them."""
    result: list[dict[str, Any]] = []
    for run in reversed(ancestors):
        item: dict[str, Any] = {}
        if run.value is not None:
            item["taskrun"] = {"value": run.value}
        if run.outputs is not None:
            item["outputs"] = dict(run.outputs)
        if item:
            result.append(item)
    return result


def _task_states(index: ExecutionIndex) -> dict[str, Any]:
    """Return `tasks.<id>.state`, nested by loop values like outputs."""
    result: dict[str, Any] = {}
    for run in index.execution.task_runs:
        path = [parent.value for parent in index.ancestors(run) if parent.value is not None]
        if run.value is not None:
            path.append(run.value)
        node = result.setdefault(run.task_id, {})
        for key in path:
            node = node.setdefault(key, {})
        node["state"] = run.current.value
    return result


# -- runtime functions that need the execution --------------------------------------------------


def runtime_functions(
    index: ExecutionIndex,
    task_run: TaskRun | None,
    masker: Masker,
    extra: Mapping[str, Function] | None = None,
    kv: KVStore | None = None,
    storage: Storage | None = None,
) -> dict[str, Function]:
    """Return the expression functions bound to this execution (secret, currentEachOutput...).

    `kv()` is there only when a KV store is given; the file functions (`read`, `fileURI`,
    `fileSize`, `fileExists`) only when the internal storage is.
    """

    def secret(call: CallContext, key: str, *_: Any) -> str:
        value = read_secret(str(key))
        masker.add(value)
        return value

    def current_each_output(call: CallContext, outputs: Any, *_: Any) -> Any:
        if task_run is None:
            return outputs
        values = [run.value for run in index.ancestors(task_run) if run.value is not None]
        if task_run.value is not None:
            values.append(task_run.value)
        node = outputs
        for value in values:
            if isinstance(node, Mapping) and value in node:
                node = node[value]
        return node

    functions: dict[str, Function] = {
        "secret": secret,
        "currentEachOutput": current_each_output,
        "encrypt": encrypt_function,
        "decrypt": decrypt_function,
    }
    if kv is not None:
        functions["kv"] = kv_function(kv)
    if storage is not None:
        functions.update(file_functions(storage, index.execution))
    functions.update(extra or {})
    return functions


def kv_function(store: KVStore) -> Function:
    """Return `kv(key, namespace=<flow namespace>, errorOnMissing=false)` reading `store`."""

    # The parameters carry Kestra's argument names: templates may pass them by name.
    def kv(
        call: CallContext, key: Any = None, namespace: Any = None, errorOnMissing: Any = False
    ) -> Any:
        if key is None:
            raise ExpressionError("The 'kv' function expects an argument 'key'.")
        if errorOnMissing is not None and not isinstance(errorOnMissing, bool):
            raise ExpressionError("The 'kv' function expects 'errorOnMissing' to be a boolean.")
        if namespace is None:
            namespace = call.variables["flow"]["namespace"]
        entry = store.get(str(namespace), str(key))
        if entry is not None:
            # Expressions have no duration values; Pebble prints a Duration as its ISO text.
            value = entry.value
            return format_duration(value) if isinstance(value, timedelta) else value
        if errorOnMissing is True:
            raise ExpressionError(f"The key '{key}' does not exist in the namespace '{namespace}'.")
        return None

    return kv


# -- files: this execution's `kestra://` files and the flow's namespace files -------------------


def file_functions(storage: Storage, execution: Execution) -> dict[str, Function]:
    """Return `read`, `fileURI`, `fileSize` and `fileExists` for one execution.

    Which files they reach, and how a path names one, is `ExecutionFiles`'s rule.
    """
    files = ExecutionFiles(storage, execution)

    def read(call: CallContext, path: Any = None, *_: Any) -> str:
        data = _in_expression(files.read, "read", path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            uri = files.uri("", path)
            raise ExpressionError(f"Unable to read the file '{uri}': it is not UTF-8 text") from exc

    def file_uri(call: CallContext, path: Any = None, *_: Any) -> str:
        return _in_expression(files.uri, "fileURI", path)

    def file_size(call: CallContext, path: Any = None, *_: Any) -> int:
        return _in_expression(files.size, "fileSize", path)

    def file_exists(call: CallContext, path: Any = None, *_: Any) -> bool:
        return _in_expression(files.existing, "fileExists", path)[1]

    return {"read": read, "fileURI": file_uri, "fileSize": file_size, "fileExists": file_exists}


def _in_expression(call: Callable[[str, object], T], name: str, path: Any) -> T:
    """Make a file call for the function `name`, its failure an expression error."""
    try:
        return call(f"The '{name}' function", path)
    except FileAccessError as exc:
        raise ExpressionError(str(exc)) from exc


# -- encrypt / decrypt: AES-256-GCM, base64 key, base64 of nonce + ciphertext ------------------


def encrypt_function(call: CallContext, key: Any = None, plaintext: Any = None, *_: Any) -> str:
    """`encrypt(key, plaintext)`: the base64 of a random nonce followed by the ciphertext."""
    if key is None or plaintext is None:
        raise ExpressionError("The 'encrypt' function expects a key and a plaintext.")
    return seal(key, str(plaintext))


def decrypt_function(call: CallContext, key: Any = None, encrypted: Any = None, *_: Any) -> str:
    """`decrypt(key, encrypted)`: the plaintext `encrypt` sealed with the same key."""
    if key is None or encrypted is None:
        raise ExpressionError("The 'decrypt' function expects a key and an encrypted text.")
    return unseal(key, str(encrypted))
