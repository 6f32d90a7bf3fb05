/** U2: a flow's page (overview, editor, executions, revisions, triggers, logs, metrics), and the create page. */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, Labels, Spinner, TabBar } from "../components/common";
import { ConfirmModal } from "../components/Modal";
import { notify, notifyError } from "../components/notify";
import { Topology, useSubflowToggle } from "../components/Topology";
import { diffLines } from "../diff";
import { labelsOf } from "../format";
import { useLoad } from "../hooks";
import { href, navigate, setQuery } from "../router";
import type { Flow } from "../types";
import { ExecuteModal } from "./ExecuteModal";
import { FlowDependencies } from "./FlowDependencies";
import { FlowTriggers } from "./FlowTriggers";
import { ExecutionsList } from "./ExecutionsList";
import { FlowEditor, newFlowSource } from "./FlowEditor";
import { FlowMetrics } from "./FlowMetrics";
import { LogsPage } from "./LogsPage";

const TABS = [
  { id: "overview", label: "Overview" },
  { id: "edit", label: "Edit" },
  { id: "executions", label: "Executions" },
  { id: "revisions", label: "Revisions" },
  { id: "triggers", label: "Triggers" },
  { id: "logs", label: "Logs" },
  { id: "metrics", label: "Metrics" },
  { id: "dependencies", label: "Dependencies" },
];

function flowBase(namespace: string, id: string): string {
  return `/flows/edit/${encodeURIComponent(namespace)}/${encodeURIComponent(id)}`;
}

export function FlowPage({ namespace, id, tab, query }: {
  namespace: string | null;
  id: string | null;
  tab: string;
  query: URLSearchParams;
}) {
  const loaded = useLoad(() => (namespace && id ? api.flow(namespace, id) : Promise.resolve(null)), [namespace, id]);
  const flow = loaded.data;
  const executing = query.get("execute") === "1";
  const openExecute = () => setQuery({ execute: "1" });
  const closeExecute = () => setQuery({ execute: undefined });

  if (!namespace || !id) {
    return (
      <section class="page page-wide">
        <header class="page-header">
          <h1>New flow</h1>
        </header>
        <FlowEditor
          flow={null}
          initialSource={newFlowSource(query.get("namespace") ?? "")}
          onSaved={(created) => navigate(href(`${flowBase(created.namespace, created.id)}/edit`))}
        />
      </section>
    );
  }
  const base = flowBase(namespace, id);
  return (
    <section class="page page-wide">
      <header class="page-header">
        <div>
          <div class="breadcrumb">
            <a href={href("/flows")}>Flows</a> / <a href={href("/flows", { namespace })}>{namespace}</a>
          </div>
          <h1>{id}</h1>
        </div>
        {flow && (
          <button type="button" class="button primary" onClick={openExecute} data-action="open-execute">
            ▶ Execute
          </button>
        )}
      </header>
      <TabBar tabs={TABS} active={tab} base={base} label="Flow" />
      <ErrorBox error={loaded.error} />
      {loaded.loading && !flow && <Spinner />}
      {flow && tab === "overview" && <FlowOverview flow={flow} />}
      {flow && tab === "edit" && (
        <FlowEditor flow={flow} initialSource={flow.source ?? ""} onSaved={(saved) => loaded.setData({ ...flow, ...saved })} onExecute={openExecute} />
      )}
      {flow && tab === "executions" && <ExecutionsList query={query} fixed={{ namespace, flowId: id }} />}
      {flow && tab === "revisions" && <Revisions flow={flow} onRestored={loaded.reload} />}
      {flow && tab === "triggers" && <FlowTriggers flow={flow} onChanged={loaded.reload} />}
      {flow && tab === "dependencies" && <FlowDependencies flow={flow} />}
      {flow && tab === "logs" && <LogsPage query={query} fixed={{ namespace, flowId: id }} />}
      {flow && tab === "metrics" && <FlowMetrics flow={flow} />}
      {flow && !TABS.some((known) => known.id === tab) && <Empty>Unknown tab “{tab}”.</Empty>}
      {flow && executing && <ExecuteModal flow={flow} onClose={closeExecute} />}
    </section>
  );
}

