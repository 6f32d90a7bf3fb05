/** Kestra's execution and task-run states (flows.md §6). */

export const ALL_STATES = [
  "CREATED",
  "QUEUED",
  "RUNNING",
  "PAUSED",
  "RESTARTED",
  "KILLING",
  "SUCCESS",
  "WARNING",
  "FAILED",
  "KILLED",
  "CANCELLED",
  "RETRYING",
  "RETRIED",
  "SKIPPED",
] as const;

const TERMINATED = new Set(["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "RETRIED", "SKIPPED"]);

export function isTerminated(state: string | undefined): boolean {
  return !!state && TERMINATED.has(state);
}

export function isRunning(state: string | undefined): boolean {
  return state === "RUNNING" || state === "KILLING";
}

export function isRestartable(state: string | undefined): boolean {
  return state === "FAILED" || state === "PAUSED";
}

export function isKillable(state: string | undefined): boolean {
  return !!state && !TERMINATED.has(state) && state !== "KILLING";
}

/** The CSS class suffix of a state's colour. */
export function stateTone(state: string | undefined): string {
  switch (state) {
    case "SUCCESS":
      return "success";
    case "WARNING":
      return "warning";
    case "FAILED":
      return "danger";
    case "KILLED":
    case "KILLING":
    case "CANCELLED":
      return "killed";
    case "RUNNING":
    case "RETRYING":
      return "running";
    case "PAUSED":
    case "QUEUED":
      return "paused";
    case "SKIPPED":
    case "RETRIED":
      return "muted";
    default:
      return "created";
  }
}

export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] as const;

export function levelRank(level: string): number {
  const index = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  return index < 0 ? 2 : index;
}
