"""Write the cURL command of an executed Request task run, from the HAR file it recorded.

The command repeats the first request the task sent (the one before any redirect or digest
challenge) with the client settings that shaped the exchange: `-L` when redirects were
followed, `-k`, `-x`, `--connect-timeout`, `--max-time`, `-u`/`--digest`. Headers the HTTP
client added by itself (User-Agent, Accept-Encoding, Host...) are left to curl. The HAR file
holds no secret, so neither does the command: masked values stay `********`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from lanner.context import MASK
from lanner.exceptions import NotFoundError
from lanner.executions import Execution, TaskRun
from lanner.storage import Storage
from lanner.tasks.http_exchange import HAR_OUTPUT, har_uri

_HEADER_OPTIONS = {"user-agent": "-A", "referer": "-e", "cookie": "-b"}


def find_task_run(execution: Execution, reference: str) -> TaskRun:
    """Return the task run with this id, or the only task run of the task with this id."""
    for run in execution.task_runs:
        if run.id == reference:
            return run
    runs = [run for run in execution.task_runs if run.task_id == reference]
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise NotFoundError(
            f"Execution '{execution.id}' has no task run with the id or task id '{reference}'"
        )
    listed = ", ".join(f"{run.id} (value {run.value})" for run in runs)
    raise NotFoundError(
        f"Task '{reference}' ran {len(runs)} times in execution '{execution.id}': "
        f"give one task run id of {listed}"
    )


def recorded_exchange(
    storage: Storage, execution: Execution, run: TaskRun
) -> tuple[str, dict[str, Any]]:
    """Return the URI and the content of a task run's HAR file (also there when it failed)."""
    uri = (run.outputs or {}).get(HAR_OUTPUT)
    if not isinstance(uri, str):
        uri = har_uri(execution, run)
    if not storage.exists(uri):
        raise NotFoundError(
            f"Task run '{run.id}' of task '{run.task_id}' has no recorded HTTP exchange: "
            "only Request task runs record one"
        )
    document: dict[str, Any] = json.loads(storage.read(uri))
    return uri, document


def curl_command(har: Mapping[str, Any]) -> str:
    """Return the cURL command of the first request of a HAR log, one option a line."""
    log = har["log"]
    entries = log.get("entries") or []
    if not entries:
        raise NotFoundError("The recorded exchange has no request")
    request = entries[0]["request"]
    options: Mapping[str, Any] = log.get("_options") or {}
    lines = [["curl", *_method(request)], *_headers(request, options)]
    lines.extend(_body(request.get("postData")))
    lines.extend(_settings(options))
    lines.append([request["url"]])
    return " \\\n  ".join(" ".join(shlex.quote(word) for word in line) for line in lines)


def _method(request: Mapping[str, Any]) -> list[str]:
    method = request["method"]
    if method == "HEAD" and "postData" not in request:
        return ["-I"]
    implied = "POST" if "postData" in request else "GET"
    return [] if method == implied else ["-X", method]


def _headers(request: Mapping[str, Any], options: Mapping[str, Any]) -> Iterator[list[str]]:
    auth = options.get("auth") or {}
    multipart = str((request.get("postData") or {}).get("mimeType", "")).startswith("multipart/")
    for header in request["headers"]:
        name, value = header["name"], header["value"]
        lowered = name.lower()
        if header.get("_generated"):
            continue
        if lowered == "authorization" and auth.get("type") == "BASIC":
            continue  # written as -u below
        if lowered == "content-type" and multipart:
            continue  # curl writes its own boundary
        if lowered in _HEADER_OPTIONS:
            yield [_HEADER_OPTIONS[lowered], value]
        else:
            yield ["-H", f"{name}: {value}"]
    if auth.get("type") in ("BASIC", "DIGEST"):
        digest = ["--digest"] if auth["type"] == "DIGEST" else []
        yield [*digest, "-u", f"{auth.get('username', '')}:{MASK}"]


def _body(post: Mapping[str, Any] | None) -> Iterator[list[str]]:
    if post is None:
        return
    mime = str(post.get("mimeType", ""))
    params = post.get("params")
    if params is not None and mime.startswith("multipart/"):
        for param in params:
            if "fileName" in param:
                yield ["-F", f"{param['name']}=@{param['fileName']}"]
            else:
                yield ["--form-string", f"{param['name']}={param.get('value', '')}"]
    elif params is not None:
        for param in params:
            yield ["--data-urlencode", f"{param['name']}={param.get('value', '')}"]
    else:
        yield ["--data-raw", str(post.get("text", ""))]


def _settings(options: Mapping[str, Any]) -> Iterator[list[str]]:
    if options.get("followRedirects"):
        yield ["-L"]
    if options.get("insecure"):
        yield ["-k"]
    if options.get("proxy"):
        yield ["-x", str(options["proxy"])]
    if options.get("connectTimeout") is not None:
        yield ["--connect-timeout", _number(options["connectTimeout"])]
    if options.get("maxTime") is not None:
        yield ["--max-time", _number(options["maxTime"])]


def _number(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
