/**
 * U12: the logs of an execution grouped by task run, filtered by level and text, followed live,
 * and virtualised: only the rows in view are in the DOM, so 100,000 lines scroll smoothly.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, download } from "../api";
import { ErrorBox, StateBadge } from "../components/common";
import { notify, notifyError } from "../components/notify";
import { copyText, formatTime, pluralize } from "../format";
import { setQuery, useLocation } from "../router";
import { isTerminated, LEVELS, levelRank } from "../states";
import type { Execution, LogEntry, TaskRun } from "../types";
import type { LiveLogs } from "./live";
import { orderedTaskRuns, taskRunLabel } from "./taskruns";

const ROW = 22;
const OVERSCAN = 20;

type Row =
  | { kind: "group"; key: string; label: string; state?: string; count: number; collapsed: boolean }
  | { kind: "line"; entry: LogEntry; text: string; first: boolean; index: number };

interface Group {
  key: string;
  taskRun?: TaskRun;
  attempt?: number;
  entries: { entry: LogEntry; index: number }[];
}

function groupKey(entry: LogEntry): string {
  return entry.taskRunId ? `${entry.taskRunId}#${entry.attemptNumber ?? 0}` : "execution";
}

export function buildRows(
  logs: LogEntry[],
  execution: Execution,
  minLevel: string,
  text: string,
  collapsed: Set<string>,
  taskRunId: string | null,
): Row[] {
  const min = levelRank(minLevel);
  const needle = text.trim().toLowerCase();
  const groups = new Map<string, Group>();
  const order = orderedTaskRuns(execution);
  const byId = new Map(order.map(({ taskRun }) => [taskRun.id, taskRun]));
  for (let index = 0; index < logs.length; index++) {
    const entry = logs[index];
    if (levelRank(entry.level) < min) continue;
    if (taskRunId && entry.taskRunId !== taskRunId) continue;
    if (needle && !entry.message.toLowerCase().includes(needle)) continue;
    const key = groupKey(entry);
    let group = groups.get(key);
    if (!group) {
      group = { key, taskRun: entry.taskRunId ? byId.get(entry.taskRunId) : undefined, attempt: entry.attemptNumber, entries: [] };
      groups.set(key, group);
    }
    group.entries.push({ entry, index });
  }
  const position = new Map(order.map(({ taskRun }, i) => [taskRun.id, i]));
  const sorted = [...groups.values()].sort((a, b) => {
    const pa = a.taskRun ? (position.get(a.taskRun.id) ?? 1e9) : -1;
    const pb = b.taskRun ? (position.get(b.taskRun.id) ?? 1e9) : -1;
    return pa - pb || (a.attempt ?? 0) - (b.attempt ?? 0) || a.entries[0].index - b.entries[0].index;
  });
  const rows: Row[] = [];
  for (const group of sorted) {
    const sample = group.entries[0].entry;
    const attempts = group.taskRun?.attempts?.length ?? 1;
    const base = group.taskRun ? taskRunLabel(group.taskRun) : (sample.taskId ?? (sample.triggerId ? `trigger ${sample.triggerId}` : "execution"));
    const label = attempts > 1 && group.attempt !== undefined ? `${base} · attempt ${Math.max(1, group.attempt)}` : base;
    const isCollapsed = collapsed.has(group.key);
    rows.push({ kind: "group", key: group.key, label, state: group.taskRun?.state.current, count: group.entries.length, collapsed: isCollapsed });
    if (isCollapsed) continue;
    for (const { entry, index } of group.entries) {
      const lines = entry.message.split(/\r?\n/);
      lines.forEach((line, i) => rows.push({ kind: "line", entry, text: line, first: i === 0, index }));
    }
  }
  return rows;
}

export function LogsView({ execution, live }: { execution: Execution; live: LiveLogs }) {
  const location = useLocation();
  const taskRunId = location.query.get("taskRunId");
  const [minLevel, setMinLevel] = useState(localStorage.getItem("lanner.logLevel") ?? "INFO");
  const [text, setText] = useState("");
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [follow, setFollow] = useState(true);
  const [jumpLevel, setJumpLevel] = useState("ERROR");
  const [highlight, setHighlight] = useState<number | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const scroller = useRef<HTMLDivElement>(null);
  const running = !isTerminated(execution.state.current);

  const counts = useMemo(() => {
    const result: Record<string, number> = {};
    for (const entry of live.logs) result[entry.level] = (result[entry.level] ?? 0) + 1;
    return result;
  }, [live.version, live.logs]);

  const rows = useMemo(
    () => buildRows(live.logs, execution, minLevel, text, collapsed, taskRunId),
    [live.version, live.logs, execution, minLevel, text, collapsed, taskRunId],
  );

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && follow && running) element.scrollTop = element.scrollHeight;
  }, [rows.length, follow, running]);

  useEffect(() => {
    if (highlight === null) return;
    const timer = setTimeout(() => setHighlight(null), 1500);
    return () => clearTimeout(timer);
  }, [highlight]);

  const onScroll = () => {
    const element = scroller.current!;
    setScrollTop(element.scrollTop);
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < ROW * 2;
    if (running && follow !== atBottom) setFollow(atBottom);
  };

  const jump = (direction: 1 | -1) => {
    const element = scroller.current!;
    const current = Math.floor(element.scrollTop / ROW) + (highlight !== null ? 0 : direction === 1 ? -1 : 1);
    const from = highlight ?? current;
    for (let i = from + direction; i >= 0 && i < rows.length; i += direction) {
      const row = rows[i];
      if (row.kind === "line" && row.first && row.entry.level === jumpLevel) {
        setFollow(false);
        element.scrollTop = Math.max(0, i * ROW - element.clientHeight / 3);
        setHighlight(i);
        return;
      }
    }
    notify("info", `No ${direction === 1 ? "next" : "previous"} ${jumpLevel} line`);
  };

  const toggleGroup = (key: string) => {
    const next = new Set(collapsed);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setCollapsed(next);
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const visible = rows.slice(first, last);
  const groupKeys = rows.filter((row) => row.kind === "group").map((row) => (row as { key: string }).key);
  const shown = rows.filter((row) => row.kind === "line" && row.first).length;

  return (
    <div class="logs-view">
      <div class="toolbar logs-toolbar" role="toolbar" aria-label="Log controls">
        <label class="filter">
          <span>Level</span>
          <select value={minLevel} onChange={(event) => setMinLevel((event.target as HTMLSelectElement).value)} data-testid="log-level">
            {LEVELS.map((level) => (
              <option value={level}>
                {level} ({counts[level] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <label class="filter">
          <span>Filter</span>
          <input type="search" value={text} placeholder="Text in messages" onInput={(event) => setText((event.target as HTMLInputElement).value)} data-testid="log-filter" />
        </label>
        <div class="filter">
          <span id="jump-label">Jump to</span>
          <div class="segmented" role="group" aria-labelledby="jump-label">
            <select aria-label="Level to jump to" value={jumpLevel} onChange={(event) => setJumpLevel((event.target as HTMLSelectElement).value)}>
              {LEVELS.map((level) => (
                <option value={level}>{level}</option>
              ))}
            </select>
            <button type="button" class="button small" aria-label={`Previous ${jumpLevel} line`} onClick={() => jump(-1)}>
              ↑
            </button>
            <button type="button" class="button small" aria-label={`Next ${jumpLevel} line`} onClick={() => jump(1)}>
              ↓
            </button>
          </div>
        </div>
        <button type="button" class="button small" onClick={() => setCollapsed(new Set(groupKeys))}>
          Collapse all
        </button>
        <button type="button" class="button small" onClick={() => setCollapsed(new Set())}>
          Expand all
        </button>
        {running && (
          <button type="button" class={`button small${follow ? " active" : ""}`} aria-pressed={follow} onClick={() => setFollow(!follow)}>
            {follow ? "● Following" : "Follow"}
          </button>
        )}
        <button
          type="button"
          class="button small"
          onClick={() => download(api.logsDownloadUrl(execution.id, minLevel), `${execution.id}.log`).catch(notifyError)}
        >
          Download
        </button>
        <span class="muted" aria-live="polite" data-testid="log-count">
          {shown} of {live.logs.length} lines
          {live.following ? " · live" : ""}
        </span>
      </div>
      {taskRunId && (
        <div class="notice">
          Showing one task run only.{" "}
          <button type="button" class="link-button" onClick={() => setQuery({ taskRunId: undefined })}>
            Show all
          </button>
        </div>
      )}
      <ErrorBox error={live.error} />
      <div class="log-scroller" ref={scroller} onScroll={onScroll} tabIndex={0} role="region" aria-label="Execution logs" data-testid="log-scroller">
        <div class="log-spacer" style={{ height: `${rows.length * ROW}px` }}>
          {visible.map((row, offset) => {
            const i = first + offset;
            const style = { transform: `translateY(${i * ROW}px)` };
            if (row.kind === "group") {
              return (
                <div class="log-row log-group" style={style} key={`g-${row.key}`}>
                  <button type="button" class="link-button" aria-expanded={!row.collapsed} onClick={() => toggleGroup(row.key)}>
                    <span aria-hidden="true">{row.collapsed ? "▸" : "▾"}</span> {row.label}
                  </button>
                  {row.state && <StateBadge state={row.state} />}
                  <span class="muted">{pluralize(row.count, "line")}</span>
                </div>
              );
            }
            return (
              <div class={`log-row log-line level-${row.entry.level}${highlight === i ? " highlight" : ""}`} style={style} key={`l-${i}`} data-level={row.entry.level}>
                {row.first ? (
                  <>
                    <span class="log-time">{formatTime(row.entry.timestamp)}</span>
                    <span class={`log-level level-${row.entry.level}`}>{row.entry.level}</span>
                  </>
                ) : (
                  <span class="log-continuation" aria-hidden="true" />
                )}
                <span class="log-message">{row.text}</span>
                {row.first && (
                  <button
                    type="button"
                    class="log-copy"
                    aria-label="Copy this line"
                    onClick={async () => {
                      await copyText(`${row.entry.timestamp} ${row.entry.level} ${row.entry.message}`);
                      notify("info", "Copied the line");
                    }}
                  >
                    Copy
                  </button>
                )}
              </div>
            );
          })}
        </div>
        {rows.length === 0 && <div class="empty">{live.logs.length ? "No line matches the filters." : running ? "Waiting for logs…" : "No logs."}</div>}
      </div>
    </div>
  );
}
