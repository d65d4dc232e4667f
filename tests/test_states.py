"""The transition table as data, and the machine built from it."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
from transitions import MachineError

from documents import template_name
from states import (
    FINAL,
    GUARD_RULES,
    INITIAL,
    OPEN,
    TRANSITIONS,
    Event,
    Guard,
    State,
    events_from,
    transition_for,
)
from workflow.guards import RULES
from workflow.machine import machine, trigger


def reachable_from(start: State) -> set[State]:
    seen, queue = {start}, deque([start])
    while queue:
        state = queue.popleft()
        for row in TRANSITIONS:
            if state in row.sources and row.dest not in seen:
                seen.add(row.dest)
                queue.append(row.dest)
    return seen


def test_every_state_is_reachable_from_submitted() -> None:
    assert reachable_from(INITIAL) == set(State)


def test_final_states_are_closed() -> None:
    assert {State.COMMITTED, State.REJECTED, State.WITHDRAWN, State.DISCARDED} == FINAL
    for state in FINAL:
        assert events_from(state) == ()


def test_every_open_state_can_leave_by_reject_or_withdraw() -> None:
    for state in OPEN:
        assert {Event.REJECT, Event.WITHDRAW} <= set(events_from(state)), state


def test_the_main_path_is_one_step_per_event() -> None:
    path = [
        (Event.INTERVIEW, State.SUBMITTED, State.INTERVIEWED),
        (Event.SHORTLIST, State.INTERVIEWED, State.SHORTLISTED),
        (Event.REFER, State.SHORTLISTED, State.REFERRED),
        (Event.COMMIT, State.REFERRED, State.COMMITTED),
    ]
    for event, source, dest in path:
        row = transition_for(event)
        assert row.sources == (source,)
        assert row.dest == dest


def test_each_event_appears_once_and_every_guard_has_a_rule_and_a_check() -> None:
    assert len({row.event for row in TRANSITIONS}) == len(TRANSITIONS) == len(Event)
    used = {guard for row in TRANSITIONS for guard in row.guards}
    assert used == set(Guard)
    assert set(GUARD_RULES) == set(Guard) == set(RULES)


def test_guards_required_by_the_issue() -> None:
    assert Guard.HAS_INTERVIEW in transition_for(Event.INTERVIEW).guards
    assert Guard.HAS_ENTITY in transition_for(Event.REFER).guards
    assert Guard.HAS_REASON in transition_for(Event.REJECT).guards
    assert Guard.HAS_REASON in transition_for(Event.WITHDRAW).guards
    assert Guard.WITHIN_SHORTLIST_SIZE in transition_for(Event.SHORTLIST).guards
    assert Guard.WITHIN_COMMITMENT_TARGET in transition_for(Event.COMMIT).guards


def test_every_document_kind_has_a_shipped_template() -> None:
    templates = Path(__file__).parents[1] / "documents" / "templates"
    for row in TRANSITIONS:
        for document in row.documents:
            assert (templates / template_name(document.kind.value, "ar")).is_file()


def test_state_and_event_names_are_identifiers() -> None:
    for name in [s.value for s in State] + [e.value for e in Event]:
        assert name.isidentifier() and name.islower()


def test_the_machine_mirrors_the_table_and_has_no_back_doors() -> None:
    built = machine()
    assert set(built.events) == {e.value for e in Event}
    for row in TRANSITIONS:
        sources = set(built.events[row.event.value].transitions)
        assert sources == {s.name for s in row.sources}
    assert not any(name.startswith("to_") for name in built.events)
    assert built.models == []


class _Hooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def check_guards(self) -> None:
        self.calls.append("guards")

    def prepare(self) -> None:
        self.calls.append("prepare")

    def record(self) -> None:
        self.calls.append("record")


class _Row:
    def __init__(self, state: State) -> None:
        self.state = state


def test_trigger_runs_hooks_in_order_and_leaves_no_model_registered() -> None:
    row, hooks = _Row(State.SHORTLISTED), _Hooks()
    assert trigger(row, "refer", hooks) is True  # type: ignore[arg-type]
    assert row.state is State.REFERRED
    assert hooks.calls == ["guards", "prepare", "record"]
    assert machine().models == []


def test_a_failing_guard_or_preparation_leaves_the_state_unchanged() -> None:
    class Failing(_Hooks):
        def prepare(self) -> None:
            raise RuntimeError("template broke")

    row = _Row(State.SHORTLISTED)
    with pytest.raises(RuntimeError):
        trigger(row, "refer", Failing())  # type: ignore[arg-type]
    assert row.state is State.SHORTLISTED


def test_an_event_from_the_wrong_state_is_refused_by_the_machine() -> None:
    row = _Row(State.COMMITTED)
    with pytest.raises(MachineError):
        trigger(row, "refer", _Hooks())  # type: ignore[arg-type]
    assert row.state is State.COMMITTED
