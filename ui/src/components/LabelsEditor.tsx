/** Rows of label key and value inputs, with buttons to add and remove a row. */
import type { Label } from "../types";

export function LabelsEditor({ labels, onChange }: { labels: Label[]; onChange: (labels: Label[]) => void }) {
  const update = (index: number, change: Partial<Label>) => onChange(labels.map((old, i) => (i === index ? { ...old, ...change } : old)));
  return (
    <fieldset>
      <legend>Labels</legend>
      {labels.map((label, index) => (
        <div class="label-row">
          <input
            aria-label={`Label ${index + 1} key`}
            placeholder="key"
            value={label.key}
            onInput={(event) => update(index, { key: (event.target as HTMLInputElement).value })}
          />
          <input
            aria-label={`Label ${index + 1} value`}
            placeholder="value"
            value={label.value}
            onInput={(event) => update(index, { value: (event.target as HTMLInputElement).value })}
          />
          <button type="button" class="button small" aria-label={`Remove label ${index + 1}`} onClick={() => onChange(labels.filter((_, i) => i !== index))}>
            −
          </button>
        </div>
      ))}
      <button type="button" class="button small" onClick={() => onChange([...labels, { key: "", value: "" }])}>
        + Add label
      </button>
    </fieldset>
  );
}

/** The rows with a key, trimmed: empty rows are left out. */
export function filledLabels(labels: Label[]): Label[] {
  return labels.filter((label) => label.key.trim()).map((label) => ({ key: label.key.trim(), value: label.value }));
}
