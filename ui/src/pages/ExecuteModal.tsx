/** U7: the Execute form, generated from the flow's inputs; submits multipart to the API. */
import { h } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { ErrorBox, Field } from "../components/common";
import { Modal } from "../components/Modal";
import { href, navigate } from "../router";
import type { Flow, FlowInput } from "../types";

type Value = string | boolean | string[] | File | null;

function isExpression(value: unknown): boolean {
  return typeof value === "string" && /\{\{|\{%/.test(value);
}

function initialValue(input: FlowInput): Value {
  const type = input.type.toUpperCase();
  const defaults = input.defaults;
  if (type === "FILE") return null;
  if (type === "BOOLEAN" || type === "BOOL") return defaults === true || String(defaults).toLowerCase() === "true";
  if (defaults === undefined || defaults === null || isExpression(defaults)) {
    return type === "MULTISELECT" || type === "ARRAY" ? [] : "";
  }
  if (type === "MULTISELECT" || type === "ARRAY") {
    if (Array.isArray(defaults)) return defaults.map(String);
    try {
      const parsed = JSON.parse(String(defaults));
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // A plain string default stays a single item.
    }
    return [String(defaults)];
  }
  if (type === "JSON") return typeof defaults === "string" ? defaults.trim() : JSON.stringify(defaults, null, 2);
  if (type === "DATETIME" && typeof defaults === "string") return toLocalInput(defaults);
  return typeof defaults === "string" ? defaults : JSON.stringify(defaults);
}

function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const offset = date.getTimezoneOffset() * 60000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 19);
}

function inputIdOf(input: FlowInput): string {
  return input.id ?? input.name ?? "";
}

function serialize(input: FlowInput, value: Value): string | File | null {
  const type = input.type.toUpperCase();
  if (value === null) return null;
  if (value instanceof File) return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) {
    if (type === "ARRAY" && ["INT", "FLOAT", "BOOLEAN"].includes((input.itemType ?? "").toUpperCase())) {
      return JSON.stringify(value.map((item) => (item.trim() === "" ? item : JSON.parse(item))));
    }
    return value.length ? JSON.stringify(value) : null;
  }
  if (value === "") return null;
  if (type === "DATETIME" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return new Date(value).toISOString();
  return value;
}

/** Match the API's input error texts (`<id>: Invalid input for ...`) to the inputs. */
export function errorsByInput(error: unknown, ids: string[]): { byId: Record<string, string>; rest: string[] } {
  const byId: Record<string, string> = {};
  const rest: string[] = [];
  if (!(error instanceof ApiError)) return { byId, rest };
  const texts = error.details.length ? error.details : [error.message.replace(/^Invalid entity:\s*/, "")];
  const sorted = [...ids].sort((a, b) => b.length - a.length);
  for (const text of texts) {
    const clean = text.replace(/^Invalid entity:\s*/, "");
    const id = sorted.find((candidate) => clean.startsWith(`${candidate}:`) || clean.includes(`\`${candidate}\``));
    if (id) byId[id] = byId[id] ? `${byId[id]}; ${clean}` : clean;
    else rest.push(clean);
  }
  return { byId, rest };
}

function InputField({ input, value, onChange, error }: {
  input: FlowInput;
  value: Value;
  onChange: (value: Value) => void;
  error?: string;
}) {
  const id = inputIdOf(input);
  const type = input.type.toUpperCase();
  const fieldId = `input-${id}`;
  const required = input.required !== false && (input.defaults === undefined || input.defaults === null);
  const label = (
    <>
      {input.displayName ?? id}
      {required && (
        <span class="required-mark" aria-label="required">
          {" "}
          *
        </span>
      )}
      <span class="input-type">{type}</span>
    </>
  );
  const hints: string[] = [];
  if (input.description) hints.push(input.description);
  if (input.min !== undefined) hints.push(`min ${input.min}`);
  if (input.max !== undefined) hints.push(`max ${input.max}`);
  if (input.validator) hints.push(`pattern ${input.validator}`);
  if (isExpression(input.defaults)) hints.push(`default ${String(input.defaults)}`);
  const hint = hints.length ? hints.join(" · ") : undefined;
  const text = (htmlType: string, extra: Record<string, unknown> = {}) =>
    h("input", {
      id: fieldId,
      name: id,
      type: htmlType,
      value: typeof value === "string" ? value : "",
      required,
      "aria-invalid": !!error,
      onInput: (event: Event) => onChange((event.target as HTMLInputElement).value),
      ...extra,
    });
  let control;
  const values = input.values ?? input.options ?? [];
  switch (type) {
    case "INT":
      control = text("number", { step: 1, min: input.min, max: input.max });
      break;
    case "FLOAT":
      control = text("number", { step: "any", min: input.min, max: input.max });
      break;
    case "BOOLEAN":
    case "BOOL":
      control = (
        <label class="checkbox">
          <input id={fieldId} type="checkbox" checked={value === true} onChange={(event) => onChange((event.target as HTMLInputElement).checked)} />
          {value === true ? "true" : "false"}
        </label>
      );
      break;
    case "DATETIME":
      control = text("datetime-local", { step: 1 });
      break;
    case "DATE":
      control = text("date");
      break;
    case "TIME":
      control = text("time", { step: 1 });
      break;
    case "SECRET":
      control = text("password", { autocomplete: "off" });
      break;
    case "EMAIL":
      control = text("email");
      break;
    case "URI":
      control = text("url", { placeholder: "https://…" });
      break;
    case "DURATION":
      control = text("text", { placeholder: "PT5M" });
      break;
    case "FILE":
      control = (
        <input
          id={fieldId}
          type="file"
          accept={input.extension}
          aria-invalid={!!error}
          onChange={(event) => onChange((event.target as HTMLInputElement).files?.[0] ?? null)}
        />
      );
      break;
    case "JSON":
    case "YAML":
      control = (
        <CodeEditor
          value={typeof value === "string" ? value : ""}
          language={type === "JSON" ? "json" : "yaml"}
          onChange={onChange}
          label={`${id} (${type})`}
          lineNumbers={false}
          className="input-editor"
          testId={`input-${id}`}
        />
      );
      break;
    case "SELECT":
    case "ENUM":
      if (input.isRadio) {
        control = (
          <div role="radiogroup" aria-labelledby={`${fieldId}-label`} class="radios">
            {values.map((option) => (
              <label class="checkbox">
                <input type="radio" name={id} checked={value === option} onChange={() => onChange(option)} />
                {option}
              </label>
            ))}
          </div>
        );
      } else if (input.allowCustomValue) {
        control = (
          <>
            {text("text", { list: `${fieldId}-values` })}
            <datalist id={`${fieldId}-values`}>
              {values.map((option) => (
                <option value={option} />
              ))}
            </datalist>
          </>
        );
      } else {
        control = (
          <select id={fieldId} value={typeof value === "string" ? value : ""} onChange={(event) => onChange((event.target as HTMLSelectElement).value)}>
            <option value="">—</option>
            {values.map((option) => (
              <option value={option}>{option}</option>
            ))}
          </select>
        );
      }
      break;
    case "MULTISELECT": {
      const selected = Array.isArray(value) ? value : [];
      control = (
        <div class="multiselect" role="group" aria-label={id}>
          {values.map((option) => (
            <label class="checkbox">
              <input
                type="checkbox"
                checked={selected.includes(option)}
                onChange={(event) =>
                  onChange((event.target as HTMLInputElement).checked ? [...selected, option] : selected.filter((item) => item !== option))
                }
              />
              {option}
            </label>
          ))}
        </div>
      );
      break;
    }
    case "ARRAY": {
      const items = Array.isArray(value) ? value : [];
      control = (
        <div class="array-editor">
          {items.map((item, index) => (
            <div class="array-item">
              <input
                aria-label={`${id} item ${index + 1}`}
                value={item}
                onInput={(event) => onChange(items.map((old, i) => (i === index ? (event.target as HTMLInputElement).value : old)))}
              />
              <button type="button" class="button small" aria-label={`Remove item ${index + 1}`} onClick={() => onChange(items.filter((_, i) => i !== index))}>
                −
              </button>
            </div>
          ))}
          <button type="button" class="button small" onClick={() => onChange([...items, ""])}>
            + Add item
          </button>
        </div>
      );
      break;
    }
    default:
      control = text("text", { pattern: input.validator });
  }
  return (
    <Field label={label} hint={hint} error={error} id={fieldId}>
      {control}
    </Field>
  );
}

function buildForm(inputs: FlowInput[], values: Record<string, Value>, visible: (input: FlowInput) => boolean): FormData {
  const form = new FormData();
  for (const input of inputs) {
    if (!visible(input)) continue;
    const id = inputIdOf(input);
    const serialized = serialize(input, values[id] ?? null);
    if (serialized === null) continue;
    if (serialized instanceof File) form.append("files", serialized, id);
    else form.append(id, serialized);
  }
  return form;
}

export function ExecuteModal({ flow, onClose }: { flow: Flow; onClose: () => void }) {
  const inputs = flow.inputs ?? [];
  const ids = inputs.map(inputIdOf);
  const [values, setValues] = useState<Record<string, Value>>(() =>
    Object.fromEntries(inputs.map((input) => [inputIdOf(input), initialValue(input)])),
  );
  const [labels, setLabels] = useState<{ key: string; value: string }[]>([]);
  const [scheduleDate, setScheduleDate] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [submitting, setSubmitting] = useState(false);
  const [disabledByServer, setDisabledByServer] = useState<Set<string>>(new Set());
  const validation = useRef<AbortController | null>(null);

  const hasConditions = inputs.some((input) => input.dependsOn?.condition);
  const visible = (input: FlowInput): boolean => {
    if (disabledByServer.has(inputIdOf(input))) return false;
    const deps = input.dependsOn?.inputs ?? [];
    return deps.every((dep) => {
      const value = values[dep];
      return value !== null && value !== "" && !(Array.isArray(value) && !value.length);
    });
  };

  // Conditions are Pebble expressions: ask the server which inputs they enable.
  useEffect(() => {
    if (!hasConditions) return;
    const timer = setTimeout(async () => {
      validation.current?.abort();
      const controller = new AbortController();
      validation.current = controller;
      try {
        const result = (await api.validateInputs(flow.namespace, flow.id, buildForm(inputs, values, () => true), controller.signal)) as {
          inputs?: { input?: { id?: string }; id?: string; enabled?: boolean }[];
        };
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
      const labelTexts = labels.filter((label) => label.key.trim()).map((label) => `${label.key.trim()}:${label.value}`);
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
        {inputs.filter(visible).map((input) => (
          <InputField
            key={inputIdOf(input)}
            input={input}
            value={values[inputIdOf(input)] ?? null}
            error={fieldErrors.byId[inputIdOf(input)]}
            onChange={(value) => setValues((old) => ({ ...old, [inputIdOf(input)]: value }))}
          />
        ))}
        <details class="advanced">
          <summary>Labels and schedule</summary>
          <fieldset>
            <legend>Labels</legend>
            {labels.map((label, index) => (
              <div class="label-row">
                <input
                  aria-label={`Label ${index + 1} key`}
                  placeholder="key"
                  value={label.key}
                  onInput={(event) => setLabels(labels.map((old, i) => (i === index ? { ...old, key: (event.target as HTMLInputElement).value } : old)))}
                />
                <input
                  aria-label={`Label ${index + 1} value`}
                  placeholder="value"
                  value={label.value}
                  onInput={(event) => setLabels(labels.map((old, i) => (i === index ? { ...old, value: (event.target as HTMLInputElement).value } : old)))}
                />
                <button type="button" class="button small" aria-label={`Remove label ${index + 1}`} onClick={() => setLabels(labels.filter((_, i) => i !== index))}>
                  −
                </button>
              </div>
            ))}
            <button type="button" class="button small" onClick={() => setLabels([...labels, { key: "", value: "" }])}>
              + Add label
            </button>
          </fieldset>
          <Field label="Schedule date" id="schedule-date" hint="Leave empty to start now">
            <input id="schedule-date" type="datetime-local" step={1} value={scheduleDate} onInput={(event) => setScheduleDate((event.target as HTMLInputElement).value)} />
          </Field>
        </details>
        {error !== null && (fieldErrors.rest.length > 0 || !Object.keys(fieldErrors.byId).length) && <ErrorBox error={error} title="Not executed" />}
        <div class="modal-actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={submitting} data-action="execute-submit">
            {submitting ? "Starting…" : "▶ Execute"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
