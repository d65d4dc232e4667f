"""The shared state machines, one per life declared in `states/`: the proposal's and the milestone's.

Rows are never registered on them: each move triggers the event on the loaded row and leaves the
machine as it was (see STYLE.md). The callbacks only delegate to the move object passed along with
the event, which holds the session and does the work in the order the library calls them:
conditions (guards) → before (render letters) → state change → after (audit and letters).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from transitions import EventData, Machine

from states import INITIAL, MILESTONE_INITIAL, MILESTONE_TRANSITIONS, TRANSITIONS, MilestoneState, State

if TYPE_CHECKING:
    from workflow.models import Milestone, Proposal


class MoveHooks(Protocol):
    """What the machine calls back during a move."""

    def check_guards(self) -> None: ...
    def prepare(self) -> None: ...
    def record(self) -> None: ...


def _hooks(event: EventData) -> MoveHooks:
    hooks: MoveHooks = event.kwargs["move"]
    return hooks


def _guards_hold(event: EventData) -> bool:
    # A guard that fails raises an error naming its rule; returning False would lose the reason.
    _hooks(event).check_guards()
    return True


def _prepare(event: EventData) -> None:
    _hooks(event).prepare()


def _record(event: EventData) -> None:
    _hooks(event).record()


def _build(states: Any, initial: Any, rows: Iterable[Any]) -> Machine:
    """A machine with no model and no automatic transitions, one transition per row of a table in
    `states/` (event, sources, dest), each running the guards and the move's hooks."""
    built = Machine(
        model=None,
        states=states,
        initial=initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for row in rows:
        built.add_transition(
            row.event.value,
            list(row.sources),
            row.dest,
            conditions=[_guards_hold],
            before=[_prepare],
            after=[_record],
        )
    return built


@functools.cache
def machine() -> Machine:
    """The process's machine (built on first use, never at import time)."""
    return _build(State, INITIAL, TRANSITIONS)


def trigger(proposal: Proposal, event: str, move: MoveHooks) -> bool:
    """Fire `event` on `proposal` without registering it on the machine."""
    return bool(machine().events[event].trigger(proposal, move=move))


@functools.cache
def milestone_machine() -> Machine:
    """The process's milestone machine, built the same way from `states.MILESTONE_TRANSITIONS`."""
    return _build(MilestoneState, MILESTONE_INITIAL, MILESTONE_TRANSITIONS)


def trigger_milestone(milestone: Milestone, event: str, move: MoveHooks) -> bool:
    """Fire `event` on `milestone` without registering it on the milestone machine."""
    return bool(milestone_machine().events[event].trigger(milestone, move=move))
