-- Metrics of task runs (lanner.metrics.MetricEntry); the twin of migrations/sqlite/0004.
--
-- `value` is the entry's JSON; the other columns are copies of its fields for queries, dates in
-- integer microseconds since the epoch. `seq` keeps the order entries were reported in.

CREATE TABLE IF NOT EXISTS metrics (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace    TEXT COLLATE "C" NOT NULL,
    flow_id      TEXT COLLATE "C" NOT NULL,
    execution_id TEXT    NOT NULL,
    task_id      TEXT COLLATE "C" NOT NULL,
    task_run_id  TEXT    NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    timestamp    BIGINT  NOT NULL,
    value        TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS metrics_by_execution ON metrics (execution_id, seq);
CREATE INDEX IF NOT EXISTS metrics_by_flow ON metrics (namespace, flow_id, name, timestamp);
