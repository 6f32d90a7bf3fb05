"""PostgreSQL pool sizes: read from the environment, checked, and the queue's rule per role."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.cli import main
from lanner.exceptions import LannerError
from lanner.queue_executor import PARALLEL
from lanner.queue_pool import DEFAULT_QUEUE_POOL_SIZES, least_queue_pool_size, queue_pool_size
from lanner.settings import Settings

VARIABLES = [
    "LANNER_DATABASE_POOL_SIZE",
    "LANNER_DATABASE_KV_POOL_SIZE",
    "LANNER_QUEUE_POOL_SIZE",
]


def test_the_defaults_are_the_sizes_lanner_always_had(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path, environ={})

    assert (settings.database_pool_size, settings.kv_pool_size) == (10, 4)
    assert settings.queue_pool_size is None
    assert {role: queue_pool_size(settings, role) for role in DEFAULT_QUEUE_POOL_SIZES} == {
        "executor": PARALLEL + 2,
        "webserver": 4,
        "worker": 3,
        "scheduler": 3,
    }


def test_the_sizes_come_from_the_environment(tmp_path: Path) -> None:
    environ = dict(zip(VARIABLES, ["25", "2", "12"], strict=True))

    settings = Settings.load(home=tmp_path, environ=environ)

    assert (settings.database_pool_size, settings.kv_pool_size) == (25, 2)
    assert settings.queue_pool_size == 12
    assert {queue_pool_size(settings, role) for role in DEFAULT_QUEUE_POOL_SIZES} == {12}


@pytest.mark.parametrize("variable", VARIABLES)
@pytest.mark.parametrize("text", ["0", "-3", "2.5", "ten", ""])
def test_a_size_that_is_not_a_positive_whole_number_is_refused(
    tmp_path: Path, variable: str, text: str
) -> None:
    with pytest.raises(ValueError, match=variable) as caught:
        Settings.load(home=tmp_path, environ={variable: text})

    assert str(caught.value) == (
        f"{variable} must be a positive whole number of connections, got '{text}'"
    )


def test_an_executor_needs_a_connection_per_decision_and_one_more(tmp_path: Path) -> None:
    least = least_queue_pool_size("executor")
    enough = Settings.load(home=tmp_path, environ={"LANNER_QUEUE_POOL_SIZE": str(least)})
    too_few = Settings.load(home=tmp_path, environ={"LANNER_QUEUE_POOL_SIZE": str(least - 1)})

    assert least == PARALLEL + 1
    assert queue_pool_size(enough, "executor") == least
    assert queue_pool_size(too_few, "worker") == least - 1
    with pytest.raises(LannerError) as caught:
        queue_pool_size(too_few, "executor")
    assert str(caught.value) == (
        f"LANNER_QUEUE_POOL_SIZE must be at least {least} for an executor, which decides up to"
        f" {PARALLEL} executions at once with one connection each and needs one more beside"
        f" them: got {least - 1}"
    )


@pytest.mark.parametrize(
    ("environ", "said"),
    [
        ({"LANNER_QUEUE_POOL_SIZE": "2"}, "LANNER_QUEUE_POOL_SIZE must be at least"),
        ({"LANNER_DATABASE_POOL_SIZE": "0"}, "LANNER_DATABASE_POOL_SIZE must be a positive"),
    ],
    ids=["queue-too-small", "store-zero"],
)
def test_the_executor_command_says_what_is_wrong_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    environ: dict[str, str],
    said: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))
    # Nothing listens on port 1: had the check come after connecting, the error would differ.
    url = "postgresql://lanner@127.0.0.1:1/lanner"

    code = main(["server", "executor", "--database-url", url])

    assert code == 2
    assert capsys.readouterr().err.startswith(f"lanner server: {said}")
