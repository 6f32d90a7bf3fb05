"""The runtime functions on files (`read`, `fileURI`, `fileSize`, `fileExists`) and AES."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from lanner.context import Masker, runtime_functions
from lanner.exceptions import ExpressionError
from lanner.executions import Execution
from lanner.expressions import Function, render
from lanner.flow_parser import parse_flow
from lanner.flowable import ExecutionIndex
from lanner.namespace_files import NamespaceFiles
from lanner.storage import LocalStorage, execution_prefix
from tests.unit.engine.driver import drive

FLOW = """
id: reader
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{ read('scripts/hello.txt') }}"
"""
KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[LocalStorage, Execution, dict[str, Function]]:
    flow = parse_flow(FLOW)
    storage = LocalStorage(tmp_path / "storage")
    execution = Execution.create(flow.namespace, flow.id, 1)
    functions = runtime_functions(ExecutionIndex(execution), None, Masker(), storage=storage)
    return storage, execution, functions


def run(template: str, functions: dict[str, Function], **variables: object) -> str:
    return render(template, dict(variables), functions)


def own_file(storage: LocalStorage, execution: Execution, data: bytes) -> str:
    folder = execution_prefix(execution.namespace, execution.flow_id, execution.id)
    return storage.put(folder, "data.txt", data)


def test_read_own_execution_file(
    setup: tuple[LocalStorage, Execution, dict[str, Function]],
) -> None:
    storage, execution, functions = setup
    uri = own_file(storage, execution, "héllo".encode())
    assert run("{{ read(uri) }}", functions, uri=uri) == "héllo"
    assert run("{{ fileSize(uri) }}", functions, uri=uri) == "6"
    assert run("{{ fileExists(uri) }}", functions, uri=uri) == "true"
    assert run("{{ fileURI(uri) }}", functions, uri=uri) == uri


def test_other_execution_file_is_refused(
    setup: tuple[LocalStorage, Execution, dict[str, Function]],
) -> None:
    storage, _, functions = setup
    other = Execution.create("company.team", "reader", 1)
    uri = own_file(storage, other, b"secret")
    message = f"Unable to read the file '{uri}': it does not belong to this execution"
    for name in ("read", "fileSize", "fileExists", "fileURI"):
        with pytest.raises(ExpressionError, match=re.escape(message)):
            run(f"{{{{ {name}(uri) }}}}", functions, uri=uri)


def test_missing_execution_file(setup: tuple[LocalStorage, Execution, dict[str, Function]]) -> None:
    _, execution, functions = setup
    folder = execution_prefix(execution.namespace, execution.flow_id, execution.id)
    uri = f"kestra://{folder}/absent.txt"
    with pytest.raises(ExpressionError, match=re.escape(f"Unable to find the file '{uri}'")):
        run("{{ read(uri) }}", functions, uri=uri)
    with pytest.raises(ExpressionError, match=re.escape(f"Unable to find the file '{uri}'")):
        run("{{ fileSize(uri) }}", functions, uri=uri)
    assert run("{{ fileExists(uri) }}", functions, uri=uri) == "false"


def test_namespace_files(setup: tuple[LocalStorage, Execution, dict[str, Function]]) -> None:
    storage, _, functions = setup
    NamespaceFiles(storage).write("company.team", "/scripts/run.sh", b"echo hi")
    uri = "kestra:///namespaces/company.team/_files/scripts/run.sh"
    assert run("{{ read('scripts/run.sh') }}", functions) == "echo hi"
    assert run("{{ read('/scripts/run.sh') }}", functions) == "echo hi"
    assert run("{{ fileURI('scripts/run.sh') }}", functions) == uri
    assert run("{{ read(fileURI('scripts/run.sh')) }}", functions) == "echo hi"
    assert run("{{ fileSize('scripts/run.sh') }}", functions) == "7"
    assert run("{{ fileExists('scripts/run.sh') }}", functions) == "true"
    assert run("{{ fileExists('scripts/nope.sh') }}", functions) == "false"
    assert run("{{ fileExists('scripts') }}", functions) == "false"
    missing = "kestra:///namespaces/company.team/_files/scripts/nope.sh"
    with pytest.raises(ExpressionError, match=re.escape(f"Unable to find the file '{missing}'")):
        run("{{ read('scripts/nope.sh') }}", functions)


def test_namespace_file_errors(setup: tuple[LocalStorage, Execution, dict[str, Function]]) -> None:
    storage, _, functions = setup
    NamespaceFiles(storage).write("company.team", "/bin.dat", b"\xff\xfe")
    with pytest.raises(ExpressionError, match="it is not UTF-8 text"):
        run("{{ read('bin.dat') }}", functions)
    with pytest.raises(ExpressionError, match=r"Invalid namespace file path '\.\./x'"):
        run("{{ read('../x') }}", functions)
    with pytest.raises(ExpressionError, match="Forbidden path"):
        run("{{ fileExists('_flows/a.yml') }}", functions)
    with pytest.raises(ExpressionError, match="expects a file path or URI"):
        run("{{ read(3) }}", functions)
    other = "kestra:///namespaces/other/_files/a.txt"
    with pytest.raises(ExpressionError, match="does not belong to this execution"):
        run("{{ read(uri) }}", functions, uri=other)


def test_file_functions_need_storage(tmp_path: Path) -> None:
    execution = Execution.create("company.team", "reader", 1)
    functions = runtime_functions(ExecutionIndex(execution), None, Masker())
    assert "read" not in functions
    assert "encrypt" in functions


def test_encrypt_round_trip(setup: tuple[LocalStorage, Execution, dict[str, Function]]) -> None:
    _, _, functions = setup
    sealed = run("{{ encrypt(key, 'top secret') }}", functions, key=KEY)
    raw = base64.b64decode(sealed)
    assert len(raw) == 12 + len("top secret") + 16
    assert run("{{ decrypt(key, sealed) }}", functions, key=KEY, sealed=sealed) == "top secret"
    assert run("{{ decrypt(key, encrypt(key, 'x')) }}", functions, key=KEY) == "x"
    assert sealed != run("{{ encrypt(key, 'top secret') }}", functions, key=KEY)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ encrypt('not base64!', 'x') }}", "The encryption key must be base64 text."),
        ("{{ encrypt('AAAA', 'x') }}", r"must be 32 bytes \(AES-256\) once base64-decoded, not 3"),
        ("{{ decrypt(key, 'not base64!') }}", "the encrypted text is not base64"),
        ("{{ decrypt(key, 'AAAA') }}", "the encrypted text is too short"),
        ("{{ encrypt(key) }}", "The 'encrypt' function expects a key and a plaintext."),
        ("{{ decrypt(key) }}", "The 'decrypt' function expects a key and an encrypted text."),
    ],
)
def test_crypto_errors(
    setup: tuple[LocalStorage, Execution, dict[str, Function]], template: str, message: str
) -> None:
    _, _, functions = setup
    with pytest.raises(ExpressionError, match=message):
        run(template, functions, key=KEY)


def test_decrypt_wrong_key_or_corrupt(
    setup: tuple[LocalStorage, Execution, dict[str, Function]],
) -> None:
    _, _, functions = setup
    sealed = run("{{ encrypt(key, 'hello') }}", functions, key=KEY)
    other = base64.b64encode(bytes(32)).decode()
    corrupt = base64.b64encode(base64.b64decode(sealed)[:-1] + b"\x00").decode()
    for key, text in ((other, sealed), (KEY, corrupt)):
        with pytest.raises(ExpressionError, match="wrong key or corrupt encrypted text"):
            run("{{ decrypt(key, text) }}", functions, key=key, text=text)


async def test_flow_reads_a_namespace_file(tmp_path: Path) -> None:
    NamespaceFiles(LocalStorage(tmp_path / "storage")).write(
        "company.team", "/scripts/hello.txt", b"Hi there"
    )
    result = await drive(FLOW, tmp_path)
    assert result.states() == {"hello": "SUCCESS"}
    assert "Hi there" in result.messages("hello")
