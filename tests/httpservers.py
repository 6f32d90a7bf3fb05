"""Local HTTP servers for the HTTP task tests, and a harness running tasks through a Worker.

The servers: httpbin, a mock of Kestra's test routes, TLS with a self-signed certificate. Every
server listens on 127.0.0.1 on a free port, in a thread, and is shut down by `close()`.
The mock routes are those of Kestra's RequestTest/DownloadTest (spec http-tasks.md §6) plus the
two public endpoints of the user's seed flows.
"""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from ssl import PROTOCOL_TLS_SERVER, SSLContext
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from lanner.context import RunContext
from lanner.executions import Execution, Level, LogEntry, TaskRun
from lanner.expressions import render_typed
from lanner.flows import Flow
from lanner.httpclient import ClientPool
from lanner.inputs import resolve_inputs
from lanner.jobs import WorkerJob
from lanner.settings import Settings
from lanner.states import State
from lanner.storage import LocalStorage, Storage
from lanner.tasks.base import RunnableTask
from lanner.worker import Worker

WSGIApp = Callable[..., Iterable[bytes]]

HELLO = '{ "hello": "world" }'
SAMPLE_CSV = "id,name,value\n1,foo,100\n2,bar,200\n3,baz,300\n"
PRODUCTS_CSV = (
    "product_id,product_name,product_category,brand\n"
    "1,streamline turn-key systems,Electronics,gomez\n"
    "2,morph viral applications,Household,wolfe\n"
    "3,expedite front-end schemas,Household,davis-martinez\n"
)
LARGE_SIZE = 20 * 1024 * 1024
PROXY_CREDENTIALS = "proxy-user:proxy-pass"


class QuietHandler(WSGIRequestHandler):
    """A request handler that does not print one line per request."""

    def log(self, type: str, message: str, *args: Any) -> None:
        return None


@dataclass
class Server:
    """A WSGI server running in a thread."""

    server: BaseWSGIServer
    thread: threading.Thread
    scheme: str = "http"

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def serve(app: WSGIApp, ssl_context: SSLContext | None = None) -> Server:
    """Start `app` on 127.0.0.1, on a free port, in a daemon thread."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler, ssl_context=ssl_context
    )
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    return Server(server, thread, "https" if ssl_context else "http")


# httpbin pins an old greenlet on Python 3.11 that other test tools cannot share, so it lives in
# a virtual environment of its own (made by scripts/test) and runs as a separate process.
HTTPBIN_PYTHON = Path(
    os.environ.get(
        "LANNER_HTTPBIN_PYTHON",
        Path(__file__).resolve().parents[1] / ".venv-httpbin" / "bin" / "python",
    )
)
_HTTPBIN_MAIN = (
    "import sys; from werkzeug.serving import run_simple; from httpbin import app; "
    "run_simple('127.0.0.1', int(sys.argv[1]), app, threaded=True)"
)


@dataclass
class ExternalServer:
    """A server running in a child process."""

    url: str
    process: subprocess.Popen[bytes]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def serve_httpbin() -> ExternalServer:
    """Start httpbin (from PyPI) on 127.0.0.1 in its own process; wait until it answers."""
    if not HTTPBIN_PYTHON.exists():
        raise RuntimeError(
            f"httpbin's environment is missing ({HTTPBIN_PYTHON}): run scripts/test, "
            "or set LANNER_HTTPBIN_PYTHON"
        )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [str(HTTPBIN_PYTHON), "-c", _HTTPBIN_MAIN, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return ExternalServer(url, process)
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("httpbin did not start") from None
            time.sleep(0.05)


def self_signed_context(directory: Path) -> SSLContext:
    """Make a self-signed certificate for 127.0.0.1 with openssl and load it for a server."""
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = SSLContext(PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def png_image() -> bytes:
    """Return a small noisy PNG whose bytes, read as UTF-8, hold unassigned code points."""
    width = height = 64
    noise = random.Random(7)
    rows = b"".join(b"\x00" + noise.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# -- the mock routes -------------------------------------------------------------------------


@dataclass
class Recorded:
    """A request the mock server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


