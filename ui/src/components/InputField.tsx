/** The form field of one flow input, by input type (execute and resume forms share them). */
import { h } from "preact";
import { ApiError } from "../api";
import { CodeEditor } from "./CodeEditor";
import { ErrorBox, Field } from "./common";
import type { FlowInput } from "../types";

export type Value = string | boolean | string[] | File | null;

function isExpression(value: unknown): boolean {
  return typeof value === "string" && /\{\{|\{%/.test(value);
}

export function initialValue(input: FlowInput): Value {
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

export function inputIdOf(input: FlowInput): string {
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

export function InputField({ input, value, onChange, error }: {
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

export function buildForm(inputs: FlowInput[], values: Record<string, Value>, visible: (input: FlowInput) => boolean): FormData {
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

/** The fields of a list of inputs, each with the server's error about it. */
export function InputFields({ inputs, values, onChange, errors }: {
  inputs: FlowInput[];
  values: Record<string, Value>;
  onChange: (id: string, value: Value) => void;
  errors: Record<string, string>;
}) {
  return (
    <>
      {inputs.map((input) => (
        <InputField
          key={inputIdOf(input)}
          input={input}
          value={values[inputIdOf(input)] ?? null}
          error={errors[inputIdOf(input)]}
          onChange={(value) => onChange(inputIdOf(input), value)}
        />
      ))}
    </>
  );
}

/** A refusal that no field shows: one not about an input, or about none of those shown. */
export function FormError({ error, errors, title }: {
  error: unknown;
  errors: { byId: Record<string, string>; rest: string[] };
  title: string;
}) {
  if (error === null || (errors.rest.length === 0 && Object.keys(errors.byId).length > 0)) return null;
  return <ErrorBox error={error} title={title} />;
}
