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
    MILESTONE_FINAL,
    MILESTONE_GUARD_RULES,
    MILESTONE_INITIAL,
    MILESTONE_OPEN,
    MILESTONE_TRANSITIONS,
    OPEN,
    REISSUE_STATES,
    STEPS,
    TRANSITIONS,
    Action,
    DocumentKind,
    Event,
    Guard,
    MilestoneEvent,
    MilestoneGuard,
    MilestoneState,
    State,
    events_from,
    milestone_events_from,
    milestone_step_name,
    milestone_transition_for,
    step_for,
    transition_for,
)
from workflow.guards import MILESTONE_RULES, RULES
from workflow.machine import machine, milestone_machine, trigger, trigger_milestone


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


def test_every_document_kind_says_in_which_states_it_may_be_reissued() -> None:
    assert set(REISSUE_STATES) == set(DocumentKind)
    # A move's letter may be reissued while its proposal stays where the move took it.
    for row in TRANSITIONS:
        for document in row.documents:
            assert row.dest in REISSUE_STATES[document.kind], (row.event, document.kind)


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


# --- the milestone's life ---------------------------------------------------------------------------


def milestone_reachable_from(start: MilestoneState) -> set[MilestoneState]:
    seen, queue = {start}, deque([start])
    while queue:
        state = queue.popleft()
        for row in MILESTONE_TRANSITIONS:
            if state in row.sources and row.dest not in seen:
                seen.add(row.dest)
                queue.append(row.dest)
    return seen


def test_every_milestone_state_is_reachable_from_planned() -> None:
    assert milestone_reachable_from(MILESTONE_INITIAL) == set(MilestoneState)


def test_final_milestone_states_are_closed() -> None:
    assert {MilestoneState.COMPLETED, MilestoneState.CANCELLED} == MILESTONE_FINAL
    for state in MILESTONE_FINAL:
        assert milestone_events_from(state) == ()
    for state in MILESTONE_OPEN:  # every open milestone can still be delayed or cancelled
        assert {MilestoneEvent.DELAY, MilestoneEvent.CANCEL} <= set(milestone_events_from(state)), state


def test_the_milestone_table_is_the_issue_s() -> None:
    assert milestone_transition_for(MilestoneEvent.START).sources == (MilestoneState.PLANNED, MilestoneState.DELAYED)
    assert milestone_transition_for(MilestoneEvent.COMPLETE).sources == (
        MilestoneState.STARTED,
        MilestoneState.DELAYED,
    )
    assert milestone_transition_for(MilestoneEvent.COMPLETE).guards == (MilestoneGuard.HAS_EVIDENCE,)
    assert milestone_transition_for(MilestoneEvent.DELAY).guards == (
        MilestoneGuard.HAS_REASON,
        MilestoneGuard.LATER_END,
    )
    assert milestone_transition_for(MilestoneEvent.CANCEL).guards == (MilestoneGuard.HAS_REASON,)
    assert MilestoneState.PLANNED not in milestone_transition_for(MilestoneEvent.COMPLETE).sources


def test_each_milestone_event_appears_once_and_every_guard_has_a_rule_and_a_check() -> None:
    assert len({row.event for row in MILESTONE_TRANSITIONS}) == len(MILESTONE_TRANSITIONS) == len(MilestoneEvent)
    used = {guard for row in MILESTONE_TRANSITIONS for guard in row.guards}
    assert used == set(MilestoneGuard)
    assert set(MILESTONE_GUARD_RULES) == set(MilestoneGuard) == set(MILESTONE_RULES)
    for name in [s.value for s in MilestoneState] + [e.value for e in MilestoneEvent]:
        assert name.isidentifier() and name.islower()


def test_milestone_moves_are_recorded_steps_whose_names_clash_with_nothing() -> None:
    proposal_events = {e.value for e in Event}
    for row in MILESTONE_TRANSITIONS:
        name = milestone_step_name(row.event)
        assert name not in proposal_events and row.event.value not in proposal_events
        spec = step_for(name)
        assert spec.milestone_move is row and spec.milestone_states == row.sources
        assert spec.states == (State.COMMITTED,) and spec.move is None
    assert len(STEPS) == len(set(STEPS))  # no name declared twice
    progress = step_for(Action.RECORD_PROGRESS)
    assert progress.milestone_states is not None and MilestoneState.CANCELLED not in progress.milestone_states
    assert step_for(Action.FOLLOWUP).documents[0].kind is DocumentKind.FOLLOWUP


def test_the_milestone_machine_mirrors_its_table_and_has_no_back_doors() -> None:
    built = milestone_machine()
    assert set(built.events) == {e.value for e in MilestoneEvent}
    for row in MILESTONE_TRANSITIONS:
        assert set(built.events[row.event.value].transitions) == {s.name for s in row.sources}
    assert not any(name.startswith("to_") for name in built.events)
    assert built.models == [] and built is not machine()


class _Milestone:
    def __init__(self, state: MilestoneState) -> None:
        self.state = state


def test_the_milestone_machine_triggers_without_registering_and_refuses_wrong_states() -> None:
    row, hooks = _Milestone(MilestoneState.STARTED), _Hooks()
    assert trigger_milestone(row, "complete", hooks) is True  # type: ignore[arg-type]
    assert row.state is MilestoneState.COMPLETED and hooks.calls == ["guards", "prepare", "record"]
    assert milestone_machine().models == []
    with pytest.raises(MachineError):
        trigger_milestone(row, "start", _Hooks())  # type: ignore[arg-type]
    assert row.state is MilestoneState.COMPLETED


def test_every_step_s_documents_have_shipped_templates_in_both_languages() -> None:
    templates = Path(__file__).parents[1] / "documents" / "templates"
    for spec in STEPS.values():
        for document in spec.documents:
            for language in ("ar", "en"):
                assert (templates / template_name(document.kind.value, language)).is_file()
