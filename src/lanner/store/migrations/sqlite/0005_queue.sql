-- The queue between the processes of a scaled-out lanner. Only PostgreSQL serves several
-- processes; these tables keep the two schemas in lockstep (see migrations/postgres/0005).
--
-- Dates are integer microseconds since the epoch.

CREATE TABLE IF NOT EXISTS executor_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    available_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS executor_events_due ON executor_events (available_at);
CREATE INDEX IF NOT EXISTS executor_events_of ON executor_events (execution_id, id);

CREATE TABLE IF NOT EXISTS worker_jobs (
    task_run_id   TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    execution_id  TEXT    NOT NULL,
    flow_revision INTEGER NOT NULL,
    final_state   TEXT,
    seq           INTEGER NOT NULL,
    worker_id     TEXT,
    lease_until   INTEGER,
    PRIMARY KEY (task_run_id, attempt)
);

CREATE INDEX IF NOT EXISTS worker_jobs_queued ON worker_jobs (seq) WHERE worker_id IS NULL;
CREATE INDEX IF NOT EXISTS worker_jobs_leased ON worker_jobs (lease_until)
    WHERE worker_id IS NOT NULL;
