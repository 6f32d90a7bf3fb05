-- What the scheduler remembers of each trigger of each flow (lanner.store.triggers).
--
-- `value` is the state's JSON; `next_date` (integer microseconds since the epoch) and
-- `disabled` are copies of two of its fields for queries. IF NOT EXISTS: applying this again
-- over a database that already has the table changes nothing.

CREATE TABLE IF NOT EXISTS trigger_states (
    namespace   TEXT    NOT NULL,
    flow_id     TEXT    NOT NULL,
    trigger_id  TEXT    NOT NULL,
    next_date   INTEGER,
    disabled    INTEGER NOT NULL DEFAULT 0,
    value       TEXT    NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id)
) WITHOUT ROWID;
