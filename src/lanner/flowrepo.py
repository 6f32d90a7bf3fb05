"""Flows as the server and the engine need them: stored revisions, parsed once each."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from lanner.exceptions import FlowError, LannerError, NotFoundError, Problem
from lanner.flow_parser import parse_flow, validate_flow
from lanner.flows import Flow
from lanner.store import FlowRecord, Page, Store
from lanner.yamlsource import SourceDocument, load_yaml, split_documents

# Kestra drops the first top-level `revision:` line of a source before storing it: the server
# numbers revisions, so a source that differs only there is not a change.
_REVISION_LINE = re.compile(r"^revision:[ \t]*\d+[ \t]*(?:#.*)?(?:\r?\n|\Z)", re.MULTILINE)
_DISABLED_LINE = re.compile(r"^disabled:.*$", re.MULTILINE)
# Flows read per store call when a search has to see every match (label filters, sorting).
_BATCH = 500
SORT_FIELDS = ("id", "namespace", "revision", "updated")


@dataclass(frozen=True)
class StoredFlow:
    """A stored revision of a flow with its parsed model."""

    record: FlowRecord
    flow: Flow

    @property
    def revision(self) -> int:
        return self.record.revision


@dataclass(frozen=True)
class SortKey:
    """One `field:asc|desc` of a search's `sort`."""

    field: str
    descending: bool = False

    @classmethod
    def parse(cls, text: str) -> SortKey:
        """Read `field`, `field:asc` or `field:desc`; LannerError for anything else."""
        name, _, direction = text.partition(":")
        if name not in SORT_FIELDS or direction.lower() not in ("", "asc", "desc"):
            raise LannerError(
                f"Invalid sort '{text}': expected <field>:asc|desc with a field among "
                f"{', '.join(SORT_FIELDS)}"
            )
        return cls(name, direction.lower() == "desc")


