import random
from collections import Counter

from mamori.core.models import Person
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_person
from mamori.drills.audience import (
    AudienceCriteria,
    assign_scenarios,
    audience_of,
    criteria_of,
    explicit_outsiders,
    preview_audience,
    select_audience,
)
from mamori.drills.tests.makers import make_campaign

FISCAL_YEAR = Person.EmploymentType.FISCAL_YEAR


class AudienceSelectionTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.general_affairs_division = cls.general_affairs.parent  # 総務部/総務課
        cls.clerical = make_department(cls.ward_a, "総務部/総務課/庶務係")
        cls.citizens = make_department(cls.ward_a, "区民部/区民課")
        cls.document_chief = make_person(cls.ward_a, "文書 係長", department=cls.general_affairs, position="係長")
        cls.clerical_staff = make_person(cls.ward_a, "庶務 職員", department=cls.clerical, position="主事")
        cls.clerical_part_time = make_person(
            cls.ward_a, "庶務 会計年度", department=cls.clerical, position="主事", employment_type=FISCAL_YEAR
        )
        cls.division_head = make_person(
            cls.ward_a, "総務 課長", department=cls.general_affairs_division, position="課長"
        )
        cls.tax_staff = make_person(cls.ward_a, "税務 主任", department=cls.tax, position="主任")
        cls.citizens_staff = make_person(cls.ward_a, "区民 主事", department=cls.citizens, position="主事")
        cls.retired = make_person(cls.ward_a, "退職 済", department=cls.clerical, active=False)
        cls.private_address = make_person(
            cls.ward_a, "私用 アドレス", department=cls.clerical, email="someone@gmail.example"
        )
        cls.ward_b_staff = make_person(cls.ward_b, "B区 職員")

    def names(self, people) -> set[str]:
        return set(people.values_list("name", flat=True))

    def test_no_criteria_means_every_reachable_person_of_the_organization(self):
        audience = select_audience(self.ward_a, AudienceCriteria())
        self.assertEqual(
            self.names(audience),
            {"山田 太郎", "文書 係長", "庶務 職員", "庶務 会計年度", "総務 課長", "税務 主任", "区民 主事"},
        )

    def test_a_department_brings_its_whole_sub_tree(self):
        audience = select_audience(self.ward_a, AudienceCriteria(departments=[self.general_affairs_division]))
        self.assertEqual(self.names(audience), {"山田 太郎", "文書 係長", "庶務 職員", "庶務 会計年度", "総務 課長"})

    def test_a_department_does_not_bring_a_sibling_with_a_longer_name(self):
        make_department(self.ward_a, "総務部/総務課2")
        lookalike = make_person(self.ward_a, "別課 職員", department=make_department(self.ward_a, "総務部/総務課2"))
        audience = select_audience(self.ward_a, AudienceCriteria(departments=[self.general_affairs_division]))
        self.assertNotIn(lookalike.name, self.names(audience))

    def test_positions_and_employment_types_narrow_the_departments(self):
        criteria = AudienceCriteria(departments=[self.general_affairs_division], positions=["主事"])
        self.assertEqual(self.names(select_audience(self.ward_a, criteria)), {"庶務 職員", "庶務 会計年度"})
        criteria = AudienceCriteria(positions=["主事"], employment_types=[FISCAL_YEAR])
        self.assertEqual(self.names(select_audience(self.ward_a, criteria)), {"庶務 会計年度"})

    def test_explicit_people_are_added_and_exclusions_removed(self):
        criteria = AudienceCriteria(
            departments=[self.tax], included=[self.citizens_staff.pk], excluded=[self.tax_staff.pk]
        )
        self.assertEqual(self.names(select_audience(self.ward_a, criteria)), {"区民 主事"})

    def test_exclusions_apply_to_the_whole_organization(self):
        criteria = AudienceCriteria(excluded=[self.tax_staff.pk, self.person_a.pk])
        audience = self.names(select_audience(self.ward_a, criteria))
        self.assertNotIn("税務 主任", audience)
        self.assertNotIn("山田 太郎", audience)
        self.assertIn("区民 主事", audience)

    def test_inactive_people_and_outsider_addresses_are_never_selected(self):
        criteria = AudienceCriteria(
            departments=[self.clerical], included=[self.retired.pk, self.private_address.pk, self.ward_b_staff.pk]
        )
        self.assertEqual(self.names(select_audience(self.ward_a, criteria)), {"庶務 職員", "庶務 会計年度"})

    def test_an_organization_without_verified_domains_reaches_nobody(self):
        self.ward_a.domains.all().delete()
        self.assertFalse(select_audience(self.ward_a, AudienceCriteria()).exists())

    def test_the_domain_must_match_exactly_in_any_case(self):
        upper = make_person(self.ward_a, "大文字", email="UPPER@CITY-A.LG.JP", department=self.tax)
        sub = make_person(self.ward_a, "サブドメイン", email="x@mail.city-a.lg.jp", department=self.tax)
        lookalike = make_person(self.ward_a, "似たドメイン", email="x@evilcity-a.lg.jp", department=self.tax)
        names = self.names(select_audience(self.ward_a, AudienceCriteria(departments=[self.tax])))
        self.assertIn(upper.name, names)
        self.assertNotIn(sub.name, names)
        self.assertNotIn(lookalike.name, names)

    def test_a_saved_campaign_reaches_the_same_people_in_a_constant_number_of_queries(self):
        campaign = make_campaign(self.ward_a, audience_positions=["主事"])
        campaign.audience_departments.set([self.general_affairs_division, self.citizens])
        campaign.included_people.set([self.tax_staff])
        campaign.excluded_people.set([self.clerical_part_time])
        with self.assertNumQueries(3):  # departments, domains, the audience
            names = {person.name for person in audience_of(campaign)}
        self.assertEqual(names, {"庶務 職員", "区民 主事", "税務 主任"})

    def test_explicit_outsiders_are_counted_by_reason(self):
        included = [self.retired.pk, self.private_address.pk, self.ward_b_staff.pk, self.tax_staff.pk]
        outsiders = explicit_outsiders(self.ward_a, included, {"city-a.lg.jp"})
        self.assertEqual((outsiders.other_organization, outsiders.inactive, outsiders.outside_domains), (1, 1, 1))
        self.assertIn("確認済みドメイン以外のアドレス 1 名", outsiders.message())

    def test_the_preview_counts_by_department_and_names_who_is_left_out(self):
        campaign = make_campaign(self.ward_a)
        campaign.audience_departments.set([self.clerical])
        campaign.included_people.set([self.retired])
        preview = preview_audience(self.ward_a, criteria_of(campaign))
        self.assertEqual(preview.total, 2)
        self.assertEqual(preview.by_department, [{"department__path": "総務部/総務課/庶務係", "people": 2}])
        self.assertEqual(preview.outside_domains, 1)
        self.assertEqual(preview.explicit_outsiders.inactive, 1)


