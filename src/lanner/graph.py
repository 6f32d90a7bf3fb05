"""A flow's topology, in the shape Kestra's UI draws (`FlowGraph`: nodes, edges, clusters).

Every task is a node; a flowable task is also a *cluster* that holds its own node, a start
marker (`GraphClusterRoot`), an end marker (`GraphClusterEnd`), its children and, when it has a
`finally` branch, a `GraphClusterFinally` marker. The flow itself is the outermost cluster
(`root`), which is not listed among `clusters`. Triggers sit in a `Triggers` cluster that leads
to the flow's start.

Node uids are the dotted path of task ids from `root` (`root.parent.child`), as in Kestra; the
markers get a suffix that is stable for a given flow, so redrawing a graph keeps its uids.

Drawn for an execution (`lanner.execution_graph`), each task is drawn once per task run the
execution made of it under the task run of its flowable (a loop's children once per iteration),
or once without a run if it has none; a drawn run adds `taskRun` and `values` (the loop values
of the run and its parents) to its node, suffixes its uid with those values (`root.each.t_a`),
and puts its own value on the edge into it.

A Subflow task is a `SubflowGraphTask` node. Asked for by its uid, it is drawn open instead:
a `SubflowGraphCluster` whose task node is the Subflow's and whose members are the tasks of
the flow it starts, under its uid (`root.call.<task>`); finding that flow is the caller's job
(`lanner.subflow_graph`).

Edges carry a relation: `relationType` (SEQUENTIAL, PARALLEL, CHOICE, DYNAMIC, ERROR, FINALLY,
AFTER_EXECUTION) and, on the branches of a choice, the branch `value` (`then`, `else`, a
Switch case). The rules follow Kestra's: the first edge into a list of tasks has the relation
of the enclosing cluster, the following ones that of the list; error branches start from the
cluster's start marker; each list ends on the `finally` marker, else the end marker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from lanner.executions import TaskRun
from lanner.flowjson import plain
from lanner.flows import Flow
from lanner.tasks.base import FlowableTask, Task
from lanner.tasks.flow import (
    AllowFailure,
    Dag,
    EachParallel,
    EachSequential,
    ForEach,
    If,
    Parallel,
    Sequential,
    Switch,
)
from lanner.tasks.subflow import Subflow
from lanner.triggers import Trigger

__all__ = [
    "SUBFLOW_CLUSTER",
    "SUBFLOW_TASK",
    "Drawing",
    "RelationType",
    "SubflowNode",
    "TaskRunLookup",
    "draw",
    "flow_graph",
]

_KIND = "io.kestra.core.models.hierarchies."
GRAPH_TASK = _KIND + "GraphTask"
SUBFLOW_TASK = _KIND + "SubflowGraphTask"
SUBFLOW_CLUSTER = _KIND + "SubflowGraphCluster"
GRAPH_TRIGGER = _KIND + "GraphTrigger"
GRAPH_CLUSTER = _KIND + "GraphCluster"
CLUSTER_ROOT = _KIND + "GraphClusterRoot"
CLUSTER_END = _KIND + "GraphClusterEnd"
CLUSTER_FINALLY = _KIND + "GraphClusterFinally"
CLUSTER_AFTER_EXECUTION = _KIND + "GraphClusterAfterExecution"


class RelationType(StrEnum):
    SEQUENTIAL = "SEQUENTIAL"
    CHOICE = "CHOICE"
    ERROR = "ERROR"
    FINALLY = "FINALLY"
    AFTER_EXECUTION = "AFTER_EXECUTION"
    PARALLEL = "PARALLEL"
    DYNAMIC = "DYNAMIC"


# The branches whose nodes are marked with a `branchType`.
_BRANCHES = frozenset({RelationType.ERROR, RelationType.FINALLY, RelationType.AFTER_EXECUTION})


class TaskRunLookup(Protocol):
    """The task runs of an execution, as a graph drawn for it needs them."""

    def runs_of(self, task_id: str, parent: TaskRun | None) -> Sequence[TaskRun | None]:
        """The runs of a task under a parent run (None: top level); `[None]` if it has none."""
        ...

    def values_of(self, run: TaskRun) -> list[str]:
        """The loop values of a run and of its parents, outermost first."""
        ...


class _NoRuns:
    """A flow drawn on its own: every task once, without a run."""

    def runs_of(self, task_id: str, parent: TaskRun | None) -> Sequence[TaskRun | None]:
        return (None,)

    def values_of(self, run: TaskRun) -> list[str]:
        return []


@dataclass(frozen=True)
class SubflowNode:
    """A Subflow node asked to be expanded, whose flow is not known yet."""

    task: Subflow
    run: TaskRun | None


@dataclass(frozen=True)
class Drawing:
    """A drawn graph, and the Subflow nodes it could not expand without their flows."""

    graph: dict[str, Any]
    unexpanded: dict[str, SubflowNode]


def flow_graph(flow: Flow, runs: TaskRunLookup | None = None) -> dict[str, Any]:
    """Return the topology of a flow: `{nodes, edges, clusters}`, with `runs` drawn if given."""
    return draw(flow, runs).graph


def draw(
    flow: Flow,
    runs: TaskRunLookup | None = None,
    *,
    wanted: Set[str] = frozenset(),
    expanded: Mapping[str, Flow] | None = None,
) -> Drawing:
    """Draw a flow, expanding the Subflow nodes whose uid is `wanted`.

    `expanded` maps the uids of Subflow nodes to the flow each starts: such a node becomes a
    cluster holding that flow's tasks (drawn without runs: they run in another execution). A
    wanted node whose flow is not in `expanded` is drawn as a node, and listed as unexpanded.
    """
    builder = _Builder(runs or _NoRuns(), wanted, expanded or {})
    top = builder.open_cluster(
        "root",
        None,
        None,
        has_finally=bool(flow.finally_),
        has_after=bool(flow.after_execution),
    )
    if flow.triggers:
        builder.triggers(top, flow.triggers)
    builder.fill(top, flow.tasks, RelationType.SEQUENTIAL)
    builder.alternatives(top, flow.errors, flow.finally_, flow.after_execution)
    return Drawing(builder.result(), builder.unexpanded)


@dataclass
class _Cluster:
    """A cluster being built: its uid prefix, markers and the uids of its direct members."""

    prefix: str
    relation: RelationType | None
    parents: list[str]
    """The uids of the listed clusters around this one, outermost first."""
    listed: bool = True
    """Whether the cluster is listed among `clusters` (all but the flow's own)."""
    branch: RelationType | None = None
    task_node: dict[str, Any] | None = None
    root: str = ""
    end: str = ""
    finally_: str | None = None
    after: str | None = None
    run: TaskRun | None = None
    """The task run of the flowable, whose children runs are drawn inside."""
    kind: str = GRAPH_CLUSTER
    members: list[str] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return "cluster_" + self.prefix

    def entry(self) -> str:
        """Where a list of tasks starts: the flowable's own node, else the start marker."""
        return self.task_node["uid"] if self.task_node is not None else self.root

    def exit(self, relation: RelationType) -> str:
        """Where a list of tasks of this kind ends."""
        if relation is RelationType.AFTER_EXECUTION:
            return self.end
        if relation is RelationType.FINALLY:
            return self.after or self.end
        return self.finally_ or self.after or self.end


@dataclass(frozen=True)
class _Placed:
    """A task once drawn: the uid edges go into, and the uid edges leave from."""

    entry: str
    exit: str


class _Builder:
    """Accumulates the nodes, edges and clusters of one graph."""

    def __init__(self, runs: TaskRunLookup, wanted: Set[str], expanded: Mapping[str, Flow]) -> None:
        self.runs = runs
        self.wanted = wanted
        self.expanded = expanded
        self.unexpanded: dict[str, SubflowNode] = {}
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.clusters: list[dict[str, Any]] = []

    def result(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "edges": self.edges, "clusters": self.clusters}

    # -- nodes and clusters -------------------------------------------------------------------

    def node(self, cluster: _Cluster | None, body: dict[str, Any]) -> dict[str, Any]:
        self.nodes.append(body)
        if cluster is not None:
            cluster.members.append(body["uid"])
        return body

    def marker(self, cluster: _Cluster, kind: str, name: str, branch: RelationType | None) -> str:
        # The suffix keeps a marker apart from a task that has the same id (`root`, `end`), and
        # the markers of a flowable drawn once per loop iteration apart from each other.
        seed = f"{cluster.prefix}/{name}" + (f"/{cluster.run.id}" if cluster.run else "")
        digest = hashlib.blake2s(seed.encode(), digest_size=6).hexdigest()
        uid = f"{cluster.prefix}.{name}-{digest}"
        body: dict[str, Any] = {"uid": uid, "type": kind}
        if branch is not None:
            body["branchType"] = branch.value
        self.node(cluster, body)
        return uid

    def open_cluster(
        self,
        prefix: str,
        relation: RelationType | None,
        parent: _Cluster | None,
        *,
        has_finally: bool,
        has_after: bool = False,
        branch: RelationType | None = None,
        run: TaskRun | None = None,
    ) -> _Cluster:
        if parent is None:
            cluster = _Cluster(prefix, relation, [], listed=False)
        else:
            around = [*parent.parents, parent.uid] if parent.listed else []
            cluster = _Cluster(prefix, relation, around, branch=branch, run=run)
        cluster.root = self.marker(cluster, CLUSTER_ROOT, "root", branch)
        if has_finally:
            cluster.finally_ = self.marker(cluster, CLUSTER_FINALLY, "finally", branch)
        if has_after:
            cluster.after = self.marker(cluster, CLUSTER_AFTER_EXECUTION, "afterExecution", None)
        cluster.end = self.marker(cluster, CLUSTER_END, "end", branch)
        return cluster

    def close_cluster(self, cluster: _Cluster, parent: _Cluster) -> None:
        body: dict[str, Any] = {"uid": cluster.uid, "type": cluster.kind}
        if cluster.relation is not None:
            body["relationType"] = cluster.relation.value
        if cluster.task_node is not None:
            body["taskNode"] = cluster.task_node
        if cluster.branch is not None:
            body["branchType"] = cluster.branch.value
        self.clusters.append(
            {
                "cluster": body,
                "nodes": cluster.members,
                "parents": cluster.parents,
                "start": cluster.root,
                "end": cluster.end,
            }
        )
        parent.members.append(cluster.uid)

    def edge(
        self,
        source: str,
        target: str,
        relation: RelationType | None = None,
        value: str | None = None,
    ) -> None:
        described: dict[str, str] = {}
        if relation is not None:
            described["relationType"] = relation.value
        if value is not None:
            described["value"] = value
        self.edges.append({"source": source, "target": target, "relation": described})

    # -- triggers -----------------------------------------------------------------------------

    def triggers(self, top: _Cluster, triggers: Sequence[Trigger]) -> None:
        cluster = self.open_cluster("root.Triggers", None, top, has_finally=False)
        for trigger in triggers:
            uid = f"{cluster.prefix}.{trigger.id}"
            declaration = plain(trigger)
            self.node(
                cluster, {"uid": uid, "type": GRAPH_TRIGGER, "triggerDeclaration": declaration}
            )
            self.edge(cluster.root, uid)
            self.edge(uid, cluster.end)
        self.close_cluster(cluster, top)
        self.edge(cluster.end, top.root)

    # -- lists of tasks -----------------------------------------------------------------------

    def fill(
        self,
        cluster: _Cluster,
        tasks: Sequence[Task],
        relation: RelationType,
        value: str | None = None,
    ) -> None:
        """Draw a list of tasks inside a cluster, chained (or fanned out when PARALLEL)."""
        previous = self._start(cluster, relation)
        exit_uid = cluster.exit(relation)
        fans_out = relation in (RelationType.PARALLEL, RelationType.CHOICE)
        drawn = 0
        for index, task in enumerate(tasks):
            for run in self.runs.runs_of(task.id, cluster.run):
                placed = self.place(cluster, task, relation, run)
                kind = self._relation(cluster, relation, drawn)
                self.edge(previous, placed.entry, kind, run.value if run else value)
                if relation is not RelationType.PARALLEL:
                    previous = placed.exit
                if fans_out or index == len(tasks) - 1:
                    self.edge(placed.exit, exit_uid)
                drawn += 1

    def _start(self, cluster: _Cluster, relation: RelationType) -> str:
        if relation is RelationType.ERROR:
            return cluster.root
        if relation is RelationType.FINALLY and cluster.finally_ is not None:
            return cluster.finally_
        if relation is RelationType.AFTER_EXECUTION and cluster.after is not None:
            return cluster.after
        return cluster.entry()

    @staticmethod
    def _relation(cluster: _Cluster, relation: RelationType, index: int) -> RelationType | None:
        if relation is RelationType.ERROR:
            return relation
        # The first edge into a list, and every edge of a fan-out or a loop, keep the
        # relation of the cluster; the following ones say how the list runs.
        follows = index > 0 and relation is not RelationType.PARALLEL
        if follows and cluster.relation is not RelationType.DYNAMIC:
            return relation
        return cluster.relation

    def alternatives(
        self,
        cluster: _Cluster,
        errors: Sequence[Task] | None,
        finally_: Sequence[Task] | None,
        after_execution: Sequence[Task] | None = None,
    ) -> None:
        """Draw the errors, finally and afterExecution branches of a cluster."""
        for tasks, relation in (
            (errors, RelationType.ERROR),
            (finally_, RelationType.FINALLY),
            (after_execution, RelationType.AFTER_EXECUTION),
        ):
            if tasks:
                self.fill(cluster, tasks, relation)

    # -- one task -----------------------------------------------------------------------------

    def place(
        self, cluster: _Cluster, task: Task, relation: RelationType, run: TaskRun | None = None
    ) -> _Placed:
        branch = relation if relation in _BRANCHES else None
        if isinstance(task, FlowableTask):
            return self.flowable(cluster, task, branch, run)
        body = self._task_node(f"{cluster.prefix}.{task.id}", task, relation, branch, run)
        if isinstance(task, Subflow) and body["uid"] in self.wanted:
            subflow = self.expanded.get(body["uid"])
            if subflow is not None:
                return self.subflow(cluster, body, subflow, branch)
            self.unexpanded[body["uid"]] = SubflowNode(task, run)
        self.node(cluster, body)
        return _Placed(body["uid"], body["uid"])

    def subflow(
        self,
        parent: _Cluster,
        body: dict[str, Any],
        subflow: Flow,
        branch: RelationType | None,
    ) -> _Placed:
        """Draw a Subflow node as a cluster that holds the tasks of the flow it starts."""
        cluster = self.open_cluster(
            body["uid"],
            RelationType.SEQUENTIAL,
            parent,
            has_finally=bool(subflow.finally_),
            has_after=bool(subflow.after_execution),
            branch=branch,
        )
        cluster.kind = SUBFLOW_CLUSTER
        cluster.task_node = self.node(cluster, body)
        self.edge(cluster.root, body["uid"])
        # The subflow's tasks run in a child execution: none of this execution's runs is theirs.
        runs, self.runs = self.runs, _NoRuns()
        try:
            self.fill(cluster, subflow.tasks, RelationType.SEQUENTIAL)
            self.alternatives(cluster, subflow.errors, subflow.finally_, subflow.after_execution)
        finally:
            self.runs = runs
        self.close_cluster(cluster, parent)
        return _Placed(cluster.root, cluster.end)

    def flowable(
        self,
        parent: _Cluster,
        task: FlowableTask,
        branch: RelationType | None,
        run: TaskRun | None = None,
    ) -> _Placed:
        drawing = _drawing_of(task)
        prefix = f"{parent.prefix}.{task.id}"
        cluster = self.open_cluster(
            prefix,
            drawing.relation,
            parent,
            has_finally=bool(task.finally_),
            branch=branch,
            run=run,
        )
        body = self._task_node(prefix, task, drawing.relation, branch, run)
        cluster.task_node = self.node(cluster, body)
        self.edge(cluster.root, body["uid"])
        drawing.draw(self, cluster, task)
        self.alternatives(cluster, task.errors, task.finally_)
        self.close_cluster(cluster, parent)
        return _Placed(cluster.root, cluster.end)

    def dag(self, cluster: _Cluster, dag: Dag) -> None:
        """Draw a Dag: each task after those it depends on, the others from the Dag's node."""
        depended = {dep for node in dag.tasks for dep in node.depends_on or ()}
        placed: dict[str, list[_Placed]] = {}
        pending = list(dag.tasks)
        while pending:
            ready = [n for n in pending if all(dep in placed for dep in n.depends_on or ())]
            if not ready:
                # Unknown or cyclic dependencies (refused when the flow is validated).
                ready = pending
            for node in ready:
                sources = [
                    before.exit for dep in node.depends_on or () for before in placed.get(dep, ())
                ]
                placed[node.task.id] = []
                for run in self.runs.runs_of(node.task.id, cluster.run):
                    drawn = self.place(cluster, node.task, RelationType.SEQUENTIAL, run)
                    for source in sources or [cluster.entry()]:
                        value = run.value if run else None
                        self.edge(source, drawn.entry, RelationType.PARALLEL, value)
                    if node.task.id not in depended:
                        self.edge(drawn.exit, cluster.exit(RelationType.SEQUENTIAL))
                    placed[node.task.id].append(drawn)
            pending = [n for n in pending if n not in ready]

    def _task_node(
        self,
        uid: str,
        task: Task,
        relation: RelationType | None,
        branch: RelationType | None,
        run: TaskRun | None,
    ) -> dict[str, Any]:
        body = _task_node(uid, task, relation, branch)
        if run is not None:
            values = self.runs.values_of(run)
            body["uid"] = "_".join([uid, *values])
            body["taskRun"] = run.to_json()
            body["values"] = values
        return body


def _task_node(
    uid: str, task: Task, relation: RelationType | None, branch: RelationType | None
) -> dict[str, Any]:
    kind = SUBFLOW_TASK if isinstance(task, Subflow) else GRAPH_TASK
    body: dict[str, Any] = {"uid": uid, "type": kind, "task": plain(task)}
    if relation is not None:
        body["relationType"] = relation.value
    if branch is not None:
        body["branchType"] = branch.value
    return body


# -- how each flowable type draws its children ----------------------------------------------------


@dataclass(frozen=True)
class _Drawing:
    """The relation of a flowable's cluster and how its children are drawn inside it."""

    relation: RelationType
    draw: Callable[[_Builder, _Cluster, Any], None]


def _tasks(relation: RelationType) -> Callable[[_Builder, _Cluster, Any], None]:
    return lambda builder, cluster, task: builder.fill(cluster, task.tasks, relation)


def _if(builder: _Builder, cluster: _Cluster, task: If) -> None:
    builder.fill(cluster, task.then, RelationType.SEQUENTIAL, "then")
    if task.else_:
        builder.fill(cluster, task.else_, RelationType.SEQUENTIAL, "else")


def _switch(builder: _Builder, cluster: _Cluster, task: Switch) -> None:
    branches = dict(task.cases or {})
    if task.defaults:
        branches["defaults"] = task.defaults
    for value, tasks in branches.items():
        builder.fill(cluster, tasks, RelationType.SEQUENTIAL, value)


def _dag(builder: _Builder, cluster: _Cluster, task: Dag) -> None:
    builder.dag(cluster, task)


def _other(builder: _Builder, cluster: _Cluster, task: FlowableTask) -> None:
    # A flowable type without a drawing of its own: each child list as a sequence.
    lists = [(name, tasks) for name, tasks in task.task_lists() if name not in _ALTERNATIVES]
    for name, tasks in lists:
        builder.fill(cluster, tasks, RelationType.SEQUENTIAL, name if len(lists) > 1 else None)


_ALTERNATIVES = frozenset({"errors", "finally"})

_DRAWINGS: dict[type[FlowableTask], _Drawing] = {
    Sequential: _Drawing(RelationType.SEQUENTIAL, _tasks(RelationType.SEQUENTIAL)),
    AllowFailure: _Drawing(RelationType.SEQUENTIAL, _tasks(RelationType.SEQUENTIAL)),
    Parallel: _Drawing(RelationType.PARALLEL, _tasks(RelationType.PARALLEL)),
    # Loops run groups of tasks one after another or at once, the tasks of a group in order.
    ForEach: _Drawing(RelationType.DYNAMIC, _tasks(RelationType.SEQUENTIAL)),
    EachSequential: _Drawing(RelationType.DYNAMIC, _tasks(RelationType.SEQUENTIAL)),
    EachParallel: _Drawing(RelationType.DYNAMIC, _tasks(RelationType.PARALLEL)),
    If: _Drawing(RelationType.CHOICE, _if),
    Switch: _Drawing(RelationType.CHOICE, _switch),
    Dag: _Drawing(RelationType.DYNAMIC, _dag),
}


def _drawing_of(task: FlowableTask) -> _Drawing:
    for kind in type(task).__mro__:
        drawing = _DRAWINGS.get(kind)
        if drawing is not None:
            return drawing
    return _Drawing(RelationType.SEQUENTIAL, _other)
