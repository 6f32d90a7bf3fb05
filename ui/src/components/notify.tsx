/** Toasts: short messages for actions (success or the API's error message). */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";

export interface Toast {
  id: number;
  kind: "info" | "success" | "error";
  message: string;
  details?: string[];
}

let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit(): void {
  listeners.forEach((listener) => listener());
}

export function notify(kind: Toast["kind"], message: string, details: string[] = []): void {
  const toast = { id: nextId++, kind, message, details };
  toasts = [...toasts.slice(-4), toast];
  emit();
  setTimeout(() => dismiss(toast.id), kind === "error" ? 12000 : 4000);
}

export function notifyError(error: unknown): void {
  if (error instanceof ApiError) notify("error", error.message, error.details);
  else notify("error", (error as Error)?.message ?? String(error));
}

export function dismiss(id: number): void {
  toasts = toasts.filter((toast) => toast.id !== id);
  emit();
}

export function Toasts() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((tick) => tick + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div class={`toast toast-${toast.kind}`} role={toast.kind === "error" ? "alert" : "status"} key={toast.id}>
          <div class="toast-body">
            <div>{toast.message}</div>
            {toast.details?.map((detail) => <div class="toast-detail">{detail}</div>)}
          </div>
          <button class="icon-button" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