Route = Callable[[Request], Response]


@dataclass
class MockApp:
    """Kestra's test routes, plus what the seed flows call; remembers every request."""

    received: list[Recorded] = field(default_factory=list)
    proxied: list[str] = field(default_factory=list)
    # How many /slow requests were in progress at once, at most.
    slow_peak: int = 0
    _slow_now: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # Closing the request closes the temporary files of parsed multipart uploads.
        with Request(environ) as request:
            response = self._respond(environ, request)
        return response(environ, start_response)

    def _respond(self, environ: dict[str, Any], request: Request) -> Response:
        route = self._route(environ)
        if self._is_proxied(environ) and not self._proxy_allowed(request):
            return Response(status=407, headers={"Proxy-Authenticate": 'Basic realm="proxy"'})
        if route is None:
            return Response("not found", status=404)
        return route(request)

    def _is_proxied(self, environ: dict[str, Any]) -> bool:
        # A request line with an absolute URI is one sent to a proxy.
        return str(environ.get("RAW_URI", "")).startswith("http://")

    def _proxy_allowed(self, request: Request) -> bool:
        """Act as a proxy needing `proxy-user:proxy-pass`: it answers from its own routes."""
        expected = "Basic " + base64.b64encode(PROXY_CREDENTIALS.encode()).decode()
        allowed = request.headers.get("Proxy-Authorization") == expected
        if allowed:
            self.proxied.append(request.url)
        return allowed

    def _route(self, environ: dict[str, Any]) -> Route | None:
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
        if raw.split("?")[0] == "/uri%20with%20space":
            return lambda request: Response("Hello World")
        path = str(environ.get("PATH_INFO", ""))
        name = path.strip("/").replace("/", "_").replace("-", "_").replace(".", "_")
        route: Route | None = getattr(self, "route_" + name, None)
        return route

    def record(self, request: Request) -> bytes:
        body = request.get_data()
        self.received.append(
            Recorded(
                request.method,
                request.path,
                request.query_string.decode(),
                dict(request.headers.items()),
                body,
            )
        )
        return body

    def last(self) -> Recorded:
        return self.received[-1]

    # Each route_<path with _ for /> answers one path.

    def route_hello(self, request: Request) -> Response:
        return Response(HELLO, content_type="application/json")

    def route_headonly(self, request: Request) -> Response:
        return Response(status=200 if request.method == "HEAD" else 405)

    def route_hello417(self, request: Request) -> Response:
        return Response(HELLO, status=417, content_type="application/json")

    def route_params(self, request: Request) -> Response:
        return Response(request.query_string.decode(), content_type="text/plain")

    def route_markdown(self, request: Request) -> Response:
        self.record(request)
        return Response("# hello world", status=417, content_type="text/markdown")

    def route_redirect(self, request: Request) -> Response:
        return Response(status=301, headers={"Location": "/hello"})

    def route_auth_basic(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or auth.type != "basic" or auth.password != "p4ss":
            return Response(status=401, headers={"WWW-Authenticate": 'Basic realm="kestra"'})
        return Response(json.dumps({"hello": auth.username}, separators=(",", ":")))

    def route_auth_bearer(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or auth.type != "bearer":
            return Response(status=401)
        return Response(json.dumps({"hello": auth.token}, separators=(",", ":")))

    def route_post_json(self, request: Request) -> Response:
        body = self.record(request)
        return Response(body, content_type="application/json")

    def route_post_url_encoded(self, request: Request) -> Response:
        self.record(request)
        return Response(f"{request.form.get('hello')} > {request.headers.get('test')}")

    def route_post_multipart(self, request: Request) -> Response:
        self.record(request)
        upload = request.files.get("file")
        content = upload.read().decode() if upload else None
        filename = upload.filename if upload else None
        return Response(
            f"{request.form.get('hello')} > {content}", headers={"X-Name": filename or ""}
        )

    def route_content_type(self, request: Request) -> Response:
        self.record(request)
        return Response(request.headers.get("Content-Type", ""))

    def route_echo(self, request: Request) -> Response:
        body = self.record(request)
        echo = {
            "method": request.method,
            "query": request.query_string.decode(),
            "headers": dict(request.headers.items()),
            "body": body.decode("utf-8", errors="replace"),
        }
        return Response(json.dumps(echo), content_type="application/json")

    def route_large(self, request: Request) -> Response:
        return Response(_chunks(LARGE_SIZE), headers={"Content-Length": str(LARGE_SIZE)})

    def route_large_chunked(self, request: Request) -> Response:
        return Response(_chunks(LARGE_SIZE), content_type="text/plain")

    def route_bytes(self, request: Request) -> Response:
        size = int(request.args.get("size", "0"))
        return Response(b"a" * size, content_type="text/plain")

    def route_sample_csv(self, request: Request) -> Response:
        return Response(SAMPLE_CSV, content_type="text/csv")

    def route_products_csv(self, request: Request) -> Response:
        return Response(PRODUCTS_CSV, content_type="text/plain; charset=utf-8")

    def route_api_users(self, request: Request) -> Response:
        body = self.record(request)
        created = {**json.loads(body), "id": "1", "createdAt": "2024-01-01T00:00:00.000Z"}
        compact = json.dumps(created, separators=(",", ":"))
        return Response(compact, status=201, content_type="application/json")

    def route_image_png(self, request: Request) -> Response:
        return Response(png_image(), content_type="image/png")

    def route_latin1(self, request: Request) -> Response:
        return Response("café".encode("latin-1"), content_type="text/plain; charset=ISO-8859-1")

    def route_status(self, request: Request) -> Response:
        code = int(request.args.get("code", "200"))
        body = request.args.get("body", "")
        return Response(body, status=code)

    def route_slow(self, request: Request) -> Response:
        with self._lock:
            self._slow_now += 1
            self.slow_peak = max(self.slow_peak, self._slow_now)
        time.sleep(float(request.args.get("seconds", "1")))
        with self._lock:
            self._slow_now -= 1
        return Response("slow")

    def route_too_large(self, request: Request) -> Response:
        # Answers at once, without reading the upload, as servers with a size limit do.
        return Response("Payload Too Large", status=413)

    def route_set_cookie(self, request: Request) -> Response:
        response = Response("cookie set")
        response.set_cookie("session", "secret")
        return response

    def route_204(self, request: Request) -> Response:
        return Response(status=204)

    def route_500(self, request: Request) -> Response:
        return Response("Internal Server Error", status=500, content_type="text/plain")

    def route_chunked(self, request: Request) -> Response:
        # No Content-Length: the body is sent in pieces until the connection says it ended.
        return Response(_chunks(120_000, 10_000), content_type="application/octet-stream")

    def route_stream(self, request: Request) -> Response:
        size = int(request.args.get("size", "0"))
        return Response(_chunks(size), headers={"Content-Length": str(size)})

    def route_content_disposition(self, request: Request) -> Response:
        return _attachment('attachment; filename="filename.jpg"')

    def route_content_disposition_path(self, request: Request) -> Response:
        return _attachment('attachment; filename="/secure-path/filename.jpg"')

    def route_content_disposition_double_dot(self, request: Request) -> Response:
        return _attachment('attachment; filename="/secure-path/filename..jpg"')

    def route_content_disposition_utf8(self, request: Request) -> Response:
        return _attachment(
            "attachment; filename=\"fallback.jpg\"; filename*=UTF-8''caf%C3%A9%20menu.jpg"
        )


def _attachment(disposition: str) -> Response:
    return Response(
        png_image(), content_type="image/jpeg", headers={"Content-Disposition": disposition}
    )


def _chunks(total: int, size: int = 1024 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    sent = 0
    while sent < total:
        part = block[: min(size, total - sent)]
        sent += len(part)
        yield part


# -- running tasks as the worker does ----------------------------------------------------------


@dataclass
class TaskResult:
    """How one task run ended, with what it logged."""

    state: State
    outputs: dict[str, Any]
    logs: list[LogEntry]

    def messages(self, level: Level | None = None) -> list[str]:
        return [entry.message for entry in self.logs if level is None or entry.level == level]

    @property
    def error(self) -> str:
        """Return the error the user sees in the task run's logs."""
        return "\n".join(self.messages(Level.ERROR))


class TaskHarness:
    """Runs the tasks of a flow one after the other through a real Worker (no executor)."""

    def __init__(self, home: Path, pool: ClientPool, storage: Storage | None = None) -> None:
        self.settings = Settings.load(home=home, environ={})
        self.storage = storage or LocalStorage(home / "storage")
        self.logs: list[LogEntry] = []
        self._flow: Flow | None = None
        self.worker = Worker(
            self.settings, self.storage, self.logs.append, self._flow_of, http=pool
        )

    def _flow_of(self, job: WorkerJob) -> Flow:
        assert self._flow is not None
        return self._flow

    async def run_flow(
        self, source: Mapping[str, Any], inputs: Mapping[str, Any] | None = None
    ) -> list[TaskResult]:
        """Run every top-level task in order until one fails; return their results."""
        flow = self._flow = Flow.model_validate(source)
        resolved = resolve_inputs(
            flow.inputs or [],
            dict(inputs or {}),
            render_typed=lambda template, variables: render_typed(template, variables),
        )
        execution = Execution.create(flow.namespace, flow.id, 1, inputs=resolved)
        results: list[TaskResult] = []
        for task in flow.tasks:
            assert isinstance(task, RunnableTask)
            result, execution = await self._run(execution, task)
            results.append(result)
            if result.state is not State.SUCCESS:
                break
        return results

    async def run_task(self, task: Mapping[str, Any], **flow: Any) -> TaskResult:
        """Run one task in a flow of its own."""
        source = {"id": "test", "namespace": "io.kestra.tests", **flow, "tasks": [task]}
        return (await self.run_flow(source))[0]

    async def request(self, uri: str, **properties: Any) -> TaskResult:
        """Run one Request task."""
        task = {"id": "request", "type": REQUEST, "uri": uri, **properties}
        return await self.run_task(task)

    def context(self, task: Mapping[str, Any]) -> tuple[RunnableTask, RunContext]:
        """Return a task and the RunContext the worker would give it, to call `run` directly."""
        flow = self._flow = Flow.model_validate(
            {"id": "test", "namespace": "io.kestra.tests", "tasks": [task]}
        )
        runnable = flow.tasks[0]
        assert isinstance(runnable, RunnableTask)
        execution = Execution.create(flow.namespace, flow.id, 1)
        job = WorkerJob(execution, TaskRun.create(execution, runnable.id), runnable)
        return runnable, self.worker.context(job)

    async def _run(self, execution: Execution, task: RunnableTask) -> tuple[TaskResult, Execution]:
        task_run = TaskRun.create(execution, task.id)
        first_log = len(self.logs)
        result = await self.worker.run(WorkerJob(execution, task_run, task))
        outputs = dict(result.outputs or {})
        done = replace(task_run, outputs=outputs or None).with_state(result.state)
        return (
            TaskResult(result.state, outputs, self.logs[first_log:]),
            execution.with_task_run(done),
        )

    def put_file(self, name: str, data: bytes) -> str:
        """Store a file in internal storage; return its `kestra://` URI."""
        return self.storage.put("/io/kestra/tests/test/executions/files", name, data)


REQUEST = "io.kestra.plugin.core.http.Request"
