"""`encryptBody: true` on the Request task, and encrypted outputs read by later tasks (R17)."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lanner.encryption import ENCRYPTED_TYPE, decrypt_outputs, encrypted_output, seal, unseal
from lanner.exceptions import ExpressionError
from lanner.executions import Level
from lanner.httpclient import ClientPool
from lanner.settings import Settings
from lanner.states import State
from tests.httpservers import HELLO, REQUEST, Server, TaskHarness

pytestmark = pytest.mark.timeout(60)

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.b64encode(bytes(32)).decode()
LOG = "io.kestra.plugin.core.log.Log"


def keyed_harness(home: Path, pool: ClientPool, key: str | None) -> TaskHarness:
    harness = TaskHarness(home, pool)
    harness.worker.settings = replace(harness.settings, encryption_key=key)
    return harness


def flow(uri: str, **request: Any) -> dict[str, Any]:
    return {
        "id": "encrypted",
        "namespace": "io.kestra.tests",
        "tasks": [
            {"id": "request", "type": REQUEST, "uri": uri, "encryptBody": True, **request},
            {"id": "log", "type": LOG, "message": "{{ outputs.request.encryptedBody }}"},
        ],
    }


async def test_r17_body_is_encrypted_and_read_back_decrypted(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    harness = keyed_harness(tmp_path, pool, KEY)
    request, log = await harness.run_flow(flow(f"{mock_server.url}/hello"))
    assert request.state is State.SUCCESS, request.error
    assert "body" not in request.outputs
    stored = request.outputs["encryptedBody"]
    assert stored["type"] == ENCRYPTED_TYPE
    assert stored["value"] != HELLO
    assert unseal(KEY, stored["value"]) == HELLO
    assert log.messages(Level.INFO) == [HELLO]


async def test_encrypt_body_from_an_expression(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    harness = keyed_harness(tmp_path, pool, KEY)
    request, _ = await harness.run_flow(
        flow(f"{mock_server.url}/hello", encryptBody="{{ 1 == 1 }}")
    )
    assert "encryptedBody" in request.outputs


async def test_encrypt_body_false_keeps_the_body(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/hello", encryptBody="{{ false }}")
    assert result.outputs["body"] == HELLO
    assert "encryptedBody" not in result.outputs


async def test_without_a_key_the_body_is_kept_with_a_warning(
    harness: TaskHarness, mock_server: Server
) -> None:
    request, log = await harness.run_flow(flow(f"{mock_server.url}/hello"))
    assert request.outputs["encryptedBody"] == encrypted_output(HELLO)
    assert request.messages(Level.WARN) == [
        "Unable to encrypt the output as encryption is not configured"
    ]
    assert log.messages(Level.INFO) == [HELLO]


async def test_head_request_has_no_encrypted_body(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    harness = keyed_harness(tmp_path, pool, KEY)
    result = await harness.request(f"{mock_server.url}/headonly", method="HEAD", encryptBody=True)
    assert result.state is State.SUCCESS
    assert "encryptedBody" not in result.outputs
    assert "body" not in result.outputs


async def test_invalid_encrypt_body_value(harness: TaskHarness, mock_server: Server) -> None:
    result = await harness.request(f"{mock_server.url}/hello", encryptBody="{{ 'maybe' }}")
    assert result.state is State.FAILED
    assert result.error.startswith("Invalid value for 'encryptBody': 'maybe'")


async def test_unusable_server_key_is_named(
    tmp_path: Path, pool: ClientPool, mock_server: Server
) -> None:
    harness = keyed_harness(tmp_path, pool, "AAAA")
    result = await harness.request(f"{mock_server.url}/hello", encryptBody=True)
    assert result.state is State.FAILED
    assert result.error.startswith("LANNER_ENCRYPTION_KEY is not usable: The encryption key")


def test_settings_read_the_key_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path, environ={"LANNER_ENCRYPTION_KEY": KEY})
    assert settings.encryption_key == KEY
    assert Settings.load(home=tmp_path, environ={}).encryption_key is None


def test_decrypt_outputs_replaces_nested_encrypted_values_only() -> None:
    plain = {"code": 200, "headers": {"a": ["b"]}}
    outputs: dict[str, Any] = {
        "plain": plain,
        "loop": {"x": {"encryptedBody": encrypted_output(seal(KEY, "secret"))}},
    }
    decrypted = decrypt_outputs(outputs, KEY)
    assert decrypted["loop"]["x"]["encryptedBody"] == "secret"
    assert decrypted["plain"] is plain
    assert outputs["loop"]["x"]["encryptedBody"]["type"] == ENCRYPTED_TYPE
    assert decrypt_outputs(plain, KEY) is plain


def test_decrypt_outputs_with_the_wrong_key_names_the_output() -> None:
    outputs = {"t": {"encryptedBody": encrypted_output(seal(KEY, "secret"))}}
    with pytest.raises(ExpressionError) as caught:
        decrypt_outputs(outputs, OTHER_KEY)
    assert caught.value.message == (
        "Unable to decrypt 'outputs.t.encryptedBody': "
        "Unable to decrypt: wrong key or corrupt encrypted text."
    )
