/** The flow graph the API draws, as SVG: tasks left to right, flowable tasks as boxes. */
import type { JSX } from "preact";
import { useMemo, useState } from "preact/hooks";
import { shortType } from "../format";
import { layoutGraph, type PlacedCluster, type PlacedNode } from "../graphLayout";
import { stateTone } from "../states";
import type { FlowGraph, GraphEdge } from "../types";

/** Subflow nodes that can be drawn open: the uids open now, and how to open or close one. */
export interface SubflowToggle {
  open: string[];
  onToggle: (uid: string) => void;
}

interface Options {
  states: Record<string, string>;
  /** The current state of each task run, for graphs whose nodes carry theirs. */
  runStates?: Record<string, string>;
  onSelect?: (taskId: string) => void;
  selected?: string | null;
  subflows?: SubflowToggle;
}

const SUBFLOW_TASK = "io.kestra.core.models.hierarchies.SubflowGraphTask";

/** The open Subflow nodes of a topology, and the toggle its + and − buttons call. */
export function useSubflowToggle(): SubflowToggle {
  const [open, setOpen] = useState<string[]>([]);
  return {
    open,
    // Closing a subflow closes the subflows opened inside it too.
    onToggle: (uid) =>
      setOpen((current) =>
        current.includes(uid) ? current.filter((item) => item !== uid && !item.startsWith(`${uid}.`)) : [...current, uid],
      ),
  };
}

/** Whether a node or cluster uid is drawn inside an open Subflow: it belongs to another flow,
 * so the states and task runs of this execution are not its own. */
function inOpenSubflow(uid: string, options: Options): boolean {
  const bare = uid.replace(/^cluster_/, "");
  return options.subflows?.open.some((open) => bare.startsWith(`${open}.`)) ?? false;
}

/** The +/− button of a Subflow node, which draws the tasks of its flow inside it or hides them. */
function SubflowButton({ uid, taskId, x, y, toggle }: { uid: string; taskId: string; x: number; y: number; toggle: SubflowToggle }) {
  const open = toggle.open.includes(uid);
  return (
    <g
      class="subflow-toggle"
      transform={`translate(${x},${y})`}
      aria-label={`${open ? "Collapse" : "Expand"} subflow ${taskId}`}
      aria-expanded={open}
      {...pressable(() => toggle.onToggle(uid))}
    >
      <rect width={18} height={18} rx={4} />
      <text x={9} y={13} text-anchor="middle">
        {open ? "−" : "+"}
      </text>
    </g>
  );
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The attributes that make an SVG group a button: focusable, pressed by click, Enter or Space. */
function pressable(press: () => void) {
  return {
    // Lower case: Preact sets SVG attributes as written, and SVG only knows `tabindex`.
    tabindex: 0,
    role: "button" as const,
    onClick: press,
    onKeyDown: (event: KeyboardEvent) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        press();
      }
    },
  };
}

function activation(id: string, options: Options) {
  return options.onSelect ? pressable(() => options.onSelect?.(id)) : {};
}

function stateClass(state: string | undefined): string {
  return state ? ` state-${stateTone(state)}` : "";
}

function TaskNode({ placed, options }: { placed: PlacedNode; options: Options }) {
  const declared = placed.node.task ?? placed.node.triggerDeclaration;
  const id = declared?.id ?? placed.node.uid;
  const type = declared?.type ?? placed.node.type;
  const isTrigger = placed.kind === "trigger";
  const foreign = inOpenSubflow(placed.node.uid, options);
  const run = placed.node.taskRun;
  // A node that draws one task run (a loop's iteration) has that run's state, as it is now.
  const runState = run ? (options.runStates?.[run.id] ?? run.state?.current) : undefined;
  const state = isTrigger || foreign ? undefined : (runState ?? options.states[id]);
  const branch = placed.node.branchType ? ` branch-${placed.node.branchType.toLowerCase()}` : "";
  const toggle = placed.node.type === SUBFLOW_TASK ? options.subflows : undefined;
  const shownId = clip(id, toggle ? 19 : 24); // room for the subflow button
  const shownType = `${clip(shortType(type), state ? 14 : 26)}${state ? ` · ${state}` : ""}`;
  // The button is drawn over the node, not in it: a control inside a control is not reachable.
  return (
    <>
    <g
      class={`node${isTrigger ? " trigger" : ""}${branch}${stateClass(state)}${options.selected === id ? " selected" : ""}`}
      transform={`translate(${placed.x},${placed.y})`}
      data-task={isTrigger ? undefined : id}
      data-trigger={isTrigger ? id : undefined}
      {...(isTrigger || foreign ? { role: "img" as const } : activation(id, options))}
    >
      {/* The accessible name, and the tooltip with the full type. */}
      <title>{`${isTrigger ? "Trigger " : ""}${id}, ${type}${state ? `, ${state}` : ""}`}</title>
      <rect width={placed.w} height={placed.h} rx={6} />
      <text x={10} y={21} class="node-id">
        {shownId}
      </text>
      <text x={10} y={40} class="node-type">
        {shownType}
      </text>
    </g>
    {toggle && <SubflowButton uid={placed.node.uid} taskId={id} x={placed.x + placed.w - 24} y={placed.y + 6} toggle={toggle} />}
    </>
  );
}

