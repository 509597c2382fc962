"""The state machine: every allowed and forbidden pair, closing needs a resolution, reopen."""

from django.core.exceptions import PermissionDenied
from django.test import TestCase

from mamori.core.models import AuditEntry
from mamori.core.tests.makers import make_organization, make_user
from mamori.incidents import actions, states
from mamori.incidents.actions import IncidentActionError
from mamori.incidents.models import Case, Transition
from mamori.incidents.tests.makers import make_case

State = Case.State
Resolution = Case.Resolution

# The expected table, written out independently of ``states.ALLOWED_TRANSITIONS``.
EXPECTED_ALLOWED = {
    ("new", "triage"),
    ("triage", "in_progress"),
    ("triage", "closed"),
    ("in_progress", "contained"),
    ("contained", "eradicated"),
    ("contained", "recovered"),
    ("contained", "in_progress"),
    ("eradicated", "recovered"),
    ("eradicated", "in_progress"),
    ("recovered", "closed"),
    ("recovered", "in_progress"),
    ("closed", "in_progress"),
    ("closed", "triage"),
}
# The shortest way to reach each state from new (with the resolution where closing).
PATH_TO = {
    "new": [],
    "triage": ["triage"],
    "in_progress": ["triage", "in_progress"],
    "contained": ["triage", "in_progress", "contained"],
    "eradicated": ["triage", "in_progress", "contained", "eradicated"],
    "recovered": ["triage", "in_progress", "contained", "eradicated", "recovered"],
    "closed": ["triage", "closed"],
}


class TransitionTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ward = make_organization("ward-a", "A区")
        cls.ward_b = make_organization("ward-b", "B区")
        cls.alice = make_user("alice", organization=cls.ward)

    def case_in(self, state: str) -> Case:
        case = make_case(self.ward, actor=self.alice)
        for step in PATH_TO[state]:
            resolution = Resolution.FALSE_POSITIVE if step == "closed" else ""
            actions.transition(case, step, actor=self.alice, organization=self.ward, resolution=resolution)
        return case

    def move(self, case: Case, to_state: str, **kwargs):
        return actions.transition(case, to_state, actor=self.alice, organization=self.ward, **kwargs)

    def test_the_table_is_the_documented_one(self):
        table = {(a, b) for a, targets in states.ALLOWED_TRANSITIONS.items() for b in targets}
        self.assertEqual(table, EXPECTED_ALLOWED)

    def test_every_pair_is_allowed_or_refused_as_the_table_says(self):
        for from_state in State.values:
            for to_state in State.values:
                with self.subTest(from_state=from_state, to_state=to_state):
                    case = self.case_in(from_state)
                    before = Transition.objects.filter(case=case).count()
                    resolution = states.resolutions_for_closing(from_state)[:1]
                    kwargs = {"resolution": resolution[0]} if to_state == "closed" and resolution else {}
                    if (from_state, to_state) in EXPECTED_ALLOWED:
                        entry = self.move(case, to_state, **kwargs)
                        case.refresh_from_db()
                        self.assertEqual(case.state, to_state)
                        self.assertEqual((entry.from_state, entry.to_state), (from_state, to_state))
                    else:
                        with self.assertRaises(IncidentActionError):
                            self.move(case, to_state, **kwargs)
                        case.refresh_from_db()
                        self.assertEqual(case.state, from_state)
                        self.assertEqual(Transition.objects.filter(case=case).count(), before)

    def test_it_refuses_to_close_without_a_resolution(self):
        for from_state in ("triage", "recovered"):
            case = self.case_in(from_state)
            with self.assertRaisesMessage(IncidentActionError, "完了の理由を選んでください"):
                self.move(case, "closed")
            case.refresh_from_db()
            self.assertEqual(case.state, from_state)
            self.assertIsNone(case.closed_at)

    def test_closing_from_triage_is_only_for_false_alarms_duplicates_and_hand_overs(self):
        case = self.case_in("triage")
        with self.assertRaises(IncidentActionError):
            self.move(case, "closed", resolution=Resolution.RESOLVED)
        self.move(case, "closed", resolution=Resolution.DUPLICATE)
        case.refresh_from_db()
        self.assertEqual((case.state, case.resolution), ("closed", "duplicate"))

    def test_it_refuses_a_resolution_when_not_closing(self):
        case = self.case_in("triage")
        with self.assertRaises(IncidentActionError):
            self.move(case, "in_progress", resolution=Resolution.RESOLVED)

    def test_closing_records_the_resolution_and_the_time(self):
        case = self.case_in("recovered")
        entry = self.move(case, "closed", resolution=Resolution.RESOLVED, resolution_note="駆除と再発防止を完了")
        case.refresh_from_db()
        self.assertEqual(case.closed_at, entry.at)
        self.assertEqual(case.resolution_note, "駆除と再発防止を完了")
        self.assertEqual(entry.resolution, "resolved")
        self.assertEqual(entry.actor, self.alice)
        self.assertEqual(entry.actor_organization, self.ward)

    def test_reopen_clears_the_close_and_keeps_the_history(self):
        case = self.case_in("closed")
        self.move(case, "in_progress", note="同じ送信元から再送")
        case.refresh_from_db()
        self.assertEqual((case.state, case.resolution, case.closed_at), ("in_progress", "", None))
        self.assertEqual(
            list(Transition.objects.filter(case=case).values_list("to_state", flat=True)),
            ["new", "triage", "closed", "in_progress"],
        )
        self.assertTrue(AuditEntry.objects.filter(action="incident.reopened", target=str(case)).exists())

    def test_the_passed_case_object_follows_the_change(self):
        case = self.case_in("new")
        self.move(case, "triage")
        self.assertEqual(case.state, "triage")

    def test_another_ward_cannot_change_the_state(self):
        case = self.case_in("new")
        with self.assertRaises(PermissionDenied):
            actions.transition(case, "triage", actor=self.alice, organization=self.ward_b)
        case.refresh_from_db()
        self.assertEqual(case.state, "new")

    def test_every_transition_is_audited(self):
        case = self.case_in("in_progress")
        entries = AuditEntry.objects.filter(action="incident.transition", organization=self.ward)
        self.assertEqual(
            [entry.details["to_state"] for entry in entries.order_by("at", "id")], ["triage", "in_progress"]
        )
        self.assertEqual(entries.first().actor, self.alice)
        self.assertEqual(entries.first().details["case"], str(case.public_id))
