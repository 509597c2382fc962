"""Sync semantics: keyed on 職員番号, add / update / deactivate / reactivate, departments, managers."""

from unittest import mock

from django.utils import timezone

from mamori.core import actions
from mamori.core.models import Department, Person, RosterImport
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_person
from mamori.core.tests.roster_files import HEADER, WARD_A_ROSTER, csv_bytes, staff, xlsx_bytes


class SyncTestCase(BaseTestCase):
    def import_roster(self, content: bytes) -> RosterImport:
        roster_import = actions.upload_roster(self.ward_a, filename="roster.csv", content=content, by=self.alice)
        self.assertEqual(roster_import.state, RosterImport.State.VALIDATED, roster_import.errors)
        actions.run_roster_import_now(roster_import, by=self.alice)
        self.assertEqual(roster_import.state, RosterImport.State.DONE, roster_import.errors)
        return roster_import

    def person(self, number: str) -> Person:
        return Person.objects.select_related("department", "manager").get(
            organization=self.ward_a, employee_number=number
        )


class FirstImportTests(SyncTestCase):
    def test_it_adds_people_with_every_field(self):
        self.import_roster(csv_bytes(WARD_A_ROSTER))
        takahashi = self.person("A003")
        self.assertEqual(takahashi.name, "高橋 三郎")
        self.assertEqual(takahashi.email, "takahashi@city-a.lg.jp")
        self.assertEqual(takahashi.department.path, "区民部/税務課/課税係")
        self.assertEqual(takahashi.position, "主事")
        self.assertEqual(takahashi.employment_type, Person.EmploymentType.FISCAL_YEAR)
        self.assertEqual(self.person("A001").name_kana, "さとう いちろう")

    def test_it_resolves_managers_given_later_in_the_file_or_by_email(self):
        self.import_roster(csv_bytes(WARD_A_ROSTER))
        self.assertEqual(self.person("A003").manager.employee_number, "A002")
        self.assertEqual(self.person("A002").manager.employee_number, "A001")
        self.assertIsNone(self.person("A001").manager)

    def test_it_creates_departments_with_their_ancestors(self):
        self.import_roster(csv_bytes(WARD_A_ROSTER))
        unit = Department.objects.get(organization=self.ward_a, path="区民部/税務課/課税係")
        self.assertEqual((unit.name, unit.depth, unit.parent.path), ("課税係", 2, "区民部/税務課"))
        self.assertEqual(unit.parent.parent.path, "区民部")
        self.assertIsNone(unit.parent.parent.parent)
        # 区民部/税務課 existed already (base test data) and is reused, not duplicated.
        self.assertEqual(unit.parent, self.tax)

    def test_it_lowercases_emails(self):
        self.import_roster(csv_bytes([staff("A1", "佐藤", "Sato.Ichiro@CITY-A.lg.jp")]))
        self.assertEqual(self.person("A1").email, "sato.ichiro@city-a.lg.jp")

    def test_it_maps_employment_type_variants(self):
        rows = [
            staff("A1", "一", "a1@city-a.lg.jp", employment="正規職員"),
            staff("A2", "二", "a2@city-a.lg.jp", employment="会計年度任用職員"),
            staff("A3", "三", "a3@city-a.lg.jp", employment="派遣職員"),
            staff("A4", "四", "a4@city-a.lg.jp", employment="委託"),
            staff("A5", "五", "a5@city-a.lg.jp", employment=""),
        ]
        self.import_roster(csv_bytes(rows))
        types = dict(
            Person.objects.filter(organization=self.ward_a, active=True).values_list(
                "employee_number", "employment_type"
            )
        )
        self.assertEqual(
            types,
            {"A1": "regular", "A2": "fiscal_year", "A3": "dispatched", "A4": "contractor", "A5": "regular"},
        )

    def test_it_imports_the_same_from_every_format(self):
        for content in (
            csv_bytes(WARD_A_ROSTER, encoding="utf-8"),
            csv_bytes(WARD_A_ROSTER, encoding="cp932"),
            xlsx_bytes(WARD_A_ROSTER),
        ):
            with self.subTest(content=content[:4]):
                Person.objects.filter(organization=self.ward_a, employee_number__startswith="A").delete()
                self.import_roster(content)
                self.assertEqual(self.person("A002").department.path, "区民部/税務課/課税係")
                self.assertEqual(self.person("A003").manager.employee_number, "A002")

    def test_xlsx_numbers_become_employee_numbers(self):
        self.import_roster(
            xlsx_bytes([[1001, "佐藤", "", "a@city-a.lg.jp"], [1002, "鈴木", "", "b@city-a.lg.jp", "", "", "", 1001]])
        )
        self.assertEqual(self.person("1002").manager.employee_number, "1001")

    def test_it_leaves_other_wards_alone(self):
        before = list(Person.objects.filter(organization=self.ward_b).values_list())
        self.import_roster(csv_bytes(WARD_A_ROSTER))
        self.assertEqual(list(Person.objects.filter(organization=self.ward_b).values_list()), before)


