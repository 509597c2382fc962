"""Plain test-data helpers for incidents (``make_*``), shared by the engine and the page tests."""

import datetime
import itertools

from django.utils import timezone

from mamori.core.models import Membership, Organization
from mamori.core.tests.makers import make_organization, make_user
from mamori.incidents import actions
from mamori.incidents.models import Case, DutyContact, Transition

_numbers = itertools.count(1)


def make_case(organization, *, actor=None, title: str | None = None, **fields) -> Case:
    """Open a case through ``actions.open_case`` (opening transition, playbook and legal-clock tasks)."""
    return actions.open_case(organization, actor=actor, title=title or f"テスト事案 {next(_numbers)}", **fields)


def make_joint_organization(code: str = "joint-csirt", name: str = "23区共同CSIRT") -> Organization:
    return make_organization(code, name, kind=Organization.Kind.JOINT)


def make_joint_member(joint_organization, username: str = "joint", role=Membership.Role.CSIRT):
    """A CSIRT member of the joint body."""
    return make_user(username, organization=joint_organization, role=role)


def make_duty_contact(organization, email: str, *, name: str = "当番", **fields) -> DutyContact:
    return DutyContact.objects.create(organization=organization, name=name, email=email, **fields)


def make_history(case: Case, steps: list[tuple[str, datetime.datetime]], *, resolution: str = "resolved") -> None:
    """Write transitions directly at given times (``[(to_state, at), …]``) for measures on known data.

    The case's opening transition stays where ``open_case`` put it (at ``detected_at``); the case's state
    and ``closed_at`` follow the last step.
    """
    from_state = case.state
    for to_state, at in steps:
        Transition.objects.create(
            case=case,
            from_state=from_state,
            to_state=to_state,
            at=at,
            resolution=resolution if to_state == Case.State.CLOSED else "",
        )
        from_state = to_state
    case.state = from_state
    case.closed_at = steps[-1][1] if from_state == Case.State.CLOSED else None
    case.resolution = resolution if from_state == Case.State.CLOSED else ""
    case.updated_at = timezone.now()
    case.save(update_fields=["state", "closed_at", "resolution", "updated_at"])
