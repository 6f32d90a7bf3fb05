/** The dialog that adds labels to many executions at once. */
import { useState } from "preact/hooks";
import { filledLabels, LabelsEditor } from "../components/LabelsEditor";
import { Modal } from "../components/Modal";
import type { Label } from "../types";

export function AddLabelsModal({ title, onClose, onSubmit }: {
  title: string;
  onClose: () => void;
  /** Add the labels; false keeps the dialog open (the labels were refused). */
  onSubmit: (labels: Label[]) => Promise<boolean>;
}) {
  const [labels, setLabels] = useState<Label[]>([{ key: "", value: "" }]);
  const [submitting, setSubmitting] = useState(false);
  const filled = filledLabels(labels);
  return (
    <Modal title={title} onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setSubmitting(true);
          const added = await onSubmit(filled);
          setSubmitting(false);
          if (added) onClose();
        }}
      >
        <p class="muted">A label replaces the one of the same key; the other labels stay.</p>
        <LabelsEditor labels={labels} onChange={setLabels} />
        <div class="modal-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={submitting || filled.length === 0}>
            Add labels
          </button>
        </div>
      </form>
    </Modal>
  );
}
