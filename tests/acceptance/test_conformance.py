"""Kestra's core conformance kit, run end to end on lanner (see conformance.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from lanner.flow_parser import parse_flow
from lanner.store import open_store
from tests.acceptance import conformance

pytestmark = pytest.mark.skipif(
    not conformance.kit_available(), reason="the shared conformance kit is not beside the repo"
)

CASES = conformance.load_cases() if conformance.kit_available() else []


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, conformance.Outcome]:
    home: Path = tmp_path_factory.mktemp("conformance")

    async def go() -> dict[int, conformance.Outcome]:
        store = await open_store(f"sqlite:///{home / 'lanner.db'}")
        try:
            return await conformance.run_all(CASES, home, store)
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("position", "case"),
    list(enumerate(CASES)),
    ids=[conformance.case_id(case, position) for position, case in enumerate(CASES)],
)
def test_case(
    position: int, case: dict[str, Any], outcomes: dict[int, conformance.Outcome]
) -> None:
    if case.get("scenario") is None:
        parse_flow(conformance.flow_text(case), case["flow"])
        return
    reason = conformance.skip_reason(case)
    if reason is not None:
        pytest.skip(reason)
    problems = conformance.check(case, outcomes[position])
    assert not problems, "\n".join(problems)