class ScenarioAssignmentTests(BaseTestCase):
    def test_balanced_gives_every_scenario_an_equal_share(self):
        departments = [i % 13 for i in range(1000)]
        assigned = assign_scenarios(departments, ["A", "B", "C"], balanced=True, rng=random.Random(1))
        counts = Counter(assigned)
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1)

    def test_balanced_spreads_scenarios_inside_each_department(self):
        departments = ["文書係"] * 9 + ["税務課"] * 7 + ["人事課"] * 2
        assigned = assign_scenarios(departments, ["A", "B", "C"], balanced=True, rng=random.Random(4))
        for department in set(departments):
            counts = Counter(s for s, d in zip(assigned, departments, strict=True) if d == department)
            size = departments.count(department)
            self.assertLessEqual(max(counts.values()), -(-size // 3), department)
            self.assertEqual(len(counts), min(3, size), department)

    def test_random_assignment_uses_every_scenario_for_a_large_audience(self):
        assigned = assign_scenarios([0] * 600, ["A", "B", "C"], balanced=False, rng=random.Random(2))
        self.assertEqual(set(assigned), {"A", "B", "C"})

    def test_assignment_is_reproducible_under_a_seed(self):
        departments = [i % 4 for i in range(50)]
        first = assign_scenarios(departments, ["A", "B"], balanced=True, rng=random.Random(9))
        self.assertEqual(first, assign_scenarios(departments, ["A", "B"], balanced=True, rng=random.Random(9)))

    def test_one_scenario_goes_to_everyone(self):
        self.assertEqual(assign_scenarios([1, 2, 2], ["A"], balanced=True, rng=random.Random(0)), ["A", "A", "A"])
