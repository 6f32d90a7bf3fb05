/** Dates, durations and small text helpers. */

export function parseIsoDuration(text: string | undefined): number | null {
  if (!text) return null;
  const match = /^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!match) return null;
  const [, sign, d, h, m, s] = match;
  const seconds = Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
  return (sign ? -1 : 1) * seconds * 1000;
}

/** Milliseconds as a short human text: 850ms, 1.25s, 2m 5s, 1h 2m. */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.floor(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export function durationOf(state: { duration?: string; startDate?: string; endDate?: string } | undefined): number | null {
  if (!state) return null;
  const start = state.startDate ? Date.parse(state.startDate) : NaN;
  if (!state.endDate && !Number.isNaN(start)) return Date.now() - start;
  const parsed = parseIsoDuration(state.duration);
  if (parsed !== null) return parsed;
  const end = state.endDate ? Date.parse(state.endDate) : NaN;
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** A date in the local time zone (or the one chosen in Settings). */
export function formatDate(iso: string | undefined | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const zone = localStorage.getItem("lanner.timeZone");
  if (zone) {
    try {
      return new Intl.DateTimeFormat(undefined, {
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        timeZone: zone,
      }).format(date);
    } catch {
      // An unknown zone falls back to the browser's.
    }
  }
  return dateFormat.format(date);
}

const BUCKET_FORMATS: Record<string, Intl.DateTimeFormatOptions> = {
  minute: { hour: "2-digit", minute: "2-digit" },
  hour: { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" },
  day: { year: "numeric", month: "2-digit", day: "2-digit" },
  week: { year: "numeric", month: "2-digit", day: "2-digit" },
  month: { year: "numeric", month: "2-digit" },
};

/** The start of a time bucket of metric aggregates, as precise as its size (`groupBy`). */
export function formatBucket(iso: string, groupBy: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options = BUCKET_FORMATS[groupBy] ?? BUCKET_FORMATS.day;
  const zone = localStorage.getItem("lanner.timeZone") ?? undefined;
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }
}

/** A log timestamp: local time with milliseconds. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(
    date.getMinutes(),
  )}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function labelsOf(labels: { key: string; value: string }[] | Record<string, string> | undefined): {
  key: string;
  value: string;
}[] {
  if (!labels) return [];
  if (Array.isArray(labels)) return labels;
  return Object.entries(labels).map(([key, value]) => ({ key, value: String(value) }));
}

export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Fall back to a hidden text area below (insecure origins, denied permission).
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

export function pluralize(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** The last part of a dotted plugin type: `io.kestra.plugin.core.log.Log` is `Log`. */
export function shortType(type: string): string {
  const parts = type.split(".");
  return parts[parts.length - 1] ?? type;
}