@dataclass(frozen=True)
class FlowQuery:
    """What a flow search keeps: a namespace and those under it, a text, labels; and the order."""

    namespace: str | None = None
    text: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    sort: Sequence[SortKey] = ()
    exact_namespace: bool = False
    """Keep the flows of `namespace` only, not those of the namespaces under it."""

    def needs_scan(self) -> bool:
        """Say whether the store cannot page this search by itself."""
        return bool(self.labels or self.sort or self.exact_namespace)

    def matches(self, record: FlowRecord, labels: Mapping[str, str] | None) -> bool:
        """Apply what the store does not: the exact namespace and the labels.

        `labels` are the flow's own, None when its source no longer parses.
        """
        if self.exact_namespace and record.namespace != self.namespace:
            return False
        if not self.labels:
            return True
        return labels is not None and all(labels.get(k) == v for k, v in self.labels.items())


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
                    _at_id(
                        source,
                        f"Illegal flow id update: the flow {expect[0]}.{expect[1]} cannot "
                        f"become {flow.namespace}.{flow.id}",
                    )
                ]
            )
        return await self._store(flow, source)

    async def create(self, source: str) -> StoredFlow:
        """Store a new flow; FlowError when a flow with its namespace and id exists."""
        flow = parse_flow(source)
        if await self.store.get_flow(flow.namespace, flow.id) is not None:
            raise FlowError([_at_id(source, "Flow id already exists")])
        return await self._store(flow, source)

    async def update(self, namespace: str, flow_id: str, source: str) -> StoredFlow:
        """Store a new source for an existing flow; NotFoundError when there is none."""
        await self.get(namespace, flow_id)
        return await self.save(source, expect=(namespace, flow_id))

    async def _store(self, flow: Flow, source: str) -> StoredFlow:
        record = await self.store.save_flow(flow.namespace, flow.id, clean_source(source))
        self._parsed[(flow.namespace, flow.id, record.revision)] = flow
        return StoredFlow(record, flow)

    async def replace_namespace(
        self, namespace: str, text: str, *, delete: bool = True
    ) -> list[StoredFlow]:
        """Make a namespace hold the flows of a multi-document text; return what changed.

        Each flow is created or updated; with `delete`, the namespace's other flows are
        deleted. Nothing is stored unless every document is a valid flow of this namespace
        and no id is repeated.
        """
        flows = [(_parsed_document(doc), doc.text) for doc in split_documents(text)]
        _check_batch(namespace, [flow for flow, _ in flows])
        ids = {flow.id for flow, _ in flows}
        changed: list[StoredFlow] = []
        if delete:
            for record in await self.in_namespace(namespace):
                if record.id not in ids:
                    changed.append(await self.delete(namespace, record.id))
        for flow, source in flows:
            changed.append(await self._store(flow, source))
        return changed

    async def import_sources(self, sources: Sequence[tuple[str, str]]) -> list[str]:
        """Create or update a flow from each (name, source); return the names that failed."""
        failed: list[str] = []
        for name, source in sources:
            try:
                await self.save(source)
            except FlowError:
                failed.append(name)
        return failed

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

    def parse_or_error(self, record: FlowRecord) -> Flow | FlowError:
        """Return the parsed model of a stored revision, or why it no longer parses."""
        try:
            return self.parse(record)
        except FlowError as exc:
            return exc

    async def delete(self, namespace: str, flow_id: str) -> StoredFlow:
        """Soft-delete a flow: a new revision marked deleted."""
        current = await self.get(namespace, flow_id)
        record = await self.store.save_flow(namespace, flow_id, current.record.source, deleted=True)
        return StoredFlow(record, current.flow)

    async def set_disabled(self, namespace: str, flow_id: str, disabled: bool) -> bool:
        """Enable or disable a flow by rewriting its `disabled:` line; say whether it changed."""
        current = await self.get(namespace, flow_id)
        if current.flow.disabled == disabled:
            return False
        await self.save(with_disabled(current.record.source, disabled), expect=(namespace, flow_id))
        return True

    async def revisions(self, namespace: str, flow_id: str) -> list[FlowRecord]:
        """Return every revision of a flow, deleted ones included, oldest first."""
        return await self.store.flow_revisions(namespace, flow_id)

    async def last_revision(self, namespace: str, flow_id: str) -> int:
        """Return the number of the last revision of a flow, deleted or not; 0 when none."""
        record = await self.store.get_flow(namespace, flow_id, allow_deleted=True)
        return record.revision if record is not None else 0

    async def search(self, query: FlowQuery, page: int = 1, size: int = 10) -> Page[FlowRecord]:
        """Return one page of the last revisions of the flows that match, not deleted."""
        if not query.needs_scan():
            return await self.store.search_flows(
                namespace=query.namespace, query=query.text, page=page, size=size
            )
        if page < 1 or size < 1:
            raise LannerError(f"page and size must be at least 1, got page={page} size={size}")
        records = await self.find(query)
        # Stable sorts from the last key to the first give the combined order.
        for key in reversed(query.sort):
            records.sort(key=attrgetter(key.field), reverse=key.descending)
        start = (page - 1) * size
        return Page(records[start : start + size], len(records))

    async def find(self, query: FlowQuery) -> list[FlowRecord]:
        """Return every flow matching the namespace, text and labels, by namespace then id."""
        found: list[FlowRecord] = []
        page = 1
        while True:
            batch = await self.store.search_flows(
                namespace=query.namespace, query=query.text, page=page, size=_BATCH
            )
            found.extend(batch.results)
            if len(found) >= batch.total or not batch.results:
                break
            page += 1
        return [r for r in found if query.matches(r, self._labels(r) if query.labels else {})]

    def _labels(self, record: FlowRecord) -> dict[str, str] | None:
        flow = self.parse_or_error(record)
        if isinstance(flow, FlowError):
            return None
        return {label.key: label.value for label in flow.labels}

    async def in_namespace(self, namespace: str) -> list[FlowRecord]:
        """Return the flows of exactly this namespace (not those under it)."""
        return await self.find(FlowQuery(namespace, exact_namespace=True))

    async def namespaces(self, text: str | None = None) -> list[str]:
        """Return the namespaces that hold a flow, sorted, those containing `text` if given."""
        names = {record.namespace for record in await self.find(FlowQuery())}
        needle = text.lower() if text else ""
        return sorted(name for name in names if needle in name.lower())


def clean_source(source: str) -> str:
    """Drop the first top-level `revision:` line of a flow source."""
    return _REVISION_LINE.sub("", source, count=1)


def with_disabled(source: str, disabled: bool) -> str:
    """Return a flow source with its top-level `disabled:` set, replaced or appended."""
    line = f"disabled: {'true' if disabled else 'false'}"
    if _DISABLED_LINE.search(source):
        return _DISABLED_LINE.sub(line, source, count=1)
    return source + ("" if source.endswith("\n") or not source else "\n") + line + "\n"


def _parsed_document(document: SourceDocument) -> Flow:
    report = validate_flow(document.text, first_line=document.first_line)
    if report.model is None:
        raise FlowError(report.problems)
    return report.model


def _check_batch(namespace: str, flows: Sequence[Flow]) -> None:
    problems = [
        Problem("namespace", f"Flow namespace is invalid: {flow.namespace} is not {namespace}")
        for flow in flows
        if flow.namespace != namespace
    ]
    seen: set[str] = set()
    for flow in flows:
        if flow.id in seen:
            problems.append(Problem("id", f"Duplicate flow id: {flow.id}"))
        seen.add(flow.id)
    if problems:
        raise FlowError(problems)


def _at_id(source: str, message: str) -> Problem:
    position = load_yaml(source).key_position(("id",))
    line, column = position if position else (None, None)
    return Problem("id", message, line, column)
