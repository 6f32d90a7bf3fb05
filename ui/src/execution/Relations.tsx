/** U10: the executions around this one: the parent that started it (Subflow, ForEachItem, or
 * the execution whose end fired its Flow trigger), and the children it started. */
import { api } from "../api";
import { ErrorBox, StateBadge } from "../components/common";
import { formatDate, shortType } from "../format";
import { useLoad } from "../hooks";
import { href } from "../router";
import type { Execution } from "../types";

const CHILDREN_SHOWN = 50;

export function executionPath(namespace: string, flowId: string, id: string): string {
  return href(`/executions/${encodeURIComponent(namespace)}/${encodeURIComponent(flowId)}/${encodeURIComponent(id)}/overview`);
}

/** Subflow and ForEachItem under their current and legacy names (`io.kestra.core.tasks.flows.Flow`). */
export function isSubflowTrigger(type: string | undefined): boolean {
  return !!type && /\.flows?\.(Subflow|ForEachItem|Flow)$/.test(type);
}

interface Origin {
  id: string;
  namespace: string;
  flowId: string;
  taskId?: string;
  relation: "subflow" | "flow-trigger";
}

/** The execution this one comes from, read from its trigger's variables. */
export function originOf(execution: Execution): Origin | null {
  const trigger = execution.trigger;
  const variables = trigger?.variables ?? {};
  const id = variables.executionId;
  if (typeof id !== "string" || typeof variables.namespace !== "string" || typeof variables.flowId !== "string") return null;
  const relation = isSubflowTrigger(trigger?.type) ? "subflow" : trigger?.type?.endsWith(".trigger.Flow") ? "flow-trigger" : null;
  if (!relation) return null;
  const taskId = typeof variables.taskId === "string" ? variables.taskId : undefined;
  return { id, namespace: variables.namespace, flowId: variables.flowId, taskId, relation };
}

/** The parent's facts: `<dt>`/`<dd>` pairs for the overview's list. */
export function ParentFacts({ execution }: { execution: Execution }) {
  const origin = originOf(execution);
  if (!origin) return null;
  return (
    <>
      <dt>{origin.relation === "subflow" ? "Parent execution" : "Triggered by"}</dt>
      <dd data-testid="parent-execution">
        <a href={executionPath(origin.namespace, origin.flowId, origin.id)}>
          {origin.namespace}.{origin.flowId} <span class="mono">{origin.id}</span>
        </a>
        {origin.taskId && <span class="muted"> (task {origin.taskId})</span>}
        {origin.relation === "flow-trigger" && <span class="muted"> (Flow trigger {execution.trigger?.id})</span>}
      </dd>
    </>
  );
}

/** The executions this one started, found by their trigger (`triggerExecutionId`). */
export function ChildExecutions({ execution }: { execution: Execution }) {
  const runs = execution.taskRunList ?? [];
  const progress = `${execution.state.current}:${runs.map((run) => run.state.current).join(",")}`;
  const children = useLoad(
    () => api.searchExecutions({ triggerExecutionId: execution.id, size: CHILDREN_SHOWN, sort: "state.startDate:asc" }),
    [execution.id, progress],
  );
  const found = children.data?.results ?? [];
  if (children.error) return <ErrorBox error={children.error} title="Child executions" />;
  if (!found.length) return null;
  return (
    <div class="table-wrap">
      <table class="table compact" aria-label="Child executions">
        <caption>
          Child executions
          {children.data && children.data.total > found.length && (
            <span class="muted"> ({found.length} of {children.data.total})</span>
          )}
        </caption>
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Flow</th>
            <th scope="col">Started by</th>
            <th scope="col">Start</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {found.map((child) => (
            <tr data-child={child.id}>
              <td>
                <a class="mono" href={executionPath(child.namespace, child.flowId, child.id)}>
                  {child.id}
                </a>
              </td>
              <td>
                {child.namespace}.{child.flowId}
              </td>
              <td>
                <code>{child.trigger?.id}</code> <span class="muted">{shortType(child.trigger?.type ?? "")}</span>
              </td>
              <td>{formatDate(child.state.startDate)}</td>
              <td>
                <StateBadge state={child.state.current} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
