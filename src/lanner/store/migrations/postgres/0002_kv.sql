-- The KV store: one row per namespace and key (the twin of migrations/sqlite/0002).
--
-- `value` is the value as JSON text and `type` its Kestra type (STRING, NUMBER, BOOLEAN,
-- DATETIME, DATE, DURATION, JSON), so dates and durations, kept as ISO text, come back typed.
-- Dates are integer microseconds since the epoch; an expired row is treated as absent and may
-- linger until its key is written or deleted again.

CREATE TABLE kv (
    namespace       TEXT COLLATE "C" NOT NULL,
    key             TEXT COLLATE "C" NOT NULL,
    type            TEXT    NOT NULL,
    value           TEXT    NOT NULL,
    creation_date   BIGINT  NOT NULL,
    update_date     BIGINT  NOT NULL,
    expiration_date BIGINT,             -- NULL: never expires
    PRIMARY KEY (namespace, key)
);
