/** U10–U15: an execution's page, live until it ends, with its tabs. */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { ErrorBox, Spinner, StateBadge, TabBar } from "../components/common";
import { ConfirmModal } from "../components/Modal";
import { notify, notifyError } from "../components/notify";
import { Topology, useSubflowToggle } from "../components/Topology";
import { durationOf, humanDuration } from "../format";
import { useInterval, useLoad, useThrottled } from "../hooks";
import { executionHref } from "../pages/ExecutionsList";
import { href, navigate } from "../router";
import { isKillable, isRestartable, isTerminated } from "../states";
import type { Execution, TaskRun } from "../types";
import { Gantt } from "./Gantt";
import { useLiveExecution, useLiveLogs } from "./live";
import { LogsView } from "./LogsView";
import { ExecutionMetrics } from "./Metrics";
import { Outputs } from "./Outputs";
import { ResumeModal } from "./ResumeModal";
import { ExecutionOverview } from "./Overview";
import { EXECUTION_STATES, StatusModal, TASK_RUN_STATES } from "./StatusModal";
import { statesByTask } from "./taskruns";

const TABS = [
  { id: "overview", label: "Overview" },
  { id: "gantt", label: "Gantt" },
  { id: "logs", label: "Logs" },
  { id: "topology", label: "Topology" },
  { id: "outputs", label: "Outputs" },
  { id: "metrics", label: "Metrics" },
];

export function ExecutionPage({ namespace, flowId, id, tab }: { namespace: string; flowId: string; id: string; tab: string }) {
  const live = useLiveExecution(id);
  const execution = live.execution;
  const terminated = execution ? isTerminated(execution.state.current) : null;
  const [restarts, setRestarts] = useState(0);
  const logs = useLiveLogs(id, terminated, restarts);
  const [, setNow] = useState(0);
  useInterval(() => setNow(Date.now()), 1000, terminated === false);
  const base = `/executions/${encodeURIComponent(namespace)}/${encodeURIComponent(flowId)}/${id}`;

  useEffect(() => {
    document.title = `${flowId} ${id.slice(0, 8)} · lanner`;
    return () => {
      document.title = "lanner";
    };
  }, [id]);

  const afterAction = (result?: Execution | unknown) => {
    const next = result as Execution | undefined;
    if (next && next.id && next.id !== id) navigate(executionHref(next));
    else {
      live.refresh();
      setRestarts((value) => value + 1);
    }
  };

  return (
    <section class="page page-wide">
      <header class="page-header">
        <div>
          <div class="breadcrumb">
            <a href={href("/executions")}>Executions</a> / <a href={href("/flows", { namespace })}>{namespace}</a> /{" "}
            <a href={href(`/flows/edit/${encodeURIComponent(namespace)}/${encodeURIComponent(flowId)}/overview`)}>{flowId}</a>
          </div>
          <h1 class="execution-title">
            <span class="mono">{id}</span> {execution && <StateBadge state={execution.state.current} />}
            {execution && <span class="muted duration">{humanDuration(durationOf(execution.state))}</span>}
          </h1>
        </div>
        {execution && <ExecutionActions execution={execution} onDone={afterAction} />}
      </header>
      <TabBar tabs={TABS} active={tab} base={base} label="Execution" />
      <ErrorBox error={live.error} />
      {!execution && !live.error && <Spinner />}
      {execution && tab === "overview" && <ExecutionOverview execution={execution} />}
      {execution && tab === "gantt" && <Gantt execution={execution} onChanged={afterAction} />}
      {execution && tab === "logs" && <LogsView execution={execution} live={logs} />}
      {execution && tab === "topology" && <ExecutionTopology execution={execution} base={base} />}
      {execution && tab === "outputs" && <Outputs execution={execution} />}
      {execution && tab === "metrics" && <ExecutionMetrics execution={execution} />}
    </section>
  );
}

