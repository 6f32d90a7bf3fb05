/** U2: the flows around a flow: those leading to it and those it leads to (Subflow tasks, Flow triggers). */
import { api } from "../api";
import { Empty, ErrorBox, Spinner } from "../components/common";
import { useLoad } from "../hooks";
import { href } from "../router";
import type { Flow, FlowDependencies as Graph } from "../types";

interface Neighbour {
  namespace: string;
  id: string;
  relation: "FLOW_TASK" | "FLOW_TRIGGER";
}

const UPSTREAM = {
  FLOW_TASK: "calls this flow as a subflow",
  FLOW_TRIGGER: "triggers this flow when it ends",
};
const DOWNSTREAM = {
  FLOW_TASK: "called by this flow as a subflow",
  FLOW_TRIGGER: "triggered when this flow ends",
};

function neighbours(graph: Graph, self: string, side: "source" | "target"): Neighbour[] {
  const byUid = new Map(graph.nodes.map((node) => [node.uid, node]));
  const other = side === "source" ? "target" : "source";
  return graph.edges
    .filter((edge) => edge[other] === self && edge[side] !== self)
    .flatMap((edge) => {
      const node = byUid.get(edge[side]);
      return node ? [{ namespace: node.namespace, id: node.id, relation: edge.relation }] : [];
    });
}

function FlowCard({ flow, note }: { flow: { namespace: string; id: string }; note?: string }) {
  const path = `/flows/edit/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}/dependencies`;
  return (
    <li class="dependency-card">
      <a href={href(path)}>
        <span class="muted">{flow.namespace}</span>
        <strong>{flow.id}</strong>
      </a>
      {note && <span class="dependency-note">{note}</span>}
    </li>
  );
}

function Column({ title, items, notes }: { title: string; items: Neighbour[]; notes: Record<string, string> }) {
  return (
    <section class="dependency-column" aria-label={title}>
      <h2 class="section-title">{title}</h2>
      {items.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul>
          {items.map((item) => (
            <FlowCard flow={item} note={notes[item.relation]} />
          ))}
        </ul>
      )}
    </section>
  );
}

export function FlowDependencies({ flow }: { flow: Flow }) {
  const graph = useLoad(() => api.dependencies(flow.namespace, flow.id), [flow.namespace, flow.id, flow.revision]);
  if (graph.error) return <ErrorBox error={graph.error} />;
  if (!graph.data) return <Spinner />;
  const self = graph.data.nodes.find((node) => node.namespace === flow.namespace && node.id === flow.id)?.uid ?? "";
  const upstream = neighbours(graph.data, self, "source");
  const downstream = neighbours(graph.data, self, "target");
  return (
    <div>
      {upstream.length + downstream.length === 0 && (
        <Empty>No flow calls this one through a Subflow task or watches it with a Flow trigger, and it calls none.</Empty>
      )}
      <div class="dependencies">
        <Column title="Flows leading here" items={upstream} notes={UPSTREAM} />
        <span class="dependency-arrow" aria-hidden="true">
          →
        </span>
        <section class="dependency-column" aria-label="This flow">
          <h2 class="section-title">This flow</h2>
          <ul>
            <li class="dependency-card current">
              <span class="muted">{flow.namespace}</span>
              <strong>{flow.id}</strong>
            </li>
          </ul>
        </section>
        <span class="dependency-arrow" aria-hidden="true">
          →
        </span>
        <Column title="Flows it leads to" items={downstream} notes={DOWNSTREAM} />
      </div>
    </div>
  );
}
