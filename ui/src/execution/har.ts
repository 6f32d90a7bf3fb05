/** The HAR 1.2 files Request task runs record (docs/curl.md): their shape and timing segments. */

export interface HarHeader {
  name: string;
  value: string;
  /** lanner: a header the HTTP client added by itself. */
  _generated?: boolean;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion?: string;
    headers: HarHeader[];
    queryString?: { name: string; value: string }[];
    postData?: { mimeType?: string; text?: string; params?: { name: string; value?: string; fileName?: string }[] };
    bodySize?: number;
  };
  response: {
    status: number;
    statusText?: string;
    httpVersion?: string;
    headers: HarHeader[];
    content?: { size?: number; mimeType?: string };
    redirectURL?: string;
    bodySize?: number;
  };
  timings: Partial<Record<TimingName | "dns", number>>;
  /** lanner: the task's error message when the request failed (status 0). */
  _error?: string;
}

export interface Har {
  log: { entries: HarEntry[]; comment?: string };
}

export const TIMINGS = ["blocked", "connect", "ssl", "send", "wait", "receive"] as const;
export type TimingName = (typeof TIMINGS)[number];

export interface Segment {
  name: TimingName;
  start: number;
  duration: number;
}

/** Parse a HAR file's text; a clear error when it is not one. */
export function parseHar(text: string): Har {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`The recorded exchange is not JSON: ${(error as Error).message}`);
  }
  const entries = (parsed as Har | null)?.log?.entries;
  if (!Array.isArray(entries)) throw new Error("The recorded exchange has no log.entries: it is not a HAR file");
  return parsed as Har;
}

/**
 * The phases of one entry one after the other, in milliseconds from the entry's start.
 * HAR counts `ssl` inside `connect`, so connect's own segment is what remains; -1 means
 * "does not apply" (a reused connection, plain HTTP) and takes no room.
 */
export function segmentsOf(entry: HarEntry): Segment[] {
  const time = (name: TimingName | "dns") => Math.max(0, entry.timings[name] ?? 0);
  const ssl = time("ssl");
  const lengths: Record<TimingName, number> = {
    blocked: time("blocked"),
    connect: Math.max(0, time("connect") - ssl),
    ssl,
    send: time("send"),
    wait: time("wait"),
    receive: time("receive"),
  };
  const segments: Segment[] = [];
  let start = 0;
  for (const name of TIMINGS) {
    segments.push({ name, start, duration: lengths[name] });
    start += lengths[name];
  }
  return segments;
}

/** Each entry's start, in milliseconds from the first entry's (redirects follow each other). */
export function offsetsOf(entries: HarEntry[]): number[] {
  const starts = entries.map((entry) => Date.parse(entry.startedDateTime));
  const first = Math.min(...starts.filter((start) => !Number.isNaN(start)));
  return starts.map((start) => (Number.isNaN(start) || !Number.isFinite(first) ? 0 : start - first));
}

/** A size in bytes as people read it; -1 (unknown) as a dash. */
export function formatBytes(size: number | undefined): string {
  if (size === undefined || size < 0) return "—";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/** Whether a task type is an HTTP Request task, under its current or a legacy name. */
export function isRequestType(type: string | undefined): boolean {
  return !!type && /\.http\.Request$/.test(type);
}
