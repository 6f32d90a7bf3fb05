/** U1: the flows list, filtered by text, namespace prefix and labels (filters live in the URL). */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, Labels, Spinner, StateBadge } from "../components/common";
import { Pager } from "../components/Pager";
import { labelsOf, shortType } from "../format";
import { useDebounced, useLoad } from "../hooks";
import { href, setQuery } from "../router";
import type { Execution } from "../types";

export function FlowsList({ query }: { query: URLSearchParams }) {
  const q = query.get("q") ?? "";
  const namespace = query.get("namespace") ?? "";
  const labels = query.getAll("labels");
  const page = Number(query.get("page") ?? 1);
  const size = Number(query.get("size") ?? 25);
  const [text, setText] = useState(q);
  const [labelText, setLabelText] = useState(labels.join(", "));
  const debounced = useDebounced(text, 300);
  useEffect(() => {
    if (debounced !== q) setQuery({ q: debounced, page: undefined });
  }, [debounced]);

  const namespaces = useLoad(() => api.namespaces().catch(() => [] as string[]), []);
  const flows = useLoad(
    () => api.searchFlows({ q, namespace, labels, page, size, sort: "id:asc" }),
    [q, namespace, labels.join("|"), page, size],
  );
  const latest = useLoad(async () => {
    const results = await api.searchExecutions({ size: 100, sort: "state.startDate:desc", namespace }).catch(() => null);
    const byFlow = new Map<string, Execution>();
    for (const execution of results?.results ?? []) {
      const key = `${execution.namespace}/${execution.flowId}`;
      if (!byFlow.has(key)) byFlow.set(key, execution);
    }
    return byFlow;
  }, [namespace, flows.data]);

  return (
    <section class="page">
      <header class="page-header">
        <h1>Flows</h1>
        <a class="button primary" href={href("/flows/new")}>
          + Create
        </a>
      </header>
      <form class="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <label class="filter">
          <span>Search</span>
          <input type="search" value={text} placeholder="Flow id or text" onInput={(event) => setText((event.target as HTMLInputElement).value)} />
        </label>
        <label class="filter">
          <span>Namespace</span>
          <input
            list="namespace-options"
            value={namespace}
            placeholder="Any namespace (prefix)"
            onChange={(event) => setQuery({ namespace: (event.target as HTMLInputElement).value, page: undefined })}
          />
          <datalist id="namespace-options">
            {(namespaces.data ?? []).map((ns) => (
              <option value={ns} />
            ))}
          </datalist>
        </label>
        <label class="filter">
          <span>Labels</span>
          <input
            value={labelText}
            placeholder="key:value, …"
            onInput={(event) => setLabelText((event.target as HTMLInputElement).value)}
            onChange={() =>
              setQuery({
                labels: labelText
                  .split(",")
                  .map((label) => label.trim())
                  .filter(Boolean),
                page: undefined,
              })
            }
          />
        </label>
      </form>
      <ErrorBox error={flows.error} />
      {flows.loading && !flows.data && <Spinner />}
      {flows.data && flows.data.results.length === 0 && (
        <Empty>
          No flow matches. <a href={href("/flows/new")}>Create one</a>.
        </Empty>
      )}
      {flows.data && flows.data.results.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-label="Flows">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Namespace</th>
                <th scope="col">Labels</th>
                <th scope="col">Last execution</th>
                <th scope="col">Triggers</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {flows.data.results.map((flow) => {
                const last = latest.data?.get(`${flow.namespace}/${flow.id}`);
                const base = `/flows/edit/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}`;
                return (
                  <tr key={`${flow.namespace}/${flow.id}`} data-flow={flow.id}>
                    <td>
                      <a href={href(`${base}/overview`)} class="strong">
                        {flow.id}
                      </a>
                      {flow.disabled && <span class="badge state-muted">disabled</span>}
                    </td>
                    <td>
                      <a href={href("/flows", { namespace: flow.namespace })}>{flow.namespace}</a>
                    </td>
                    <td>
                      <Labels labels={labelsOf(flow.labels)} />
                    </td>
                    <td>
                      {last ? (
                        <a href={href(`/executions/${encodeURIComponent(last.namespace)}/${encodeURIComponent(last.flowId)}/${last.id}/overview`)}>
                          <StateBadge state={last.state.current} />
                        </a>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td>{(flow.triggers ?? []).map((trigger) => shortType(trigger.type)).join(", ")}</td>
                    <td class="row-actions">
                      <a class="button small" href={href(`${base}/edit`)}>
                        Edit
                      </a>
                      <a class="button small" href={href(`${base}/overview`, { execute: "1" })}>
                        Execute
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {flows.data && (
        <Pager
          page={page}
          size={size}
          total={flows.data.total}
          onPage={(next) => setQuery({ page: String(next) })}
          onSize={(next) => setQuery({ size: String(next), page: undefined })}
        />
      )}
    </section>
  );
}
