/**
 * The plugin schema (`GET /plugins/schemas/flow`, a JSON schema with `definitions`) read into
 * what the editor needs: task and trigger types with their properties, outputs and examples.
 */
import { api } from "../api";

export interface PropertyDoc {
  name: string;
  type: string;
  description?: string;
  default?: unknown;
  required: boolean;
  enum?: string[];
  deprecated?: boolean;
}

export interface TypeDoc {
  type: string;
  kind: "task" | "trigger" | "condition" | "other";
  title?: string;
  description?: string;
  properties: PropertyDoc[];
  outputs: PropertyDoc[];
  examples: { title?: string; code: string }[];
  deprecated?: boolean;
  /** Set on an alias: the canonical type it stands for. */
  aliasOf?: string;
}

export interface PluginSchema {
  types: Map<string, TypeDoc>;
  flowProperties: PropertyDoc[];
}

type Json = Record<string, unknown>;

let loading: Promise<PluginSchema> | null = null;

/** The documentation page of one type (`GET /plugins/{cls}`): markdown and outputs. */
export async function loadTypeDoc(type: string): Promise<{ markdown: string; outputs: PropertyDoc[] }> {
  const raw = await api.pluginDoc(type);
  const schema = asObject(raw.schema);
  return { markdown: String(raw.markdown ?? ""), outputs: outputsOf(schema.outputs, schema) };
}

export function loadSchema(): Promise<PluginSchema> {
  loading ??= api.flowSchema().then(readSchema, (error) => {
    loading = null;
    throw error;
  });
  return loading;
}

function asObject(value: unknown): Json {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function resolveRef(root: Json, ref: unknown): Json {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return {};
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) node = asObject(node)[decodeURIComponent(part.replace(/~1/g, "/").replace(/~0/g, "~"))];
  return asObject(node);
}

function typeText(prop: Json, root: Json): string {
  if (typeof prop.$ref === "string") return resolveRef(root, prop.$ref).title ? String(resolveRef(root, prop.$ref).title) : "object";
  const type = prop.type;
  if (Array.isArray(type)) return type.join(" | ");
  if (typeof type === "string") {
    if (type === "array") {
      const items = asObject(prop.items);
      return `array of ${typeText(items, root) || "any"}`;
    }
    return type;
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const variants = prop[key];
    if (Array.isArray(variants)) {
      const names = [...new Set(variants.map((variant) => typeText(asObject(variant), root)).filter(Boolean))];
      if (names.length) return names.join(" | ");
    }
  }
  return "";
}

function properties(definition: Json, root: Json): PropertyDoc[] {
  const required = new Set(Array.isArray(definition.required) ? definition.required.map(String) : []);
  const props = asObject(definition.properties);
  return Object.entries(props)
    .filter(([name]) => name !== "type")
    .map(([name, raw]) => {
      const prop = asObject(raw);
      const enumValues = Array.isArray(prop.enum) ? prop.enum.map(String) : undefined;
      return {
        name,
        type: typeText(prop, root),
        description: (prop.markdownDescription ?? prop.description ?? prop.title) as string | undefined,
        default: prop.default,
        required: required.has(name) || prop.$required === true,
        enum: enumValues,
        deprecated: prop.$deprecated === true || prop.deprecated === true,
      };
    });
}

function typeNames(definition: Json): string[] {
  const typeProp = asObject(asObject(definition.properties).type);
  if (typeof typeProp.const === "string") return [typeProp.const];
  if (Array.isArray(typeProp.enum)) return typeProp.enum.map(String);
  return [];
}

function examples(definition: Json): { title?: string; code: string }[] {
  const raw = definition.$examples ?? definition.examples;
  if (!Array.isArray(raw)) return [];
  return raw
    .map((example) => {
      if (typeof example === "string") return { code: example };
      const object = asObject(example);
      return { title: object.title as string | undefined, code: String(object.code ?? object.full ?? "") };
    })
    .filter((example) => example.code);
}

/** The type definitions a property can hold, following unions (`Task` = oneOf of tasks). */
function refsOf(node: unknown, root: Json): Set<string> {
  const refs = new Set<string>();
  const seen = new Set<string>();
  const definitions = asObject(root.definitions ?? root.$defs);
  const visit = (value: unknown) => {
    const object = asObject(value);
    if (typeof object.$ref === "string") {
      const name = object.$ref.replace(/^#\/(definitions|\$defs)\//, "");
      if (seen.has(name)) return;
      seen.add(name);
      const target = asObject(definitions[name]);
      if (typeNames(target).length) refs.add(name);
      else visit(target);
    }
    for (const key of ["items", "anyOf", "oneOf", "allOf"]) {
      const inner = object[key];
      if (Array.isArray(inner)) inner.forEach(visit);
      else if (inner) visit(inner);
    }
  };
  visit(node);
  return refs;
}

/** Outputs as documented: a schema object (`properties`) or a list of `{name, type, description}`. */
export function outputsOf(raw: unknown, root: Json): PropertyDoc[] {
  if (Array.isArray(raw)) {
    return raw.map((item) => {
      const object = asObject(item);
      return {
        name: String(object.name ?? object.id ?? ""),
        type: String(object.type ?? ""),
        description: object.description as string | undefined,
        required: false,
      };
    });
  }
  return properties(asObject(raw), root);
}

export function readSchema(raw: unknown): PluginSchema {
  const root = asObject(raw);
  const definitions = asObject(root.definitions ?? root.$defs);
  const flowDefinition = typeof root.$ref === "string" ? resolveRef(root, root.$ref) : root;
  const flowProps = asObject(flowDefinition.properties);
  const taskRefs = new Set([
    ...refsOf(flowProps.tasks, root),
    ...refsOf(flowProps.errors, root),
    ...refsOf(flowProps.finally, root),
  ]);
  const triggerRefs = refsOf(flowProps.triggers, root);
  const types = new Map<string, TypeDoc>();
  for (const [key, value] of Object.entries(definitions)) {
    const definition = asObject(value);
    const names = typeNames(definition);
    if (!names.length) continue;
    let kind: TypeDoc["kind"] = "other";
    if (taskRefs.has(key)) kind = "task";
    else if (triggerRefs.has(key)) kind = "trigger";
    else if (/condition/i.test(names[0])) kind = "condition";
    else if (/trigger|Schedule$|Webhook$/i.test(names[0])) kind = "trigger";
    else if (!taskRefs.size) kind = "task";
    const doc: TypeDoc = {
      type: names[0],
      kind,
      title: definition.title as string | undefined,
      description: (definition.markdownDescription ?? definition.description) as string | undefined,
      properties: properties(definition, root),
      outputs: outputsOf(definition.outputs ?? definition.$outputs, root),
      examples: examples(definition),
      deprecated: definition.$deprecated === true || definition.deprecated === true,
    };
    if (!types.has(doc.type)) types.set(doc.type, doc);
    for (const alias of names.slice(1)) {
      if (!types.has(alias)) types.set(alias, { ...doc, type: alias, aliasOf: doc.type });
    }
    const aliases = definition["x-aliases"] ?? definition.$aliases ?? definition.aliases;
    if (Array.isArray(aliases)) {
      for (const alias of aliases.map(String)) {
        if (!types.has(alias)) types.set(alias, { ...doc, type: alias, aliasOf: doc.type });
      }
    }
  }
  return { types, flowProperties: properties(flowDefinition, root) };
}
