-- Log lines by execution and position: the twin of migrations/sqlite/0006.
--
-- Following an execution's logs reads the lines after the last one read (`seq > ?`). With the
-- index on `execution_id` alone, PostgreSQL fetched every line of the execution to keep the new
-- ones; this index finds the new ones directly, and serves lookups by execution alone too.

CREATE INDEX IF NOT EXISTS logs_by_execution_position ON logs (execution_id, seq);
DROP INDEX IF EXISTS logs_by_execution;
