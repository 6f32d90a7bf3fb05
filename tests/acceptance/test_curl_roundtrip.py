"""cURL commands both ways, against httpbin on 127.0.0.1 and Debian's own curl.

For each command of the table: Debian's curl sends it to httpbin's `/anything`, which echoes
the request it received; `lanner curl import` turns it into a Request task, which the engine
runs (SQLite store, real worker): httpbin must echo the same request. Then the exported command
of that task run must import to the same task (secrets masked), and, sent by curl, must make
httpbin echo the same request again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from lanner.context import MASK
from lanner.curl_export import curl_command, find_task_run, recorded_exchange
from lanner.curl_import import file_inputs, import_curl
from lanner.curl_options import split_words
from lanner.flows import Flow
from lanner.inputs.coercion import Upload
from lanner.runner import Runner
from lanner.settings import Settings
from lanner.states import State
from lanner.store import open_store
from tests.httpservers import ExternalServer, serve_httpbin

CURL = shutil.which("curl") or "/usr/bin/curl"
CSV = b"id,name\n1,foo\n"

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path(CURL).exists(), reason="curl is not installed"),
]

# (id, command): `{url}` is httpbin's address, `{a}` its `/anything` echo.
COMMANDS = [
    ("get-headers", "curl -H 'X-Request-Id: 42' -H 'Accept: application/json' {a}/items"),
    ("query-string", "curl '{a}/search?q=lanner&tag=a&tag=b&empty='"),
    ("json-post", """curl -X POST {a}/users -H 'Content-Type: application/json' -d '{{"name":"Bob","tags":["a","b"]}}'"""),  # noqa: E501
    ("json-option", """curl --json '{{"name":"Alice"}}' {a}/users"""),
    ("form-post", "curl -d 'name=Bob' -d 'job=developer' {a}/form"),
    ("form-urlencode", "curl --data-urlencode 'comment=hello & goodbye' --data-urlencode 'name=Zoë' {a}/form"),  # noqa: E501
    ("text-body", "curl --data-raw 'plain text, not a form' -H 'Content-Type: text/plain' {a}/text"),  # noqa: E501
    ("binary-body", "curl --data-binary 'line one\nline two' -H 'Content-Type: text/plain' {a}/lines"),  # noqa: E501
    ("multipart-text", "curl -F name=Bob -F job=developer {a}/multipart"),
    ("multipart-file", "curl -F note=quarterly -F 'doc=@data.csv' {a}/upload"),
    ("basic-auth", "curl -u alice:s3cret-pass {a}/private"),
    ("bearer", "curl --oauth2-bearer tok-0123456789 {a}/api"),
    ("get-urlencode", "curl -G --data-urlencode 'q=hello world' --data-urlencode 'lang=fr' {a}/search"),  # noqa: E501
    ("get-data", "curl -G -d page=2 -d page=3 -d sort=desc {a}/list"),
    ("put", """curl -X PUT -H 'Content-Type: application/json' -d '{{"id":7,"done":true}}' {a}/items/7"""),  # noqa: E501
    ("patch", """curl -X PATCH --json '{{"op":"replace","path":"/name"}}' {a}/items/7"""),
    ("delete", "curl -X DELETE -H 'X-Reason: cleanup' {a}/items/7"),
    ("post-no-body", "curl -X POST {a}/ping"),
    ("head", "curl -I {a}/head"),
    ("redirect-followed", "curl -L '{url}/redirect-to?url=/anything/landed'"),
    ("redirect-not-followed", "curl '{url}/redirect-to?url=/anything/elsewhere'"),
    ("user-agent", "curl -A 'inventory-sync/2.1' {a}/agent"),
    ("referer", "curl -e https://example.com/from {a}/ref"),
    ("cookies", "curl -b 'session=abc123; theme=dark' {a}/cookies"),
    ("compressed-timeouts", "curl -sS --compressed --connect-timeout 5 --max-time 20 -k {a}/slow"),
    ("template-text", "curl -H 'X-Template: {{{{ not.rendered }}}}' -d 'a={{%b%}}' {a}/raw"),
]  # fmt: skip

# Headers each client writes its own way: curl asks for no compression unless told to and
# closes the connection, httpx asks for gzip and keeps it; multipart boundaries differ in length.
_CLIENT_HEADERS = {"accept-encoding", "connection", "content-length"}
# The User-Agent each client sends when the command sets none.
_DEFAULT_AGENTS = ("curl/", "lanner/")


@pytest.fixture(scope="module")
def httpbin() -> Iterator[ExternalServer]:
    server = serve_httpbin()
    yield server
    server.close()


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[Runner]:
    settings = Settings.load(home=tmp_path / "home", environ={})
    settings.home.mkdir(parents=True)
    store = await open_store(settings.database_url)
    try:
        async with Runner(settings, store) as running:
            yield running
    finally:
        await store.close()


def run_curl(command: str, cwd: Path) -> dict[str, Any]:
    """Send the command with Debian's curl (no config file, no proxy from the environment)."""
    words = split_words(command)[1:]
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    done = subprocess.run(
        [CURL, "-q", "-sS", "-i", *words],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=30,
        check=True,
    )
    return parse_response(done.stdout)


