/** U3–U6: the YAML editor with live validation, completion, documentation and live topology. */
import { autocompletion } from "@codemirror/autocomplete";
import { EditorView } from "@codemirror/view";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { Empty, ErrorBox, Spinner } from "../components/common";
import { ConfirmModal } from "../components/Modal";
import { notify, notifyError } from "../components/notify";
import { Topology } from "../components/Topology";
import { flowCompletion, serverValidation, type ValidationReport } from "../editor/flowEditor";
import { parseFlow, taskAt } from "../editor/flowModel";
import { loadSchema, type PluginSchema } from "../editor/schema";
import { copyText } from "../format";
import { useDebounced } from "../hooks";
import { href, navigate } from "../router";
import type { Flow, FlowGraph } from "../types";
import { DocPanel } from "./DocPanel";
import { NamespaceFiles } from "./NamespaceFiles";

export function newFlowSource(namespace: string): string {
  return `id: my_flow
namespace: ${namespace || "company.team"}

tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: Hello World!
`;
}

type Panel = "documentation" | "topology" | "files" | "none";

const PANEL_LABELS: Record<Panel, string> = {
  documentation: "Documentation",
  topology: "Topology",
  files: "Namespace files",
  none: "",
};

/** The topology of the text being edited, drawn by the server; the last valid one stays. */
function LiveTopology({ source, valid, onSelect }: { source: string; valid: boolean | null; onSelect: (taskId: string) => void }) {
  const [graph, setGraph] = useState<FlowGraph | null>(null);
  const [stale, setStale] = useState(false);
  useEffect(() => {
    // An invalid text would only be refused (422): keep the last graph until it validates.
    if (valid === null) return;
    if (!valid) {
      setStale(true);
      return;
    }
    const controller = new AbortController();
    api.graphOfSource(source, controller.signal).then(
      (drawn) => {
        setGraph(drawn);
        setStale(false);
      },
      (error) => {
        if ((error as Error).name !== "AbortError") setStale(true);
      },
    );
    return () => controller.abort();
  }, [source, valid]);
  return (
    <>
      {stale && <div class="notice warning">The flow does not validate: this is its last valid topology.</div>}
      {graph ? <Topology graph={graph} label="Live topology" onSelect={onSelect} /> : !stale && <Spinner />}
    </>
  );
}

