/** The HTTP exchange a Request task run recorded (its HAR file): each request sent with its
 * response and a timing bar, and "Copy as cURL". Redirects and digest challenges are several
 * entries, drawn on one time scale. */
import { useState } from "preact/hooks";
import { api, download } from "../api";
import { ErrorBox, Spinner } from "../components/common";
import { notifyError } from "../components/notify";
import { copyText } from "../format";
import { useLoad } from "../hooks";
import type { TaskRun } from "../types";
import { failedWithoutOutputs } from "./taskruns";
import { formatBytes, offsetsOf, parseHar, segmentsOf, TIMINGS, type HarEntry, type HarHeader } from "./har";

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;

/** The `kestra://` URI of a task run's HAR file, when its outputs name one. */
export function harOf(taskRun: TaskRun): string | null {
  const har = taskRun.outputs?.har;
  return typeof har === "string" && har.startsWith("kestra://") ? har : null;
}

export function HttpExchange({ executionId, taskRun, har }: { executionId: string; taskRun: TaskRun; har: string }) {
  const loaded = useLoad(async () => parseHar(await api.fileText(executionId, har)), [executionId, har]);
  const entries = loaded.data?.log.entries ?? [];
  const offsets = offsetsOf(entries);
  const span = Math.max(1, ...entries.map((entry, index) => offsets[index] + Math.max(entry.time, 0)));
  return (
    <section class="http-exchange" aria-label={`HTTP exchange of ${taskRun.taskId}`} data-testid="http-exchange">
      <div class="section-header">
        <h3>HTTP exchange</h3>
        <div class="row-actions">
          <CurlButton executionId={executionId} taskRunId={taskRun.id} />
          <button type="button" class="button small" onClick={() => download(api.fileUrl(executionId, har), "exchange.har").catch(notifyError)}>
            Download HAR
          </button>
        </div>
      </div>
      <ErrorBox error={loaded.error} />
      {loaded.loading && !loaded.data && <Spinner />}
      {entries.map((entry, index) => (
        <ExchangeEntry entry={entry} index={index} count={entries.length} offset={offsets[index]} span={span} />
      ))}
    </section>
  );
}

function CurlButton({ executionId, taskRunId }: { executionId: string; taskRunId: string }) {
  const [command, setCommand] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      const found = command ?? (await api.taskRunCurl(executionId, taskRunId)).command;
      setCommand(found);
      await copyText(found);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch (error) {
      notifyError(error);
    }
  };
  return (
    <>
      <button type="button" class="button small" onClick={copy} data-action="copy-curl">
        {copied ? "Copied" : "Copy as cURL"}
      </button>
      {command !== null && (
        <pre class="curl-command" data-testid="curl-command" tabIndex={0} aria-label="cURL command">
          {command}
        </pre>
      )}
    </>
  );
}

function ExchangeEntry({ entry, index, count, offset, span }: {
  entry: HarEntry;
  index: number;
  count: number;
  offset: number;
  span: number;
}) {
  const { request, response } = entry;
  const failed = response.status === 0;
  return (
    <article class="har-entry" data-entry={index} aria-label={`Request ${index + 1} of ${count}`}>
      <h4 class="har-title">
        {count > 1 && <span class="muted">{index + 1}. </span>}
        <span class="har-method">{request.method}</span> <span class="mono har-url">{request.url}</span>{" "}
        <span class={`badge ${failed || response.status >= 400 ? "state-danger" : "state-success"}`} data-testid="har-status">
          {failed ? "failed" : `${response.status} ${response.statusText ?? ""}`.trim()}
        </span>
      </h4>
      {entry._error && <div class="error-box" role="note">{entry._error}</div>}
      <TimingBar entry={entry} offset={offset} span={span} />
      <div class="har-columns">
        <div>
          <h5>Request</h5>
          <Headers headers={request.headers} label="Request headers" />
          <BodyPreview postData={request.postData} />
        </div>
        <div>
          <h5>Response</h5>
          <dl class="har-facts">
            <dt>Status</dt>
            <dd>{failed ? "no response" : `${response.status} ${response.statusText ?? ""}`}</dd>
            {!failed && <ResponseFacts response={response} />}
          </dl>
          <Headers headers={response.headers} label="Response headers" />
        </div>
      </div>
    </article>
  );
}