class ResyncTests(SyncTestCase):
    def setUp(self):
        self.import_roster(csv_bytes([*WARD_A_ROSTER, self.yamada_row()]))

    def yamada_row(self, **changes) -> list[str]:
        fields = {"department": "総務部/総務課/文書係", "position": "主事"} | changes
        return staff(self.person_a.employee_number, "山田 太郎", "yamada@city-a.lg.jp", **fields)

    def test_the_same_file_changes_nothing(self):
        before = list(Person.objects.order_by("pk").values_list())
        roster_import = self.import_roster(csv_bytes([*WARD_A_ROSTER, self.yamada_row()]))
        self.assertEqual(roster_import.counts["unchanged"], 4)
        self.assertEqual(roster_import.counts["update"], 0)
        self.assertEqual(list(Person.objects.order_by("pk").values_list()), before)

    def test_it_updates_changed_people(self):
        rows = [list(row) for row in WARD_A_ROSTER]
        rows[0][5] = "主任"  # 高橋: position
        rows[0][4] = "総務部/総務課"  # and department
        roster_import = self.import_roster(csv_bytes([*rows, self.yamada_row()]))
        self.assertEqual(roster_import.counts["update"], 1)
        takahashi = self.person("A003")
        self.assertEqual((takahashi.position, takahashi.department.path), ("主任", "総務部/総務課"))
        self.assertEqual(roster_import.summary["samples"]["update"][0]["changes"][0]["field"], "所属")

    def test_it_deactivates_people_missing_from_the_file_without_deleting_them(self):
        roster_import = self.import_roster(csv_bytes([*WARD_A_ROSTER]))
        self.assertEqual(roster_import.counts["deactivate"], 1)
        yamada = Person.objects.get(pk=self.person_a.pk)
        self.assertFalse(yamada.active)
        self.assertIsNotNone(yamada.deactivated_at)

    def test_it_reactivates_people_who_come_back(self):
        self.import_roster(csv_bytes([*WARD_A_ROSTER]))
        roster_import = self.import_roster(csv_bytes([*WARD_A_ROSTER, self.yamada_row(position="主任")]))
        self.assertEqual(roster_import.counts["reactivate"], 1)
        yamada = Person.objects.get(pk=self.person_a.pk)
        self.assertTrue(yamada.active)
        self.assertIsNone(yamada.deactivated_at)
        self.assertEqual(yamada.position, "主任")

    def test_unused_departments_are_deactivated_and_come_back_when_used(self):
        self.import_roster(csv_bytes([*WARD_A_ROSTER]))
        general_affairs = Department.objects.filter(organization=self.ward_a, path__startswith="総務部")
        self.assertFalse(general_affairs.filter(active=True).exists())
        # Ancestors of a used department stay active even with nobody directly in them.
        self.assertTrue(Department.objects.get(organization=self.ward_a, path="区民部").active)
        self.import_roster(csv_bytes([*WARD_A_ROSTER, self.yamada_row()]))
        self.assertFalse(general_affairs.filter(active=False).exists())

    def test_it_moves_a_person_to_a_new_manager_added_in_the_same_file(self):
        rows = [list(row) for row in WARD_A_ROSTER]
        rows[0][7] = "A100"
        rows.append(staff("A100", "新任 係長", "new@city-a.lg.jp", "区民部/税務課/課税係", "係長", manager="A001"))
        roster_import = self.import_roster(csv_bytes([*rows, self.yamada_row()]))
        self.assertEqual((roster_import.counts["add"], roster_import.counts["update"]), (1, 1))
        self.assertEqual(self.person("A003").manager.employee_number, "A100")

    def test_two_people_may_swap_addresses(self):
        rows = [list(row) for row in WARD_A_ROSTER]
        rows[1][3], rows[2][3] = rows[2][3], rows[1][3]
        rows[2][7] = "A001"  # 鈴木's manager was named by the address he now takes over
        self.import_roster(csv_bytes([*rows, self.yamada_row()]))
        self.assertEqual(self.person("A001").email, "suzuki@city-a.lg.jp")
        self.assertEqual(self.person("A002").email, "sato@city-a.lg.jp")

    def test_a_newcomer_may_take_the_address_a_colleague_gives_up(self):
        rows = [list(row) for row in WARD_A_ROSTER]
        rows[0][3] = "takahashi.saburo@city-a.lg.jp"
        rows.append(staff("A200", "高橋 四郎", "takahashi@city-a.lg.jp"))
        self.import_roster(csv_bytes([*rows, self.yamada_row()]))
        self.assertEqual(self.person("A003").email, "takahashi.saburo@city-a.lg.jp")
        self.assertEqual(self.person("A200").email, "takahashi@city-a.lg.jp")

    def test_columns_absent_from_the_file_are_left_untouched(self):
        rows = [[row[0], row[1], row[3]] for row in WARD_A_ROSTER]
        rows.append([self.person_a.employee_number, "山田 太郎", "yamada@city-a.lg.jp"])
        roster_import = self.import_roster(csv_bytes(rows, header=["職員番号", "氏名", "メール"]))
        self.assertEqual(roster_import.counts["unchanged"], 4)
        takahashi = self.person("A003")
        self.assertEqual((takahashi.position, takahashi.manager.employee_number), ("主事", "A002"))
        self.assertTrue(Department.objects.get(organization=self.ward_a, path="総務部/総務課/文書係").active)

    def test_updated_at_moves_only_for_changed_people(self):
        long_ago = timezone.now() - timezone.timedelta(days=30)
        Person.objects.filter(organization=self.ward_a).update(updated_at=long_ago)
        rows = [list(row) for row in WARD_A_ROSTER]
        rows[0][1] = "高橋 三郎（改姓）"
        self.import_roster(csv_bytes([*rows, self.yamada_row()]))
        self.assertGreater(self.person("A003").updated_at, long_ago)
        self.assertEqual(self.person("A001").updated_at, long_ago)


