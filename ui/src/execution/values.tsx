/** Rendering output and input values: scalars, JSON, and `kestra://` files with Download and Preview. */
import { useState } from "preact/hooks";
import { api, download } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { JsonView } from "../components/JsonView";
import { Modal } from "../components/Modal";
import { notifyError } from "../components/notify";
import type { FilePreview } from "../types";

export function isInternalFile(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("kestra://");
}

export function shortPreview(value: unknown): string {
  if (Array.isArray(value)) return `${value.length} item${value.length === 1 ? "" : "s"}`;
  if (value && typeof value === "object") {
    const count = Object.keys(value).length;
    return `${count} item${count === 1 ? "" : "s"}`;
  }
  if (isInternalFile(value)) return "Internal link";
  if (value === null) return "null";
  const text = String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

export function FileActions({ executionId, path }: { executionId: string; path: string }) {
  const [preview, setPreview] = useState(false);
  const name = path.split("/").pop() || "file";
  return (
    <span class="file-actions">
      <button
        type="button"
        class="button small"
        onClick={() => download(api.fileUrl(executionId, path), name).catch(notifyError)}
      >
        Download
      </button>
      <button type="button" class="button small" onClick={() => setPreview(true)}>
        Preview
      </button>
      {preview && <FilePreviewModal executionId={executionId} path={path} onClose={() => setPreview(false)} />}
    </span>
  );
}

function FilePreviewModal({ executionId, path, onClose }: { executionId: string; path: string; onClose: () => void }) {
  const [state, setState] = useState<{ preview?: FilePreview; error?: unknown } | null>(null);
  if (state === null) {
    setState({});
    api.filePreview(executionId, path).then(
      (preview) => setState({ preview }),
      (error) => setState({ error }),
    );
  }
  const preview = state?.preview;
  return (
    <Modal title={path.split("/").pop() ?? path} onClose={onClose} wide>
      <p class="muted mono">{path}</p>
      <ErrorBox error={state?.error} />
      {!preview && !state?.error && <Spinner />}
      {preview && <PreviewContent preview={preview} />}
      {preview?.truncated && <p class="muted">Only the beginning of the file is shown.</p>}
    </Modal>
  );
}

function PreviewContent({ preview }: { preview: FilePreview }) {
  const content = preview.content;
  if (Array.isArray(content) && content.length && typeof content[0] === "object" && content[0] !== null) {
    const columns = [...new Set(content.flatMap((row) => Object.keys(row as object)))];
    return (
      <div class="table-wrap">
        <table class="table compact">
          <thead>
            <tr>
              {columns.map((column) => (
                <th scope="col">{column}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {content.map((row) => (
              <tr>
                {columns.map((column) => (
                  <td>{shortPreview((row as Record<string, unknown>)[column])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (typeof content === "string") return <pre class="file-preview">{content}</pre>;
  return <JsonView value={content} />;
}

/** A value shown in full: JSON pretty-printed, files with their actions, text as is. */
export function ValueView({ value, executionId }: { value: unknown; executionId: string }) {
  if (isInternalFile(value)) {
    return (
      <div class="value-file">
        <code class="mono">{value}</code> <FileActions executionId={executionId} path={value} />
      </div>
    );
  }
  if (value !== null && typeof value === "object") return <JsonView value={value} />;
  return <pre class="value-text">{value === null ? "null" : String(value)}</pre>;
}
