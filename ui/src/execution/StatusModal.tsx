/** The dialog that changes an execution's or a task run's state. */
import { useState } from "preact/hooks";
import { Modal } from "../components/Modal";
import { ALL_STATES } from "../states";

export function StatusModal({ title, states, current, onClose, onSubmit }: {
  title: string;
  states: string[];
  current: string;
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
          <span>New state (now {current})</span>
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

export const TASK_RUN_STATES = ALL_STATES.filter((state) => ["SUCCESS", "WARNING", "FAILED"].includes(state));
