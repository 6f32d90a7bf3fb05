/** U11: one bar per task run, attempts as segments, coloured by state; a bar opens its logs. */
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorBox, Spinner, StateBadge } from "../components/common";
import { notify, notifyError } from "../components/notify";
import { durationOf, formatTime, humanDuration } from "../format";
import { useLoad } from "../hooks";
import { navigate } from "../router";
import { isTerminated, stateTone } from "../states";
import type { Execution, State, TaskRun } from "../types";
import { executionHref } from "../pages/ExecutionsList";
import { isRequestType } from "./har";
import { ExchangeToggle } from "./HttpExchange";
import { StatusModal, TASK_RUN_STATES } from "./StatusModal";
import { failedWithoutOutputs, orderedTaskRuns, taskRunLabel, taskTypes } from "./taskruns";

function startOf(state: State): number | null {
  const text = state.startDate ?? state.histories?.[0]?.date;
  const time = text ? Date.parse(text) : NaN;
  return Number.isNaN(time) ? null : time;
}

function endOf(state: State, now: number): number {
  if (state.endDate) return Date.parse(state.endDate);
  if (isTerminated(state.current)) {
    const last = state.histories?.[state.histories.length - 1]?.date;
    if (last) return Date.parse(last);
  }
  return now;
}

export function Gantt({ execution, onChanged }: { execution: Execution; onChanged: () => void }) {
  const rows = orderedTaskRuns(execution);
  const now = Date.now();
  const start = startOf(execution.state) ?? now;
  const end = Math.max(endOf(execution.state, now), start + 1);
  const span = end - start;
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [changing, setChanging] = useState<TaskRun | null>(null);
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
  };
  // Task types only matter for failed task runs, whose outputs cannot tell a Request task.
  const needsTypes = rows.some(({ taskRun }) => failedWithoutOutputs(taskRun));
  const flow = useLoad(() => (needsTypes ? api.executionFlow(execution.id) : Promise.resolve(null)), [execution.id, needsTypes]);
  const types = taskTypes(flow.data);
  const pct = (time: number) => `${Math.min(100, Math.max(0, ((time - start) / span) * 100))}%`;
  if (!rows.length) return <div class="empty">No task has run yet.</div>;
  return (
    <div class="gantt" role="table" aria-label="Gantt of task runs">
      <div class="gantt-row gantt-head" role="row">
        <div class="gantt-label" role="columnheader">
          Task
        </div>
        <div class="gantt-track gantt-axis" role="columnheader" aria-label="Timeline">
          {[0, 0.25, 0.5, 0.75, 1].map((fraction) => (
            <span class="gantt-tick" style={{ left: `${fraction * 100}%` }}>
              {humanDuration(span * fraction)}
            </span>
          ))}
        </div>
      </div>
      {rows.map(({ taskRun, depth }) => {
        const runStart = startOf(taskRun.state) ?? start;
        const runEnd = Math.max(endOf(taskRun.state, now), runStart);
        const attempts = taskRun.attempts ?? [];
        const expanded = open.has(taskRun.id);
        return (
          <div class="gantt-group" key={taskRun.id}>
            <div class="gantt-row" role="row" data-taskrun={taskRun.id}>
              <div class="gantt-label" role="cell" style={{ paddingLeft: `${0.5 + depth * 1.1}rem` }}>
                <button type="button" class="link-button" aria-expanded={expanded} onClick={() => toggle(taskRun.id)}>
                  <span aria-hidden="true">{expanded ? "▾" : "▸"}</span> {taskRunLabel(taskRun)}
                </button>
                <StateBadge state={taskRun.state.current} />
              </div>
              <div class="gantt-track" role="cell">
                <button
                  type="button"
                  class={`gantt-bar state-${stateTone(taskRun.state.current)}`}
                  style={{ left: pct(runStart), width: `max(3px, calc(${pct(runEnd)} - ${pct(runStart)}))` }}
                  title={`${taskRunLabel(taskRun)}: ${taskRun.state.current}, ${humanDuration(durationOf(taskRun.state))}`}
                  aria-label={`${taskRunLabel(taskRun)} ${taskRun.state.current} ${humanDuration(durationOf(taskRun.state))}; show logs`}
                  onClick={() => toggle(taskRun.id)}
                >
                  {attempts.length > 1 &&
                    attempts.map((attempt, index) => {
                      const from = startOf(attempt.state) ?? runStart;
                      const to = endOf(attempt.state, now);
                      const total = Math.max(runEnd - runStart, 1);
                      return (
                        <span
                          class={`gantt-attempt state-${stateTone(attempt.state.current)}`}
                          style={{ left: `${((from - runStart) / total) * 100}%`, width: `${Math.max(((to - from) / total) * 100, 1)}%` }}
                          title={`Attempt ${index + 1}: ${attempt.state.current}`}
                        />
                      );
                    })}
                </button>
                <span class="gantt-duration" style={{ left: `calc(${pct(runEnd)} + 4px)` }}>
                  {humanDuration(durationOf(taskRun.state))}
                </span>
              </div>
            </div>
            {expanded && (
              <div class="gantt-details">
                <div class="row-actions">
                  <button
                    type="button"
                    class="button small"
                    disabled={!isTerminated(execution.state.current)}
                    onClick={async () => {
                      try {
                        const replayed = await api.replay(execution.id, taskRun.id);
                        navigate(executionHref(replayed));
                      } catch (error) {
                        notifyError(error);
                      }
                    }}
                  >
                    Replay from this task
                  </button>
                  <button type="button" class="button small" disabled={!isTerminated(execution.state.current)} onClick={() => setChanging(taskRun)}>
                    Change state
                  </button>
                  <a class="button small" href={executionHref(execution, "outputs") + `?taskRunId=${encodeURIComponent(taskRun.id)}`}>
                    Outputs
                  </a>
                  <span class="muted">
                    {attempts.length} attempt{attempts.length === 1 ? "" : "s"} · id <code>{taskRun.id}</code>
                  </span>
                </div>
                <div class="exchange-toggle">
                  <ExchangeToggle executionId={execution.id} taskRun={taskRun} isRequest={isRequestType(types.get(taskRun.taskId))} />
                </div>
                <InlineLogs executionId={execution.id} taskRunId={taskRun.id} running={!isTerminated(taskRun.state.current)} />
              </div>
            )}
          </div>
        );
      })}
      {changing && (
        <StatusModal
          title={`Change the state of ${changing.taskId}`}
          states={TASK_RUN_STATES}
          current={changing.state.current}
          onClose={() => setChanging(null)}
          onSubmit={async (state) => {
            try {
              await api.changeTaskRunState(execution.id, changing.id, state);
              notify("success", `${changing.taskId} set to ${state}`);
              onChanged();
            } catch (error) {
              notifyError(error);
            }
          }}
        />
      )}
    </div>
  );
}

function InlineLogs({ executionId, taskRunId, running }: { executionId: string; taskRunId: string; running: boolean }) {
  const logs = useLoad(() => api.logs(executionId, { taskRunId }), [executionId, taskRunId, running]);
  if (logs.error) return <ErrorBox error={logs.error} />;
  if (!logs.data) return <Spinner />;
  if (!logs.data.length) return <div class="muted">No logs.</div>;
  return (
    <div class="inline-logs">
      {logs.data.map((entry) => (
        <div class={`log-line level-${entry.level}`}>
          <span class="log-time">{formatTime(entry.timestamp)}</span>
          <span class={`log-level level-${entry.level}`}>{entry.level}</span>
          <span class="log-message">{entry.message}</span>
        </div>
      ))}
    </div>
  );
}
