/** The REST client: every call of the UI goes through `request`, errors become `ApiError`. */
import type {
  EvalResult,
  Execution,
  FilePreview,
  Flow,
  FlowDependencies,
  FlowGraph,
  KvEntry,
  Label,
  CurlCommand,
  LogEntry,
  MetricAggregations,
  MetricEntry,
  Paged,
  TriggerState,
  ValidateItem,
} from "./types";

export const API = "/api/v1/main";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The detail texts of Kestra's error body: a bulk action's `invalids` (which execution and
   * why), else `_embedded.errors[].message`. */
  get details(): string[] {
    const body = this.body as ErrorBody | null;
    if (body?.invalids?.length) return invalidTexts(body.invalids);
    const errors = body?._embedded?.errors ?? [];
    return errors.map((error) => error.message ?? "").filter((text) => text && text !== this.message);
  }
}

interface ErrorBody {
  _embedded?: { errors?: { message?: string }[] };
  invalids?: { message?: string; invalidValue?: unknown }[];
}

/** How many refused executions a toast names; the rest are counted. */
const MAX_INVALIDS_SHOWN = 10;

function invalidTexts(invalids: NonNullable<ErrorBody["invalids"]>): string[] {
  const texts = invalids.slice(0, MAX_INVALIDS_SHOWN).map(({ message = "", invalidValue }) => {
    const value = String(invalidValue ?? "");
    return message.includes(value) ? message : `${value}: ${message}`;
  });
  const more = invalids.length - MAX_INVALIDS_SHOWN;
  return more > 0 ? [...texts, `… and ${more} more`] : texts;
}

type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

export interface RequestOptions {
  query?: Query;
  body?: BodyInit | null;
  json?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

const AUTH_KEY = "lanner.auth";
const authListeners = new Set<() => void>();

export function credentials(): string | null {
  return sessionStorage.getItem(AUTH_KEY);
}

export function setCredentials(user: string | null, password = ""): void {
  if (user === null) sessionStorage.removeItem(AUTH_KEY);
  else sessionStorage.setItem(AUTH_KEY, btoa(`${user}:${password}`));
}

/** Be told when the server asks for credentials (HTTP 401). */
export function onUnauthorized(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(key, String(item)));
    else params.append(key, String(value));
  }
  const search = params.toString();
  return `${path.startsWith("/api/") ? path : API + path}${search ? `?${search}` : ""}`;
}

export function authHeaders(): Record<string, string> {
  const auth = credentials();
  return auth ? { Authorization: `Basic ${auth}` } : {};
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let body: unknown = null;
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    body = JSON.parse(text);
    const reported = (body as { message?: unknown }).message;
    if (typeof reported === "string" && reported) message = reported;
  } catch {
    if (text && text.length < 500) message = `${message}: ${text}`;
  }
  if (response.status === 401) authListeners.forEach((listener) => listener());
  return new ApiError(response.status, message, body);
}

export async function fetchRaw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...authHeaders(), ...options.headers };
  let body = options.body ?? null;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["Content-Type"] = "application/json";
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), { method, headers, body, signal: options.signal });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, `The server cannot be reached (${(error as Error).message})`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await fetchRaw(method, path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!text) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json") || /^[\[{"]/.test(text.trim())) {
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as T;
    }
  }
  return text as T;
}

const enc = encodeURIComponent;

export interface FlowSearch {
  q?: string;
  namespace?: string;
  labels?: string[];
  page?: number;
  size?: number;
  sort?: string;
}

export interface ExecutionSearch {
  q?: string;
  namespace?: string;
  flowId?: string;
  state?: string[];
  timeRange?: string;
  startDate?: string;
  endDate?: string;
  labels?: string[];
  childFilter?: string;
  triggerExecutionId?: string;
  page?: number;
  size?: number;
  sort?: string;
}

export interface LogSearch {
  q?: string;
  namespace?: string;
  flowId?: string;
  minLevel?: string;
  startDate?: string;
  endDate?: string;
  page?: number;
  size?: number;
}

export interface MetricQuery {
  taskId?: string;
  aggregation: string;
  startDate?: string;
  endDate?: string;
}

