/** U18: namespaces and their KV store (list, add with type and TTL, view, delete). */
import { useState } from "preact/hooks";
import { api } from "../api";
import { Empty, ErrorBox, Field, Spinner, TabBar } from "../components/common";
import { JsonView } from "../components/JsonView";
import { Modal } from "../components/Modal";
import { notify, notifyError } from "../components/notify";
import { formatDate } from "../format";
import { useLoad } from "../hooks";
import { href } from "../router";
import { NamespaceFiles } from "./NamespaceFiles";

const KV_TYPES = ["STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON"];

const TABS = [
  { id: "kv", label: "KV store" },
  { id: "files", label: "Files" },
];

export function NamespacePage({ namespace, tab }: { namespace: string | null; tab: string }) {
  const namespaces = useLoad(() => api.namespaces(), []);
  if (!namespace) {
    return (
      <section class="page">
        <header class="page-header">
          <h1>Namespaces</h1>
        </header>
        <ErrorBox error={namespaces.error} />
        {namespaces.loading && <Spinner />}
        {namespaces.data && namespaces.data.length === 0 && <Empty>No namespace yet: create a flow first.</Empty>}
        <ul class="namespace-list">
          {(namespaces.data ?? []).map((ns) => (
            <li>
              <a href={href(`/namespaces/${encodeURIComponent(ns)}`)}>{ns}</a>
            </li>
          ))}
        </ul>
      </section>
    );
  }
  return (
    <section class="page">
      <header class="page-header">
        <div>
          <div class="breadcrumb">
            <a href={href("/namespaces")}>Namespaces</a>
          </div>
          <h1>{namespace}</h1>
        </div>
        <a class="button" href={href("/flows", { namespace })}>
          Flows of this namespace
        </a>
      </header>
      <TabBar tabs={TABS} active={tab} base={`/namespaces/${encodeURIComponent(namespace)}`} label="Namespace" />
      {tab === "files" ? <NamespaceFiles namespace={namespace} /> : <KvStore namespace={namespace} />}
    </section>
  );
}

function encodeValue(type: string, raw: string): string {
  if (type === "STRING" || type === "DATETIME" || type === "DATE" || type === "DURATION") return JSON.stringify(raw);
  return raw.trim();
}

function KvStore({ namespace }: { namespace: string }) {
  const entries = useLoad(() => api.kvList(namespace), [namespace]);
  const [adding, setAdding] = useState(false);
  const [viewing, setViewing] = useState<{ key: string; type: string; value: unknown } | null>(null);
  const [form, setForm] = useState({ key: "", type: "STRING", value: "", ttl: "" });
  const [error, setError] = useState<unknown>(null);
  const save = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      await api.kvPut(namespace, form.key, encodeValue(form.type, form.value), form.ttl || undefined);
      notify("success", `Saved ${form.key}`);
      setAdding(false);
      setForm({ key: "", type: "STRING", value: "", ttl: "" });
      entries.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      <div class="section-header">
        <span class="muted">Values the flows of this namespace read with kv('KEY').</span>
        <button type="button" class="button primary" onClick={() => setAdding(true)}>
          + Add a key
        </button>
      </div>
      <ErrorBox error={entries.error} />
      {entries.loading && !entries.data && <Spinner />}
      {entries.data && entries.data.length === 0 && <Empty>No key in this namespace.</Empty>}
      {entries.data && entries.data.length > 0 && (
        <div class="table-wrap">
          <table class="table" aria-label="KV store">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Updated</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.data.map((entry) => (
                <tr>
                  <td>
                    <code>{entry.key}</code>
                  </td>
                  <td>{formatDate(entry.updateDate ?? entry.creationDate)}</td>
                  <td>{formatDate(entry.expirationDate) || <span class="muted">never</span>}</td>
                  <td class="row-actions">
                    <button
                      type="button"
                      class="button small"
                      onClick={async () => {
                        try {
                          const value = await api.kvGet(namespace, entry.key);
                          setViewing({ key: entry.key, ...value });
                        } catch (failure) {
                          notifyError(failure);
                        }
                      }}
                    >
                      View
                    </button>
                    <button
                      type="button"
                      class="button small danger"
                      onClick={async () => {
                        try {
                          await api.kvDelete(namespace, entry.key);
                          notify("success", `Deleted ${entry.key}`);
                          entries.reload();
                        } catch (failure) {
                          notifyError(failure);
                        }
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {viewing && (
        <Modal title={`${viewing.key} (${viewing.type})`} onClose={() => setViewing(null)}>
          <JsonView value={viewing.value} label={viewing.key} />
        </Modal>
      )}
      {adding && (
        <Modal title="Add a key" onClose={() => setAdding(false)}>
          <form onSubmit={save}>
            <Field label="Key" id="kv-key">
              <input id="kv-key" required value={form.key} onInput={(event) => setForm({ ...form, key: (event.target as HTMLInputElement).value })} />
            </Field>
            <Field label="Type" id="kv-type">
              <select id="kv-type" value={form.type} onChange={(event) => setForm({ ...form, type: (event.target as HTMLSelectElement).value })}>
                {KV_TYPES.map((type) => (
                  <option value={type}>{type}</option>
                ))}
              </select>
            </Field>
            <Field label="Value" id="kv-value">
              <textarea id="kv-value" rows={4} value={form.value} onInput={(event) => setForm({ ...form, value: (event.target as HTMLTextAreaElement).value })} />
            </Field>
            <Field label="Time to live" id="kv-ttl" hint="ISO duration such as PT1H; empty keeps it forever">
              <input id="kv-ttl" value={form.ttl} placeholder="PT1H" onInput={(event) => setForm({ ...form, ttl: (event.target as HTMLInputElement).value })} />
            </Field>
            <ErrorBox error={error} />
            <div class="modal-actions">
              <button type="button" class="button" onClick={() => setAdding(false)}>
                Cancel
              </button>
              <button type="submit" class="button primary">
                Save
              </button>
            </div>
          </form>
        </Modal>
      )}
    </div>
  );
}
