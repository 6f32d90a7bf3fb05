"""PostgreSQL LISTEN/NOTIFY for one process: flags to wait on and listeners to call.

One autocommit connection LISTENs on every channel the process cares about; a background task
reads its notifications. A notice raises its channel's flag (waking whoever waits for work) and
calls the channel's listeners with the payload. If the connection drops, it is opened again and
every flag is raised, since notices sent meanwhile were missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import psycopg
from psycopg import sql

from lanner.queue.base import Listener

__all__ = ["Notices", "wait_flag"]

_log = logging.getLogger(__name__)
_RECONNECT_DELAY_S = 1.0


class Notices:
    """The notifications of some channels, as flags and callbacks."""

    def __init__(self, url: str, channels: Sequence[str]) -> None:
        self._url = url
        self._channels = tuple(channels)
        self._flags = {channel: asyncio.Event() for channel in channels}
        self._listeners: dict[str, list[Listener]] = {channel: [] for channel in channels}
        self._task: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection[object] | None = None

    @classmethod
    async def open(cls, url: str, channels: Sequence[str]) -> Notices:
        notices = cls(url, channels)
        connection = await notices._connect()
        notices._task = asyncio.create_task(notices._read(connection), name="lanner-notices")
        return notices

    async def _connect(self) -> psycopg.AsyncConnection[object]:
        connection = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
        self._connection = connection
        for channel in self._channels:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        return connection

    async def _read(self, connection: psycopg.AsyncConnection[object]) -> None:
        while True:
            try:
                async with connection:
                    async for notice in connection.notifies():
                        self._deliver(notice.channel, notice.payload)
            except psycopg.Error as exc:
                _log.warning("lost the notification connection (%s); reconnecting", exc)
            connection = await self._reconnect()

    async def _reconnect(self) -> psycopg.AsyncConnection[object]:
        while True:
            await asyncio.sleep(_RECONNECT_DELAY_S)
            try:
                connection = await self._connect()
            except psycopg.Error:
                continue
            for flag in self._flags.values():
                flag.set()
            return connection

    def _deliver(self, channel: str, payload: str) -> None:
        self._flags[channel].set()
        for listener in self._listeners[channel]:
            if payload:
                listener(payload)

    def listen(self, channel: str, listener: Listener) -> None:
        self._heard(channel)
        self._listeners[channel].append(listener)

    async def wait(self, channel: str, timeout: float | None) -> None:
        """Wait for a notice on `channel` since the last wait (or the timeout); lower the flag."""
        self._heard(channel)
        await wait_flag(self._flags[channel], timeout)

    def _heard(self, channel: str) -> None:
        """Refuse a channel this process does not LISTEN on: its notices would never come."""
        if channel not in self._flags:
            heard = ", ".join(self._channels) or "none"
            raise ValueError(
                f"notices on '{channel}' are not heard by this process (it hears: {heard})"
            )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A reader cancelled before it started never entered its connection's block.
        if self._connection is not None and not self._connection.closed:
            await self._connection.close()


async def wait_flag(flag: asyncio.Event, timeout: float | None) -> None:
    """Wait for `flag` (or the timeout), then lower it for the next wait."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(flag.wait(), timeout)
    flag.clear()
