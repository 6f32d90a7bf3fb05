/** The shapes of the REST API's JSON (spec: api.md, flows.md §7). */

export interface StateHistory {
  state: string;
  date: string;
}

export interface State {
  current: string;
  histories?: StateHistory[];
  duration?: string;
  startDate?: string;
  endDate?: string;
}

export interface Label {
  key: string;
  value: string;
}

export interface Attempt {
  state: State;
  logFile?: string;
}

export interface TaskRun {
  id: string;
  executionId?: string;
  namespace?: string;
  flowId?: string;
  taskId: string;
  parentTaskRunId?: string;
  value?: string;
  iteration?: number;
  attempts?: Attempt[];
  outputs?: Record<string, unknown>;
  state: State;
}

export interface Execution {
  id: string;
  namespace: string;
  flowId: string;
  flowRevision?: number;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  labels?: Label[];
  parentId?: string;
  originalId?: string;
  trigger?: { id?: string; type?: string; variables?: Record<string, unknown> };
  state: State;
  taskRunList?: TaskRun[];
  deleted?: boolean;
  metadata?: { attemptNumber?: number; originalCreatedDate?: string };
  scheduleDate?: string;
  url?: string;
}

export interface LogEntry {
  namespace?: string;
  flowId?: string;
  taskId?: string;
  executionId?: string;
  taskRunId?: string;
  attemptNumber?: number;
  triggerId?: string;
  timestamp: string;
  level: string;
  thread?: string;
  message: string;
}

export interface FlowInput {
  id: string;
  name?: string;
  type: string;
  description?: string;
  displayName?: string;
  required?: boolean;
  defaults?: unknown;
  values?: string[];
  options?: string[];
  min?: number | string;
  max?: number | string;
  validator?: string;
  itemType?: string;
  extension?: string;
  after?: string;
  before?: string;
  allowCustomValue?: boolean;
  isRadio?: boolean;
  dependsOn?: { inputs?: string[]; condition?: string };
}

export interface Trigger {
  id: string;
  type: string;
  disabled?: boolean;
  [key: string]: unknown;
}

/** A flow check: a condition on a new execution's inputs, and what happens when it is false. */
export interface FlowCheck {
  condition: string;
  message: string;
  style?: CheckStyle;
  behavior?: CheckBehavior;
}

export type CheckStyle = "ERROR" | "SUCCESS" | "WARNING" | "INFO";
export type CheckBehavior = "BLOCK_EXECUTION" | "FAIL_EXECUTION" | "CREATE_EXECUTION";

/** A check the inputs of the Execute form would fail, as `…/validate` reports it. */
export interface FailedCheck {
  message: string;
  style: CheckStyle;
  behavior: CheckBehavior;
}

export interface Flow {
  id: string;
  namespace: string;
  revision?: number;
  description?: string;
  labels?: Label[] | Record<string, string>;
  inputs?: FlowInput[];
  checks?: FlowCheck[];
  tasks?: Record<string, unknown>[];
  triggers?: Trigger[];
  disabled?: boolean;
  deleted?: boolean;
  source?: string;
  updated?: string;
}

export interface Paged<T> {
  results: T[];
  total: number;
}

export interface ValidateItem {
  index?: number;
  flow?: string;
  namespace?: string;
  constraints?: string | null;
  outdated?: boolean;
  deprecationPaths?: string[] | null;
  warnings?: string[] | null;
  infos?: string[] | null;
  /** lanner's structured form of `constraints`, with positions. */
  problems?: { path?: string | null; message: string; line?: number | null; column?: number | null }[];
}

export interface EvalResult {
  result?: string | null;
  error?: string | null;
  stackTrace?: string | null;
}

export interface FilePreview {
  extension?: string;
  type?: string;
  content?: unknown;
  truncated?: boolean;
}

export interface KvEntry {
  key: string;
  creationDate?: string;
  updateDate?: string;
  expirationDate?: string;
}

/** A node of a flow's topology (`GET /flows/{ns}/{id}/graph`). */
export interface GraphNode {
  uid: string;
  type: string;
  task?: { id: string; type: string; [key: string]: unknown };
  /** In an execution's graph: the task run the node draws (one node per loop iteration). */
  taskRun?: { id: string; state?: { current?: string } };
  triggerDeclaration?: { id: string; type: string; [key: string]: unknown };
  relationType?: string;
  branchType?: string;
}

export interface GraphEdge {
  source: string;
  target: string;
  relation?: { relationType?: string; value?: string };
}

export interface GraphCluster {
  cluster: { uid: string; type: string; relationType?: string; taskNode?: GraphNode; branchType?: string };
  nodes: string[];
  parents?: string[];
  start?: string;
  end?: string;
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  clusters: GraphCluster[];
}

/** Kestra's flow dependency graph (`GET /flows/{ns}/{id}/dependencies`). */
export interface FlowDependencies {
  nodes: { uid: string; namespace: string; id: string; tenantId?: string }[];
  edges: { source: string; target: string; relation: "FLOW_TASK" | "FLOW_TRIGGER" }[];
}

/** A trigger with its state (`GET /triggers/search`). */
export interface TriggerState {
  namespace: string;
  flowId: string;
  triggerId: string;
  type?: string;
  disabled?: boolean;
  date?: string;
  nextExecutionDate?: string;
  executionId?: string;
  updatedDate?: string;
  abstractTrigger?: Record<string, unknown>;
}

/** A metric value a task run reported (`GET /metrics/{executionId}`); timers in milliseconds. */
export interface MetricEntry {
  namespace?: string;
  flowId?: string;
  taskId?: string;
  executionId?: string;
  taskRunId?: string;
  type: string;
  name: string;
  value: number;
  timestamp?: string;
  tags?: Record<string, string>;
}

/** A metric aggregated per time bucket (`GET /metrics/aggregates/...`). */
export interface MetricAggregations {
  groupBy: string;
  aggregations: { name: string; value: number; date: string }[];
}

/** The cURL command of a Request task run and the URI of its HAR file. */
export interface CurlCommand {
  command: string;
  har: string;
}
