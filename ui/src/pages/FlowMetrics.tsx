/** A flow's Metrics tab: pick a task, a metric, an aggregation and a period; a bar chart per
 * metric of its aggregates per time bucket. The address keeps Kestra's filter parameters. */
import { api } from "../api";
import { BarChart } from "../components/BarChart";
import { Empty, ErrorBox, Spinner } from "../components/common";
import { formatBucket, parseIsoDuration } from "../format";
import { useLoad } from "../hooks";
import { setQuery, useLocation } from "../router";
import type { Flow, MetricAggregations } from "../types";

const TASK = "filters[task][EQUALS]";
const METRIC = "filters[metric][EQUALS]";
const RANGE = "filters[timeRange][EQUALS]";
const AGGREGATIONS = ["sum", "avg", "min", "max"];
const RANGES = [
  { value: "PT1H", label: "Last hour" },
  { value: "PT24H", label: "Last 24 hours" },
  { value: "P7D", label: "Last 7 days" },
  { value: "", label: "Last 30 days" },
  { value: "P365D", label: "Last 365 days" },
];

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** The `startDate`/`endDate` of a period such as `P7D` ending now; none for the server's default. */
export function periodDates(range: string, now = Date.now()): { startDate?: string; endDate?: string } {
  const span = parseIsoDuration(range);
  if (!range || span === null || span <= 0) return {};
  return { startDate: new Date(now - span).toISOString(), endDate: new Date(now).toISOString() };
}

function Picker({ label, value, options, onChange }: {
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
}) {
  return (
    <label class="filter">
      <span>{label}</span>
      <select aria-label={label} value={value} onChange={(event) => onChange((event.target as HTMLSelectElement).value)}>
        {options.map((option) => (
          <option value={option.value}>{option.label}</option>
        ))}
      </select>
    </label>
  );
}

export function FlowMetrics({ flow }: { flow: Flow }) {
  const { query } = useLocation();
  const taskId = query.get(TASK) ?? "";
  const metric = query.get(METRIC) ?? "";
  const range = query.get(RANGE) ?? "";
  const aggregation = AGGREGATIONS.includes(query.get("aggregation") ?? "") ? query.get("aggregation")! : "sum";
  const tasks = useLoad(() => api.metricTasks(flow.namespace, flow.id), [flow.namespace, flow.id]);
  const names = useLoad(() => api.metricNames(flow.namespace, flow.id, taskId || undefined), [flow.namespace, flow.id, taskId]);
  const shown = (names.data ?? []).filter((name) => !metric || name === metric);
  return (
    <div class="flow-metrics">
      <div class="filters" role="group" aria-label="Metric filters">
        <Picker
          label="Task"
          value={taskId}
          options={[{ value: "", label: "All tasks" }, ...(tasks.data ?? []).map((id) => ({ value: id, label: id }))]}
          onChange={(value) => setQuery({ [TASK]: value, [METRIC]: undefined })}
        />
        <Picker
          label="Metric"
          value={metric}
          options={[{ value: "", label: "All metrics" }, ...(names.data ?? []).map((name) => ({ value: name, label: name }))]}
          onChange={(value) => setQuery({ [METRIC]: value })}
        />
        <Picker
          label="Aggregation"
          value={aggregation}
          options={AGGREGATIONS.map((value) => ({ value, label: value }))}
          onChange={(value) => setQuery({ aggregation: value })}
        />
        <Picker label="Period" value={range} options={RANGES} onChange={(value) => setQuery({ [RANGE]: value })} />
      </div>
      <ErrorBox error={tasks.error ?? names.error} />
      {names.loading && !names.data && <Spinner />}
      {names.data && names.data.length === 0 && (
        <Empty>{taskId ? `Task ${taskId} reported no metrics.` : "No execution of this flow reported metrics yet."}</Empty>
      )}
      {names.data && names.data.length > 0 && shown.length === 0 && <Empty>No metric is named “{metric}”.</Empty>}
      {shown.length > 0 && <p class="muted">Timers are in milliseconds.</p>}
      <div class="metric-charts">
        {shown.map((name) => (
          <MetricChart key={name} flow={flow} name={name} taskId={taskId} aggregation={aggregation} range={range} />
        ))}
      </div>
    </div>
  );
}

function MetricChart({ flow, name, taskId, aggregation, range }: {
  flow: Flow;
  name: string;
  taskId: string;
  aggregation: string;
  range: string;
}) {
  const loaded = useLoad(
    () => api.metricAggregates(flow.namespace, flow.id, name, { taskId: taskId || undefined, aggregation, ...periodDates(range) }),
    [flow.namespace, flow.id, name, taskId, aggregation, range],
  );
  const data: MetricAggregations | null = loaded.data;
  const title = `${aggregation} of ${name}${taskId ? ` (${taskId})` : ""}`;
  return (
    <section class="metric-card" aria-label={title} data-metric={name}>
      <h3>
        {title}
        {data && data.aggregations.length > 0 && <span class="muted"> · per {data.groupBy}</span>}
      </h3>
      <ErrorBox error={loaded.error} />
      {loaded.loading && !data && <Spinner />}
      {data && data.aggregations.length === 0 && <p class="muted">No value in this period.</p>}
      {data && data.aggregations.length > 0 && (
        <>
          <BarChart
            label={`${title}, per ${data.groupBy}`}
            format={(value) => numberFormat.format(value)}
            bars={data.aggregations.map((point) => ({
              label: formatBucket(point.date, data.groupBy),
              value: point.value,
              text: numberFormat.format(point.value),
            }))}
          />
        </>
      )}
    </section>
  );
}
