/** U16: the metrics an execution's task runs reported, a page at a time, filtered by task. */
import { api } from "../api";
import { Empty, ErrorBox, Spinner } from "../components/common";
import { Pager } from "../components/Pager";
import { formatDate, humanDuration } from "../format";
import { useLoad } from "../hooks";
import { setQuery, useLocation } from "../router";
import type { Execution, MetricEntry, TaskRun } from "../types";
import { taskRunLabel } from "./taskruns";

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

/** A metric's value as people read it: timers (stored in milliseconds) as durations. */
export function metricValue(type: string, value: number): string {
  return type === "timer" ? humanDuration(value) : numberFormat.format(value);
}

function positive(text: string | null, fallback: number): number {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export function ExecutionMetrics({ execution }: { execution: Execution }) {
  const { query } = useLocation();
  const taskId = query.get("metricTask") ?? "";
  const page = positive(query.get("page"), 1);
  const size = positive(query.get("size"), 25);
  const ended = execution.state.endDate ?? "";
  const metrics = useLoad(
    () => api.metrics(execution.id, { taskId: taskId || undefined, page, size }),
    [execution.id, taskId, page, size, ended, (execution.taskRunList ?? []).length],
  );
  const runs = new Map((execution.taskRunList ?? []).map((taskRun) => [taskRun.id, taskRun]));
  const taskIds = [...new Set((execution.taskRunList ?? []).map((taskRun) => taskRun.taskId))];
  return (
    <div class="metrics">
      <div class="filters">
        <label class="filter">
          <span>Task</span>
          <select value={taskId} onChange={(event) => setQuery({ metricTask: (event.target as HTMLSelectElement).value, page: undefined })}>
            <option value="">All tasks</option>
            {taskIds.map((id) => (
              <option value={id}>{id}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={metrics.error} />
      {metrics.loading && !metrics.data && <Spinner />}
      {metrics.data && metrics.data.total === 0 && (
        <Empty>{taskId ? `Task ${taskId} reported no metrics.` : "No task of this execution reported metrics."}</Empty>
      )}
      {metrics.data && metrics.data.results.length > 0 && <MetricsTable entries={metrics.data.results} runs={runs} />}
      {metrics.data && metrics.data.total > 0 && (
        <Pager
          page={page}
          size={size}
          total={metrics.data.total}
          onPage={(next) => setQuery({ page: String(next) })}
          onSize={(next) => setQuery({ size: String(next), page: undefined })}
        />
      )}
    </div>
  );
}

function MetricsTable({ entries, runs }: { entries: MetricEntry[]; runs: Map<string, TaskRun> }) {
  return (
    <div class="table-wrap">
      <table class="table compact" aria-label="Metrics">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">Tags</th>
            <th scope="col">Date</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const run = entry.taskRunId ? runs.get(entry.taskRunId) : undefined;
            return (
              <tr data-metric={entry.name}>
                <td>
                  <code>{run ? taskRunLabel(run) : entry.taskId}</code>
                </td>
                <td>
                  <code>{entry.name}</code>
                </td>
                <td>{entry.type}</td>
                <td class="metric-value" title={entry.type === "timer" ? `${entry.value} ms` : String(entry.value)}>
                  {metricValue(entry.type, entry.value)}
                </td>
                <td>
                  <span class="labels">
                    {Object.entries(entry.tags ?? {}).map(([key, value]) => (
                      <span class="label-chip">
                        {key}:{value}
                      </span>
                    ))}
                  </span>
                </td>
                <td>{formatDate(entry.timestamp)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
