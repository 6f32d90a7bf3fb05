/** Pretty-printed JSON with token colours (no editor: a plain <pre>, cheap for large values). */
import type { JSX } from "preact";

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

export function highlightJson(text: string): (string | JSX.Element)[] {
  const out: (string | JSX.Element)[] = [];
  let last = 0;
  let index = 0;
  for (const match of text.matchAll(TOKEN)) {
    const start = match.index ?? 0;
    if (start > last) out.push(text.slice(last, start));
    if (match[1]) {
      out.push(
        <span key={index++} class={match[2] ? "json-key" : "json-string"}>
          {match[1]}
        </span>,
      );
      if (match[2]) out.push(match[2]);
    } else if (match[3]) {
      out.push(
        <span key={index++} class="json-keyword">
          {match[3]}
        </span>,
      );
    } else {
      out.push(
        <span key={index++} class="json-number">
          {match[4]}
        </span>,
      );
    }
    last = start + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function JsonView({ value, label }: { value: unknown; label?: string }) {
  const text = JSON.stringify(value, null, 2) ?? String(value);
  return (
    <pre class="json-view" aria-label={label} tabIndex={0}>
      {highlightJson(text)}
    </pre>
  );
}
