-- Flows, executions, task runs and logs: the PostgreSQL twin of migrations/sqlite/0001.
--
-- Each record is kept whole as Kestra's JSON in `value`, as text (the same text SQLite keeps),
-- beside the columns that queries filter and sort on. Dates in columns are integer
-- microseconds since the epoch. Names that are sorted or compared as ranges use the "C"
-- collation, so the order is byte order whatever the database's locale, as in SQLite.

CREATE TABLE flows (
    namespace   TEXT COLLATE "C" NOT NULL,
    flow_id     TEXT COLLATE "C" NOT NULL,
    revision    BIGINT  NOT NULL,
    source      TEXT    NOT NULL,   -- the flow's YAML, as written: it is the record
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    updated     BIGINT  NOT NULL,
    PRIMARY KEY (namespace, flow_id, revision)
);

-- `row_order` stands in for SQLite's rowid: it breaks ties between equal start dates by
-- insertion order, and an upsert keeps it.
CREATE TABLE executions (
    id          TEXT    PRIMARY KEY,
    row_order   BIGINT  GENERATED ALWAYS AS IDENTITY,
    namespace   TEXT COLLATE "C" NOT NULL,
    flow_id     TEXT COLLATE "C" NOT NULL,
    state       TEXT    NOT NULL,
    start_date  BIGINT  NOT NULL,
    end_date    BIGINT,
    labels      TEXT    NOT NULL,   -- JSON [{"key", "value"}], mirrored into execution_labels
    value       TEXT    NOT NULL    -- the execution's JSON without its taskRunList
);

CREATE INDEX executions_by_flow ON executions (namespace, flow_id, start_date);
CREATE INDEX executions_by_start ON executions (start_date);
CREATE INDEX executions_by_state ON executions (state);

-- One row per label so that label filters use an index. The triggers keep it in step with
-- executions.labels; the update trigger fires only when the labels changed, so the engine's
-- frequent saves of an execution cost no label work.
CREATE TABLE execution_labels (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL
);

CREATE INDEX execution_labels_by_execution ON execution_labels (execution_id);
CREATE INDEX execution_labels_by_pair ON execution_labels (key, value);

CREATE FUNCTION lanner_mirror_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM execution_labels WHERE execution_id = NEW.id;
    INSERT INTO execution_labels (execution_id, key, value)
    SELECT NEW.id, label ->> 'key', label ->> 'value'
    FROM json_array_elements(NEW.labels::json) AS label;
    RETURN NULL;
END;
$$;

CREATE TRIGGER executions_labels_inserted AFTER INSERT ON executions
FOR EACH ROW EXECUTE FUNCTION lanner_mirror_labels();

CREATE TRIGGER executions_labels_updated AFTER UPDATE OF labels ON executions
FOR EACH ROW WHEN (OLD.labels IS DISTINCT FROM NEW.labels)
EXECUTE FUNCTION lanner_mirror_labels();

-- `seq` is the task run's position in its execution: task runs are read back in creation
-- order, which their random ids do not give; `row_order` breaks ties as SQLite's rowid does.
CREATE TABLE task_runs (
    id           TEXT    PRIMARY KEY,
    row_order    BIGINT  GENERATED ALWAYS AS IDENTITY,
    execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq          BIGINT  NOT NULL,
    due_at       DOUBLE PRECISION,  -- engine bookkeeping, not part of Kestra's JSON
    value        TEXT    NOT NULL
);

CREATE INDEX task_runs_by_execution ON task_runs (execution_id, seq);

-- No foreign key to executions: log lines may arrive after their execution was deleted, and
-- must not make the engine fail. `seq` keeps insertion order.
CREATE TABLE logs (
    seq            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id   TEXT    NOT NULL,
    namespace      TEXT COLLATE "C" NOT NULL,
    flow_id        TEXT COLLATE "C" NOT NULL,
    task_id        TEXT,
    task_run_id    TEXT,
    attempt_number INTEGER,
    level          INTEGER NOT NULL,  -- lanner.executions.Level: TRACE 0 .. ERROR 4
    timestamp      BIGINT  NOT NULL,
    value          TEXT    NOT NULL
);

CREATE INDEX logs_by_execution ON logs (execution_id);
CREATE INDEX logs_by_flow ON logs (namespace, flow_id, timestamp);
CREATE INDEX logs_by_timestamp ON logs (timestamp);
