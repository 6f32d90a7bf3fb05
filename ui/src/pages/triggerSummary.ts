/** One line that says when a trigger fires, by trigger type, for the flow's Triggers tab. */
import { API } from "../api";

type Declared = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const list = (value: unknown): Declared[] => (Array.isArray(value) ? (value as Declared[]) : []);

function upstreamName(flow: Declared): string {
  const namespace = str(flow.namespace) ?? "";
  const flowId = str(flow.flowId);
  return flowId ? `${namespace}.${flowId}` : `any flow of ${namespace}`;
}

/** The Flow trigger: the upstream flows (preconditions, or the legacy conditions) and states. */
function flowSummary(trigger: Declared): string {
  const preconditions = (trigger.preconditions ?? {}) as Declared;
  let upstream = list(preconditions.flows).map(upstreamName);
  if (!upstream.length) {
    upstream = list(trigger.conditions)
      .filter((condition) => /Execution(Flow|Namespace)Condition$/.test(str(condition.type) ?? ""))
      .map(upstreamName);
  }
  const states = Array.isArray(trigger.states) ? (trigger.states as string[]) : [];
  const who = upstream.length ? upstream.join(upstream.length > 1 && preconditions.flows ? " and " : " or ") : "an execution of any flow";
  return `when ${who} ends${states.length ? ` in ${states.join(", ")}` : ""}`;
}

function httpSummary(trigger: Declared): string {
  const method = str(trigger.method) ?? "GET";
  const every = str(trigger.interval) ?? "PT1M";
  const condition = str(trigger.responseCondition) ?? "{{ response.statusCode < 400 }}";
  return `${method} ${str(trigger.uri) ?? ""} every ${every}, fires when ${condition}`;
}

/** The address a Webhook trigger answers on (Kestra's `/executions/webhook/...`). */
export function webhookUrl(namespace: string, flowId: string, key: string, origin = window.location.origin): string {
  const enc = encodeURIComponent;
  return `${origin}${API}/executions/webhook/${enc(namespace)}/${enc(flowId)}/${enc(key)}`;
}

/** The short name of a trigger type; the HTTP polling trigger's last word alone says nothing. */
export function triggerTypeLabel(type: string | undefined): string {
  if (!type) return "";
  if (/\.http\.Trigger$/.test(type)) return "HTTP Trigger";
  return type.split(".").pop() ?? type;
}

/** Flow and Webhook triggers fire on an event, so they have no next date. */
export function firesOnEvent(type: string | undefined): boolean {
  return /\.(?:trigger|types)\.(Flow|Webhook)$/.test(type ?? "");
}

export function triggerSummary(trigger: Declared, namespace: string, flowId: string): string {
  const type = str(trigger.type) ?? "";
  // Current names end in .trigger.X; the legacy ones (still accepted) in .types.X.
  const kind = /\.(?:trigger|types)\.(Schedule|Flow|Webhook)$/.exec(type)?.[1];
  if (kind === "Schedule") {
    const zone = str(trigger.timezone);
    return `cron ${str(trigger.cron) ?? ""}${zone ? ` (${zone})` : ""}`;
  }
  if (kind === "Flow") return flowSummary(trigger);
  if (type.endsWith(".http.Trigger")) return httpSummary(trigger);
  if (kind === "Webhook") {
    const key = str(trigger.key) ?? "";
    return `POST ${webhookUrl(namespace, flowId, key)}`;
  }
  const { id: _id, type: _type, disabled: _disabled, logToFile: _log, labels: _labels, ...rest } = trigger;
  return JSON.stringify(rest);
}
