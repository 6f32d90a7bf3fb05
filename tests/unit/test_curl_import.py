"""`import_curl`: cURL command lines to Request tasks, and the errors that name the option."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from lanner.curl_import import file_inputs, flow_yaml, import_curl, literal, task_yaml
from lanner.exceptions import CurlError
from lanner.flows import Flow

URL = "https://api.example.com/v1/items"
NO_REDIRECTS = {"followRedirects": False}


def task(**properties: Any) -> dict[str, Any]:
    return {"id": "request", "type": "io.kestra.plugin.core.http.Request", **properties}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param(f"curl {URL}", task(uri=URL, options=NO_REDIRECTS), id="get"),
        pytest.param(f"curl -L {URL}", task(uri=URL), id="location"),
        pytest.param(
            f"curl -sSL -XDELETE '{URL}/1?force=true'",
            task(uri=f"{URL}/1?force=true", method="DELETE"),
            id="grouped-short-options",
        ),
        pytest.param(
            f"curl -L -H 'Accept: application/json' -H 'X-Id:7' -H 'x-id: 8' -H 'Empty;' {URL}",
            task(uri=URL, headers={"Accept": "application/json", "x-id": "8", "Empty": ""}),
            id="headers",
        ),
        pytest.param(
            f"""curl -L {URL} -H 'Content-Type: application/json' -d '{{"name":"Bob"}}'""",
            task(uri=URL, method="POST", contentType="application/json", body='{"name":"Bob"}'),
            id="json-post",
        ),
        pytest.param(
            f"curl -L --json '{{\"a\":' --json '1}}' {URL}",
            task(
                uri=URL,
                method="POST",
                headers={"Accept": "application/json"},
                contentType="application/json",
                body='{"a":1}',
            ),
            id="json-option",
        ),
        pytest.param(
            f"curl -L -d a=1 -d 'b=two words' {URL}",
            task(
                uri=URL,
                method="POST",
                contentType="application/x-www-form-urlencoded",
                body="a=1&b=two words",
            ),
            id="data-pieces",
        ),
        pytest.param(
            f"curl -L --data-urlencode 'q=a b&c' --data-urlencode n=1 {URL}",
            task(
                uri=URL,
                method="POST",
                contentType="application/x-www-form-urlencoded",
                formData={"q": "a b&c", "n": "1"},
            ),
            id="data-urlencode-pairs",
        ),
        pytest.param(
            f"curl -L --data-urlencode 'a b' --data-raw '@x' --data-binary 'c=d' {URL}",
            task(
                uri=URL,
                method="POST",
                contentType="application/x-www-form-urlencoded",
                body="a%20b&@x&c=d",
            ),
            id="data-mixed",
        ),
        pytest.param(
            f"curl -L -G {URL} --data-urlencode 'q=hello world' -d page=2 -d page=3",
            task(uri=URL, params={"q": "hello world", "page": ["2", "3"]}),
            id="get-with-data",
        ),
        pytest.param(
            f"curl -L -I {URL}",
            task(uri=URL, method="HEAD"),
            id="head",
        ),
        pytest.param(
            f"curl -L {URL} -F name=Bob --form-string 'note=@not-a-file' -F 'doc=@/tmp/a.csv'",
            task(
                uri=URL,
                method="POST",
                contentType="multipart/form-data",
                formData={
                    "name": "Bob",
                    "note": "@not-a-file",
                    "doc": {"name": "a.csv", "content": "{{ inputs.doc }}"},
                },
            ),
            id="multipart",
        ),
        pytest.param(
            f"curl -L -F 'doc=@a.csv;filename=\"b.csv\"' {URL}",
            task(
                uri=URL,
                method="POST",
                contentType="multipart/form-data",
                formData={"doc": {"name": "b.csv", "content": "{{ inputs.doc }}"}},
            ),
            id="multipart-filename",
        ),
        pytest.param(
            f"curl -L -u 'bob:pa:ss' {URL}",
            task(
                uri=URL, options={"auth": {"type": "BASIC", "username": "bob", "password": "pa:ss"}}
            ),
            id="basic-auth",
        ),
        pytest.param(
            f"curl -L --digest -u bob:pw {URL}",
            task(
                uri=URL, options={"auth": {"type": "DIGEST", "username": "bob", "password": "pw"}}
            ),
            id="digest-auth",
        ),
        pytest.param(
            f"curl -L --oauth2-bearer tok {URL}",
            task(uri=URL, options={"auth": {"type": "BEARER", "token": "tok"}}),
            id="bearer",
        ),
        pytest.param(
            f"curl -kL --max-time 2.5 --connect-timeout 3 {URL}",
            task(
                uri=URL,
                timeout="PT2.5S",
                options={
                    "timeout": {"connectTimeout": "PT3S"},
                    "ssl": {"insecureTrustAllCertificates": True},
                },
            ),
            id="timeouts-insecure",
        ),
        pytest.param(
            f"curl -L -A 'agent/1.0' -e 'https://from.example;auto' -b 'a=1; b=2' {URL}",
            task(
                uri=URL,
                headers={
                    "User-Agent": "agent/1.0",
                    "Referer": "https://from.example",
                    "Cookie": "a=1; b=2",
                },
            ),
            id="agent-referer-cookie",
        ),
        pytest.param(
            f"curl -L -x http://pu:pp@proxy.local:3128 --compressed {URL}",
            task(
                uri=URL,
                options={
                    "proxy": {
                        "type": "HTTP",
                        "address": "proxy.local",
                        "port": 3128,
                        "username": "pu",
                        "password": "pp",
                    }
                },
            ),
            id="proxy",
        ),
        pytest.param(
            f"curl -L -x socks5h://proxy.local -U 'u:p' {URL}",
            task(
                uri=URL,
                options={
                    "proxy": {
                        "type": "SOCKS",
                        "address": "proxy.local",
                        "port": 1080,
                        "username": "u",
                        "password": "p",
                    }
                },
            ),
            id="socks-proxy",
        ),
        pytest.param(
            f"curl -L -H 'X-T: {{{{ not a template }}}}' -d '{{%x%}}' {URL}?a={{{{b}}}}",
            task(
                uri="{% raw %}" + URL + "?a={{b}}{% endraw %}",
                method="POST",
                headers={"X-T": "{% raw %}{{ not a template }}{% endraw %}"},
                contentType="application/x-www-form-urlencoded",
                body="{% raw %}{%x%}{% endraw %}",
            ),
            id="template-looking-text",
        ),
        pytest.param(
            f"curl -L -X patch \\\n  -H 'A: b' \\\n  --url {URL}",
            task(uri=URL, method="PATCH", headers={"A": "b"}),
            id="continuations-and-url-option",
        ),
    ],
)
def test_import(command: str, expected: dict[str, Any]) -> None:
    assert import_curl(command) == expected


def test_import_takes_words_already_split() -> None:
    assert import_curl(["curl", "-L", "-d", "a b", URL]) == task(
        uri=URL, method="POST", contentType="application/x-www-form-urlencoded", body="a b"
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl --bogus http://x", "Unknown or unsupported cURL option '--bogus' (argument 2)"),
        ("curl -sZ http://x", "Unknown or unsupported cURL option '-Z' in '-sZ' (argument 2)"),
        ("curl --data=a http://x", "Unknown or unsupported cURL option '--data=a' (argument 2)"),
        ("curl http://x -H", "The cURL option '-H' (argument 3) needs a value"),
        ("curl -s", "The cURL command has no URL"),
        ("curl http://a http://b", "The cURL command has several URLs (http://a, http://b)"),
        ("curl 'http://x", "cannot be split into arguments: No closing quotation"),
        ("curl -H 'NoColon' http://x", "-H 'NoColon' is not a 'Name: value' header"),
        ("curl -H 'Accept:' http://x", "-H 'Accept:' removes one of curl's own headers"),
        ("curl -d @body.json http://x", "-d '@body.json' reads a local file"),
        ("curl --data-urlencode q@f.txt http://x", "--data-urlencode 'q@f.txt' reads a local file"),
        ("curl -F 'a<f.txt' http://x", "-F 'a<f.txt' is not a 'name=value' form part"),
        ("curl -F 'a=<f.txt' http://x", "-F 'a=<f.txt' reads a local file as text"),
        ("curl -F 'a=@f;type=text/csv' http://x", "';type=' is not supported"),
        ("curl -F a=1 -d b=2 http://x", "-F/--form cannot be mixed with -d/--data"),
        ("curl --json 1 -d b=2 http://x", "--json cannot be mixed with -d/--data"),
        ("curl -u bob http://x", "-u 'bob' has no password"),
        ("curl -b cookies.txt http://x", "-b 'cookies.txt' reads a cookie file"),
        ("curl --max-time soon http://x", "--max-time expects a number of seconds, got 'soon'"),
        ("curl -x socks4://p:1 http://x", "lanner supports http:// and socks5:// proxies only"),
        ("curl -x http://p:99999 http://x", "-x 'http://p:99999' has an invalid port"),
    ],
)
def test_errors_name_the_option(command: str, message: str) -> None:
    with pytest.raises(CurlError) as caught:
        import_curl(command)
    assert message in str(caught.value)


def test_output_only_options_are_dropped() -> None:
    noisy = import_curl(f"curl -sSvif -o out.json -w '%{{http_code}}' -L {URL}")
    assert noisy == import_curl(f"curl -L {URL}")


def test_literal_only_wraps_template_text() -> None:
    assert literal("plain {text}") == "plain {text}"
    assert literal("{# x") == "{% raw %}{# x{% endraw %}"


def test_task_yaml_is_a_valid_flow_task() -> None:
    imported = import_curl(f"curl -L -F a=1 -F 'doc=@a.csv' -H 'X: {{{{y}}}}' {URL}")
    text = flow_yaml(imported, "uploaded", "company.team")
    flow = Flow.model_validate(yaml.safe_load(text))
    assert [item.id for item in flow.inputs or []] == ["doc"]
    assert file_inputs(imported) == ["doc"]
    assert yaml.safe_load(task_yaml(imported)) == imported
