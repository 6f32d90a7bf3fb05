/** U7: the Execute form, generated from the flow's inputs; submits multipart to the API. */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { Field } from "../components/common";
import { buildForm, errorsByInput, FormError, initialValue, InputFields, inputIdOf, type Value } from "../components/InputField";
import { filledLabels, LabelsEditor } from "../components/LabelsEditor";
import { Modal } from "../components/Modal";
import { href, navigate } from "../router";
import type { FailedCheck, Flow, FlowInput, Label } from "../types";

/** What the execution does when the check fails, said to the person about to start it. */
const CHECK_OUTCOME: Record<FailedCheck["behavior"], string> = {
  BLOCK_EXECUTION: "The execution cannot start.",
  FAIL_EXECUTION: "The execution will be created FAILED, without running.",
  CREATE_EXECUTION: "",
};

export function ExecuteModal({ flow, onClose }: { flow: Flow; onClose: () => void }) {
  const inputs = flow.inputs ?? [];
  const ids = inputs.map(inputIdOf);
  const [values, setValues] = useState<Record<string, Value>>(() =>
    Object.fromEntries(inputs.map((input) => [inputIdOf(input), initialValue(input)])),
  );
  const [labels, setLabels] = useState<Label[]>([]);
  const [scheduleDate, setScheduleDate] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const [disabledByServer, setDisabledByServer] = useState<Set<string>>(new Set());
  const [failedChecks, setFailedChecks] = useState<FailedCheck[]>([]);
  const validation = useRef<AbortController | null>(null);

  // Conditions and checks are Pebble expressions: the server judges them as the user types.
  const hasConditions = inputs.some((input) => input.dependsOn?.condition) || Boolean(flow.checks?.length);
  const blocked = failedChecks.some((check) => check.behavior === "BLOCK_EXECUTION");
  const visible = (input: FlowInput): boolean => {
    if (disabledByServer.has(inputIdOf(input))) return false;
    const deps = input.dependsOn?.inputs ?? [];
    return deps.every((dep) => {
      const value = values[dep];
      return value !== null && value !== "" && !(Array.isArray(value) && !value.length);
    });
  };

  useEffect(() => {
    if (!hasConditions) return;
    const timer = setTimeout(async () => {
      validation.current?.abort();
      const controller = new AbortController();
      validation.current = controller;
      try {
        const result = (await api.validateInputs(flow.namespace, flow.id, buildForm(inputs, values, () => true), controller.signal)) as {
          inputs?: { input?: { id?: string }; id?: string; enabled?: boolean }[];
          checks?: FailedCheck[];
        };
        setFailedChecks(result?.checks ?? []);
        const off = new Set<string>();
        for (const item of result?.inputs ?? []) {
          const id = item.input?.id ?? item.id;
          if (id && item.enabled === false) off.add(id);
        }
        setDisabledByServer(off);
      } catch {
        // Without the validation endpoint, conditional inputs stay visible.
      }
    }, 400);
    return () => clearTimeout(timer);
  }, [values]);

  const fieldErrors = useMemo(() => errorsByInput(error, ids), [error]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      const form = buildForm(inputs, values, visible);
      const labelTexts = filledLabels(labels).map((label) => `${label.key}:${label.value}`);
      const execution = await api.execute(
        flow.namespace,
        flow.id,
        form,
        labelTexts,
        scheduleDate ? new Date(scheduleDate).toISOString() : undefined,
      );
      onClose();
      navigate(href(`/executions/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}/${execution.id}/overview`));
    } catch (failure) {
      setError(failure);
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <Modal title={`Execute ${flow.namespace}.${flow.id}`} onClose={onClose} wide>
      <form class="execute-form" onSubmit={submit} noValidate>
        {inputs.length === 0 && <p class="muted">This flow has no inputs.</p>}
        <InputFields
          inputs={inputs.filter(visible)}
          values={values}
          errors={fieldErrors.byId}
          onChange={(id, value) => setValues((old) => ({ ...old, [id]: value }))}
        />
        <details class="advanced">
          <summary>Labels and schedule</summary>
          <LabelsEditor labels={labels} onChange={setLabels} />
          <Field label="Schedule date" id="schedule-date" hint="Leave empty to start now">
            <input id="schedule-date" type="datetime-local" step={1} value={scheduleDate} onInput={(event) => setScheduleDate((event.target as HTMLInputElement).value)} />
          </Field>
        </details>
        {failedChecks.length > 0 && (
          <ul class="flow-checks" aria-label="Flow checks">
            {failedChecks.map((check) => (
              <li class={`flow-check ${check.style.toLowerCase()}`}>
                {check.message}
                {CHECK_OUTCOME[check.behavior] && <span class="flow-check-outcome"> {CHECK_OUTCOME[check.behavior]}</span>}
              </li>
            ))}
          </ul>
        )}
        <FormError error={error} errors={fieldErrors} title="Not executed" />
        <div class="modal-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={submitting || blocked} data-action="execute-submit">
            {submitting ? "Starting…" : "▶ Execute"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