function FlowOverview({ flow }: { flow: Flow }) {
  const subflows = useSubflowToggle();
  const graph = useLoad(
    () => api.flowGraph(flow.namespace, flow.id, undefined, subflows.open),
    [flow.namespace, flow.id, flow.revision, subflows.open.join(" ")],
  );
  return (
    <div class="overview">
      <dl class="facts">
        <dt>Namespace</dt>
        <dd>{flow.namespace}</dd>
        <dt>Revision</dt>
        <dd>{flow.revision}</dd>
        {flow.description && (
          <>
            <dt>Description</dt>
            <dd class="pre-line">{flow.description}</dd>
          </>
        )}
        <dt>Labels</dt>
        <dd>
          <Labels labels={labelsOf(flow.labels)} />
        </dd>
        <dt>Status</dt>
        <dd>{flow.disabled ? "Disabled" : "Enabled"}</dd>
      </dl>
      {(flow.inputs ?? []).length > 0 && (
        <div class="table-wrap">
          <table class="table compact" aria-label="Inputs">
            <caption>Inputs</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Type</th>
                <th scope="col">Required</th>
                <th scope="col">Default</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {flow.inputs!.map((input) => (
                <tr>
                  <td>
                    <code>{input.id ?? input.name}</code>
                  </td>
                  <td>{input.type}</td>
                  <td>{input.required === false ? "no" : "yes"}</td>
                  <td>
                    <code class="clip">{input.defaults === undefined ? "" : typeof input.defaults === "string" ? input.defaults : JSON.stringify(input.defaults)}</code>
                  </td>
                  <td>{input.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2 class="section-title">Topology</h2>
      <ErrorBox error={graph.error} />
      {graph.data ? <Topology graph={graph.data} subflows={subflows} /> : !graph.error && <Spinner />}
    </div>
  );
}

function Revisions({ flow, onRestored }: { flow: Flow; onRestored: () => void }) {
  const revisions = useLoad(() => api.revisions(flow.namespace, flow.id), [flow.namespace, flow.id, flow.revision]);
  const list = [...(revisions.data ?? [])].sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
  const [left, setLeft] = useState<number | null>(null);
  const [right, setRight] = useState<number | null>(null);
  const [sources, setSources] = useState<Record<number, string>>({});
  const [restore, setRestore] = useState<number | null>(null);
  useEffect(() => {
    if (list.length && right === null) {
      setRight(list[0].revision ?? null);
      setLeft(list[1]?.revision ?? list[0].revision ?? null);
    }
  }, [revisions.data]);
  useEffect(() => {
    for (const revision of [left, right]) {
      if (revision === null || sources[revision] !== undefined) continue;
      const known = list.find((item) => item.revision === revision)?.source;
      if (known !== undefined) setSources((old) => ({ ...old, [revision]: known }));
      else
        api.flow(flow.namespace, flow.id, revision).then(
          (loaded) => setSources((old) => ({ ...old, [revision]: loaded.source ?? "" })),
          notifyError,
        );
    }
  }, [left, right, revisions.data]);
  if (revisions.error) return <ErrorBox error={revisions.error} />;
  if (!revisions.data) return <Spinner />;
  const diff = left !== null && right !== null && sources[left] !== undefined && sources[right] !== undefined ? diffLines(sources[left], sources[right]) : null;
  const select = (value: number | null, set: (value: number) => void, label: string) => (
    <label class="filter">
      <span>{label}</span>
      <select value={String(value ?? "")} onChange={(event) => set(Number((event.target as HTMLSelectElement).value))}>
        {list.map((item) => (
          <option value={String(item.revision)}>
            Revision {item.revision}
            {item.revision === flow.revision ? " (current)" : ""}
            {item.deleted ? " (deleted)" : ""}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div class="revisions">
      <div class="filters">
        {select(left, setLeft, "Compare")}
        {select(right, setRight, "with")}
        {left !== null && left !== flow.revision && (
          <button type="button" class="button" onClick={() => setRestore(left)}>
            Restore revision {left}
          </button>
        )}
      </div>
      {diff ? (
        <div class="diff" role="table" aria-label={`Differences between revision ${left} and ${right}`}>
          {diff.map((line) => (
            <div class={`diff-line ${line.kind}`} role="row">
              <span class="diff-num" role="cell">{line.left ?? ""}</span>
              <span class="diff-num" role="cell">{line.right ?? ""}</span>
              <span class="diff-mark" role="cell" aria-label={line.kind}>
                {line.kind === "added" ? "+" : line.kind === "removed" ? "−" : " "}
              </span>
              <span class="diff-text" role="cell">{line.text}</span>
            </div>
          ))}
        </div>
      ) : (
        <Spinner />
      )}
      {restore !== null && (
        <ConfirmModal
          title="Restore a revision"
          message={`Save revision ${restore} as a new revision of ${flow.id}?`}
          confirmLabel="Restore"
          onClose={() => setRestore(null)}
          onConfirm={async () => {
            try {
              const saved = await api.updateFlow(flow.namespace, flow.id, sources[restore] ?? "");
              notify("success", `Restored as revision ${saved.revision}`);
              onRestored();
            } catch (error) {
              notifyError(error);
            }
          }}
        />
      )}
    </div>
  );
}