function ResponseFacts({ response }: { response: HarEntry["response"] }) {
  return (
    <>
      <dt>Size</dt>
      <dd data-testid="har-size">
        {formatBytes(response.content?.size)}
        {response.bodySize !== undefined && response.bodySize >= 0 && response.bodySize !== response.content?.size && (
          <span class="muted"> ({formatBytes(response.bodySize)} transferred)</span>
        )}
      </dd>
      {response.content?.mimeType && (
        <>
          <dt>Type</dt>
          <dd>{response.content.mimeType}</dd>
        </>
      )}
      {response.redirectURL && (
        <>
          <dt>Redirect to</dt>
          <dd class="mono">{response.redirectURL}</dd>
        </>
      )}
    </>
  );
}

function TimingBar({ entry, offset, span }: { entry: HarEntry; offset: number; span: number }) {
  const segments = segmentsOf(entry).filter((segment) => segment.duration > 0);
  const pct = (value: number) => `${(value / span) * 100}%`;
  return (
    <div class="har-timing">
      <div class="har-timing-track" role="img" aria-label={`Timings: ${segments.map((s) => `${s.name} ${ms(s.duration)}`).join(", ")}`}>
        {segments.map((segment) => (
          <span
            class={`har-segment har-${segment.name}`}
            style={{ left: pct(offset + segment.start), width: `max(2px, ${pct(segment.duration)})` }}
            title={`${segment.name}: ${ms(segment.duration)}`}
          />
        ))}
      </div>
      <ul class="har-legend">
        {TIMINGS.map((name) => {
          const value = entry.timings[name];
          return (
            <li data-timing={name}>
              <span class={`har-swatch har-${name}`} aria-hidden="true" /> {name} {value === undefined || value < 0 ? "—" : ms(value)}
            </li>
          );
        })}
        <li class="strong">total {ms(entry.time)}</li>
      </ul>
    </div>
  );
}

function Headers({ headers, label }: { headers: HarHeader[]; label: string }) {
  if (!headers.length) return <p class="muted">No headers.</p>;
  return (
    <div class="table-wrap">
      <table class="table compact har-headers" aria-label={label}>
        <tbody>
          {headers.map((header) => (
            <tr class={header._generated ? "muted" : ""}>
              <th scope="row">{header.name}</th>
              <td class="mono">
                {header.value}
                {header._generated && <span class="visually-hidden"> (added by the HTTP client)</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function BodyPreview({ postData }: { postData: HarEntry["request"]["postData"] }) {
  if (!postData) return <p class="muted">No body.</p>;
  const params = postData.params ?? [];
  return (
    <div class="har-body">
      <div class="muted">Body{postData.mimeType ? ` (${postData.mimeType})` : ""}</div>
      {postData.text !== undefined && postData.text !== "" && <pre class="value-text" data-testid="har-body">{postData.text}</pre>}
      {params.length > 0 && (
        <ul class="har-params">
          {params.map((param) => (
            <li>
              <code>{param.name}</code> = {param.fileName ? <span class="muted">file {param.fileName}</span> : <code>{param.value ?? ""}</code>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * A task run's exchange behind a button: from its `har` output, or, for a Request task run that
 * failed (it has no outputs then), from the file the cURL route finds at its place.
 */
export function ExchangeToggle({ executionId, taskRun, isRequest }: { executionId: string; taskRun: TaskRun; isRequest: boolean }) {
  const [open, setOpen] = useState(false);
  const [found, setFound] = useState<string | null>(harOf(taskRun));
  if (!found && !(isRequest && failedWithoutOutputs(taskRun))) return null;
  const toggle = async () => {
    if (!found) {
      try {
        setFound((await api.taskRunCurl(executionId, taskRun.id)).har);
      } catch (error) {
        notifyError(error);
        return;
      }
    }
    setOpen(!open);
  };
  return (
    <>
      <button type="button" class="button small" aria-expanded={open} onClick={toggle} data-action="http-exchange">
        HTTP exchange
      </button>
      {open && found && (
        <div class="exchange-detail">
          <HttpExchange executionId={executionId} taskRun={taskRun} har={found} />
        </div>
      )}
    </>
  );
}
