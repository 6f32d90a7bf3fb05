/** U18: the namespace files: browse folders, edit text files, upload, create and delete. */
import { useState } from "preact/hooks";
import { api } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { Empty, ErrorBox, Field, Spinner } from "../components/common";
import { ConfirmModal, Modal } from "../components/Modal";
import { notify, notifyError } from "../components/notify";
import type { Language } from "../editor/setup";
import { useLoad } from "../hooks";

function join(folder: string, name: string): string {
  return `${folder.replace(/\/$/, "")}/${name}`;
}

function languageOf(path: string): Language {
  if (/\.ya?ml$/i.test(path)) return "yaml";
  if (/\.json$/i.test(path)) return "json";
  return "plain";
}

function FileEditor({ namespace, path, onClose }: { namespace: string; path: string; onClose: () => void }) {
  const content = useLoad(() => api.nsFile(namespace, path), [namespace, path]);
  const [text, setText] = useState<string | null>(null);
  const save = async () => {
    try {
      const name = path.split("/").pop() ?? "file";
      await api.nsWriteFile(namespace, path, new Blob([text ?? content.data ?? ""]), name);
      notify("success", `Saved ${path}`);
      setText(null);
      content.reload();
    } catch (error) {
      notifyError(error);
    }
  };
  return (
    <div class="file-editor">
      <div class="toolbar">
        <strong class="mono">{path}</strong>
        <span class="toolbar-spacer" />
        <button type="button" class="button primary" disabled={text === null} onClick={save}>
          Save
        </button>
        <button type="button" class="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorBox error={content.error} />
      {content.data === null && !content.error && <Spinner />}
      {content.data !== null && (
        <CodeEditor key={`${path}-${content.data.length}`} value={content.data} language={languageOf(path)} onChange={setText} label={`Content of ${path}`} className="yaml-editor" />
      )}
    </div>
  );
}

export function NamespaceFiles({ namespace }: { namespace: string }) {
  const [folder, setFolder] = useState("/");
  const [open, setOpen] = useState<string | null>(null);
  const [creating, setCreating] = useState<"file" | "folder" | null>(null);
  const [name, setName] = useState("");
  const [deleting, setDeleting] = useState<string | null>(null);
  const listing = useLoad(() => api.nsDirectory(namespace, folder), [namespace, folder]);
  const parts = folder.split("/").filter(Boolean);

  const create = async (event: Event) => {
    event.preventDefault();
    const path = join(folder, name.trim());
    try {
      if (creating === "folder") await api.nsCreateDirectory(namespace, path);
      else await api.nsWriteFile(namespace, path, new Blob([""]), name.trim());
      setCreating(null);
      setName("");
      listing.reload();
      if (creating === "file") setOpen(path);
    } catch (error) {
      notifyError(error);
    }
  };
  const upload = async (file: File | undefined) => {
    if (!file) return;
    try {
      await api.nsWriteFile(namespace, join(folder, file.name), file, file.name);
      notify("success", `Uploaded ${file.name}`);
      listing.reload();
    } catch (error) {
      notifyError(error);
    }
  };

  return (
    <div class="namespace-files">
      <div class="toolbar">
        <nav aria-label="Folder" class="breadcrumb">
          <button type="button" class="link-button" onClick={() => setFolder("/")}>
            /
          </button>
          {parts.map((part, index) => (
            <>
              <button type="button" class="link-button" onClick={() => setFolder(`/${parts.slice(0, index + 1).join("/")}`)}>
                {part}
              </button>
              /
            </>
          ))}
        </nav>
        <span class="toolbar-spacer" />
        <button type="button" class="button small" onClick={() => setCreating("file")}>
          + File
        </button>
        <button type="button" class="button small" onClick={() => setCreating("folder")}>
          + Folder
        </button>
        <label class="button small">
          Upload
          <input type="file" class="visually-hidden" onChange={(event) => upload((event.target as HTMLInputElement).files?.[0])} />
        </label>
      </div>
      <ErrorBox error={listing.error} />
      {listing.loading && !listing.data && <Spinner />}
      {listing.data && listing.data.length === 0 && <Empty>This folder is empty.</Empty>}
      {listing.data && listing.data.length > 0 && (
        <div class="table-wrap">
          <table class="table compact" aria-label="Namespace files">
            <tbody>
              {[...listing.data]
                .sort((a, b) => (a.type === b.type ? a.fileName.localeCompare(b.fileName) : a.type === "Directory" ? -1 : 1))
                .map((entry) => {
                  const path = join(folder, entry.fileName);
                  return (
                    <tr>
                      <td>
                        <button
                          type="button"
                          class="link-button"
                          onClick={() => (entry.type === "Directory" ? setFolder(path) : setOpen(path))}
                        >
                          {entry.type === "Directory" ? "📁 " : "📄 "}
                          {entry.fileName}
                        </button>
                      </td>
                      <td class="muted">{entry.type === "File" ? `${entry.size} B` : ""}</td>
                      <td class="row-actions">
                        <button type="button" class="button small danger" aria-label={`Delete ${entry.fileName}`} onClick={() => setDeleting(path)}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  );
                })}
            </tbody>
          </table>
        </div>
      )}
      {open && <FileEditor key={open} namespace={namespace} path={open} onClose={() => setOpen(null)} />}
      {creating && (
        <Modal title={creating === "file" ? "New file" : "New folder"} onClose={() => setCreating(null)}>
          <form onSubmit={create}>
            <Field label="Name" id="ns-new-name" hint={`In ${folder}`}>
              <input id="ns-new-name" required value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} />
            </Field>
            <div class="modal-actions">
              <button type="button" class="button" onClick={() => setCreating(null)}>
                Cancel
              </button>
              <button type="submit" class="button primary">
                Create
              </button>
            </div>
          </form>
        </Modal>
      )}
      {deleting && (
        <ConfirmModal
          title="Delete"
          message={`Delete ${deleting}?`}
          confirmLabel="Delete"
          danger
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            try {
              await api.nsDelete(namespace, deleting);
              if (open?.startsWith(deleting)) setOpen(null);
              listing.reload();
            } catch (error) {
              notifyError(error);
            }
          }}
        />
      )}
    </div>
  );
}
