"""Response shapes of the flows routes, for the OpenAPI document.

The handlers build the JSON (`lanner.flowjson`, `lanner.graph`, `lanner.flowcheck`); these
models describe it. Unknown fields are allowed, as Kestra adds fields between versions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from lanner.api.models import LabelModel


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FlowModel(_Open):
    """A flow revision as Kestra writes it (with `source` when asked for)."""

    id: str
    namespace: str
    revision: int
    description: str | None = None
    labels: list[LabelModel] | None = None
    inputs: list[dict[str, Any]] | None = None
    variables: dict[str, Any] | None = None
    tasks: list[dict[str, Any]]
    errors: list[dict[str, Any]] | None = None
    finally_: list[dict[str, Any]] | None = Field(default=None, alias="finally")
    afterExecution: list[dict[str, Any]] | None = None
    outputs: list[dict[str, Any]] | None = None
    triggers: list[dict[str, Any]] | None = None
    pluginDefaults: list[dict[str, Any]] | None = None
    disabled: bool
    deleted: bool
    draft: bool = False
    updated: str | None = None
    source: str | None = None
    exception: str | None = None


class ProblemModel(_Open):
    """One violation, with where it is in the text when known."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None


class ValidateItemModel(_Open):
    """The validation report of one document."""

    index: int
    flow: str | None
    namespace: str | None
    constraints: str | None
    outdated: bool
    deprecationPaths: list[str]
    warnings: list[str]
    infos: list[str]
    problems: list[ProblemModel]


class GraphNodeModel(_Open):
    uid: str
    type: str


class RelationModel(_Open):
    relationType: str | None = None
    value: str | None = None


class GraphEdgeModel(_Open):
    source: str
    target: str
    relation: RelationModel


class GraphClusterModel(_Open):
    cluster: GraphNodeModel
    nodes: list[str]
    parents: list[str]
    start: str
    end: str


class FlowGraphModel(_Open):
    """A flow's topology: nodes, the edges between them, and the clusters of flowable tasks."""

    nodes: list[GraphNodeModel]
    edges: list[GraphEdgeModel]
    clusters: list[GraphClusterModel]


Subflows = Annotated[
    list[str] | None,
    Query(
        description="Uids of Subflow nodes to draw open, with the tasks of the flow each starts"
        " (`root.call`; `root.call.inner` for a Subflow of that flow)",
    ),
]


class FlowNodeModel(BaseModel):
    """A flow in a dependency graph; `uid` is `tenant_namespace_id`."""

    uid: str
    tenantId: str
    namespace: str
    id: str


class FlowRelationEdgeModel(BaseModel):
    """One flow leading to another: by a Subflow task (FLOW_TASK) or a Flow trigger."""

    source: str
    target: str
    relation: Literal["FLOW_TASK", "FLOW_TRIGGER"]


class FlowDependenciesModel(BaseModel):
    """The flows around one flow and how they lead to each other."""

    nodes: list[FlowNodeModel]
    edges: list[FlowRelationEdgeModel]


class FlowIdModel(BaseModel):
    """A flow named by its namespace and id (bulk requests)."""

    namespace: str
    id: str


class BulkResponseModel(_Open):
    """How many flows a bulk request changed."""

    count: int
