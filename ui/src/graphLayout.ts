/**
 * Place the API's flow graph (`nodes`, `edges`, `clusters`) left to right.
 *
 * Each cluster is laid out on its own, its members in columns by longest path from its start,
 * then treated as one box by the cluster around it; so a flowable task's children never leave
 * its box, and no general compound-graph layout is needed. Edges that cross cluster borders
 * count in the innermost cluster holding both ends, between the members that contain them.
 */
import type { FlowGraph, GraphCluster, GraphNode } from "./types";

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type NodeKind = "task" | "trigger" | "marker" | "terminal";

export interface PlacedNode extends Box {
  node: GraphNode;
  kind: NodeKind;
}

export interface PlacedCluster extends Box {
  uid: string;
  label: string;
  taskId: string | null;
}

export interface Layout {
  width: number;
  height: number;
  nodes: Map<string, PlacedNode>;
  clusters: PlacedCluster[];
}

export const TASK_W = 184;
export const TASK_H = 54;
const MARKER = 12;
const TERMINAL = 22;
const GAP_X = 44;
const GAP_Y = 18;
const PAD = 12;
const HEADER = 22;
const MARGIN = 16;
const ROOT = "";

const KIND = "io.kestra.core.models.hierarchies.";

/** An open Subflow's box says which flow it holds: `call → company.team.child`. */
function subflowLabel(cluster: GraphCluster["cluster"]): string | null {
  const task = cluster.taskNode?.task;
  if (!cluster.type.endsWith("SubflowGraphCluster") || !task) return null;
  // A flow's graph has the task's own properties; an execution's, its `subflowId`.
  const target = (task.subflowId ?? task) as { namespace?: unknown; flowId?: unknown };
  return `${task.id} → ${String(target.namespace)}.${String(target.flowId)}`;
}

export function kindOf(node: GraphNode, topLevel: boolean): NodeKind {
  if (node.type === `${KIND}GraphTrigger`) return "trigger";
  if (node.type.startsWith(`${KIND}GraphCluster`)) return topLevel ? "terminal" : "marker";
  return "task";
}

function nodeSize(kind: NodeKind): { w: number; h: number } {
  if (kind === "marker") return { w: MARKER, h: MARKER };
  if (kind === "terminal") return { w: TERMINAL, h: TERMINAL };
  return { w: TASK_W, h: TASK_H };
}

interface Item {
  uid: string;
  w: number;
  h: number;
  /** Positions of the item's own members, relative to the item. */
  inner: Map<string, { x: number; y: number }>;
}

class Structure {
  readonly parent = new Map<string, string>();
  readonly members = new Map<string, string[]>();
  readonly nodes = new Map<string, GraphNode>();
  readonly clusterUids = new Set<string>();
  /** Nodes and clusters on an errors, finally or afterExecution branch. */
  readonly branches = new Set<string>();

  constructor(readonly graph: FlowGraph) {
    for (const cluster of graph.clusters) {
      this.clusterUids.add(cluster.cluster.uid);
      if (cluster.cluster.branchType) this.branches.add(cluster.cluster.uid);
      for (const member of cluster.nodes) this.parent.set(member, cluster.cluster.uid);
    }
    for (const node of graph.nodes) {
      this.nodes.set(node.uid, node);
      if (node.branchType) this.branches.add(node.uid);
    }
    const add = (uid: string) => {
      const container = this.parent.get(uid) ?? ROOT;
      const list = this.members.get(container) ?? [];
      list.push(uid);
      this.members.set(container, list);
    };
    graph.nodes.forEach((node) => add(node.uid));
    graph.clusters.forEach((cluster) => add(cluster.cluster.uid));
  }

  /** The containers around `uid`, innermost first, ending with the root. */
  ancestors(uid: string): string[] {
    const out: string[] = [];
    let current = this.parent.get(uid);
    while (current !== undefined && out.length < 100) {
      out.push(current);
      current = this.parent.get(current);
    }
    out.push(ROOT);
    return out;
  }

  /** The member of `container` that holds `uid` (or is it). */
  memberOf(uid: string, container: string): string | undefined {
    let current: string | undefined = uid;
    for (let depth = 0; current !== undefined && depth < 100; depth++) {
      if ((this.parent.get(current) ?? ROOT) === container) return current;
      current = this.parent.get(current);
    }
    return undefined;
  }
}

/** Edges between the members of each container, keyed by container. */
function memberEdges(structure: Structure): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  for (const edge of structure.graph.edges) {
    const around = new Set(structure.ancestors(edge.target));
    const container = structure.ancestors(edge.source).find((candidate) => around.has(candidate)) ?? ROOT;
    const from = structure.memberOf(edge.source, container);
    const to = structure.memberOf(edge.target, container);
    if (from === undefined || to === undefined || from === to) continue;
    const list = out.get(container) ?? [];
    list.push([from, to]);
    out.set(container, list);
  }
  return out;
}

