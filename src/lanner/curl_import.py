"""Translate a cURL command into the Request task that sends the same request.

`import_curl` returns the task as a mapping (`task_yaml` prints it, `flow_yaml` wraps it in a
runnable flow). What the translation keeps from curl's own defaults, so that both send the same
thing: no redirects without `-L` (`options.followRedirects: false`), `-d` data as
`application/x-www-form-urlencoded`, pieces of `-d` joined with `&`, `--data-urlencode` values
percent-encoded, `-G` moving the data to the query string. Text that looks like a template
(`{{`, `{%`, `{#`) is wrapped in `{% raw %}` so lanner sends it unchanged. A `-F name=@file`
upload reads a FILE input named after the part: `{{ inputs.<name> }}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import yaml

from lanner.curl_options import Command, Option, parse_command, split_words
from lanner.exceptions import CurlError

REQUEST_TYPE = "io.kestra.plugin.core.http.Request"
FORM_URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_TEMPLATE = re.compile(r"\{[{%#]")
_SECONDS = re.compile(r"^\d+(\.\d+)?$")


@dataclass
class _Body:
    """The request body being built: data pieces or form parts, and its content type."""

    pieces: list[str] = field(default_factory=list)
    # The (name, value) pairs of the pieces, while every piece is a `--data-urlencode name=...`.
    pairs: list[tuple[str, str]] | None = field(default_factory=list)
    json: bool = False
    form: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def import_curl(command: str | list[str], task_id: str = "request") -> dict[str, Any]:
    """Return the Request task (a mapping, as in a flow's YAML) sending what `command` sends."""
    words = split_words(command) if isinstance(command, str) else list(command)
    return _task(parse_command(words), task_id)


def file_inputs(task: dict[str, Any]) -> list[str]:
    """Return the names of the FILE inputs the task's multipart uploads read."""
    form = task.get("formData") or {}
    return [name for name, value in form.items() if isinstance(value, dict)]


def task_yaml(task: dict[str, Any]) -> str:
    """Return a task as YAML, its keys in the order of the Request task's documentation."""
    return yaml.safe_dump(task, sort_keys=False, allow_unicode=True, width=100)


def flow_yaml(task: dict[str, Any], flow_id: str, namespace: str) -> str:
    """Return a whole flow around the task, with the FILE inputs its uploads need."""
    flow: dict[str, Any] = {"id": flow_id, "namespace": namespace}
    inputs = file_inputs(task)
    if inputs:
        flow["inputs"] = [{"id": name, "type": "FILE"} for name in inputs]
    flow["tasks"] = [task]
    return task_yaml(flow)


def literal(text: str) -> str:
    """Keep text from being read as a template."""
    return "{% raw %}" + text + "{% endraw %}" if _TEMPLATE.search(text) else text


# -- the translation ---------------------------------------------------------------------------


def _task(command: Command, task_id: str) -> dict[str, Any]:
    headers = _headers(command)
    body = _body(command)
    task: dict[str, Any] = {"id": task_id, "type": REQUEST_TYPE, "uri": literal(command.url)}
    method = _method(command, body)
    if method != "GET":
        task["method"] = method
    get = command.has("get")
    content_type = _content_type(
        headers, body, has_body=bool(body.form or (body.pieces and not get))
    )
    if body.json and not any(name.lower() == "accept" for name in headers):
        headers["Accept"] = "application/json"
    if headers:
        task["headers"] = {name: literal(value) for name, value in headers.items()}
    if body.form:
        task["contentType"] = MULTIPART
        task["formData"] = body.form
    elif body.pieces and not get:
        task["contentType"] = content_type
        if body.pairs and content_type == FORM_URLENCODED:
            task["formData"] = {name: literal(value) for name, value in body.pairs}
        else:
            task["body"] = literal(("" if body.json else "&").join(body.pieces))
    elif body.pieces:
        task["params"] = _params(body.pieces)
    timeout = command.last("max-time")
    if timeout is not None:
        task["timeout"] = _duration("--max-time", timeout)
    options = _options(command)
    if options:
        task["options"] = options
    return task


def _method(command: Command, body: _Body) -> str:
    explicit = command.last("request")
    if explicit is not None:
        return explicit.upper()
    if command.has("head"):
        return "HEAD"
    if (body.pieces or body.form) and not command.has("get"):
        return "POST"
    return "GET"


def _headers(command: Command) -> dict[str, str]:
    """Return the headers in order, later ones replacing earlier ones of the same name."""
    headers: dict[str, str] = {}
    for option in command.options:
        added = _header(option)
        if added is None:
            continue
        name, value = added
        for existing in [key for key in headers if key.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    return headers


def _header(option: Option) -> tuple[str, str] | None:
    value = option.value or ""
    if option.name == "header":
        name, colon, rest = value.partition(":")
        if not colon and value.endswith(";"):
            # curl's way of sending a header with an empty value.
            return value[:-1].strip(), ""
        if not colon or not name.strip():
            raise CurlError(f"{option.spelling} '{value}' is not a 'Name: value' header")
        if not rest.strip():
            raise CurlError(
                f"{option.spelling} '{value}' removes one of curl's own headers; "
                "lanner has no such header to remove"
            )
        return name.strip(), rest.strip()
    if option.name == "user-agent":
        return "User-Agent", value
    if option.name == "referer":
        return "Referer", value.removesuffix(";auto")
    if option.name == "cookie":
        if "=" not in value:
            raise CurlError(
                f"{option.spelling} '{value}' reads a cookie file; give the cookies "
                "as 'name=value; other=value'"
            )
        return "Cookie", value
    return None


def _content_type(headers: dict[str, str], body: _Body, *, has_body: bool) -> str:
    """Take the Content-Type out of the headers when there is a body: it is `contentType`."""
    for name in list(headers):
        if name.lower() == "content-type" and has_body:
            return headers.pop(name)
    if body.json:
        return "application/json"
    return FORM_URLENCODED


def _body(command: Command) -> _Body:
    body = _Body()
    for option in command.options:
        value = option.value or ""
        if option.name in ("data", "data-binary", "json", "data-urlencode"):
            _refuse_file(option)
        if option.name in ("data", "data-binary", "data-raw"):
            body.pieces.append(value)
            body.pairs = None
        elif option.name == "data-urlencode":
            piece, pair = _urlencoded(value)
            body.pieces.append(piece)
            if body.pairs is not None and pair is not None:
                body.pairs.append(pair)
            else:
                body.pairs = None
        elif option.name == "json":
            body.pieces.append(value)
            body.json, body.pairs = True, None
        elif option.name in ("form", "form-string"):
            _form_part(body, option)
    if body.json and len(body.pieces) != len(command.values("json")):
        raise CurlError("--json cannot be mixed with -d/--data options")
    if body.form and body.pieces:
        raise CurlError("-F/--form cannot be mixed with -d/--data options (curl refuses too)")
    return body


def _refuse_file(option: Option) -> None:
    value = option.value or ""
    name, _, rest = value.partition("=") if option.name == "data-urlencode" else ("", "", value)
    if value.startswith("@") or (option.name == "data-urlencode" and "@" in name and not rest):
        raise CurlError(
            f"{option.spelling} '{value}' reads a local file, which a flow cannot see; "
            "put the content in the command, or in a FILE input and use read()"
        )


def _urlencoded(value: str) -> tuple[str, tuple[str, str] | None]:
    """Encode a `--data-urlencode` value as curl does; return it and its (name, value) pair."""
    name, equals, content = value.partition("=")
    if not equals:
        return quote(value, safe=""), None
    if not name:
        return quote(content, safe=""), None
    return f"{name}={quote(content, safe='')}", (name, content)


def _form_part(body: _Body, option: Option) -> None:
    value = option.value or ""
    name, equals, content = value.partition("=")
    if not equals or not name:
        raise CurlError(f"{option.spelling} '{value}' is not a 'name=value' form part")
    if option.name == "form-string" or not content.startswith(("@", "<")):
        body.form[name] = literal(content)
        return
    if content.startswith("<"):
        raise CurlError(
            f"{option.spelling} '{value}' reads a local file as text, which a flow cannot see; "
            "put the text in the command"
        )
    path, *params = content[1:].split(";")
    file_name = PurePosixPath(path).name
    for param in params:
        key, _, param_value = param.partition("=")
        if key.strip() != "filename":
            raise CurlError(
                f"{option.spelling} '{value}': ';{key.strip()}=' is not supported "
                "(lanner sends file parts as application/octet-stream)"
            )
        file_name = param_value.strip().strip('"')
    body.form[name] = {"name": file_name, "content": "{{ inputs." + name + " }}"}
    body.files.append(name)


def _params(pieces: list[str]) -> dict[str, Any]:
    """Turn `-G` data into query parameters; a repeated name becomes a list."""
    params: dict[str, Any] = {}
    for name, value in parse_qsl("&".join(pieces), keep_blank_values=True):
        value = literal(value)
        existing = params.get(name)
        if existing is None:
            params[name] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            params[name] = [existing, value]
    return params


def _duration(option: str, seconds: str) -> str:
    if not _SECONDS.match(seconds.strip()):
        raise CurlError(f"{option} expects a number of seconds, got '{seconds}'")
    number = float(seconds)
    text = str(int(number)) if number.is_integer() else str(number)
    return f"PT{text}S"


def _options(command: Command) -> dict[str, Any]:
    options: dict[str, Any] = {}
    connect = command.last("connect-timeout")
    if connect is not None:
        options["timeout"] = {"connectTimeout": _duration("--connect-timeout", connect)}
    proxy = command.last("proxy")
    if proxy is not None:
        options["proxy"] = _proxy(proxy, command.last("proxy-user"))
    auth = _auth(command)
    if auth is not None:
        options["auth"] = auth
    if command.has("insecure"):
        options["ssl"] = {"insecureTrustAllCertificates": True}
    if not command.has("location"):
        # curl follows no redirect unless told to; lanner follows them by default.
        options["followRedirects"] = False
    return options


def _auth(command: Command) -> dict[str, Any] | None:
    token = command.last("oauth2-bearer")
    if token is not None:
        return {"type": "BEARER", "token": literal(token)}
    user = command.last("user")
    if user is None:
        return None
    username, colon, password = user.partition(":")
    if not colon:
        raise CurlError(
            f"-u '{user}' has no password (curl would ask for it); write -u 'user:password'"
        )
    kind = "DIGEST" if command.has("digest") else "BASIC"
    return {"type": kind, "username": literal(username), "password": literal(password)}


def _proxy(proxy: str, proxy_user: str | None) -> dict[str, Any]:
    """Translate `-x [scheme://][user:password@]host[:port]` (and `-U user:password`)."""
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "socks5", "socks5h"):
        raise CurlError(f"-x '{proxy}': lanner supports http:// and socks5:// proxies only")
    try:
        port = parts.port or 1080
    except ValueError as exc:
        raise CurlError(f"-x '{proxy}' has an invalid port") from exc
    result: dict[str, Any] = {
        "type": "SOCKS" if scheme.startswith("socks") else "HTTP",
        "address": parts.hostname or "",
        "port": port,
    }
    username, password = parts.username, parts.password
    if proxy_user is not None:
        username, _, password = proxy_user.partition(":")
    if username:
        result["username"] = literal(username)
        if password is not None:
            result["password"] = literal(password)
    return result
