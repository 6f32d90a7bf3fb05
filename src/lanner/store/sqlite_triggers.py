"""Trigger states in the SQLite database, table `trigger_states` (migration 0003)."""

from __future__ import annotations

import sqlite3

from lanner.store import codec
from lanner.store.triggers import TriggerState, decode_state

__all__ = ["delete_state", "get_state", "list_states", "save_state"]

_KEY = "namespace = ? AND flow_id = ? AND trigger_id = ?"
_UPSERT = """
INSERT INTO trigger_states (namespace, flow_id, trigger_id, next_date, disabled, value)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (namespace, flow_id, trigger_id) DO UPDATE SET
    next_date = excluded.next_date, disabled = excluded.disabled, value = excluded.value
"""


def get_state(
    db: sqlite3.Connection, namespace: str, flow_id: str, trigger_id: str
) -> TriggerState | None:
    row = db.execute(
        f"SELECT value FROM trigger_states WHERE {_KEY}", (namespace, flow_id, trigger_id)
    ).fetchone()
    return decode_state(row[0]) if row is not None else None


def save_state(db: sqlite3.Connection, state: TriggerState, value: str) -> None:
    """Upsert a state whose JSON is `value` (`encode_state`, done before the transaction)."""
    next_date = codec.to_micros(state.next_date) if state.next_date is not None else None
    db.execute(_UPSERT, (*state.key, next_date, state.disabled, value))


def list_states(
    db: sqlite3.Connection, namespace: str | None, flow_id: str | None
) -> list[TriggerState]:
    clauses: list[str] = []
    params: list[str] = []
    if namespace is not None:
        # Every "ns.*" sorts between "ns." and "ns/" (see the store's namespace filter).
        clauses.append("(namespace = ? OR (namespace >= ? AND namespace < ?))")
        params.extend((namespace, f"{namespace}.", f"{namespace}/"))
    if flow_id is not None:
        clauses.append("flow_id = ?")
        params.append(flow_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.execute(
        f"SELECT value FROM trigger_states{where} ORDER BY namespace, flow_id, trigger_id",
        params,
    ).fetchall()
    return [decode_state(value) for (value,) in rows]


def delete_state(db: sqlite3.Connection, namespace: str, flow_id: str, trigger_id: str) -> bool:
    deleted = db.execute(
        f"DELETE FROM trigger_states WHERE {_KEY}", (namespace, flow_id, trigger_id)
    )
    return deleted.rowcount > 0
