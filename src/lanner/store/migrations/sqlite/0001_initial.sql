-- Flows, executions, task runs and logs.
--
-- Like Kestra's JDBC backend, each record is kept whole as JSON in `value` (Kestra's own JSON
-- shape), beside the columns that queries filter and sort on. Dates in columns are integer
-- microseconds since the epoch, so they sort and compare exactly.

CREATE TABLE flows (
    namespace   TEXT    NOT NULL,
    flow_id     TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    source      TEXT    NOT NULL,   -- the flow's YAML, as written: it is the record
    deleted     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL,
    PRIMARY KEY (namespace, flow_id, revision)
);

CREATE TABLE executions (
    id          TEXT    PRIMARY KEY,
    namespace   TEXT    NOT NULL,
    flow_id     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    start_date  INTEGER NOT NULL,
    end_date    INTEGER,
    labels      TEXT    NOT NULL,   -- JSON [{"key", "value"}], mirrored into execution_labels
    value       TEXT    NOT NULL    -- the execution's JSON without its taskRunList
);

CREATE INDEX executions_by_flow ON executions (namespace, flow_id, start_date);
CREATE INDEX executions_by_start ON executions (start_date);
CREATE INDEX executions_by_state ON executions (state);

-- One row per label so that label filters use an index. The triggers keep it in step with
-- executions.labels; the update trigger does nothing unless the labels changed, so the
-- engine's frequent saves of an execution cost no label work.
CREATE TABLE execution_labels (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL
);

CREATE INDEX execution_labels_by_execution ON execution_labels (execution_id);
CREATE INDEX execution_labels_by_pair ON execution_labels (key, value);

CREATE TRIGGER executions_labels_inserted AFTER INSERT ON executions
BEGIN
    INSERT INTO execution_labels (execution_id, key, value)
    SELECT new.id, json_extract(label.value, '$.key'), json_extract(label.value, '$.value')
    FROM json_each(new.labels) AS label;
END;

CREATE TRIGGER executions_labels_updated AFTER UPDATE OF labels ON executions
WHEN old.labels IS NOT new.labels
BEGIN
    DELETE FROM execution_labels WHERE execution_id = new.id;
    INSERT INTO execution_labels (execution_id, key, value)
    SELECT new.id, json_extract(label.value, '$.key'), json_extract(label.value, '$.value')
    FROM json_each(new.labels) AS label;
END;

-- `seq` is the task run's position in its execution: task runs are read back in creation
-- order, which their random ids do not give.
CREATE TABLE task_runs (
    id           TEXT    PRIMARY KEY,
    execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    due_at       REAL,              -- engine bookkeeping, not part of Kestra's JSON
    value        TEXT    NOT NULL
);

CREATE INDEX task_runs_by_execution ON task_runs (execution_id, seq);

-- No foreign key to executions: log lines may arrive after their execution was deleted, and
-- must not make the engine fail. The rowid `seq` keeps insertion order.
CREATE TABLE logs (
    seq            INTEGER PRIMARY KEY,
    execution_id   TEXT    NOT NULL,
    namespace      TEXT    NOT NULL,
    flow_id        TEXT    NOT NULL,
    task_id        TEXT,
    task_run_id    TEXT,
    attempt_number INTEGER,
    level          INTEGER NOT NULL,  -- lanner.executions.Level: TRACE 0 .. ERROR 4
    timestamp      INTEGER NOT NULL,
    value          TEXT    NOT NULL
);

CREATE INDEX logs_by_execution ON logs (execution_id);
CREATE INDEX logs_by_flow ON logs (namespace, flow_id, timestamp);
CREATE INDEX logs_by_timestamp ON logs (timestamp);
