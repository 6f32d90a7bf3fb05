"""Validation reports for the flow editor: each document of a text, or one task or trigger.

`POST /flows/validate` answers one report per document (`---` separated), each saying whether
the flow is valid (`constraints`, the violation text), whether it was written against an old
revision (`outdated`), and what is deprecated or renamed. Validating never stores anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml

from lanner.exceptions import Problem
from lanner.flow_parser import FlowReport, validate_flow
from lanner.yamlsource import load_yaml, split_documents

__all__ = ["Section", "ValidationItem", "validate_fragment", "validate_text"]

LastRevision = Callable[[str, str], Awaitable[int]]
"""Return the number of the last stored revision of (namespace, id); 0 when there is none."""

# A flow that holds the fragment under test, so that it is checked exactly as in a flow.
_HOLDER_ID = "validation"
_HOLDER_TASK = {"id": "validation", "type": "io.kestra.plugin.core.log.Log", "message": "-"}


class Section(StrEnum):
    """What a fragment is: a task or a trigger."""

    TASKS = "TASKS"
    TRIGGERS = "TRIGGERS"


@dataclass(frozen=True)
class ValidationItem:
    """One report of `/flows/validate`."""

    index: int
    flow: str | None = None
    namespace: str | None = None
    problems: list[Problem] = field(default_factory=list)
    constraints: str | None = None
    outdated: bool = False
    deprecation_paths: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, index: int, report: FlowReport, *, outdated: bool = False) -> ValidationItem:
        return cls(
            index=index,
            flow=report.flow,
            namespace=report.namespace,
            problems=list(report.problems),
            constraints=report.constraints(),
            outdated=outdated,
            deprecation_paths=list(report.deprecation_paths),
            warnings=list(report.warnings),
            infos=list(report.infos),
        )

    def to_json(self) -> dict[str, Any]:
        """Return Kestra's item, plus `problems`: each violation with its line and column."""
        return {
            "index": self.index,
            "flow": self.flow,
            "namespace": self.namespace,
            "constraints": self.constraints,
            "outdated": self.outdated,
            "deprecationPaths": self.deprecation_paths,
            "warnings": self.warnings,
            "infos": self.infos,
            "problems": [_problem_json(problem) for problem in self.problems],
        }


async def validate_text(text: str, last_revision: LastRevision) -> list[ValidationItem]:
    """Validate every document of a text; line numbers count in the whole text."""
    items = []
    for document in split_documents(text):
        report = validate_flow(document.text, first_line=document.first_line)
        outdated = await _outdated(report, last_revision)
        items.append(ValidationItem.of(document.index, report, outdated=outdated))
    return items


async def _outdated(report: FlowReport, last_revision: LastRevision) -> bool:
    # Kestra expects a revision written in a source to be the next one.
    model = report.model
    if model is None or model.revision is None:
        return False
    return model.revision != await last_revision(model.namespace, model.id) + 1


def validate_fragment(text: str, section: Section = Section.TASKS) -> ValidationItem:
    """Validate one task (or trigger), written in JSON or YAML, as it would be in a flow."""
    document = load_yaml(text)
    if document.errors:
        problems = list(document.errors)
        return ValidationItem(0, problems=problems, constraints=_text(problems))
    report = validate_flow(yaml.safe_dump(_holder(document.value, section), sort_keys=False))
    # Positions point into the holder flow, not into what was sent: leave them out.
    problems = [Problem(p.path, p.message) for p in report.problems]
    return ValidationItem(
        0,
        problems=problems,
        constraints=_text(problems),
        deprecation_paths=list(report.deprecation_paths),
        warnings=list(report.warnings),
        infos=list(report.infos),
    )


def _holder(fragment: Any, section: Section) -> Mapping[str, Any]:
    holder: dict[str, Any] = {"id": _HOLDER_ID, "namespace": _HOLDER_ID}
    if section is Section.TRIGGERS:
        holder.update(tasks=[_HOLDER_TASK], triggers=[fragment])
    else:
        holder["tasks"] = [fragment]
    return holder


def _text(problems: list[Problem]) -> str | None:
    return "\n".join(problem.describe() for problem in problems) or None


def _problem_json(problem: Problem) -> dict[str, Any]:
    body: dict[str, Any] = {"path": problem.path, "message": problem.message}
    if problem.line is not None:
        body.update(line=problem.line, column=problem.column or 1)
    return body