/** Columns by longest path; members in a cycle (never drawn by the API) go last. */
function columns(members: string[], edges: [string, string][], sinks: Set<string>): string[][] {
  const incoming = new Map(members.map((uid) => [uid, 0]));
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) {
    incoming.set(to, (incoming.get(to) ?? 0) + 1);
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const rank = new Map<string, number>();
  const queue = members.filter((uid) => incoming.get(uid) === 0);
  queue.forEach((uid) => rank.set(uid, 0));
  while (queue.length) {
    const uid = queue.shift()!;
    for (const to of next.get(uid) ?? []) {
      rank.set(to, Math.max(rank.get(to) ?? 0, (rank.get(uid) ?? 0) + 1));
      incoming.set(to, (incoming.get(to) ?? 1) - 1);
      if (incoming.get(to) === 0) queue.push(to);
    }
  }
  let last = Math.max(0, ...rank.values());
  for (const uid of members) if (!rank.has(uid)) rank.set(uid, ++last);
  const out: string[][] = [];
  for (const uid of members) (out[rank.get(uid)!] ??= []).push(uid);
  return orderByPredecessors(out.filter(Boolean), edges, sinks);
}

/** Order each column by the mean position of its members' predecessors (fewer crossings);
 * `sinks` (error and finally branches) go to the bottom of their column. */
function orderByPredecessors(cols: string[][], edges: [string, string][], sinks: Set<string>): string[][] {
  const position = new Map<string, number>();
  cols[0]?.forEach((uid, index) => position.set(uid, index));
  for (const column of cols.slice(1)) {
    const score = (uid: string) => {
      const from = edges.filter(([, to]) => to === uid).map(([source]) => position.get(source));
      const known = from.filter((value): value is number => value !== undefined);
      return known.length ? known.reduce((a, b) => a + b, 0) / known.length : Number.MAX_SAFE_INTEGER;
    };
    const scores = new Map(column.map((uid, index) => [uid, score(uid) + index / 1000 + (sinks.has(uid) ? 1e6 : 0)]));
    column.sort((a, b) => scores.get(a)! - scores.get(b)!);
    column.forEach((uid, index) => position.set(uid, index));
  }
  return cols;
}

function arrange(cols: string[][], items: Map<string, Item>): { w: number; h: number; at: Map<string, { x: number; y: number }> } {
  const heights = cols.map((column) => column.reduce((sum, uid) => sum + items.get(uid)!.h, 0) + GAP_Y * (column.length - 1));
  const h = Math.max(0, ...heights);
  const at = new Map<string, { x: number; y: number }>();
  let x = 0;
  cols.forEach((column, index) => {
    const width = Math.max(...column.map((uid) => items.get(uid)!.w));
    let y = (h - heights[index]) / 2;
    for (const uid of column) {
      const item = items.get(uid)!;
      at.set(uid, { x: x + (width - item.w) / 2, y });
      y += item.h + GAP_Y;
    }
    x += width + GAP_X;
  });
  return { w: Math.max(0, x - GAP_X), h, at };
}

export function layoutGraph(graph: FlowGraph): Layout {
  const structure = new Structure(graph);
  const edges = memberEdges(structure);
  const items = new Map<string, Item>();
  const measure = (container: string): { w: number; h: number; at: Map<string, { x: number; y: number }> } => {
    const members = structure.members.get(container) ?? [];
    for (const uid of members) {
      if (structure.clusterUids.has(uid)) {
        const inside = measure(uid);
        items.set(uid, { uid, w: inside.w + PAD * 2, h: inside.h + PAD + HEADER, inner: inside.at });
      } else {
        const node = structure.nodes.get(uid)!;
        items.set(uid, { uid, ...nodeSize(kindOf(node, container === ROOT)), inner: new Map() });
      }
    }
    return arrange(columns(members, edges.get(container) ?? [], structure.branches), items);
  };
  const top = measure(ROOT);
  const layout: Layout = { width: top.w + MARGIN * 2, height: top.h + MARGIN * 2, nodes: new Map(), clusters: [] };
  const clusterInfo = new Map(graph.clusters.map((cluster) => [cluster.cluster.uid, cluster.cluster]));
  const place = (container: string, at: Map<string, { x: number; y: number }>, dx: number, dy: number) => {
    for (const [uid, offset] of at) {
      const item = items.get(uid)!;
      const box = { x: dx + offset.x, y: dy + offset.y, w: item.w, h: item.h };
      const cluster = clusterInfo.get(uid);
      if (cluster) {
        const taskId = (cluster.taskNode?.task?.id as string | undefined) ?? null;
        const label = subflowLabel(cluster) ?? taskId ?? (uid.endsWith(".Triggers") ? "Triggers" : uid.replace(/^cluster_root\.?/, ""));
        layout.clusters.push({ ...box, uid, label, taskId });
        place(uid, item.inner, box.x + PAD, box.y + HEADER);
      } else {
        const node = structure.nodes.get(uid)!;
        layout.nodes.set(uid, { ...box, node, kind: kindOf(node, container === ROOT) });
      }
    }
  };
  place(ROOT, top.at, MARGIN, MARGIN);
  return layout;
}