export function FlowEditor({ flow, initialSource, onSaved, onExecute }: {
  flow: Flow | null;
  initialSource: string;
  onSaved: (flow: Flow) => void;
  onExecute?: () => void;
}) {
  const [text, setText] = useState(initialSource);
  const [saved, setSaved] = useState(initialSource);
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [schema, setSchema] = useState<PluginSchema | null>(null);
  const [schemaError, setSchemaError] = useState<unknown>(null);
  const [cursor, setCursor] = useState(0);
  const [panel, setPanel] = useState<Panel>(window.innerWidth < 900 ? "none" : "documentation");
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const view = useRef<EditorView | null>(null);
  const schemaRef = useRef<PluginSchema | null>(null);
  const dirty = text !== saved;

  useEffect(() => {
    loadSchema().then(
      (loaded) => {
        schemaRef.current = loaded;
        setSchema(loaded);
      },
      setSchemaError,
    );
  }, []);

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const extensions = useMemo(
    () => [
      serverValidation(setReport),
      autocompletion({ override: [flowCompletion(() => schemaRef.current)], activateOnTyping: true }),
      EditorView.updateListener.of((update) => {
        if (update.selectionSet || update.docChanged) setCursor(update.state.selection.main.head);
      }),
      EditorView.domEventHandlers({
        keydown: (event) => {
          if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
            event.preventDefault();
            void saveRef.current();
            return true;
          }
          return false;
        },
      }),
    ],
    [],
  );

  const debouncedText = useDebounced(text, 300);
  const model = useMemo(() => parseFlow(debouncedText), [debouncedText]);
  const current = taskAt(model, cursor);
  const written = model.value?.namespace;
  const namespace = flow?.namespace ?? (typeof written === "string" ? written : "");

  const save = async () => {
    if (saving) return;
    setSaving(true);
    setSaveError(null);
    try {
      const result = flow ? await api.updateFlow(flow.namespace, flow.id, text) : await api.createFlow(text);
      setSaved(text);
      notify("success", flow ? `Saved revision ${result?.revision ?? ""}` : `Created ${result.namespace}.${result.id}`);
      onSaved(result);
    } catch (error) {
      setSaveError(error);
      if (!(error instanceof ApiError) || error.status !== 422) notifyError(error);
    } finally {
      setSaving(false);
    }
  };
  const saveRef = useRef(save);
  saveRef.current = save;

  const jump = (from: number) => {
    const editor = view.current;
    if (!editor) return;
    editor.dispatch({ selection: { anchor: from }, scrollIntoView: true });
    editor.focus();
  };

  const exportYaml = () => {
    const blob = new Blob([text], { type: "application/x-yaml" });
    const anchor = document.createElement("a");
    anchor.href = URL.createObjectURL(blob);
    anchor.download = `${(model.value?.id as string | undefined) ?? "flow"}.yml`;
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(anchor.href), 5000);
  };

  const problems = report?.problems ?? [];
  const errors = problems.filter((problem) => problem.severity === "error").length;
  return (
    <div class="flow-editor">
      <div class="toolbar" role="toolbar" aria-label="Editor actions">
        <button type="button" class="button primary" onClick={save} disabled={saving || (!dirty && !!flow)} data-action="save">
          {saving ? "Saving…" : flow ? "Save" : "Create"}
        </button>
        {flow && onExecute && (
          <button
            type="button"
            class="button"
            onClick={onExecute}
            disabled={dirty}
            title={dirty ? "Save the flow before executing it" : undefined}
            data-action="execute"
          >
            ▶ Execute
          </button>
        )}
        <button type="button" class="button" onClick={exportYaml}>
          Export YAML
        </button>
        <button
          type="button"
          class="button"
          onClick={async () => {
            await copyText(text);
            notify("info", "Copied the YAML");
          }}
        >
          Copy
        </button>
        {flow && (
          <button type="button" class="button danger" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        )}
        <span class="toolbar-spacer" />
        <span class={`validity ${errors ? "invalid" : report ? "valid" : ""}`} aria-live="polite" data-testid="validity">
          {report?.failure
            ? `Validation unavailable: ${report.failure}`
            : errors
              ? `${errors} error${errors === 1 ? "" : "s"}`
              : report
                ? "Valid"
                : "Checking…"}
        </span>
        {dirty && <span class="badge state-paused">Unsaved</span>}
        <div class="segmented" role="group" aria-label="Side panel">
          {(["documentation", "topology", "files", "none"] as Panel[]).map((name) => (
            <button type="button" class={`button small${panel === name ? " active" : ""}`} aria-pressed={panel === name} onClick={() => setPanel(name)}>
              {name === "none" ? "Hide panel" : name === "files" ? "Files" : PANEL_LABELS[name]}
            </button>
          ))}
        </div>
      </div>
      {report?.outdated && <div class="notice warning">This revision is outdated: the flow was changed since you opened it.</div>}
      <ErrorBox error={saveError} title="Not saved" />
      <div class={`editor-layout${panel === "none" ? " no-panel" : ""}`}>
        <div class="editor-main">
          <CodeEditor
            value={initialSource}
            language="yaml"
            onChange={setText}
            onView={(created) => (view.current = created)}
            extensions={extensions}
            label="Flow YAML"
            className="yaml-editor"
            testId="flow-editor"
          />
          <div class="problems" aria-label="Problems">
            {problems.length === 0 ? (
              <div class="muted">No problems.</div>
            ) : (
              <ul>
                {problems.map((problem) => (
                  <li class={`problem ${problem.severity}`}>
                    <button type="button" class="link-button" onClick={() => jump(problem.from)}>
                      <span class="problem-where">
                        {problem.line}:{problem.column}
                      </span>{" "}
                      <span class="problem-severity">{problem.severity}</span> {problem.message}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
        {panel !== "none" && (
          <aside class="side-panel" aria-label={PANEL_LABELS[panel]}>
            {panel === "files" ? (
              namespace ? <NamespaceFiles namespace={namespace} /> : <Empty>Write the flow's namespace to see its files.</Empty>
            ) : panel === "documentation" ? (
              <DocPanel schema={schema} type={current?.type ?? null} taskId={current?.id ?? null} error={schemaError} />
            ) : (
              <LiveTopology
                source={debouncedText}
                valid={report && !report.failure ? errors === 0 : null}
                onSelect={(id) => {
                  const span = model.spans.find((candidate) => candidate.id === id);
                  if (span) jump(span.from);
                }}
              />
            )}
          </aside>
        )}
      </div>
      {confirmDelete && flow && (
        <ConfirmModal
          title="Delete the flow"
          message={
            <>
              Delete <code>{flow.namespace}.{flow.id}</code>? Its executions are kept.
            </>
          }
          confirmLabel="Delete"
          danger
          onClose={() => setConfirmDelete(false)}
          onConfirm={async () => {
            try {
              await api.deleteFlow(flow.namespace, flow.id);
              setSaved(text);
              notify("success", `Deleted ${flow.namespace}.${flow.id}`);
              navigate(href("/flows"));
            } catch (error) {
              notifyError(error);
            }
          }}
        />
      )}
    </div>
  );
}
