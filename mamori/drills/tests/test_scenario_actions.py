from django.apps import apps as django_apps
from django.db.migrations.state import ProjectState

from mamori.core.tests.base import BaseTestCase
from mamori.drills.actions.scenarios import (
    ScenarioError,
    copy_scenario,
    save_scenario,
    set_archived,
    sync_library_after_migrate,
)
from mamori.drills.forms.scenarios import ScenarioForm
from mamori.drills.models import Scenario
from mamori.drills.tests.makers import make_scenario


class ScenarioActionTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.library = Scenario.objects.get(library_key="qr-mfa-koshin")

    def test_a_copy_keeps_content_and_rating_but_not_the_library_key(self):
        copy = copy_scenario(self.library, organization=self.ward_a, by=self.alice)
        self.assertEqual(copy.organization, self.ward_a)
        self.assertEqual(copy.copied_from, self.library)
        self.assertEqual(copy.library_key, "")
        self.assertEqual(copy.html_body, self.library.html_body)
        self.assertEqual(copy.difficulty, self.library.difficulty)
        self.assertEqual(copy.created_by, self.alice)

    def test_a_ward_cannot_copy_another_wards_scenario(self):
        theirs = make_scenario(self.ward_b, "B区の訓練")
        with self.assertRaises(ScenarioError):
            copy_scenario(theirs, organization=self.ward_a, by=self.alice)

    def test_library_scenarios_cannot_be_saved_or_archived_by_a_ward(self):
        form = ScenarioForm(instance=self.library)
        with self.assertRaises(ScenarioError):
            save_scenario(form, by=self.alice)
        with self.assertRaises(ScenarioError):
            set_archived(self.library, True, by=self.alice)
        self.library.refresh_from_db()
        self.assertFalse(self.library.archived)

    def test_the_migrate_hook_waits_until_the_scenario_table_is_current(self):
        Scenario.objects.filter(organization__isnull=True).delete()
        behind = ProjectState()  # a state without the drills app: migrated back to zero
        sync_library_after_migrate(None, apps=behind.apps, using="default")
        self.assertFalse(Scenario.objects.filter(organization__isnull=True).exists())
        sync_library_after_migrate(None, apps=django_apps, using="default")
        self.assertTrue(Scenario.objects.filter(organization__isnull=True).exists())

    def test_the_migrate_hook_also_runs_after_a_flush(self):
        Scenario.objects.filter(organization__isnull=True).delete()
        sync_library_after_migrate(None, using="default")  # flush sends no ``apps``
        self.assertTrue(Scenario.objects.filter(organization__isnull=True).exists())
