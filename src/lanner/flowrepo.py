"""Flows as the server and the engine need them: stored revisions, parsed once each."""

from __future__ import annotations

from dataclasses import dataclass

from lanner.exceptions import FlowError, NotFoundError, Problem
from lanner.flow_parser import parse_flow
from lanner.flows import Flow
from lanner.store import FlowRecord, Store


@dataclass(frozen=True)
class StoredFlow:
    """A stored revision of a flow with its parsed model."""

    record: FlowRecord
    flow: Flow

    @property
    def revision(self) -> int:
        return self.record.revision


class FlowRepository:
    """Saves flow sources as revisions and returns them parsed, caching the parse per revision."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._parsed: dict[tuple[str, str, int], Flow] = {}

    async def save(self, source: str, *, expect: tuple[str, str] | None = None) -> StoredFlow:
        """Validate and store a flow source; a changed source becomes a new revision.

        `expect` is the (namespace, id) an update must keep: Kestra refuses to change them.
        """
        flow = parse_flow(source)
        if expect is not None and (flow.namespace, flow.id) != expect:
            raise FlowError(
                [
                    Problem(
                        "id",
                        f"Illegal flow id update: the flow {expect[0]}.{expect[1]} cannot "
                        f"become {flow.namespace}.{flow.id}",
                    )
                ]
            )
        record = await self.store.save_flow(flow.namespace, flow.id, source)
        self._parsed[(flow.namespace, flow.id, record.revision)] = flow
        return StoredFlow(record, flow)

    async def get(
        self,
        namespace: str,
        flow_id: str,
        revision: int | None = None,
        *,
        allow_deleted: bool = False,
    ) -> StoredFlow:
        """Return a flow revision (the latest by default); NotFoundError if there is none."""
        record = await self.store.get_flow(
            namespace, flow_id, revision, allow_deleted=allow_deleted
        )
        if record is None:
            raise NotFoundError(f"Unable to find flow {namespace}.{flow_id}")
        return StoredFlow(record, self.parse(record))

    def parse(self, record: FlowRecord) -> Flow:
        """Return the parsed model of a stored revision."""
        key = (record.namespace, record.id, record.revision)
        flow = self._parsed.get(key)
        if flow is None:
            flow = self._parsed[key] = parse_flow(record.source)
        return flow

    async def delete(self, namespace: str, flow_id: str) -> StoredFlow:
        """Soft-delete a flow: a new revision marked deleted."""
        current = await self.get(namespace, flow_id)
        record = await self.store.save_flow(namespace, flow_id, current.record.source, deleted=True)
        return StoredFlow(record, current.flow)
