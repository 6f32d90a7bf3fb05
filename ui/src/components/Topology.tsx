/** The flow graph as SVG: tasks left to right, flowable tasks as boxes around their children. */
import type { JSX } from "preact";
import { shortType, type FlowTree, type TaskNode } from "../flowtree";
import { stateTone } from "../states";

const NODE_W = 176;
const NODE_H = 52;
const GAP_X = 36;
const GAP_Y = 18;
const PAD = 12;
const HEADER = 26;
const GROUP_LABEL = 16;
const TERMINAL = 14;

interface Box {
  w: number;
  h: number;
  draw: (x: number, y: number) => JSX.Element[];
}

interface Options {
  states: Record<string, string>;
  onSelect?: (taskId: string) => void;
  selected?: string | null;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function arrow(x1: number, y1: number, x2: number, y2: number, key: string): JSX.Element {
  const mid = (x1 + x2) / 2;
  const path = y1 === y2 ? `M${x1},${y1} L${x2},${y2}` : `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
  return <path key={key} d={path} class="edge" marker-end="url(#arrow)" />;
}

function leaf(node: TaskNode, options: Options): Box {
  return {
    w: NODE_W,
    h: NODE_H,
    draw: (x, y) => {
      const state = options.states[node.id];
      const activate = () => options.onSelect?.(node.id);
      return [
        <g
          key={`n-${node.id}`}
          class={`node${state ? ` state-${stateTone(state)}` : ""}${options.selected === node.id ? " selected" : ""}`}
          transform={`translate(${x},${y})`}
          tabIndex={options.onSelect ? 0 : undefined}
          role={options.onSelect ? "button" : "img"}
          aria-label={`${node.id} (${shortType(node.type)})${state ? `, ${state}` : ""}`}
          data-task={node.id}
          onClick={activate}
          onKeyDown={(event) => {
            if (event.key === "Enter" || event.key === " ") {
              event.preventDefault();
              activate();
            }
          }}
        >
          <title>{`${node.id}\n${node.type}${state ? `\n${state}` : ""}`}</title>
          <rect width={NODE_W} height={NODE_H} rx={6} />
          <text x={10} y={20} class="node-id">
            {clip(node.id, 24)}
          </text>
          <text x={10} y={38} class="node-type">
            {clip(shortType(node.type), 20)}
            {state ? ` · ${state}` : ""}
          </text>
        </g>,
      ];
    },
  };
}

function sequence(boxes: Box[], keyPrefix: string): Box {
  if (!boxes.length) return { w: 0, h: 0, draw: () => [] };
  const h = Math.max(...boxes.map((box) => box.h));
  const w = boxes.reduce((sum, box) => sum + box.w, 0) + GAP_X * (boxes.length - 1);
  return {
    w,
    h,
    draw: (x, y) => {
      const out: JSX.Element[] = [];
      let cx = x;
      boxes.forEach((box, index) => {
        if (index > 0) out.push(arrow(cx - GAP_X, y + h / 2, cx - 2, y + h / 2, `${keyPrefix}-a${index}`));
        out.push(...box.draw(cx, y + (h - box.h) / 2));
        cx += box.w + GAP_X;
      });
      return out;
    },
  };
}

function lanes(boxes: Box[], keyPrefix: string): Box {
  const w = Math.max(0, ...boxes.map((box) => box.w)) + GAP_X * 2;
  const h = boxes.reduce((sum, box) => sum + box.h, 0) + GAP_Y * Math.max(0, boxes.length - 1);
  return {
    w,
    h,
    draw: (x, y) => {
      const out: JSX.Element[] = [];
      let cy = y;
      boxes.forEach((box, index) => {
        const mid = cy + box.h / 2;
        out.push(arrow(x, y + h / 2, x + GAP_X - 2, mid, `${keyPrefix}-in${index}`));
        out.push(...box.draw(x + GAP_X, cy));
        out.push(arrow(x + GAP_X + box.w, mid, x + w - 2, y + h / 2, `${keyPrefix}-out${index}`));
        cy += box.h + GAP_Y;
      });
      return out;
    },
  };
}

function taskBox(node: TaskNode, options: Options): Box {
  if (!node.groups.length) return leaf(node, options);
  const inner = node.groups.map((group) => {
    const children = group.tasks.map((child) => taskBox(child, options));
    const body = node.parallel && group.name === "tasks" ? lanes(children, `${node.id}-${group.name}`) : sequence(children, `${node.id}-${group.name}`);
    return { name: group.name, body };
  });
  const contentW = Math.max(NODE_W, ...inner.map((group) => group.body.w));
  const contentH = inner.reduce((sum, group) => sum + GROUP_LABEL + group.body.h, 0) + GAP_Y * (inner.length - 1);
  const w = contentW + PAD * 2;
  const h = HEADER + contentH + PAD;
  const state = options.states[node.id];
  return {
    w,
    h,
    draw: (x, y) => {
      const activate = () => options.onSelect?.(node.id);
      const out: JSX.Element[] = [
        <g
          key={`c-${node.id}`}
          class={`cluster${state ? ` state-${stateTone(state)}` : ""}${options.selected === node.id ? " selected" : ""}`}
          transform={`translate(${x},${y})`}
          data-task={node.id}
        >
          <rect width={w} height={h} rx={8} />
          <text
            x={PAD}
            y={18}
            class="cluster-title"
            tabIndex={options.onSelect ? 0 : undefined}
            role={options.onSelect ? "button" : undefined}
            onClick={activate}
            onKeyDown={(event) => {
              if (event.key === "Enter") activate();
            }}
          >
            {clip(node.id, 30)} · {shortType(node.type)}
            {state ? ` · ${state}` : ""}
          </text>
        </g>,
      ];
      let cy = y + HEADER;
      inner.forEach((group) => {
        out.push(
          <text key={`gl-${node.id}-${group.name}`} x={x + PAD} y={cy + 11} class="group-label">
            {group.name}
          </text>,
        );
        cy += GROUP_LABEL;
        out.push(...group.body.draw(x + PAD, cy));
        cy += group.body.h + GAP_Y;
      });
      return out;
    },
  };
}

function terminal(kind: "start" | "end"): Box {
  const size = TERMINAL * 2;
  return {
    w: size,
    h: size,
    draw: (x, y) => [
      <circle key={`t-${kind}`} cx={x + TERMINAL} cy={y + TERMINAL} r={TERMINAL - 2} class={`terminal ${kind}`}>
        <title>{kind}</title>
      </circle>,
    ],
  };
}

export function Topology({ tree, states = {}, onSelect, selected, label = "Flow topology" }: {
  tree: FlowTree;
  states?: Record<string, string>;
  onSelect?: (taskId: string) => void;
  selected?: string | null;
  label?: string;
}) {
  const options: Options = { states, onSelect, selected };
  const rows: { name: string | null; box: Box }[] = [];
  const main = sequence([terminal("start"), ...tree.tasks.map((task) => taskBox(task, options)), terminal("end")], "main");
  if (tree.triggers.length) {
    const triggerNodes = tree.triggers.map((trigger) => leaf({ id: trigger.id, type: trigger.type, groups: [], parallel: false }, options));
    rows.push({ name: "triggers", box: sequence(triggerNodes, "triggers") });
  }
  rows.push({ name: null, box: main });
  for (const [name, tasks] of [
    ["errors", tree.errors],
    ["finally", tree.finally],
    ["afterExecution", tree.afterExecution],
  ] as const) {
    if (tasks.length) rows.push({ name, box: sequence(tasks.map((task) => taskBox(task, options)), name) });
  }
  const margin = 16;
  const width = Math.max(...rows.map((row) => row.box.w)) + margin * 2;
  const height = rows.reduce((sum, row) => sum + row.box.h + (row.name ? GROUP_LABEL : 0) + GAP_Y * 2, 0) + margin;
  const elements: JSX.Element[] = [];
  let y = margin;
  for (const row of rows) {
    if (row.name) {
      elements.push(
        <text key={`row-${row.name}`} x={margin} y={y + 11} class="group-label">
          {row.name}
        </text>,
      );
      y += GROUP_LABEL;
    }
    elements.push(...row.box.draw(margin, y));
    y += row.box.h + GAP_Y * 2;
  }
  if (!tree.tasks.length) {
    return <div class="empty">No tasks to draw yet.</div>;
  }
  return (
    <div class="topology" role="group" aria-label={label}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {elements}
      </svg>
    </div>
  );
}
