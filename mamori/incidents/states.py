"""The case state machine: which state may follow which, in one table.

States: new → triage → in_progress → contained → eradicated → recovered → closed, and reopen.

Forward skips are allowed only where the work really has no step to take:
- triage → closed: a false alarm or a duplicate is closed straight after triage (with that resolution);
- contained → recovered: nothing to eradicate (a lost USB stick found again, a misdirected mail deleted by its
  recipient).
Backward moves: containment that did not hold (contained / eradicated / recovered → in_progress).
Reopen: closed → in_progress, or closed → triage when the first judgement itself was wrong.
Closing always needs a resolution ("no skipping to closed without a resolution"); closing from triage accepts
only "false positive", "duplicate" or "transferred" (handed to another body): "resolved" needs the case to have
gone through containment and recovery. Closed is reached from triage and recovered only.
"""

from mamori.incidents.models import Case

State = Case.State
Resolution = Case.Resolution

ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.NEW: (State.TRIAGE,),
    State.TRIAGE: (State.IN_PROGRESS, State.CLOSED),
    State.IN_PROGRESS: (State.CONTAINED,),
    State.CONTAINED: (State.ERADICATED, State.RECOVERED, State.IN_PROGRESS),
    State.ERADICATED: (State.RECOVERED, State.IN_PROGRESS),
    State.RECOVERED: (State.CLOSED, State.IN_PROGRESS),
    State.CLOSED: (State.IN_PROGRESS, State.TRIAGE),
}

# Which resolutions may close a case from a given state.
CLOSING_RESOLUTIONS: dict[str, tuple[str, ...]] = {
    State.TRIAGE: (Resolution.FALSE_POSITIVE, Resolution.DUPLICATE, Resolution.TRANSFERRED),
    State.RECOVERED: tuple(Resolution.values),
}


def is_allowed(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED_TRANSITIONS.get(from_state, ())


def allowed_next_states(from_state: str) -> tuple[str, ...]:
    return ALLOWED_TRANSITIONS.get(from_state, ())


def resolutions_for_closing(from_state: str) -> tuple[str, ...]:
    """The resolutions a case in ``from_state`` may be closed with (empty: it cannot be closed from there)."""
    if not is_allowed(from_state, State.CLOSED):
        return ()
    return CLOSING_RESOLUTIONS.get(from_state, ())


def is_reopen(from_state: str, to_state: str) -> bool:
    return from_state == State.CLOSED and to_state != State.CLOSED
