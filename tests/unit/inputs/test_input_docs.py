from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lanner.inputs import check_declarations, parse_input

DOC = Path(__file__).resolve().parents[3] / "docs" / "inputs.md"


def _yaml_examples() -> list[Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return [pytest.param(block, id=f"example-{index}") for index, block in enumerate(blocks)]


@pytest.mark.parametrize("block", _yaml_examples())
def test_documented_inputs_are_valid(block: str) -> None:
    raws = yaml.safe_load(block)["inputs"]
    assert check_declarations([parse_input(raw) for raw in raws]) == []
