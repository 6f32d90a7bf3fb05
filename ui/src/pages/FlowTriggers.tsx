/** U2: a flow's triggers with their state; each can be disabled and enabled again. */
import { api } from "../api";
import { Empty, ErrorBox, Spinner } from "../components/common";
import { notify, notifyError } from "../components/notify";
import { formatDate, shortId } from "../format";
import { useLoad } from "../hooks";
import { executionPath } from "../execution/Relations";
import type { Flow, TriggerState } from "../types";
import { firesOnEvent, triggerSummary, triggerTypeLabel } from "./triggerSummary";


function TriggerRow({ trigger, flowDisabled, onChanged }: { trigger: TriggerState; flowDisabled: boolean; onChanged: () => void }) {
  const declaredOff = trigger.abstractTrigger?.disabled === true;
  const toggle = async () => {
    try {
      await api.setTriggerDisabled(trigger, !trigger.disabled);
      notify("success", `Trigger ${trigger.triggerId} ${trigger.disabled ? "enabled" : "disabled"}`);
      onChanged();
    } catch (error) {
      notifyError(error);
    }
  };
  return (
    <tr data-trigger-row={trigger.triggerId}>
      <td>
        <code>{trigger.triggerId}</code>
      </td>
      <td title={trigger.type} data-testid="trigger-type">
        {triggerTypeLabel(trigger.type)}
      </td>
      <td>
        <code class="trigger-summary" data-testid="trigger-summary">
          {triggerSummary(trigger.abstractTrigger ?? {}, trigger.namespace, trigger.flowId)}
        </code>
      </td>
      <td>{formatDate(trigger.date) || <span class="muted">—</span>}</td>
      <td>{formatDate(trigger.nextExecutionDate) || <span class="muted">{firesOnEvent(trigger.type) ? "on event" : "—"}</span>}</td>
      <td>
        {trigger.executionId ? (
          <a class="mono" href={executionPath(trigger.namespace, trigger.flowId, trigger.executionId)} data-testid="trigger-execution">
            {shortId(trigger.executionId)}
          </a>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td data-testid="trigger-status">{trigger.disabled || flowDisabled ? "disabled" : "enabled"}</td>
      <td>
        <button
          type="button"
          class="button small"
          onClick={toggle}
          disabled={declaredOff}
          title={declaredOff ? "Disabled in the flow's source (disabled: true)" : undefined}
          aria-label={`${trigger.disabled ? "Enable" : "Disable"} trigger ${trigger.triggerId}`}
        >
          {trigger.disabled ? "Enable" : "Disable"}
        </button>
      </td>
    </tr>
  );
}

export function FlowTriggers({ flow, onChanged }: { flow: Flow; onChanged: () => void }) {
  const triggers = useLoad(() => api.flowTriggers(flow.namespace, flow.id), [flow.namespace, flow.id, flow.revision]);
  // The search matches flow ids by prefix in namespaces under this one: keep this flow's.
  const rows = (triggers.data?.results ?? []).filter((row) => row.namespace === flow.namespace && row.flowId === flow.id);
  const toggleFlow = async () => {
    try {
      await api.setFlowsDisabled(!flow.disabled, [{ namespace: flow.namespace, id: flow.id }]);
      notify("success", flow.disabled ? "Flow enabled" : "Flow disabled");
      onChanged();
    } catch (error) {
      notifyError(error);
    }
  };
  return (
    <div>
      <div class="filters">
        <span>
          The flow is <strong>{flow.disabled ? "disabled" : "enabled"}</strong>; a disabled flow's triggers do not fire.
        </span>
        <button type="button" class="button" onClick={toggleFlow}>
          {flow.disabled ? "Enable the flow" : "Disable the flow"}
        </button>
      </div>
      <ErrorBox error={triggers.error} />
      {triggers.loading && !triggers.data && <Spinner />}
      {triggers.data && rows.length === 0 && <Empty>This flow has no triggers.</Empty>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-label="Triggers">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Type</th>
                <th scope="col">When</th>
                <th scope="col">Last date</th>
                <th scope="col">Next date</th>
                <th scope="col">Last execution</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((trigger) => (
                <TriggerRow trigger={trigger} flowDisabled={!!flow.disabled} onChanged={triggers.reload} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
