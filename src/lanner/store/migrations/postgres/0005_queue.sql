-- The queue between the processes of a scaled-out lanner (lanner.queue.postgres); the twin of
-- migrations/sqlite/0005.
--
-- `executor_events` are what executors consume: a new execution, a worker's result, a kill, a
-- resume, a timer (`available_at` in the future) or a job whose worker was lost. `payload` is
-- the event's JSON. `worker_jobs` are the attempts workers run: a row is queued while `worker_id`
-- is NULL, then leased to one worker until `lease_until`, which its heartbeats push back.

CREATE TABLE IF NOT EXISTS executor_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id TEXT        NOT NULL,
    kind         TEXT        NOT NULL,
    payload      TEXT        NOT NULL,
    available_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX IF NOT EXISTS executor_events_due ON executor_events (available_at);
CREATE INDEX IF NOT EXISTS executor_events_of ON executor_events (execution_id, id);

CREATE TABLE IF NOT EXISTS worker_jobs (
    task_run_id   TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    execution_id  TEXT    NOT NULL,
    flow_revision INTEGER NOT NULL,
    final_state   TEXT,
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    worker_id     TEXT,
    lease_until   TIMESTAMPTZ,
    PRIMARY KEY (task_run_id, attempt)
);

CREATE INDEX IF NOT EXISTS worker_jobs_queued ON worker_jobs (seq) WHERE worker_id IS NULL;
CREATE INDEX IF NOT EXISTS worker_jobs_leased ON worker_jobs (lease_until)
    WHERE worker_id IS NOT NULL;
