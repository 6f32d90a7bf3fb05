/** U5: the documentation of a task type (properties, defaults, outputs, examples). */
import { loadTypeDoc, type PluginSchema, type PropertyDoc } from "../editor/schema";
import { useLoad } from "../hooks";

function PropertyTable({ props, caption }: { props: PropertyDoc[]; caption: string }) {
  if (!props.length) return null;
  return (
    <table class="table compact doc-table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {props.map((prop) => (
          <tr>
            <td>
              <code>{prop.name}</code>
              {prop.required && <span class="required-mark" title="required"> *</span>}
              {prop.deprecated && <span class="badge state-muted">deprecated</span>}
            </td>
            <td class="muted">{prop.type}</td>
            <td>
              {prop.description}
              {prop.default !== undefined && (
                <div class="muted">
                  Default: <code>{JSON.stringify(prop.default)}</code>
                </div>
              )}
              {prop.enum && (
                <div class="muted">
                  One of: <code>{prop.enum.join(", ")}</code>
                </div>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DocPanel({ schema, type, taskId, error }: {
  schema: PluginSchema | null;
  type: string | null;
  taskId: string | null;
  error?: unknown;
}) {
  const known = !!type && !!schema?.types.has(type);
  const extra = useLoad(() => (known ? loadTypeDoc(type!).catch(() => null) : Promise.resolve(null)), [known ? type : null]);
  if (error) return <div class="panel-note">The plugin documentation is not available: {(error as Error).message}</div>;
  if (!type) return <div class="panel-note">Put the cursor in a task to see its documentation.</div>;
  const doc = schema?.types.get(type);
  if (!schema) return <div class="panel-note">Loading the documentation…</div>;
  if (!doc) {
    return (
      <div class="panel-note">
        <code>{type}</code> is not a known type.
      </div>
    );
  }
  return (
    <article class="doc-panel" aria-label={`Documentation of ${doc.type}`}>
      <h3>
        {taskId && <span class="muted">{taskId} · </span>}
        <code>{doc.type}</code>
      </h3>
      {doc.aliasOf && (
        <p class="notice warning">
          Legacy name of <code>{doc.aliasOf}</code>.
        </p>
      )}
      {doc.title && <p class="strong">{doc.title}</p>}
      {extra.data?.markdown && extra.data.markdown.trim() !== (doc.description ?? "").trim() ? (
        <p class="doc-description">{extra.data.markdown}</p>
      ) : (
        doc.description && <p class="doc-description">{doc.description}</p>
      )}
      <PropertyTable props={doc.properties} caption="Properties" />
      <PropertyTable props={doc.outputs.length ? doc.outputs : (extra.data?.outputs ?? [])} caption="Outputs" />
      {doc.examples.map((example) => (
        <figure class="doc-example">
          {example.title && <figcaption>{example.title}</figcaption>}
          <pre>{example.code}</pre>
        </figure>
      ))}
    </article>
  );
}
