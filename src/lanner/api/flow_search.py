"""Flow searches from Kestra's query parameters: the old ones (`q`, `namespace`, `labels=k:v`)
and the newer `filters[field][OPERATION]=value` of the 1.x UI and `kestrapy`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from lanner.exceptions import LannerError
from lanner.flowrepo import FlowQuery, SortKey

__all__ = ["flow_query", "label_filter"]

_FILTER_KEY = re.compile(r"filters\[(?P<field>[^\]]+)\]\[(?P<op>[^\]]+)\](?:\[(?P<key>[^\]]*)\])?")
_PREFIX_OPS = frozenset({"PREFIX", "STARTS_WITH"})
_EXACT_OPS = frozenset({"EQUALS", "IN"})


def flow_query(
    params: Iterable[tuple[str, str]],
    *,
    namespace: str | None = None,
    text: str | None = None,
    labels: Sequence[str] = (),
    sort: Sequence[str] = (),
) -> FlowQuery:
    """Build a search from the plain parameters, then apply the `filters[...]` ones."""
    query = FlowQuery(
        namespace or None,
        text or None,
        label_filter(labels),
        [SortKey.parse(item) for item in sort],
    )
    for name, value in params:
        if name.startswith("filters["):
            query = _apply(query, name, value)
    return query


def label_filter(labels: Iterable[str]) -> dict[str, str]:
    """Read `key:value` label filters."""
    pairs: dict[str, str] = {}
    for label in labels:
        key, colon, value = label.partition(":")
        if not colon or not key:
            raise LannerError(f"Invalid label filter '{label}': expected key:value")
        pairs[key] = value
    return pairs


def _apply(query: FlowQuery, name: str, value: str) -> FlowQuery:
    match = _FILTER_KEY.fullmatch(name)
    if match is None:
        raise LannerError(f"Unsupported flow filter '{name}'")
    field, op, key = match["field"], match["op"].upper(), match["key"]
    if field == "q":
        return replace(query, text=value or None)
    if field == "namespace" and op in _PREFIX_OPS | _EXACT_OPS:
        return replace(query, namespace=value or None, exact_namespace=op in _EXACT_OPS)
    if field == "labels" and op == "EQUALS" and key:
        return replace(query, labels={**query.labels, key: value})
    if field == "scope":
        # USER / SYSTEM flows: lanner has user flows only.
        return query
    raise LannerError(f"Unsupported flow filter '{field}' with operation '{op}'")
