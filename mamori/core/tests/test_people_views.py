from django.urls import reverse

from mamori.core.models import Membership
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_person, make_user


class PeopleListTests(BaseTestCase):
    def test_it_lists_own_wards_staff(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:people"))
        self.assertContains(response, "山田 太郎")
        self.assertNotContains(response, "鈴木 花子")

    def test_it_hides_other_wards_staff_from_charlie(self):
        self.login(self.charlie)
        response = self.client.get(reverse("core:people"))
        self.assertContains(response, "鈴木 花子")
        self.assertNotContains(response, "山田 太郎")

    def test_it_searches_by_kana(self):
        make_person(self.ward_a, "佐藤 一郎", name_kana="さとう いちろう")
        self.login(self.alice)
        response = self.client.get(reverse("core:people"), {"q": "さとう"})
        self.assertContains(response, "佐藤 一郎")
        self.assertNotContains(response, "山田 太郎")

    def test_it_filters_by_department_subtree(self):
        self.login(self.alice)
        parent = self.general_affairs.parent.parent  # 総務部
        response = self.client.get(reverse("core:people"), {"department": str(parent.public_id), "status": "active"})
        self.assertContains(response, "山田 太郎")

    def test_htmx_request_gets_only_the_table(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:people"), headers={"HX-Request": "true"})
        self.assertContains(response, "山田 太郎")
        self.assertNotContains(response, "<html")

    def test_list_cost_is_flat(self):
        for index in range(30):
            make_person(self.ward_a, f"職員 {index}", department=self.tax)
        self.login(self.alice)
        self.client.get(reverse("core:people"))
        with self.assertNumQueries(9):
            self.client.get(reverse("core:people"))

    def test_dept_manager_sees_only_own_subtree(self):
        manager = make_user("dana", organization=None)
        Membership.objects.create(
            user=manager, organization=self.ward_a, role=Membership.Role.DEPT_MANAGER, department=self.tax
        )
        make_person(self.ward_a, "税務 次郎", department=make_department(self.ward_a, "区民部/税務課/課税係"))
        self.login(manager)
        response = self.client.get(reverse("core:people"))
        self.assertContains(response, "税務 次郎")
        self.assertNotContains(response, "山田 太郎")


class PersonDetailTests(BaseTestCase):
    def test_it_shows_a_person(self):
        self.login(self.alice)
        response = self.client.get(reverse("core:person-detail", args=[self.person_a.public_id]))
        self.assertContains(response, "yamada@city-a.lg.jp")

    def test_charlie_gets_404_for_ward_a_person(self):
        self.login(self.charlie)
        response = self.client.get(reverse("core:person-detail", args=[self.person_a.public_id]))
        self.assertEqual(response.status_code, 404)


class VendorScopingTests(BaseTestCase):
    def test_vendor_sees_no_roster_pages(self):
        vendor = make_user("vera", organization=self.ward_a, role=Membership.Role.VENDOR)
        self.login(vendor)
        self.assertEqual(self.client.get(reverse("core:people")).status_code, 403)

    def test_vendor_token_lists_nobody(self):
        from mamori.accounts.models import APIToken

        vendor = make_user("vera", organization=self.ward_a, role=Membership.Role.VENDOR)
        _, token = APIToken.issue(user=vendor, organization=self.ward_a, name="vendor")
        response = self.client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(response.json()["count"], 0)