class ApplyTimeValidationTests(SyncTestCase):
    def test_a_roster_that_became_invalid_fails_and_writes_nothing(self):
        roster_import = actions.upload_roster(
            self.ward_a, filename="r.csv", content=csv_bytes(WARD_A_ROSTER), by=self.alice
        )
        # After the preview, someone not in the file takes one of its addresses.
        make_person(self.ward_a, "後から 登録", email="sato@city-a.lg.jp", employee_number="LATE1")
        before = list(Person.objects.order_by("pk").values_list())
        actions.run_roster_import_now(roster_import, by=self.alice)
        self.assertEqual(roster_import.state, RosterImport.State.FAILED)
        self.assertIn("LATE1", roster_import.errors[0]["message"])
        self.assertEqual(list(Person.objects.order_by("pk").values_list()), before)
        self.assertEqual(RosterImport.objects.get(pk=roster_import.pk).content, b"")

    def test_a_failure_during_the_apply_rolls_everything_back(self):
        make_department(self.ward_a, "区民部")
        roster_import = actions.upload_roster(
            self.ward_a, filename="r.csv", content=csv_bytes(WARD_A_ROSTER), by=self.alice
        )
        before = list(Person.objects.order_by("pk").values_list())
        with (
            mock.patch("mamori.core.roster.sync._deactivate_people", side_effect=RuntimeError("disk full")),
            self.assertLogs("mamori.core.actions", "ERROR"),
        ):
            actions.run_roster_import_now(roster_import, by=self.alice)
        self.assertEqual(roster_import.state, RosterImport.State.FAILED)
        self.assertIn("予期しないエラー", roster_import.errors[0]["message"])
        self.assertEqual(list(Person.objects.order_by("pk").values_list()), before)
        self.assertFalse(Department.objects.filter(path="区民部/税務課/課税係").exists())

    def test_header_only_variant_file_with_only_required_columns_imports(self):
        self.import_roster(csv_bytes([["Z1", "佐藤", "z@city-a.lg.jp"]], header=[*HEADER[:2], "メール"]))
        self.assertEqual(self.person("Z1").employment_type, Person.EmploymentType.REGULAR)
