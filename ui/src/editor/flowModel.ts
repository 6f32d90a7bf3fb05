/** The editor's view of the YAML: the parsed flow, where each task sits, and paths to positions. */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";

export interface TaskSpan {
  id: string;
  type: string;
  from: number;
  to: number;
  /** The offset of the `type:` value, and the keys present in the task. */
  keys: string[];
}

export interface FlowModel {
  value: Record<string, unknown> | null;
  spans: TaskSpan[];
  inputs: string[];
  variables: string[];
  lineCounter: LineCounter;
  doc: ReturnType<typeof parseDocument>;
}

export function parseFlow(text: string): FlowModel {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.split(/^---\s*$/m)[0] ?? "", { lineCounter, keepSourceTokens: false, uniqueKeys: false });
  let value: Record<string, unknown> | null = null;
  try {
    const js = doc.toJS({ maxAliasCount: 100 });
    if (js && typeof js === "object" && !Array.isArray(js)) value = js as Record<string, unknown>;
  } catch {
    value = null;
  }
  const spans: TaskSpan[] = [];
  collectSpans(doc.contents as YamlNode | null, spans);
  const inputs = Array.isArray(value?.inputs)
    ? (value!.inputs as Record<string, unknown>[]).map((input) => String(input?.id ?? input?.name ?? "")).filter(Boolean)
    : [];
  const variables =
    value?.variables && typeof value.variables === "object" ? Object.keys(value.variables as object) : [];
  return { value, spans, inputs, variables, lineCounter, doc };
}

function collectSpans(node: YamlNode | null | undefined, spans: TaskSpan[]): void {
  if (!node) return;
  if (isMap(node)) {
    const id = node.get("id");
    const type = node.get("type");
    if (typeof id === "string" && typeof type === "string" && node.range) {
      const keys = node.items.map((pair) => (isScalar(pair.key) ? String(pair.key.value) : "")).filter(Boolean);
      spans.push({ id, type, from: node.range[0], to: node.range[1], keys });
    }
    node.items.forEach((pair) => collectSpans(pair.value as YamlNode, spans));
  } else if (isSeq(node)) {
    node.items.forEach((item) => collectSpans(item as YamlNode, spans));
  }
}

/** The innermost task (or trigger) whose mapping contains `offset`. */
export function taskAt(model: FlowModel, offset: number): TaskSpan | null {
  let best: TaskSpan | null = null;
  for (const span of model.spans) {
    if (span.from <= offset && offset <= span.to && (!best || span.to - span.from < best.to - best.from)) best = span;
  }
  return best;
}

/**
 * The offset a validation path points at: `t1.mesage` (task id then property), `tasks[0].uri`,
 * `inputs[1]`, or a top-level key.
 */
export function locatePath(model: FlowModel, path: string): number | null {
  const parts = path.split(/\.|\[(\d+)\]/).filter((part) => part !== undefined && part !== "");
  if (!parts.length) return null;
  let node: unknown = model.doc.contents;
  const first = parts[0];
  const span = model.spans.find((candidate) => candidate.id === first);
  let index = 0;
  if (span && !(isMap(node) && node.has(first))) {
    node = findMapAt(model.doc.contents as YamlNode, span.from);
    index = 1;
  }
  let found: number | null = rangeStart(node);
  for (; index < parts.length; index++) {
    const part = parts[index];
    let next: unknown = null;
    let keyStart: number | null = null;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === part);
      if (pair) {
        next = pair.value;
        keyStart = rangeStart(pair.key);
      }
    } else if (isSeq(node) && /^\d+$/.test(part)) {
      next = node.items[Number(part)];
    }
    if (next === null && keyStart === null) break;
    found = keyStart ?? rangeStart(next) ?? found;
    node = next;
  }
  return found;
}

function rangeStart(node: unknown): number | null {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : null;
}

function findMapAt(node: YamlNode | null | undefined, from: number): YamlNode | null {
  if (!node) return null;
  if (node.range && node.range[0] === from && isMap(node)) return node;
  if (isMap(node)) {
    for (const pair of node.items) {
      const found = findMapAt(pair.value as YamlNode, from);
      if (found) return found;
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      const found = findMapAt(item as YamlNode, from);
      if (found) return found;
    }
  }
  return null;
}
