/** U10: the execution's overview: state, dates, labels, inputs, outputs, trigger, relations. */
import { Labels, StateBadge } from "../components/common";
import { durationOf, formatDate, humanDuration, labelsOf } from "../format";
import { href } from "../router";
import type { Execution } from "../types";
import { ChildExecutions, ParentFacts } from "./Relations";
import { ValueView } from "./values";

function ValuesTable({ values, executionId, caption }: { values: Record<string, unknown>; executionId: string; caption: string }) {
  const entries = Object.entries(values);
  if (!entries.length) return null;
  return (
    <div class="table-wrap">
      <table class="table compact" aria-label={caption}>
        <caption>{caption}</caption>
        <tbody>
          {entries.map(([key, value]) => (
            <tr>
              <th scope="row">
                <code>{key}</code>
              </th>
              <td>
                <ValueView value={value} executionId={executionId} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ExecutionOverview({ execution }: { execution: Execution }) {
  const state = execution.state;
  const created = state.histories?.[0]?.date;
  const labels = labelsOf(execution.labels);
  const executionLink = (id: string) => href(`/executions/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}/${id}/overview`);
  return (
    <div class="overview">
      <dl class="facts" data-testid="execution-facts">
        <dt>State</dt>
        <dd>
          <StateBadge state={state.current} />
        </dd>
        <dt>Namespace</dt>
        <dd>{execution.namespace}</dd>
        <dt>Flow</dt>
        <dd>
          <a href={href(`/flows/edit/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}/overview`)}>{execution.flowId}</a>
          {execution.flowRevision !== undefined && <span class="muted"> (revision {execution.flowRevision})</span>}
        </dd>
        <dt>Created</dt>
        <dd>{formatDate(created)}</dd>
        <dt>Started</dt>
        <dd>{formatDate(state.startDate)}</dd>
        <dt>Ended</dt>
        <dd>{formatDate(state.endDate) || <span class="muted">—</span>}</dd>
        <dt>Duration</dt>
        <dd>{humanDuration(durationOf(state))}</dd>
        {execution.scheduleDate && (
          <>
            <dt>Scheduled for</dt>
            <dd>{formatDate(execution.scheduleDate)}</dd>
          </>
        )}
        <dt>Labels</dt>
        <dd>
          <Labels labels={labels} />
        </dd>
        {execution.trigger && (
          <>
            <dt>Trigger</dt>
            <dd>
              <code>{execution.trigger.id}</code> <span class="muted">{execution.trigger.type}</span>
            </dd>
          </>
        )}
        <ParentFacts execution={execution} />
        {execution.parentId && (
          <>
            <dt>Replayed from</dt>
            <dd>
              <a href={executionLink(execution.parentId)} class="mono">
                {execution.parentId}
              </a>
            </dd>
          </>
        )}
        {execution.originalId && execution.originalId !== execution.id && (
          <>
            <dt>Replay of</dt>
            <dd>
              <a href={executionLink(execution.originalId)} class="mono">
                {execution.originalId}
              </a>
            </dd>
          </>
        )}
        {(execution.metadata?.attemptNumber ?? 1) > 1 && (
          <>
            <dt>Attempt</dt>
            <dd>{execution.metadata?.attemptNumber}</dd>
          </>
        )}
      </dl>
      <ValuesTable values={execution.inputs ?? {}} executionId={execution.id} caption="Inputs" />
      <ValuesTable values={execution.outputs ?? {}} executionId={execution.id} caption="Flow outputs" />
      <ChildExecutions execution={execution} />
      {execution.trigger?.variables && <ValuesTable values={execution.trigger.variables} executionId={execution.id} caption="Trigger variables" />}
      {(state.histories ?? []).length > 0 && (
        <div class="table-wrap">
          <table class="table compact" aria-label="State history">
            <caption>State history</caption>
            <tbody>
              {state.histories!.map((history) => (
                <tr>
                  <td>
                    <StateBadge state={history.state} />
                  </td>
                  <td>{formatDate(history.date)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
