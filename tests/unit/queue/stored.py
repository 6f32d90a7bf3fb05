"""A new execution of a flow saved in a store, as the webserver leaves it for an executor."""

from __future__ import annotations

from lanner.engine_support import new_execution
from lanner.executions import Execution
from lanner.flow_parser import parse_flow
from lanner.settings import Settings
from lanner.storage import Storage
from lanner.store import Store


async def stored_execution(
    store: Store, storage: Storage, settings: Settings, flow_id: str, source: str
) -> Execution:
    """Save `source` as flow `company.team.<flow_id>`, then a new execution of it."""
    record = await store.save_flow("company.team", flow_id, source)
    execution = new_execution(
        parse_flow(source),
        record.revision,
        storage,
        None,
        (),
        validate_inputs=True,
        schedule_date=None,
        trigger=None,
        max_bytes=settings.max_message_bytes,
    )
    await store.save_execution(execution)
    return execution
