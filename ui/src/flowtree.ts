/** The task tree of a flow (from its JSON or parsed YAML): what the topology and the docs walk. */

export interface TaskNode {
  id: string;
  type: string;
  groups: TaskGroup[];
  /** How the children of `tasks` run: one after another, or side by side. */
  parallel: boolean;
}

export interface TaskGroup {
  name: string;
  tasks: TaskNode[];
}

export interface FlowTree {
  tasks: TaskNode[];
  errors: TaskNode[];
  finally: TaskNode[];
  afterExecution: TaskNode[];
  triggers: { id: string; type: string }[];
}

function isTask(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value) && "id" in value && "type" in value;
}

function taskList(value: unknown): TaskNode[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isTask).map(taskNode);
}

const PARALLEL = /(^|\.)(Parallel|EachParallel|Dag)$/;

function taskNode(task: Record<string, unknown>): TaskNode {
  const type = String(task.type ?? "");
  const groups: TaskGroup[] = [];
  for (const [key, value] of Object.entries(task)) {
    if (Array.isArray(value) && value.some(isTask)) {
      groups.push({ name: key, tasks: taskList(value) });
    } else if (key === "tasks" && Array.isArray(value)) {
      // Dag: [{task: {...}, dependsOn: [...]}]
      const inner = value.map((item) => (item && typeof item === "object" ? (item as { task?: unknown }).task : null));
      if (inner.some(isTask)) groups.push({ name: key, tasks: taskList(inner) });
    } else if (value && typeof value === "object" && !Array.isArray(value) && key !== "retry") {
      for (const [caseKey, caseValue] of Object.entries(value as Record<string, unknown>)) {
        if (Array.isArray(caseValue) && caseValue.some(isTask)) {
          groups.push({ name: `${key}.${caseKey}`, tasks: taskList(caseValue) });
        }
      }
    }
  }
  return { id: String(task.id), type, groups, parallel: PARALLEL.test(type) };
}

export function flowTree(flow: Record<string, unknown> | null | undefined): FlowTree {
  const triggers = Array.isArray(flow?.triggers)
    ? (flow!.triggers as unknown[]).filter(isTask).map((t) => ({ id: String(t.id), type: String(t.type) }))
    : [];
  return {
    tasks: taskList(flow?.tasks),
    errors: taskList(flow?.errors),
    finally: taskList(flow?.finally),
    afterExecution: taskList(flow?.afterExecution),
    triggers,
  };
}

export function allTaskIds(tree: FlowTree): string[] {
  const ids: string[] = [];
  const walk = (nodes: TaskNode[]) =>
    nodes.forEach((node) => {
      ids.push(node.id);
      node.groups.forEach((group) => walk(group.tasks));
    });
  walk(tree.tasks);
  walk(tree.errors);
  walk(tree.finally);
  walk(tree.afterExecution);
  return ids;
}

export function shortType(type: string): string {
  const parts = type.split(".");
  return parts[parts.length - 1] ?? type;
}
