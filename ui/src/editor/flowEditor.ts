/** The flow editor's CodeMirror extensions: live validation from the server, completion from the schema. */
import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import { linter, type Diagnostic } from "@codemirror/lint";
import type { EditorState, Text } from "@codemirror/state";
import type { EditorView } from "@codemirror/view";
import { api } from "../api";
import type { ValidateItem } from "../types";
import { locatePath, parseFlow, type FlowModel } from "./flowModel";
import type { PluginSchema, PropertyDoc } from "./schema";

export interface Problem {
  severity: "error" | "warning" | "info";
  message: string;
  line: number;
  column: number;
  from: number;
}

export interface ValidationReport {
  problems: Problem[];
  outdated: boolean;
  /** Set when the validation call itself failed. */
  failure?: string;
}

const LOCATED = /^(\d+):(\d+):\s*(.*)$/s;
const LINE_WORDS = /\bline (\d+)(?:,? col(?:umn)? (\d+))?/i;
const PATH_PREFIX = /^([A-Za-z0-9_.\-[\]]+):\s/;

function clampOffset(doc: Text, line: number, column: number): number {
  const safeLine = Math.min(Math.max(line, 1), doc.lines);
  const info = doc.line(safeLine);
  return Math.min(info.from + Math.max(column - 1, 0), info.to);
}

function problemAt(doc: Text, model: FlowModel, text: string, severity: Problem["severity"], hint?: string): Problem {
  let from: number | null = null;
  let message = text.trim();
  const located = LOCATED.exec(message);
  if (located) {
    from = clampOffset(doc, Number(located[1]), Number(located[2]));
    message = located[3];
  } else {
    const words = LINE_WORDS.exec(message);
    if (words) from = clampOffset(doc, Number(words[1]), Number(words[2] ?? 1));
  }
  if (from === null) {
    const path = hint ?? PATH_PREFIX.exec(message)?.[1];
    if (path) from = locatePath(model, path);
  }
  if (from === null) {
    const replaced = /^(\S+) is replaced by/.exec(message);
    if (replaced) {
      const index = doc.toString().indexOf(replaced[1]);
      if (index >= 0) from = index;
    }
  }
  from ??= 0;
  const line = doc.lineAt(from);
  return { severity, message, line: line.number, column: from - line.from + 1, from };
}

