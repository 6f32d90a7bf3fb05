"""Trigger states in PostgreSQL, table `trigger_states` (migration 0003)."""

from __future__ import annotations

from lanner.store import codec
from lanner.store.postgres_schema import Db
from lanner.store.sql import Where
from lanner.store.triggers import TriggerState, decode_state

__all__ = ["delete_state", "get_state", "list_states", "save_state"]

_KEY = "namespace = %s AND flow_id = %s AND trigger_id = %s"
_UPSERT = """
INSERT INTO trigger_states (namespace, flow_id, trigger_id, next_date, disabled, value)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (namespace, flow_id, trigger_id) DO UPDATE SET
    next_date = excluded.next_date, disabled = excluded.disabled, value = excluded.value
"""


async def get_state(db: Db, namespace: str, flow_id: str, trigger_id: str) -> TriggerState | None:
    found = await db.execute(
        f"SELECT value FROM trigger_states WHERE {_KEY}", (namespace, flow_id, trigger_id)
    )
    row = await found.fetchone()
    return decode_state(row[0]) if row is not None else None


async def save_state(db: Db, state: TriggerState, value: str) -> None:
    """Upsert a state whose JSON is `value` (`encode_state`, done before the transaction)."""
    next_date = codec.to_micros(state.next_date) if state.next_date is not None else None
    await db.execute(_UPSERT, (*state.key, next_date, state.disabled, value))


async def list_states(db: Db, namespace: str | None, flow_id: str | None) -> list[TriggerState]:
    where = Where("%s")
    where.namespace(namespace)
    where.equals("flow_id", flow_id)
    found = await db.execute(
        f"SELECT value FROM trigger_states{where.clause} ORDER BY namespace, flow_id, trigger_id",
        where.params,
    )
    return [decode_state(value) for (value,) in await found.fetchall()]


async def delete_state(db: Db, namespace: str, flow_id: str, trigger_id: str) -> bool:
    deleted = await db.execute(
        f"DELETE FROM trigger_states WHERE {_KEY}", (namespace, flow_id, trigger_id)
    )
    return deleted.rowcount > 0
