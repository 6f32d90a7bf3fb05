"""Single statements in autocommit on the PostgreSQL pool: one round trip, and the connection
goes back to the pool ready for transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from psycopg_pool import AsyncConnectionPool

from lanner.exceptions import StoreError
from lanner.store.postgres_schema import statement, transaction


@pytest.fixture
async def pool(postgres_url: str) -> AsyncIterator[AsyncConnectionPool]:
    # One connection: what a statement leaves behind is what the next block gets.
    opened = AsyncConnectionPool(postgres_url, min_size=1, max_size=1, open=False)
    await opened.open()
    async with opened.connection() as db:
        await db.execute("DROP TABLE IF EXISTS statement_test")
        await db.execute("CREATE TABLE statement_test (n INTEGER)")
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_statement_runs_outside_a_transaction_and_is_kept(
    pool: AsyncConnectionPool,
) -> None:
    async with statement(pool, "insert") as db:
        assert db.autocommit
        await db.execute("INSERT INTO statement_test VALUES (1)")
        # No BEGIN sent before it: the statement is its transaction, started when it was.
        row = await (await db.execute("SELECT now() = statement_timestamp()")).fetchone()
        assert row == (True,)
    async with transaction(pool, "read") as db:
        assert not db.autocommit
        rows = await (await db.execute("SELECT n FROM statement_test")).fetchall()
    assert rows == [(1,)]


async def test_the_connection_goes_back_to_transactions_after_a_failed_statement(
    pool: AsyncConnectionPool,
) -> None:
    with pytest.raises(StoreError, match=r"Unable to read a missing table: .*no_such_table"):
        async with statement(pool, "read a missing table") as db:
            await db.execute("SELECT * FROM no_such_table")
    # A transaction on the same connection is still all or nothing.
    with pytest.raises(StoreError):
        await _insert_then_fail(pool)
    async with statement(pool, "count") as db:
        rows = await (await db.execute("SELECT count(*) FROM statement_test")).fetchall()
    assert rows == [(0,)]


async def _insert_then_fail(pool: AsyncConnectionPool) -> None:
    async with transaction(pool, "insert, then fail") as db:
        assert not db.autocommit
        await db.execute("INSERT INTO statement_test VALUES (2)")
        await db.execute("SELECT * FROM no_such_table")