/** Split `constraints` into single problems: one per line, or Kestra's `Invalid Flow: a, b`. */
export function splitConstraints(constraints: string): string[] {
  return constraints
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

export function reportOf(items: ValidateItem[], doc: Text, model: FlowModel): ValidationReport {
  const problems: Problem[] = [];
  const item = items.find((candidate) => (candidate.index ?? 0) === 0) ?? items[0];
  if (item?.problems?.length) {
    for (const problem of item.problems) {
      const text = problem.path ? `${problem.path}: ${problem.message}` : problem.message;
      const located = problem.line ? `${problem.line}:${problem.column ?? 1}: ${text}` : text;
      problems.push(problemAt(doc, model, located, "error", problem.path ?? undefined));
    }
  } else if (item?.constraints) {
    for (const line of splitConstraints(item.constraints)) problems.push(problemAt(doc, model, line, "error"));
  }
  for (const path of item?.deprecationPaths ?? []) {
    problems.push(problemAt(doc, model, `${path}: deprecated`, "warning", path));
  }
  for (const warning of item?.warnings ?? []) problems.push(problemAt(doc, model, warning, "warning"));
  for (const info of item?.infos ?? []) problems.push(problemAt(doc, model, info, "info"));
  problems.sort((a, b) => a.from - b.from);
  return { problems, outdated: !!item?.outdated };
}

function diagnosticOf(doc: Text, problem: Problem): Diagnostic {
  const line = doc.lineAt(problem.from);
  const rest = line.text.slice(problem.from - line.from);
  const token = /^\S+/.exec(rest)?.[0].length ?? 0;
  const to = token ? problem.from + token : line.to;
  return { from: problem.from, to: Math.max(to, problem.from), severity: problem.severity, message: problem.message };
}

/** Validate the text on each pause in typing; report problems as inline markers and to `onReport`. */
export function serverValidation(onReport: (report: ValidationReport) => void) {
  return linter(
    async (view: EditorView) => {
      const text = view.state.doc.toString();
      if (!text.trim()) {
        onReport({ problems: [], outdated: false });
        return [];
      }
      let items: ValidateItem[];
      try {
        items = await api.validateFlow(text);
      } catch (error) {
        onReport({ problems: [], outdated: false, failure: (error as Error).message });
        return [];
      }
      if (view.state.doc.toString() !== text) return [];
      const report = reportOf(Array.isArray(items) ? items : [items], view.state.doc, parseFlow(text));
      onReport(report);
      return report.problems.map((problem) => diagnosticOf(view.state.doc, problem));
    },
    { delay: 500 },
  );
}

const FLOW_KEYS: [string, string][] = [
  ["id", "The flow id, unique in its namespace"],
  ["namespace", "The flow's namespace (dotted, lower case)"],
  ["description", "Markdown description"],
  ["labels", "Key/value labels"],
  ["inputs", "Typed inputs given at execution time"],
  ["variables", "Values readable as {{ vars.name }}"],
  ["tasks", "The tasks, run in order"],
  ["errors", "Tasks run when the execution fails"],
  ["finally", "Tasks always run at the end"],
  ["afterExecution", "Tasks run after the execution ended"],
  ["outputs", "Flow outputs"],
  ["triggers", "Schedules, webhooks, flow triggers"],
  ["pluginDefaults", "Default property values per task type"],
  ["concurrency", "Limit of concurrent executions"],
  ["retry", "Flow-level retry"],
  ["sla", "Service-level agreements"],
  ["disabled", "Disable the flow"],
];

const EXPRESSION_ROOTS: [string, string][] = [
  ["outputs", "outputs of earlier tasks"],
  ["inputs", "the execution's inputs"],
  ["vars", "flow variables"],
  ["trigger", "the trigger's variables"],
  ["execution", "id, startDate, originalId, state"],
  ["flow", "id, namespace, revision"],
  ["taskrun", "id, value, attemptsCount, parentId"],
  ["parent", "the parent task run of a loop"],
  ["labels", "the execution's labels"],
  ["secret('NAME')", "a secret"],
  ["kv('KEY')", "a value of the KV store"],
  ["fromJson(…)", "parse JSON text"],
  ["now()", "the current date"],
];

function indentOf(text: string): number {
  const match = /^(\s*)(-\s+)?/.exec(text)!;
  return match[0].length;
}

interface Block {
  type: string | null;
  keys: string[];
  section: string | null;
}

/** The mapping whose keys start at `column` around `lineNumber`: its `type:` and present keys. */
function blockAt(doc: Text, lineNumber: number, column: number): Block {
  const keys: string[] = [];
  let type: string | null = null;
  const keyRe = /^(\s*)(-\s+)?([A-Za-z_$][\w$.-]*)\s*:(.*)$/;
  const read = (n: number): "stop" | "skip" | "ok" => {
    const text = doc.line(n).text;
    if (!text.trim() || text.trim().startsWith("#")) return "skip";
    const match = keyRe.exec(text);
    const keyColumn = match ? match[1].length + (match[2]?.length ?? 0) : indentOf(text);
    if (keyColumn < column) return "stop";
    if (keyColumn === column && match) {
      keys.push(match[3]);
      if (match[3] === "type") type = match[4].trim().replace(/^["']|["']$/g, "");
      if (match[2] && n !== lineNumber) return "stop";
    }
    return "ok";
  };
  const startText = doc.line(lineNumber).text;
  const startsItem = /^\s*-\s+/.test(startText);
  for (let n = lineNumber - 1; n >= 1 && !startsItem; n--) {
    const text = doc.line(n).text;
    const verdict = read(n);
    if (verdict === "stop") break;
    if (/^\s*-\s+/.test(text) && indentOf(text) === column) break;
  }
  for (let n = lineNumber + 1; n <= doc.lines; n++) {
    const text = doc.line(n).text;
    if (/^\s*-\s+/.test(text) && indentOf(text) <= column) break;
    if (read(n) === "stop") break;
  }
  return { type, keys, section: sectionAt(doc, lineNumber, column) };
}

/** The nearest parent key above a line (tasks, triggers, conditions...). */
function sectionAt(doc: Text, lineNumber: number, column: number): string | null {
  for (let n = lineNumber - 1; n >= 1; n--) {
    const text = doc.line(n).text;
    const match = /^(\s*)(?:-\s+)?([A-Za-z_][\w]*)\s*:\s*$/.exec(text);
    if (match && indentOf(text) < column && match[1].length < column) return match[2];
  }
  return null;
}

function propertyOptions(props: PropertyDoc[], present: string[]): Completion[] {
  return props
    .filter((prop) => !present.includes(prop.name))
    .map((prop) => ({
      label: prop.name,
      type: "property",
      detail: `${prop.type}${prop.required ? " · required" : ""}`,
      info: prop.description,
      apply: `${prop.name}: `,
      boost: prop.required ? 2 : prop.deprecated ? -2 : 0,
    }));
}

function expressionCompletion(context: CompletionContext, model: FlowModel, before: string): CompletionResult | null {
  const open = before.lastIndexOf("{{");
  if (open < 0 || before.indexOf("}}", open) >= 0) return null;
  const word = /[\w.$"'[\]-]*$/.exec(before)![0];
  const dot = word.lastIndexOf(".");
  const from = context.pos - (word.length - dot - 1);
  const head = dot >= 0 ? word.slice(0, dot) : "";
  const ids = (names: string[], detail: string): Completion[] =>
    names.map((name) => ({
      label: /^[A-Za-z_]\w*$/.test(name) ? name : `["${name}"]`,
      type: "variable",
      detail,
    }));
  let options: Completion[];
  if (head === "outputs") {
    const taskIds = model.spans.map((span) => span.id);
    options = ids([...new Set(taskIds)], "task");
  } else if (head === "inputs") options = ids(model.inputs, "input");
  else if (head === "vars") options = ids(model.variables, "variable");
  else if (head === "flow") options = ids(["id", "namespace", "revision", "tenantId"], "flow");
  else if (head === "execution") options = ids(["id", "startDate", "originalId", "state"], "execution");
  else if (head === "taskrun") options = ids(["id", "value", "attemptsCount", "parentId", "startDate"], "task run");
  else if (!head) {
    options = EXPRESSION_ROOTS.map(([label, detail]) => ({ label, detail, type: "keyword" }));
  } else return null;
  return { from: dot >= 0 ? from : context.pos - word.length, options, validFor: /^[\w"[\]-]*$/ };
}

export function flowCompletion(getSchema: () => PluginSchema | null) {
  return (context: CompletionContext): CompletionResult | null => {
    const state: EditorState = context.state;
    const line = state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    const model = parseFlow(state.doc.toString());
    const expression = expressionCompletion(context, model, before);
    if (expression) return expression;
    const schema = getSchema();

    const typeValue = /^(\s*)(-\s+)?type:\s*["']?([\w.]*)$/.exec(before);
    if (typeValue) {
      const column = typeValue[1].length + (typeValue[2]?.length ?? 0);
      const section = sectionAt(state.doc, line.number, column);
      const wanted = section === "triggers" ? "trigger" : section === "conditions" ? "condition" : "task";
      const options: Completion[] = [...(schema?.types.values() ?? [])]
        .filter((doc) => doc.kind === wanted || (wanted === "task" && doc.kind === "other"))
        .map((doc) => ({
          label: doc.type,
          type: "class",
          detail: doc.aliasOf ? `alias of ${doc.aliasOf}` : doc.title,
          boost: doc.aliasOf || doc.deprecated ? -1 : 0,
        }));
      return { from: context.pos - typeValue[3].length, options, validFor: /^[\w.]*$/ };
    }

    const key = /^(\s*)(-\s+)?([\w$]*)$/.exec(before);
    if (key && (context.explicit || key[3].length > 0)) {
      const column = key[1].length + (key[2]?.length ?? 0);
      const from = context.pos - key[3].length;
      if (column === 0) {
        const present = blockAt(state.doc, line.number, 0).keys;
        const props = schema?.flowProperties.length
          ? schema.flowProperties
          : FLOW_KEYS.map(([name, description]) => ({ name, description, type: "", required: false }));
        return { from, options: propertyOptions(props, present), validFor: /^[\w$]*$/ };
      }
      const block = blockAt(state.doc, line.number, column);
      const doc = block.type ? schema?.types.get(block.type) : undefined;
      if (doc) return { from, options: propertyOptions(doc.properties, block.keys), validFor: /^[\w$]*$/ };
      if (!block.type && ["tasks", "errors", "finally", "triggers", "then", "else"].includes(block.section ?? "")) {
        const base: PropertyDoc[] = [
          { name: "id", type: "string", required: true },
          { name: "type", type: "string", required: true },
        ];
        return { from, options: propertyOptions(base, block.keys), validFor: /^[\w$]*$/ };
      }
      return null;
    }

    const enumValue = /^(\s*)(-\s+)?([\w$]+):\s*([\w-]*)$/.exec(before);
    if (enumValue) {
      const column = enumValue[1].length + (enumValue[2]?.length ?? 0);
      const block = blockAt(state.doc, line.number, column);
      const prop = block.type ? schema?.types.get(block.type)?.properties.find((p) => p.name === enumValue[3]) : undefined;
      if (prop?.enum?.length) {
        return {
          from: context.pos - enumValue[4].length,
          options: prop.enum.map((value) => ({ label: value, type: "enum" })),
          validFor: /^[\w-]*$/,
        };
      }
      if (prop?.type === "boolean") {
        return {
          from: context.pos - enumValue[4].length,
          options: [{ label: "true" }, { label: "false" }],
        };
      }
    }
    return null;
  };
}
