"""Which flows depend on which: Kestra's flow topology (`FlowTopologyGraph`: nodes, edges).

An edge goes from the flow that runs first to the flow that runs because of it:

* `FLOW_TASK`: a Subflow (or ForEachItem) task of the source flow starts the target flow;
* `FLOW_TRIGGER`: a Flow trigger of the target flow watches executions of the source flow,
  through its `preconditions.flows` or an `ExecutionFlow` condition.

The relations are read from the YAML mapping of each stored flow rather than its parsed model,
so a flow is linked even when one of its task types is not known to this engine. Namespaces and
flow ids written as expressions cannot be resolved before a run and are left out, as are
relations of a flow to itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lanner.store import FlowRecord
from lanner.tasks.registry import canonical_type
from lanner.triggers.conditions import condition_type
from lanner.yamlsource import load_yaml

__all__ = ["FlowRelation", "Relation", "dependency_graph", "relations_of"]

TENANT = "main"
_SUBFLOW_TYPES = frozenset(
    {"io.kestra.plugin.core.flow.Subflow", "io.kestra.plugin.core.flow.ForEachItem"}
)
_FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
_EXECUTION_FLOW = "io.kestra.plugin.core.condition.ExecutionFlow"


class FlowRelation(StrEnum):
    FLOW_TASK = "FLOW_TASK"
    FLOW_TRIGGER = "FLOW_TRIGGER"


@dataclass(frozen=True)
class Relation:
    """One flow leading to another: `source` and `target` are `(namespace, flow id)`."""

    source: tuple[str, str]
    target: tuple[str, str]
    relation: FlowRelation


def dependency_graph(
    records: Iterable[FlowRecord], namespace: str, flow_id: str, *, destination_only: bool = False
) -> dict[str, Any]:
    """Return the flows one flow calls or triggers, and (unless `destination_only`) those that
    call or trigger it, as `{nodes, edges}`."""
    wanted = (namespace, flow_id)
    relations = [
        relation
        for record in records
        for relation in relations_of(record)
        if relation.source == wanted or (not destination_only and relation.target == wanted)
    ]
    flows = dict.fromkeys([wanted, *(end for r in relations for end in (r.source, r.target))])
    edges = [
        {"source": _uid(r.source), "target": _uid(r.target), "relation": r.relation.value}
        for r in dict.fromkeys(relations)
    ]
    return {"nodes": [_node(flow) for flow in flows], "edges": edges}


def relations_of(record: FlowRecord) -> list[Relation]:
    """Return the relations a stored flow declares: its Subflow tasks and its Flow triggers."""
    document = load_yaml(record.source).value
    if not isinstance(document, Mapping):
        return []
    this = (record.namespace, record.id)
    found: list[Relation] = []
    for called in _subflow_targets(document):
        found.append(Relation(this, called, FlowRelation.FLOW_TASK))
    for trigger in _list(document.get("triggers")):
        if _type_of(trigger) == _FLOW_TRIGGER:
            for watched in _watched_flows(trigger):
                found.append(Relation(watched, this, FlowRelation.FLOW_TRIGGER))
    return [relation for relation in found if relation.source != relation.target]


def _subflow_targets(value: Any) -> Iterator[tuple[str, str]]:
    """Walk every mapping of the flow (tasks nest at any depth) for Subflow-like tasks."""
    if isinstance(value, Mapping):
        if _type_of(value) in _SUBFLOW_TYPES:
            target = _flow_ref(value)
            if target is not None:
                yield target
        for key, child in value.items():
            if key != "triggers":
                yield from _subflow_targets(child)
    elif isinstance(value, list):
        for child in value:
            yield from _subflow_targets(child)


def _watched_flows(trigger: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    preconditions = trigger.get("preconditions")
    if isinstance(preconditions, Mapping):
        for entry in _list(preconditions.get("flows")):
            reference = _flow_ref(entry)
            if reference is not None:
                yield reference
    conditions = trigger.get("conditions")
    listed = conditions.values() if isinstance(conditions, Mapping) else _list(conditions)
    for condition in listed:
        kind = condition.get("type") if isinstance(condition, Mapping) else None
        if isinstance(kind, str) and condition_type(kind) == _EXECUTION_FLOW:
            reference = _flow_ref(condition)
            if reference is not None:
                yield reference


def _flow_ref(value: Any) -> tuple[str, str] | None:
    """Return `(namespace, flowId)` of a mapping when both are plain text, not expressions."""
    if not isinstance(value, Mapping):
        return None
    namespace, flow_id = value.get("namespace"), value.get("flowId")
    if not isinstance(namespace, str) or not isinstance(flow_id, str):
        return None
    if "{{" in namespace or "{{" in flow_id:
        return None
    return namespace, flow_id


def _type_of(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, Mapping) else None
    return canonical_type(kind) if isinstance(kind, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _uid(flow: tuple[str, str]) -> str:
    # Kestra's `uidWithoutRevision`: tenant, namespace and id joined by `_`.
    return "_".join((TENANT, *flow))


def _node(flow: tuple[str, str]) -> dict[str, str]:
    namespace, flow_id = flow
    return {"uid": _uid(flow), "tenantId": TENANT, "namespace": namespace, "id": flow_id}
