/** Task-run helpers: nesting depth, display names, order, state per task. */
import type { Execution, TaskRun } from "../types";

export function depthOf(taskRun: TaskRun, byId: Map<string, TaskRun>): number {
  let depth = 0;
  let current = taskRun.parentTaskRunId ? byId.get(taskRun.parentTaskRunId) : undefined;
  while (current && depth < 50) {
    depth++;
    current = current.parentTaskRunId ? byId.get(current.parentTaskRunId) : undefined;
  }
  return depth;
}

export function taskRunLabel(taskRun: TaskRun): string {
  return taskRun.value !== undefined && taskRun.value !== null ? `${taskRun.taskId} [${taskRun.value}]` : taskRun.taskId;
}

/** Task runs ordered as a tree: each parent followed by its children. */
export function orderedTaskRuns(execution: Execution | null): { taskRun: TaskRun; depth: number }[] {
  const list = execution?.taskRunList ?? [];
  const byId = new Map(list.map((taskRun) => [taskRun.id, taskRun]));
  const children = new Map<string | undefined, TaskRun[]>();
  for (const taskRun of list) {
    const parent = taskRun.parentTaskRunId && byId.has(taskRun.parentTaskRunId) ? taskRun.parentTaskRunId : undefined;
    const siblings = children.get(parent) ?? [];
    siblings.push(taskRun);
    children.set(parent, siblings);
  }
  const out: { taskRun: TaskRun; depth: number }[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const taskRun of children.get(parent) ?? []) {
      out.push({ taskRun, depth });
      walk(taskRun.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

const SEVERITY: Record<string, number> = { FAILED: 6, KILLED: 5, WARNING: 4, RUNNING: 3, KILLING: 3, PAUSED: 2, CREATED: 1, SUCCESS: 0, SKIPPED: -1 };

/** One state per task id (the worst over its loop iterations), for colouring the topology. */
export function statesByTask(execution: Execution | null): Record<string, string> {
  const states: Record<string, string> = {};
  for (const taskRun of execution?.taskRunList ?? []) {
    const state = taskRun.state.current;
    const old = states[taskRun.taskId];
    if (!old || (SEVERITY[state] ?? 0) > (SEVERITY[old] ?? 0)) states[taskRun.taskId] = state;
  }
  return states;
}

/** The expression that addresses a task's outputs: `outputs.id`, or `outputs["my-task"]`. */
export function outputsExpression(taskId: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(taskId) ? `outputs.${taskId}` : `outputs["${taskId}"]`;
}

/** Extend an expression with a key or index: `.key`, `["odd-key"]`, `[0]`. */
export function extendPath(expression: string, key: string | number): string {
  if (typeof key === "number") return `${expression}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${expression}.${key}` : `${expression}[${JSON.stringify(key)}]`;
}

/** The type of every task of a flow, by id, nested tasks included (then/else, errors, ...). */
export function taskTypes(flow: unknown): Map<string, string> {
  const types = new Map<string, string>();
  const walk = (value: unknown, depth: number) => {
    if (depth > 40 || !value || typeof value !== "object") return;
    if (Array.isArray(value)) {
      value.forEach((item) => walk(item, depth + 1));
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.id === "string" && typeof record.type === "string" && depth > 0) types.set(record.id, record.type);
    for (const [key, child] of Object.entries(record)) if (key !== "triggers") walk(child, depth + 1);
  };
  walk(flow, 0);
  return types;
}

/** A task run that ended without outputs because it failed (its files may still exist). */
export function failedWithoutOutputs(taskRun: TaskRun): boolean {
  return !taskRun.outputs && ["FAILED", "KILLED", "WARNING"].includes(taskRun.state.current);
}
