"""A new execution of a flow saved in a store, as the webserver leaves it for an executor;
a store and a queue over one PostgreSQL database, as the scaled-out roles open them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from lanner.engine_support import new_execution
from lanner.executions import Execution
from lanner.flow_parser import parse_flow
from lanner.queue import PostgresQueue
from lanner.settings import Settings
from lanner.storage import Storage
from lanner.store import PostgresStore, Store
from tests import postgres


async def stored_execution(
    store: Store, storage: Storage, settings: Settings, flow_id: str, source: str
) -> Execution:
    """Save `source` as flow `company.team.<flow_id>`, then a new execution of it."""
    record = await store.save_flow("company.team", flow_id, source)
    execution = await new_execution(
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


@asynccontextmanager
async def postgres_store_and_queue(url: str) -> AsyncIterator[tuple[PostgresStore, PostgresQueue]]:
    """Empty the database at `url`, then yield a store and a queue over it, closed at the end."""
    postgres.clear(url)
    store = await PostgresStore.open(url)
    queue = await PostgresQueue.open(url, lease=30)
    try:
        yield store, queue
    finally:
        await queue.close()
        await store.close()