function Marker({ placed }: { placed: PlacedNode }) {
  const r = placed.w / 2;
  const name = placed.node.type.replace(/^.*GraphCluster/, "").toLowerCase() || "marker";
  return (
    <circle cx={placed.x + r} cy={placed.y + r} r={r - 1.5} class={`terminal ${placed.kind} ${name}`}>
      <title>{name === "root" ? "start" : name}</title>
    </circle>
  );
}

function Cluster({ placed, options }: { placed: PlacedCluster; options: Options }) {
  const state = placed.taskId && !inOpenSubflow(placed.uid, options) ? options.states[placed.taskId] : undefined;
  return (
    <g class={`cluster${stateClass(state)}`} transform={`translate(${placed.x},${placed.y})`} data-cluster={placed.taskId ?? placed.label}>
      <rect width={placed.w} height={placed.h} rx={8} />
      <text x={10} y={15} class="group-label">
        {clip(placed.label, Math.max(8, Math.floor(placed.w / 7)))}
      </text>
    </g>
  );
}

function Edge({ edge, from, to }: { edge: GraphEdge; from: PlacedNode; to: PlacedNode }) {
  const x1 = from.x + from.w;
  const y1 = from.y + from.h / 2;
  const x2 = to.x - 2;
  const y2 = to.y + to.h / 2;
  const bend = Math.max(24, Math.abs(x2 - x1) / 2);
  const path = y1 === y2 ? `M${x1},${y1} L${x2},${y2}` : `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
  const relation = edge.relation?.relationType?.toLowerCase();
  const value = edge.relation?.value;
  return (
    <g class={`edge-group${relation ? ` relation-${relation}` : ""}`}>
      <path d={path} class="edge" marker-end="url(#arrow)" />
      {value && (
        <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} class="edge-label" text-anchor="middle">
          {clip(value, 16)}
        </text>
      )}
    </g>
  );
}

export function Topology({ graph, states = {}, runStates, onSelect, selected, subflows, label = "Flow topology" }: {
  graph: FlowGraph;
  states?: Record<string, string>;
  runStates?: Record<string, string>;
  onSelect?: (taskId: string) => void;
  selected?: string | null;
  /** When given, Subflow nodes have a button that draws their flow's tasks inside them. */
  subflows?: SubflowToggle;
  label?: string;
}) {
  const layout = useMemo(() => layoutGraph(graph), [graph]);
  const options: Options = { states, runStates, onSelect, selected, subflows };
  if (!graph.nodes.some((node) => node.task)) return <div class="empty">No tasks to draw yet.</div>;
  const nodes = [...layout.nodes.values()];
  const edges: JSX.Element[] = [];
  graph.edges.forEach((edge, index) => {
    const from = layout.nodes.get(edge.source);
    const to = layout.nodes.get(edge.target);
    if (from && to) edges.push(<Edge key={`e${index}`} edge={edge} from={from} to={to} />);
  });
  return (
    <div class="topology" role="group" aria-label={label}>
      <svg width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {layout.clusters.map((cluster) => (
          <Cluster key={cluster.uid} placed={cluster} options={options} />
        ))}
        {edges}
        {nodes.map((placed) =>
          placed.kind === "task" || placed.kind === "trigger" ? (
            <TaskNode key={placed.node.uid} placed={placed} options={options} />
          ) : (
            <Marker key={placed.node.uid} placed={placed} />
          ),
        )}
      </svg>
    </div>
  );
}