function ExecutionActions({ execution, onDone }: { execution: Execution; onDone: (result?: unknown) => void }) {
  const state = execution.state.current;
  const [confirm, setConfirm] = useState<"kill" | "delete" | null>(null);
  const [changing, setChanging] = useState(false);
  const [resuming, setResuming] = useState(false);
  const run = async (label: string, action: () => Promise<unknown>) => {
    try {
      const result = await action();
      notify("success", label);
      onDone(result);
    } catch (error) {
      notifyError(error);
    }
  };
  return (
    <div class="actions" role="toolbar" aria-label="Execution actions">
      <button type="button" class="button" disabled={!isRestartable(state)} onClick={() => run("Restarted", () => api.restart(execution.id))}>
        Restart
      </button>
      <button type="button" class="button" disabled={!isTerminated(state)} onClick={() => run("Replayed as a new execution", () => api.replay(execution.id))}>
        Replay
      </button>
      {state === "PAUSED" ? (
        <button type="button" class="button" onClick={() => setResuming(true)} data-action="resume">
          Resume
        </button>
      ) : (
        <button type="button" class="button" disabled={state !== "RUNNING"} onClick={() => run("Paused", () => api.pause(execution.id))}>
          Pause
        </button>
      )}
      <button type="button" class="button danger" disabled={!isKillable(state)} onClick={() => setConfirm("kill")}>
        Kill
      </button>
      <button type="button" class="button" disabled={!isTerminated(state)} onClick={() => setChanging(true)}>
        Change status
      </button>
      <button type="button" class="button danger" onClick={() => setConfirm("delete")}>
        Delete
      </button>
      {confirm === "kill" && (
        <ConfirmModal title="Kill the execution" message="Kill this execution and its running tasks?" confirmLabel="Kill" danger onClose={() => setConfirm(null)} onConfirm={() => run("Kill requested", () => api.kill(execution.id))} />
      )}
      {confirm === "delete" && (
        <ConfirmModal
          title="Delete the execution"
          message="Delete this execution?"
          confirmLabel="Delete"
          danger
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            try {
              await api.deleteExecution(execution.id);
              notify("success", "Deleted");
              navigate(href("/executions"));
            } catch (error) {
              notifyError(error);
            }
          }}
        />
      )}
      {resuming && (
        <ResumeModal
          execution={execution}
          onClose={() => setResuming(false)}
          onDone={(result) => {
            notify("success", "Resumed");
            onDone(result);
          }}
        />
      )}
      {changing && (
        <StatusModal
          title="Change the execution's status"
          states={EXECUTION_STATES}
          current={state}
          onClose={() => setChanging(false)}
          onSubmit={(status) => run(`Status changed to ${status}`, () => api.changeStatus(execution.id, status))}
        />
      )}
    </div>
  );
}

function ExecutionTopology({ execution, base }: { execution: Execution; base: string }) {
  const subflows = useSubflowToggle();
  const taskRuns = execution.taskRunList ?? [];
  // The revision that ran, one node per task run: drawn again when task runs are added (a
  // loop's next iteration), at most once a second; their states follow the live execution.
  const runCount = useThrottled(taskRuns.length, 1000);
  const graph = useLoad(() => api.executionGraph(execution.id, subflows.open), [execution.id, runCount, subflows.open.join(" ")]);
  const runStates = Object.fromEntries(taskRuns.map((taskRun) => [taskRun.id, taskRun.state.current]));
  const states = statesByTask(execution);
  const [selected, setSelected] = useState<string | null>(null);
  const runs = taskRuns.filter((taskRun) => taskRun.taskId === selected);
  return (
    <div class="execution-topology">
      <ErrorBox error={graph.error} />
      {graph.loading && !graph.data && <Spinner />}
      {graph.data && (
        <Topology graph={graph.data} states={states} runStates={runStates} onSelect={setSelected} selected={selected} subflows={subflows} label="Execution topology" />
      )}
      {selected && (
        <TaskRunPanel execution={execution} taskId={selected} runs={runs} base={base} onClose={() => setSelected(null)} />
      )}
    </div>
  );
}

function TaskRunPanel({ execution, taskId, runs, base, onClose }: {
  execution: Execution;
  taskId: string;
  runs: TaskRun[];
  base: string;
  onClose: () => void;
}) {
  const [changing, setChanging] = useState<TaskRun | null>(null);
  return (
    <div class="node-panel" role="region" aria-label={`Task ${taskId}`}>
      <div class="section-header">
        <h3>{taskId}</h3>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {runs.length === 0 && <p class="muted">This task has not run.</p>}
      {runs.map((taskRun) => (
        <div class="node-run">
          <StateBadge state={taskRun.state.current} /> {taskRun.value !== undefined && <code>{String(taskRun.value)}</code>}{" "}
          <span class="muted">{humanDuration(durationOf(taskRun.state))}</span>
          <div class="row-actions">
            <a class="button small" href={href(`${base}/logs`, { taskRunId: taskRun.id })}>
              Logs
            </a>
            <a class="button small" href={href(`${base}/outputs`, { taskRunId: taskRun.id })}>
              Outputs
            </a>
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
              Replay from here
            </button>
            <button type="button" class="button small" disabled={!isTerminated(execution.state.current)} onClick={() => setChanging(taskRun)}>
              Change state
            </button>
          </div>
        </div>
      ))}
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
            } catch (error) {
              notifyError(error);
            }
          }}
        />
      )}
    </div>
  );
}
