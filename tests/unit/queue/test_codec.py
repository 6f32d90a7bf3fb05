"""Queue events survive their trip through the JSON the PostgreSQL queue keeps."""

from __future__ import annotations

from lanner.children import ChildEvent, ChildEventKind
from lanner.queue import EventKind, ExecutorEvent
from lanner.queue.codec import decode_event, encode_event
from lanner.states import State


def test_a_child_event_comes_back_whole() -> None:
    ended = ChildEvent(
        ChildEventKind.ENDED,
        "run1",
        "child1",
        2,
        state=State.WARNING,
        outputs={"text": "line 1", "n": [1, 2]},
        warnings=("Input x was provided but isn't declared",),
    )
    refused = ChildEvent(ChildEventKind.REFUSED, "run2", message="Unable to find flow 'a'.'b'")
    for child in (ended, refused):
        event = ExecutorEvent(EventKind.CHILD, "parent1", child=child)
        assert decode_event("child", "parent1", encode_event(event)) == event


def test_an_unqueue_keeps_its_target_state() -> None:
    for state in (State.RUNNING, State.CANCELLED):
        event = ExecutorEvent(EventKind.UNQUEUE, "queued1", state=state)
        assert decode_event("unqueue", "queued1", encode_event(event)) == event
