/** The dialog that changes the state of an execution, of many, or of a task run. */
import { useState } from "preact/hooks";
import { Modal } from "../components/Modal";
import { ALL_STATES } from "../states";

export function StatusModal({ title, states, current, onClose, onSubmit }: {
  title: string;
  states: string[];
  /** The state now, when there is one to show (not for many executions at once). */
  current?: string;
  onClose: () => void;
  onSubmit: (state: string) => Promise<void> | void;
}) {
  const [value, setValue] = useState(states.find((state) => state !== current) ?? states[0]);
  return (
    <Modal title={title} onClose={onClose}>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          await onSubmit(value);
          onClose();
        }}
      >
        <label class="field">
          <span>New state{current && ` (now ${current})`}</span>
          <select value={value} onChange={(event) => setValue((event.target as HTMLSelectElement).value)}>
            {states.map((state) => (
              <option value={state}>{state}</option>
            ))}
          </select>
        </label>
        <div class="modal-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary">
            Change
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The states an ended execution can be given. */
export const EXECUTION_STATES = ["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"];

export const TASK_RUN_STATES = ALL_STATES.filter((state) => ["SUCCESS", "WARNING", "FAILED"].includes(state));