export type BulkVerb = "restart" | "replay" | "kill" | "pause" | "resume" | "force-run";

/** Kestra's parameters of a bulk delete: whether unended executions go too (killed first), and
 * what goes with each execution. */
export interface DeleteOptions {
  includeNonTerminated: boolean;
  deleteLogs: boolean;
  deleteMetrics: boolean;
  deleteStorage: boolean;
}

/** The executions a bulk action goes to: listed ids (`…/by-ids`), or every execution a search
 * matches, over all its pages (`…/by-query`, `filters` as for `searchExecutions`). */
export type BulkTarget = { ids: string[] } | { filters: ExecutionSearch };

export interface BulkCount {
  count: number;
}

function queryOf(target: { filters: ExecutionSearch }): Query {
  return { ...target.filters, page: undefined, size: undefined, sort: undefined };
}

export const api = {
  configs: () => request<Record<string, unknown>>("GET", "/api/v1/configs"),

  searchFlows: (query: FlowSearch) => request<Paged<Flow>>("GET", "/flows/search", { query: { ...query } }),
  namespaces: () => request<string[]>("GET", "/flows/distinct-namespaces"),
  flow: (ns: string, id: string, revision?: number) =>
    request<Flow>("GET", `/flows/${enc(ns)}/${enc(id)}`, { query: { source: true, revision } }),
  revisions: (ns: string, id: string) => request<Flow[]>("GET", `/flows/${enc(ns)}/${enc(id)}/revisions`),
  createFlow: (yaml: string) => request<Flow>("POST", "/flows", { body: yaml, contentType: "application/x-yaml" }),
  updateFlow: (ns: string, id: string, yaml: string) =>
    request<Flow>("PUT", `/flows/${enc(ns)}/${enc(id)}`, { body: yaml, contentType: "application/x-yaml" }),
  deleteFlow: (ns: string, id: string) => request<void>("DELETE", `/flows/${enc(ns)}/${enc(id)}`),
  validateFlow: (yaml: string, signal?: AbortSignal) =>
    request<ValidateItem[]>("POST", "/flows/validate", { body: yaml, contentType: "application/x-yaml", signal }),
  pluginDoc: (type: string) => request<{ markdown?: string; schema?: unknown }>("GET", `/plugins/${enc(type)}`),
  flowSchema: () => request<Record<string, unknown>>("GET", "/plugins/schemas/flow"),
  /** `subflows`: the uids of the Subflow nodes to draw open, with the tasks of their flows. */
  flowGraph: (ns: string, id: string, revision?: number, subflows: string[] = []) =>
    request<FlowGraph>("GET", `/flows/${enc(ns)}/${enc(id)}/graph`, { query: { revision, subflows } }),
  graphOfSource: (yaml: string, signal?: AbortSignal, subflows: string[] = []) =>
    request<FlowGraph>("POST", "/flows/graph", { body: yaml, contentType: "application/x-yaml", signal, query: { subflows } }),
  dependencies: (ns: string, id: string) => request<FlowDependencies>("GET", `/flows/${enc(ns)}/${enc(id)}/dependencies`),
  flowTriggers: (ns: string, id: string) =>
    request<Paged<TriggerState>>("GET", "/triggers/search", { query: { namespace: ns, flowId: id, size: 100 } }),
  setTriggerDisabled: (trigger: TriggerState, disabled: boolean) =>
    request<TriggerState>(
      "POST",
      `/triggers/${enc(trigger.namespace)}/${enc(trigger.flowId)}/${enc(trigger.triggerId)}/${disabled ? "disable" : "enable"}`,
    ),
  setFlowsDisabled: (disabled: boolean, ids: { namespace: string; id: string }[]) =>
    request<unknown>("POST", `/flows/${disabled ? "disable" : "enable"}/by-ids`, { json: ids }),

  execute: (ns: string, id: string, form: FormData, labels: string[], scheduleDate?: string) =>
    request<Execution>("POST", `/executions/${enc(ns)}/${enc(id)}`, {
      body: form,
      query: { labels, scheduleDate },
    }),
  validateInputs: (ns: string, id: string, form: FormData, signal?: AbortSignal) =>
    request<unknown>("POST", `/executions/${enc(ns)}/${enc(id)}/validate`, { body: form, signal }),
  execution: (id: string) => request<Execution>("GET", `/executions/${enc(id)}`),
  /** The revision an execution ran, drawn with its task runs; `subflows` as for `flowGraph`. */
  executionGraph: (id: string, subflows: string[] = []) =>
    request<FlowGraph>("GET", `/executions/${enc(id)}/graph`, { query: { subflows } }),
  executionFlow: (id: string) => request<Flow>("GET", `/executions/${enc(id)}/flow`),
  searchExecutions: (query: ExecutionSearch) =>
    request<Paged<Execution>>("GET", "/executions/search", { query: { ...query } }),
  deleteExecution: (id: string) => request<void>("DELETE", `/executions/${enc(id)}`),
  restart: (id: string) => request<Execution>("POST", `/executions/${enc(id)}/restart`),
  replay: (id: string, taskRunId?: string) =>
    request<Execution>("POST", `/executions/${enc(id)}/replay`, { query: { taskRunId } }),
  kill: (id: string) => request<unknown>("DELETE", `/executions/${enc(id)}/kill`),
  pause: (id: string) => request<unknown>("POST", `/executions/${enc(id)}/pause`),
  resume: (id: string, form: FormData = new FormData()) =>
    request<unknown>("POST", `/executions/${enc(id)}/resume`, { body: form }),
  changeStatus: (id: string, status: string) =>
    request<Execution>("POST", `/executions/${enc(id)}/change-status`, { query: { status } }),
  changeTaskRunState: (id: string, taskRunId: string, state: string) =>
    request<Execution>("POST", `/executions/${enc(id)}/state`, { json: { taskRunId, state } }),
  setLabels: (id: string, labels: Label[]) =>
    request<Execution>("POST", `/executions/${enc(id)}/labels`, { json: labels }),
  /** Act on many executions at once; the answer says on how many. */
  bulk: async (verb: BulkVerb, target: BulkTarget) => {
    if ("ids" in target) {
      try {
        return await request<BulkCount>("POST", `/executions/${verb}/by-ids`, { json: target.ids });
      } catch (error) {
        // Kestra takes the bulk kill as DELETE; lanner as POST.
        if (verb === "kill" && error instanceof ApiError && error.status === 405) {
          return request<BulkCount>("DELETE", "/executions/kill/by-ids", { json: target.ids });
        }
        throw error;
      }
    }
    return request<BulkCount>("POST", `/executions/${verb}/by-query`, { query: queryOf(target) });
  },
  /** Delete many executions, with what `options` says goes with them. */
  bulkDelete: (target: BulkTarget, options: DeleteOptions) =>
    "ids" in target
      ? request<BulkCount>("DELETE", "/executions/by-ids", { json: target.ids, query: { ...options } })
      : request<BulkCount>("DELETE", "/executions/by-query", { query: { ...queryOf(target), ...options } }),
  /** Give many ended executions a terminal state (SUCCESS, FAILED...). */
  bulkChangeStatus: (target: BulkTarget, newStatus: string) =>
    "ids" in target
      ? request<BulkCount>("POST", "/executions/change-status/by-ids", { json: target.ids, query: { newStatus } })
      : request<BulkCount>("POST", "/executions/change-status/by-query", { query: { ...queryOf(target), newStatus } }),
  /** Add labels to many ended executions: a label replaces the one of its key, the others stay. */
  bulkAddLabels: (target: BulkTarget, labels: Label[]) =>
    "ids" in target
      ? request<BulkCount>("POST", "/executions/labels/by-ids", { json: { executionsId: target.ids, executionLabels: labels } })
      : request<BulkCount>("POST", "/executions/labels/by-query", { json: labels, query: queryOf(target) }),
  eval: (id: string, taskRunId: string, expression: string) =>
    request<EvalResult>("POST", `/executions/${enc(id)}/eval/${enc(taskRunId)}`, {
      body: expression,
      contentType: "text/plain",
    }),
  taskRunCurl: (id: string, taskRunId: string) =>
    request<CurlCommand>("GET", `/executions/${enc(id)}/taskruns/${enc(taskRunId)}/curl`),
  fileText: async (id: string, path: string) =>
    (await fetchRaw("GET", `/executions/${enc(id)}/file`, { query: { path } })).text(),
  filePreview: (id: string, path: string) =>
    request<FilePreview>("GET", `/executions/${enc(id)}/file/preview`, { query: { path, maxRows: 100 } }),
  fileUrl: (id: string, path: string) => buildUrl(`/executions/${enc(id)}/file`, { path }),

  metrics: (executionId: string, query: { taskId?: string; page?: number; size?: number }) =>
    request<Paged<MetricEntry>>("GET", `/metrics/${enc(executionId)}`, { query: { ...query } }),
  metricNames: (ns: string, flowId: string, taskId?: string) =>
    request<string[]>("GET", `/metrics/names/${enc(ns)}/${enc(flowId)}${taskId ? `/${enc(taskId)}` : ""}`),
  metricTasks: (ns: string, flowId: string) => request<string[]>("GET", `/metrics/tasks/${enc(ns)}/${enc(flowId)}`),
  metricAggregates: (ns: string, flowId: string, metric: string, query: MetricQuery) => {
    const task = query.taskId ? `/${enc(query.taskId)}` : "";
    return request<MetricAggregations>("GET", `/metrics/aggregates/${enc(ns)}/${enc(flowId)}${task}/${enc(metric)}`, {
      query: { aggregation: query.aggregation, startDate: query.startDate, endDate: query.endDate },
    });
  },

  logs: (executionId: string, query: { minLevel?: string; taskRunId?: string } = {}) =>
    request<LogEntry[]>("GET", `/logs/${enc(executionId)}`, { query }),
  logsDownloadUrl: (executionId: string, minLevel?: string) =>
    buildUrl(`/logs/${enc(executionId)}/download`, { minLevel }),
  searchLogs: (query: LogSearch) => request<Paged<LogEntry>>("GET", "/logs/search", { query: { ...query } }),

  nsDirectory: (ns: string, path: string) =>
    request<{ fileName: string; type: "File" | "Directory"; size: number; lastModifiedTime?: number }[]>(
      "GET",
      `/namespaces/${enc(ns)}/files/directory`,
      { query: { path } },
    ),
  nsFile: async (ns: string, path: string) =>
    (await fetchRaw("GET", `/namespaces/${enc(ns)}/files`, { query: { path } })).text(),
  nsWriteFile: (ns: string, path: string, content: Blob, fileName: string) => {
    const form = new FormData();
    form.append("fileContent", content, fileName);
    return request<void>("POST", `/namespaces/${enc(ns)}/files`, { query: { path }, body: form });
  },
  nsCreateDirectory: (ns: string, path: string) =>
    request<void>("POST", `/namespaces/${enc(ns)}/files/directory`, { query: { path } }),
  nsDelete: (ns: string, path: string) => request<void>("DELETE", `/namespaces/${enc(ns)}/files`, { query: { path } }),
  kvList: (ns: string) => request<KvEntry[]>("GET", `/namespaces/${enc(ns)}/kv`),
  kvGet: (ns: string, key: string) =>
    request<{ type: string; value: unknown }>("GET", `/namespaces/${enc(ns)}/kv/${enc(key)}`),
  kvPut: (ns: string, key: string, value: string, ttl?: string) =>
    request<unknown>("PUT", `/namespaces/${enc(ns)}/kv/${enc(key)}`, {
      body: value,
      contentType: "text/plain",
      headers: ttl ? { ttl } : {},
    }),
  kvDelete: (ns: string, key: string) => request<unknown>("DELETE", `/namespaces/${enc(ns)}/kv/${enc(key)}`),
};

/** Fetch a URL of the API (with credentials) and hand it to the browser as a download. */
export async function download(url: string, fallbackName: string): Promise<void> {
  const response = await fetchRaw("GET", url);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.download = name;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
