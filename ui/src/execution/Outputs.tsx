/** U14: the outputs as columns (task → loop value → attribute → nested keys), with Debug Outputs. */
import { useMemo, useState } from "preact/hooks";
import { Empty } from "../components/common";
import { useLocation } from "../router";
import type { Execution, TaskRun } from "../types";
import { DebugOutputs } from "./DebugOutputs";
import { harOf, HttpExchange } from "./HttpExchange";
import { extendPath, orderedTaskRuns, outputsExpression } from "./taskruns";
import { shortPreview, ValueView } from "./values";

type Key = string | number;

function childrenOf(value: unknown): [Key, unknown][] {
  if (Array.isArray(value)) return value.map((item, index) => [index, item]);
  if (value && typeof value === "object") return Object.entries(value as Record<string, unknown>);
  return [];
}

function isContainer(value: unknown): boolean {
  return !!value && typeof value === "object";
}

function Column({ label, items, selected, onSelect }: {
  label: string;
  items: { key: string; text: string; preview?: string; container?: boolean }[];
  selected: string | null;
  onSelect: (key: string) => void;
}) {
  return (
    <div class="outputs-column" role="listbox" aria-label={label} tabIndex={-1}>
      <div class="outputs-column-title">{label}</div>
      {items.map((item) => (
        <button
          type="button"
          role="option"
          aria-selected={selected === item.key}
          class={`outputs-item${selected === item.key ? " selected" : ""}`}
          onClick={() => onSelect(item.key)}
          data-key={item.key}
        >
          <span class="outputs-key">{item.text}</span>
          {item.preview !== undefined && <span class="outputs-preview">{item.preview}</span>}
          {item.container && <span aria-hidden="true">›</span>}
        </button>
      ))}
    </div>
  );
}

export function Outputs({ execution }: { execution: Execution }) {
  const location = useLocation();
  const runs = useMemo(() => orderedTaskRuns(execution).map(({ taskRun }) => taskRun), [execution]);
  const withOutputs = runs.filter((taskRun) => taskRun.outputs && Object.keys(taskRun.outputs).length);
  const preselected = runs.find((taskRun) => taskRun.id === location.query.get("taskRunId"));
  const [taskId, setTaskId] = useState<string | null>(preselected?.taskId ?? null);
  const [runId, setRunId] = useState<string | null>(preselected?.id ?? null);
  const [path, setPath] = useState<Key[]>([]);

  const taskIds = [...new Set(withOutputs.map((taskRun) => taskRun.taskId))];
  const runsOfTask = withOutputs.filter((taskRun) => taskRun.taskId === taskId);
  const loop = runsOfTask.length > 1 || runsOfTask.some((taskRun) => taskRun.value !== undefined && taskRun.value !== null);
  const run: TaskRun | undefined = runsOfTask.find((taskRun) => taskRun.id === runId) ?? (loop ? undefined : runsOfTask[0]);
  const taskRunForDebug = run ?? runs.find((taskRun) => taskRun.taskId === taskId);

  const values: unknown[] = [run?.outputs];
  for (const key of path) values.push(childrenOf(values[values.length - 1]).find(([k]) => k === key)?.[1]);
  const leaf = values[values.length - 1];

  let expression = taskId ? outputsExpression(taskId) : "";
  if (taskId && run && loop && run.value !== undefined) expression = `${expression}[${JSON.stringify(String(run.value))}]`;
  for (const key of path) expression = extendPath(expression, key);

  const selectTask = (id: string) => {
    setTaskId(id);
    const own = withOutputs.filter((taskRun) => taskRun.taskId === id);
    setRunId(own.length === 1 ? own[0].id : null);
    setPath([]);
  };

  if (!withOutputs.length) {
    return <Empty>{runs.length ? "No task produced outputs." : "No task has run yet."}</Empty>;
  }

  const columns = [
    <Column
      label="Task"
      items={taskIds.map((id) => ({ key: id, text: id, container: true }))}
      selected={taskId}
      onSelect={selectTask}
    />,
  ];
  if (taskId && loop) {
    columns.push(
      <Column
        label="Value"
        items={runsOfTask.map((taskRun) => ({ key: taskRun.id, text: String(taskRun.value ?? taskRun.id), container: true }))}
        selected={runId}
        onSelect={(id) => {
          setRunId(id);
          setPath([]);
        }}
      />,
    );
  }
  if (run) {
    values.forEach((value, depth) => {
      if (!isContainer(value)) return;
      columns.push(
        <Column
          label={depth === 0 ? "Output" : String(path[depth - 1])}
          items={childrenOf(value).map(([key, child]) => ({
            key: String(key),
            text: String(key),
            preview: isContainer(child) ? shortPreview(child) : shortPreview(child),
            container: isContainer(child),
          }))}
          selected={path[depth] !== undefined ? String(path[depth]) : null}
          onSelect={(key) => {
            const parsed: Key = Array.isArray(value) ? Number(key) : key;
            setPath([...path.slice(0, depth), parsed]);
          }}
        />,
      );
    });
  }

  return (
    <div class="outputs-layout">
      <div class="outputs-browser">
        <div class="outputs-columns">{columns}</div>
        {run && path.length > 0 && (
          <div class="outputs-value" aria-label="Selected value">
            <div class="outputs-column-title">
              <code>{`{{ ${expression} }}`}</code>
            </div>
            <ValueView value={leaf} executionId={execution.id} />
          </div>
        )}
        {run && harOf(run) && <HttpExchange executionId={execution.id} taskRun={run} har={harOf(run)!} />}
      </div>
      {taskId && taskRunForDebug && (
        <DebugOutputs key={`${taskRunForDebug.id}|${expression}`} executionId={execution.id} taskRun={taskRunForDebug} initial={`{{ ${expression} }}`} />
      )}
    </div>
  );
}
