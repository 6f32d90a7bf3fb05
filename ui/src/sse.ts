/**
 * Server-sent events over `fetch`, so requests carry the same credentials as every other call
 * (EventSource cannot send an Authorization header).
 */
import { authHeaders, buildUrl } from "./api";

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseHandlers {
  onEvent: (event: SseEvent) => void;
  /** The stream ended (the server closed it) or failed; `error` is set on failure. */
  onClose?: (error?: Error) => void;
}

/** Open `path` (an API path) as an event stream; the returned function closes it. */
export function follow(path: string, handlers: SseHandlers, query?: Record<string, string>): () => void {
  const controller = new AbortController();
  let closed = false;
  const finish = (error?: Error) => {
    if (closed) return;
    closed = true;
    handlers.onClose?.(error);
  };
  (async () => {
    const response = await fetch(buildUrl(path, query), {
      headers: { Accept: "text/event-stream", ...authHeaders() },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`${response.status} ${response.statusText}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let boundary: number;
      while ((boundary = nextBoundary(buffer)) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^(\r\n|\r|\n){2}/, "");
        const event = parseBlock(block);
        if (event && !closed) handlers.onEvent(event);
      }
    }
  })().then(
    () => finish(),
    (error: Error) => {
      if (error.name !== "AbortError") finish(error);
    },
  );
  return () => {
    closed = true;
    controller.abort();
  };
}

function nextBoundary(buffer: string): number {
  const match = /(\r\n|\r|\n)(\r\n|\r|\n)/.exec(buffer);
  return match ? match.index : -1;
}

function parseBlock(block: string): SseEvent | null {
  const event: SseEvent = { data: "" };
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "id") event.id = value;
    else if (field === "event") event.event = value;
  }
  if (!data.length && event.id === undefined && event.event === undefined) return null;
  event.data = data.join("\n");
  return event;
}
