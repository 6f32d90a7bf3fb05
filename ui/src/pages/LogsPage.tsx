/** U17: all logs, filtered and paged (`/logs/search`). */
import { useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, Spinner } from "../components/common";
import { Pager } from "../components/Pager";
import { formatTime, shortId } from "../format";
import { useLoad } from "../hooks";
import { href, setQuery } from "../router";
import { LEVELS } from "../states";

const RANGES: Record<string, number> = { PT1H: 3600e3, PT24H: 86400e3, P7D: 7 * 86400e3, P30D: 30 * 86400e3 };

export function LogsPage({ query, fixed }: { query: URLSearchParams; fixed?: { namespace: string; flowId: string } }) {
  const q = query.get("q") ?? "";
  const namespace = fixed?.namespace ?? query.get("namespace") ?? "";
  const flowId = fixed?.flowId ?? query.get("flowId") ?? "";
  const minLevel = query.get("minLevel") ?? localStorage.getItem("lanner.logLevel") ?? "INFO";
  const range = query.get("range") ?? "P7D";
  const page = Number(query.get("page") ?? 1);
  const size = Number(query.get("size") ?? 50);
  const [text, setText] = useState(q);
  const logs = useLoad(
    () =>
      api.searchLogs({
        q,
        namespace,
        flowId,
        minLevel,
        page,
        size,
        startDate: RANGES[range] ? new Date(Date.now() - RANGES[range]).toISOString() : undefined,
      }),
    [q, namespace, flowId, minLevel, range, page, size],
  );
  return (
    <section class={fixed ? "" : "page"}>
      {!fixed && (
        <header class="page-header">
          <h1>Logs</h1>
        </header>
      )}
      <form
        class="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery({ q: text, page: undefined });
        }}
      >
        <label class="filter">
          <span>Search</span>
          <input
            type="search"
            value={text}
            placeholder="commas = or, spaces = and"
            onInput={(event) => setText((event.target as HTMLInputElement).value)}
            onChange={() => setQuery({ q: text, page: undefined })}
          />
        </label>
        {!fixed && (
          <>
            <label class="filter">
              <span>Namespace</span>
              <input value={namespace} onChange={(event) => setQuery({ namespace: (event.target as HTMLInputElement).value, page: undefined })} />
            </label>
            <label class="filter">
              <span>Flow</span>
              <input value={flowId} onChange={(event) => setQuery({ flowId: (event.target as HTMLInputElement).value, page: undefined })} />
            </label>
          </>
        )}
        <label class="filter">
          <span>Minimum level</span>
          <select value={minLevel} onChange={(event) => setQuery({ minLevel: (event.target as HTMLSelectElement).value, page: undefined })}>
            {LEVELS.map((level) => (
              <option value={level}>{level}</option>
            ))}
          </select>
        </label>
        <label class="filter">
          <span>Time range</span>
          <select value={range} onChange={(event) => setQuery({ range: (event.target as HTMLSelectElement).value, page: undefined })}>
            <option value="PT1H">Last hour</option>
            <option value="PT24H">Last 24 hours</option>
            <option value="P7D">Last 7 days</option>
            <option value="P30D">Last 30 days</option>
            <option value="all">Any time</option>
          </select>
        </label>
      </form>
      <ErrorBox error={logs.error} />
      {logs.loading && !logs.data && <Spinner />}
      {logs.data && logs.data.results.length === 0 && <Empty>No log matches.</Empty>}
      {logs.data && logs.data.results.length > 0 && (
        <div class="log-table" role="list" aria-label="Logs">
          {logs.data.results.map((entry) => (
            <div class={`log-line level-${entry.level}`} role="listitem">
              <span class="log-time">{formatTime(entry.timestamp)}</span>
              <span class={`log-level level-${entry.level}`}>{entry.level}</span>
              <span class="log-source">
                {entry.executionId && entry.namespace && entry.flowId ? (
                  <a href={href(`/executions/${encodeURIComponent(entry.namespace)}/${encodeURIComponent(entry.flowId)}/${entry.executionId}/logs`)}>
                    {entry.flowId} {shortId(entry.executionId)}
                  </a>
                ) : (
                  entry.flowId
                )}
                {entry.taskId && <span class="muted"> · {entry.taskId}</span>}
              </span>
              <span class="log-message">{entry.message}</span>
            </div>
          ))}
        </div>
      )}
      {logs.data && (
        <Pager
          page={page}
          size={size}
          total={logs.data.total}
          onPage={(next) => setQuery({ page: String(next) })}
          onSize={(next) => setQuery({ size: String(next), page: undefined })}
        />
      )}
    </section>
  );
}
