-- What the scheduler remembers of each trigger of each flow (lanner.store.triggers); the twin
-- of migrations/sqlite/0003.
--
-- `value` is the state's JSON; `next_date` (integer microseconds since the epoch) and
-- `disabled` are copies of two of its fields for queries.

CREATE TABLE IF NOT EXISTS trigger_states (
    namespace   TEXT COLLATE "C" NOT NULL,
    flow_id     TEXT COLLATE "C" NOT NULL,
    trigger_id  TEXT COLLATE "C" NOT NULL,
    next_date   BIGINT,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    value       TEXT    NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id)
);