def parse_response(raw: bytes) -> dict[str, Any]:
    """Return the last response of `curl -i` output: code, headers, echoed request."""
    text = raw.decode("utf-8")
    blocks = text.split("\r\n\r\n")
    # With -L, curl prints every response's head; the body follows the last one.
    heads = [block for block in blocks if block.startswith("HTTP/")]
    head = heads[-1]
    body = text[text.index(head) + len(head) + 4 :]
    status = head.split("\r\n", 1)[0]
    headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:])
    return {"code": int(status.split()[1]), "headers": _lower(headers), "body": body}


def _lower(headers: dict[str, Any]) -> dict[str, Any]:
    return {name.lower(): value for name, value in headers.items()}


async def run_task(runner: Runner, task: dict[str, Any], cwd: Path) -> Any:
    """Run the task in a flow of its own; return the execution."""
    flow = Flow.model_validate(
        {"id": "curl", "namespace": "acceptance", "tasks": [task]} | _inputs(task)
    )
    uploads = {
        name: Upload("data.csv", (cwd / "data.csv").read_bytes()) for name in file_inputs(task)
    }
    started = await runner.submit(flow, 1, uploads)
    return await runner.wait(started.id, timeout=60)


def _inputs(task: dict[str, Any]) -> dict[str, Any]:
    names = file_inputs(task)
    return {"inputs": [{"id": name, "type": "FILE"} for name in names]} if names else {}


def echoed(response: dict[str, Any], *, masked_auth: bool = False) -> dict[str, Any]:
    """Return what httpbin saw, reduced to what both clients must agree on."""
    if not response["body"]:
        location = response["headers"].get("location")
        return {"code": response["code"], "location": location}
    echo = json.loads(response["body"])
    headers = {
        name: value
        for name, value in _lower(echo["headers"]).items()
        if name not in _CLIENT_HEADERS
    }
    if headers.get("user-agent", "").startswith(_DEFAULT_AGENTS):
        del headers["user-agent"]
    if "content-type" in headers:
        headers["content-type"] = headers["content-type"].split(";")[0]
    if masked_auth:
        # A masked credential cannot authenticate: its header is the one thing that differs.
        headers.pop("authorization", None)
    return {
        "code": response["code"],
        "method": echo["method"],
        "path": urlsplit(echo["url"]).path,
        "args": echo["args"],
        "form": echo["form"],
        "files": echo["files"],
        "json": echo["json"],
        "data": echo["data"],
        "headers": headers,
    }


def unraw(value: Any) -> Any:
    """Drop the `{% raw %}` wrappers: the text lanner sends is what is inside."""
    if isinstance(value, str):
        return value.replace("{% raw %}", "").replace("{% endraw %}", "")
    if isinstance(value, dict):
        return {unraw(key): unraw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unraw(item) for item in value]
    return value


def normalized(task: dict[str, Any]) -> dict[str, Any]:
    """Reduce a task to what the request it sends depends on, secrets masked."""
    task = unraw(task)
    options = dict(task.get("options") or {})
    headers = {name.lower(): value for name, value in (task.get("headers") or {}).items()}
    auth = dict(options.pop("auth", None) or {})
    if auth.get("type") == "BEARER":
        headers["authorization"] = f"Bearer {MASK}"
    elif auth:
        options["auth"] = auth | {"password": MASK}
    content_type = str(task.get("contentType", "")).split(";")[0]
    body: Any = task.get("formData") or task.get("body")
    if content_type == "application/x-www-form-urlencoded" and isinstance(body, str):
        body = dict(parse_qsl(body, keep_blank_values=True))
    url = urlsplit(task["uri"])
    query = parse_qsl(url.query, keep_blank_values=True)
    for name, value in (task.get("params") or {}).items():
        query.extend((name, item) for item in (value if isinstance(value, list) else [value]))
    return {
        "method": task.get("method", "GET"),
        "url": url._replace(query="").geturl(),
        "query": sorted(query),
        "headers": headers,
        "contentType": content_type if body else None,
        "body": body,
        "timeout": task.get("timeout"),
        "options": options,
    }


@pytest.mark.parametrize(("command_template"), [pytest.param(c, id=i) for i, c in COMMANDS])
async def test_import_run_export(
    command_template: str, httpbin: ExternalServer, runner: Runner, tmp_path: Path
) -> None:
    (tmp_path / "data.csv").write_bytes(CSV)
    command = command_template.format(url=httpbin.url, a=f"{httpbin.url}/anything")
    by_curl = run_curl(command, tmp_path)
    task = import_curl(command)

    execution = await run_task(runner, task, tmp_path)
    run = find_task_run(execution, "request")
    assert run.current is State.SUCCESS, execution.to_json()
    outputs = run.outputs or {}
    by_lanner = {
        "code": outputs["code"],
        "headers": {name: values[0] for name, values in outputs["headers"].items()},
        "body": outputs.get("body", ""),
    }
    assert echoed(by_lanner) == echoed(by_curl)

    _, har = recorded_exchange(runner.storage, execution, run)
    exported = curl_command(har)
    assert "s3cret-pass" not in exported
    assert "tok-0123456789" not in exported
    assert normalized(import_curl(exported)) == normalized(task)

    again = run_curl(exported, tmp_path)
    assert echoed(again, masked_auth=True) == echoed(by_curl, masked_auth=True)


def test_the_table_is_large_enough() -> None:
    assert len(COMMANDS) >= 20
    assert len({name for name, _ in COMMANDS}) == len(COMMANDS)
