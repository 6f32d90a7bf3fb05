/** U10: resume a paused execution, answering the `onResume` inputs of the Pause task it waits on. */
import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { buildForm, errorsByInput, FormError, initialValue, InputFields, inputIdOf, type Value } from "../components/InputField";
import { Modal } from "../components/Modal";
import { useLoad } from "../hooks";
import type { Execution, FlowInput } from "../types";

/** Find a task by id anywhere in a flow (tasks nest in flowable tasks, errors, finally...). */
export function findTask(value: unknown, taskId: string): Record<string, unknown> | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findTask(item, taskId);
      if (found) return found;
    }
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const record = value as Record<string, unknown>;
  if (record.id === taskId && typeof record.type === "string") return record;
  for (const [key, child] of Object.entries(record)) {
    if (key === "inputs" || key === "onResume" || key === "triggers") continue;
    const found = findTask(child, taskId);
    if (found) return found;
  }
  return null;
}

/** The `onResume` inputs of the paused task runs' tasks. */
function resumeInputs(flow: unknown, execution: Execution): FlowInput[] {
  const paused = (execution.taskRunList ?? []).filter((taskRun) => taskRun.state.current === "PAUSED");
  const inputs: FlowInput[] = [];
  for (const taskRun of paused) {
    const declared = findTask(flow, taskRun.taskId)?.onResume;
    if (Array.isArray(declared)) inputs.push(...(declared as FlowInput[]));
  }
  return inputs;
}

function ResumeForm({ execution, inputs, onClose, onDone }: {
  execution: Execution;
  inputs: FlowInput[];
  onClose: () => void;
  onDone: (result: unknown) => void;
}) {
  const [values, setValues] = useState<Record<string, Value>>(() =>
    Object.fromEntries(inputs.map((input) => [inputIdOf(input), initialValue(input)])),
  );
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const fieldErrors = useMemo(() => errorsByInput(error, inputs.map(inputIdOf)), [error]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      const result = await api.resume(execution.id, buildForm(inputs, values, () => true));
      onClose();
      onDone(result);
    } catch (failure) {
      setError(failure);
    } finally {
      setSubmitting(false);
    }
  };
  return (
    <form class="execute-form" onSubmit={submit} noValidate data-testid="resume-form">
      {inputs.length === 0 && <p class="muted">The paused task asks for no inputs.</p>}
      <InputFields inputs={inputs} values={values} errors={fieldErrors.byId} onChange={(id, value) => setValues((old) => ({ ...old, [id]: value }))} />
      <FormError error={error} errors={fieldErrors} title="Not resumed" />
      <div class="modal-actions">
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" class="button primary" disabled={submitting} data-action="resume-submit">
          {submitting ? "Resuming…" : "Resume"}
        </button>
      </div>
    </form>
  );
}

export function ResumeModal({ execution, onClose, onDone }: {
  execution: Execution;
  onClose: () => void;
  onDone: (result: unknown) => void;
}) {
  const flow = useLoad(() => api.executionFlow(execution.id), [execution.id]);
  return (
    <Modal title="Resume the execution" onClose={onClose} wide>
      <ErrorBox error={flow.error} />
      {flow.loading && !flow.data && <Spinner />}
      {flow.data && <ResumeForm execution={execution} inputs={resumeInputs(flow.data, execution)} onClose={onClose} onDone={onDone} />}
    </Modal>
  );
}
