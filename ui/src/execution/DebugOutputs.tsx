/**
 * U15: "Debug Outputs": render an expression in the context of a finished task run
 * (`POST /executions/{id}/eval/{taskRunId}`, text/plain), JSON results pretty-printed.
 */
import { Prec } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { CopyButton, ErrorBox } from "../components/common";
import { JsonView } from "../components/JsonView";
import type { EvalResult, TaskRun } from "../types";
import { taskRunLabel } from "./taskruns";

function parsedJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false };
  }
}

export function DebugOutputs({ executionId, taskRun, initial }: { executionId: string; taskRun: TaskRun; initial: string }) {
  const [expression, setExpression] = useState(initial);
  const [result, setResult] = useState<EvalResult | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const current = useRef({ expression, taskRun });
  current.current = { expression, taskRun };

  const render = async () => {
    setBusy(true);
    setFailure(null);
    try {
      const { expression: text, taskRun: run } = current.current;
      setResult(await api.eval(executionId, run.id, text));
    } catch (error) {
      setResult(null);
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };
  const renderRef = useRef(render);
  renderRef.current = render;

  const extensions = useMemo(
    () => [
      Prec.highest(
        keymap.of([
          {
            key: "Mod-Enter",
            run: () => {
              void renderRef.current();
              return true;
            },
          },
        ]),
      ),
    ],
    [],
  );

  const output = result?.result;
  const json = typeof output === "string" ? parsedJson(output) : { ok: false as const };
  return (
    <section class="debug-outputs" aria-label="Debug Outputs">
      <div class="section-header">
        <h2 class="section-title">Debug Outputs</h2>
        <span class="muted">
          in the context of <code>{taskRunLabel(taskRun)}</code>
        </span>
      </div>
      <CodeEditor
        value={initial}
        language="plain"
        lineNumbers={false}
        onChange={setExpression}
        extensions={extensions}
        label="Expression to render"
        className="debug-editor"
        testId="debug-editor"
      />
      <div class="toolbar">
        <button type="button" class="button primary" onClick={render} disabled={busy} data-testid="debug-render">
          {busy ? "Rendering…" : "Render"}
        </button>
        <span class="muted">Ctrl/⌘ + Enter</span>
      </div>
      <ErrorBox error={failure} />
      {result && result.error !== undefined && result.error !== null && (
        <div class="error-box debug-error" role="alert" data-testid="debug-error">
          <div class="section-header">
            <strong>Error</strong>
            <CopyButton text={() => result.error ?? ""} label="Copy message" />
          </div>
          <pre class="error-message">{result.error}</pre>
          {result.stackTrace && (
            <details>
              <summary>Stack trace</summary>
              <div class="row-actions">
                <CopyButton text={() => result.stackTrace ?? ""} label="Copy stack trace" />
              </div>
              <pre class="stack-trace">{result.stackTrace}</pre>
            </details>
          )}
        </div>
      )}
      {result && (result.error === undefined || result.error === null) && (
        <div class="debug-result" data-testid="debug-result" data-format={json.ok ? "json" : "text"}>
          <div class="section-header">
            <strong>Result</strong>
            <CopyButton text={() => output ?? ""} />
          </div>
          {json.ok ? <JsonView value={json.value} label="Result" /> : <pre class="value-text">{output ?? "null"}</pre>}
        </div>
      )}
    </section>
  );
}
