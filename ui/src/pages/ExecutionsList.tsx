/** U8–U9: the executions list with filters, live badges, paging and bulk actions. */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, Labels, Spinner, StateBadge } from "../components/common";
import { Pager } from "../components/Pager";
import { durationOf, formatDate, humanDuration, labelsOf, shortId, shortType } from "../format";
import { useInterval, useLoad } from "../hooks";
import { href, setQuery } from "../router";
import { ALL_STATES, isTerminated } from "../states";
import type { Execution } from "../types";
import { ExecutionsBulkBar } from "./ExecutionsBulkBar";

const RANGES = [
  { value: "", label: "Any time" },
  { value: "PT1H", label: "Last hour" },
  { value: "PT24H", label: "Last 24 hours" },
  { value: "P7D", label: "Last 7 days" },
  { value: "P30D", label: "Last 30 days" },
];

export function executionHref(execution: Execution, tab = "overview"): string {
  return href(`/executions/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}/${execution.id}/${tab}`);
}

export function ExecutionsList({ query, fixed }: { query: URLSearchParams; fixed?: { namespace: string; flowId: string } }) {
  const namespace = fixed?.namespace ?? query.get("namespace") ?? "";
  const flowId = fixed?.flowId ?? query.get("flowId") ?? "";
  const states = query.getAll("state");
  const timeRange = query.get("timeRange") ?? "";
  const q = query.get("q") ?? "";
  const labels = query.getAll("labels");
  const childFilter = query.get("childFilter") ?? "";
  const page = Number(query.get("page") ?? 1);
  const size = Number(query.get("size") ?? 25);
  const [auto, setAuto] = useState(localStorage.getItem("lanner.autoRefresh") !== "false");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [text, setText] = useState(q);
  const [labelText, setLabelText] = useState(labels.join(", "));

  const filters = { q, namespace, flowId, state: states, timeRange, labels, childFilter };
  const filterKey = [q, namespace, flowId, states.join(","), timeRange, labels.join("|"), childFilter].join("\n");
  const executions = useLoad(
    () => api.searchExecutions({ ...filters, page, size, sort: "state.startDate:desc" }),
    [filterKey, page, size],
  );
  // "Select all N matching": the bulk actions then go to the `by-query` routes with the filters.
  const [wholeQuery, setWholeQuery] = useState(false);
  useEffect(() => setWholeQuery(false), [filterKey]);
  const anyRunning = (executions.data?.results ?? []).some((execution) => !isTerminated(execution.state.current));
  useInterval(executions.reload, anyRunning ? 2000 : 10000, auto);
  useEffect(() => localStorage.setItem("lanner.autoRefresh", String(auto)), [auto]);

  const rows = executions.data?.results ?? [];
  const allSelected = rows.length > 0 && rows.every((row) => selected.has(row.id));
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const total = executions.data?.total ?? 0;
  const clearSelection = () => {
    setSelected(new Set());
    setWholeQuery(false);
  };

  return (
    <section class={fixed ? "" : "page"}>
      {!fixed && (
        <header class="page-header">
          <h1>Executions</h1>
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
          <input type="search" value={text} placeholder="Id, flow, text" onInput={(event) => setText((event.target as HTMLInputElement).value)} onChange={() => setQuery({ q: text, page: undefined })} />
        </label>
        {!fixed && (
          <>
            <label class="filter">
              <span>Namespace</span>
              <input value={namespace} placeholder="Prefix" onChange={(event) => setQuery({ namespace: (event.target as HTMLInputElement).value, page: undefined })} />
            </label>
            <label class="filter">
              <span>Flow</span>
              <input value={flowId} placeholder="Flow id" onChange={(event) => setQuery({ flowId: (event.target as HTMLInputElement).value, page: undefined })} />
            </label>
          </>
        )}
        <details class="filter dropdown">
          <summary>
            State{states.length ? `: ${states.join(", ")}` : ": any"}
          </summary>
          <div class="dropdown-menu" role="group" aria-label="States">
            {ALL_STATES.map((state) => (
              <label class="checkbox">
                <input
                  type="checkbox"
                  checked={states.includes(state)}
                  onChange={(event) =>
                    setQuery({
                      state: (event.target as HTMLInputElement).checked ? [...states, state] : states.filter((item) => item !== state),
                      page: undefined,
                    })
                  }
                />
                <StateBadge state={state} />
              </label>
            ))}
          </div>
        </details>
        <label class="filter">
          <span>Time range</span>
          <select value={timeRange} onChange={(event) => setQuery({ timeRange: (event.target as HTMLSelectElement).value, page: undefined })}>
            {RANGES.map((range) => (
              <option value={range.value}>{range.label}</option>
            ))}
          </select>
        </label>
        <label class="filter">
          <span>Labels</span>
          <input
            value={labelText}
            placeholder="key:value, …"
            onInput={(event) => setLabelText((event.target as HTMLInputElement).value)}
            onChange={() => setQuery({ labels: labelText.split(",").map((label) => label.trim()).filter(Boolean), page: undefined })}
          />
        </label>
        <label class="filter">
          <span>Kind</span>
          <select value={childFilter} onChange={(event) => setQuery({ childFilter: (event.target as HTMLSelectElement).value, page: undefined })}>
            <option value="">All</option>
            <option value="MAIN">Main executions</option>
            <option value="CHILD">Subflow executions</option>
          </select>
        </label>
        <label class="checkbox filter-toggle">
          <input type="checkbox" checked={auto} onChange={(event) => setAuto((event.target as HTMLInputElement).checked)} />
          Auto-refresh
        </label>
      </form>
      {selected.size > 0 && (
        <ExecutionsBulkBar
          selected={[...selected]}
          wholeQuery={wholeQuery}
          total={total}
          filters={filters}
          canSelectWholeQuery={allSelected && total > rows.length}
          onWholeQuery={setWholeQuery}
          onClear={clearSelection}
          onDone={() => {
            clearSelection();
            executions.reload();
          }}
        />
      )}
      <ErrorBox error={executions.error} />
      {executions.loading && !executions.data && <Spinner />}
      {executions.data && rows.length === 0 && <Empty>No execution matches.</Empty>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-label="Executions">
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allSelected}
                    onChange={() => {
                      setSelected(allSelected ? new Set() : new Set(rows.map((row) => row.id)));
                      setWholeQuery(false);
                    }}
                  />
                </th>
                <th scope="col">Id</th>
                <th scope="col">Start</th>
                <th scope="col">End</th>
                <th scope="col">Duration</th>
                {!fixed && <th scope="col">Namespace</th>}
                {!fixed && <th scope="col">Flow</th>}
                <th scope="col">Labels</th>
                <th scope="col">State</th>
                <th scope="col">Trigger</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((execution) => (
                <tr key={execution.id} data-execution={execution.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${execution.id}`}
                      checked={selected.has(execution.id)}
                      onChange={() => {
                        toggle(execution.id);
                        setWholeQuery(false);
                      }}
                    />
                  </td>
                  <td>
                    <a href={executionHref(execution)} class="mono" title={execution.id}>
                      {shortId(execution.id)}
                    </a>
                  </td>
                  <td>{formatDate(execution.state.startDate ?? execution.state.histories?.[0]?.date)}</td>
                  <td>{formatDate(execution.state.endDate)}</td>
                  <td>{humanDuration(durationOf(execution.state))}</td>
                  {!fixed && <td>{execution.namespace}</td>}
                  {!fixed && (
                    <td>
                      <a href={href(`/flows/edit/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}/overview`)}>{execution.flowId}</a>
                    </td>
                  )}
                  <td>
                    <Labels labels={labelsOf(execution.labels).filter((label) => label.key !== "system.correlationId")} />
                  </td>
                  <td>
                    <StateBadge state={execution.state.current} />
                  </td>
                  <td>{execution.trigger?.type ? shortType(execution.trigger.type) : <span class="muted">manual</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {executions.data && (
        <Pager
          page={page}
          size={size}
          total={executions.data.total}
          onPage={(next) => setQuery({ page: String(next) })}
          onSize={(next) => setQuery({ size: String(next), page: undefined })}
        />
      )}
    </section>
  );
}
