/** The dialog that deletes many executions, with what goes with them and whether unended ones go too. */
import { useState } from "preact/hooks";
import type { DeleteOptions } from "../api";
import { Modal } from "../components/Modal";

const CHOICES: { key: keyof DeleteOptions; label: string }[] = [
  { key: "includeNonTerminated", label: "Also delete executions that have not ended (they are killed first)" },
  { key: "deleteLogs", label: "Delete their logs" },
  { key: "deleteMetrics", label: "Delete their metrics" },
  { key: "deleteStorage", label: "Delete their files in internal storage" },
];

export function DeleteExecutionsModal({ which, onClose, onSubmit }: {
  /** What is deleted, said in words: "3 executions", "all 12 executions matching the filters". */
  which: string;
  onClose: () => void;
  onSubmit: (options: DeleteOptions) => Promise<unknown>;
}) {
  const [options, setOptions] = useState<DeleteOptions>({
    includeNonTerminated: false,
    deleteLogs: true,
    deleteMetrics: true,
    deleteStorage: true,
  });
  return (
    <Modal title="Delete executions" onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          await onSubmit(options);
          onClose();
        }}
      >
        <div class="confirm-message">Delete {which}?</div>
        <fieldset class="choices">
          {CHOICES.map(({ key, label }) => (
            <label class="checkbox">
              <input
                type="checkbox"
                checked={options[key]}
                onChange={(event) => setOptions({ ...options, [key]: (event.target as HTMLInputElement).checked })}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <div class="modal-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button danger">
            Delete
          </button>
        </div>
      </form>
    </Modal>
  );
}
