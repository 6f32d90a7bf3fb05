/** Small shared pieces: state badge, error box, spinner, labels, tabs, copy button. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { copyText } from "../format";
import { href } from "../router";
import { stateTone } from "../states";

export function StateBadge({ state }: { state: string | undefined }) {
  return (
    <span class={`badge state-${stateTone(state)}`} data-state={state}>
      {state ?? "UNKNOWN"}
    </span>
  );
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div class="error-box" role="alert">
      {title && <strong>{title}: </strong>}
      <span class="error-message">{message}</span>
      {details.length > 0 && (
        <ul>
          {details.map((detail) => (
            <li>{detail}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <div class="spinner" role="status">
      <span class="spinner-dot" aria-hidden="true" />
      {label}…
    </div>
  );
}

export function Labels({ labels }: { labels: { key: string; value: string }[] }) {
  return (
    <span class="labels">
      {labels.map((label) => (
        <span class="label-chip" title={`${label.key}: ${label.value}`}>
          {label.key}:{label.value}
        </span>
      ))}
    </span>
  );
}

export interface TabDef {
  id: string;
  label: string;
}

export function TabBar({ tabs, active, base, label }: { tabs: TabDef[]; active: string; base: string; label: string }) {
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map((tab) => (
        <a
          href={href(`${base}/${tab.id}`)}
          class={`tab${tab.id === active ? " active" : ""}`}
          aria-current={tab.id === active ? "page" : undefined}
          data-tab={tab.id}
        >
          {tab.label}
        </a>
      ))}
    </nav>
  );
}

export function CopyButton({ text, label = "Copy", className = "" }: { text: () => string; label?: string; className?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class={`button small ${className}`}
      onClick={async () => {
        await copyText(text());
        setDone(true);
        setTimeout(() => setDone(false), 1200);
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function Field({ label, children, hint, error, id }: {
  label: ComponentChildren;
  children: ComponentChildren;
  hint?: ComponentChildren;
  error?: string | null;
  id?: string;
}) {
  return (
    <div class={`field${error ? " has-error" : ""}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && <div class="hint">{hint}</div>}
      {error && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
