-- Metrics of task runs (lanner.metrics.MetricEntry).
--
-- `value` is the entry's JSON; the other columns are copies of its fields for queries, dates in
-- integer microseconds since the epoch. `seq` keeps the order entries were reported in.

CREATE TABLE IF NOT EXISTS metrics (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace    TEXT    NOT NULL,
    flow_id      TEXT    NOT NULL,
    execution_id TEXT    NOT NULL,
    task_id      TEXT    NOT NULL,
    task_run_id  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    timestamp    INTEGER NOT NULL,
    value        TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS metrics_by_execution ON metrics (execution_id, seq);
CREATE INDEX IF NOT EXISTS metrics_by_flow ON metrics (namespace, flow_id, name, timestamp);
