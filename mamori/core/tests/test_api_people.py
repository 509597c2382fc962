from django.test import override_settings

from mamori.accounts.models import APIToken
from mamori.core.models import Membership, Person
from mamori.core.tests.base import BaseTestCase
from mamori.core.tests.makers import make_department, make_person, make_user


class PeopleAPITests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        _, cls.alice_token = APIToken.issue(user=cls.alice, organization=cls.ward_a, name="script")

    def get(self, path, token=None, **params):
        return self.client.get(path, params, headers={"Authorization": f"Bearer {token or self.alice_token}"})

    def test_it_lists_people_of_the_tokens_organization(self):
        response = self.get("/api/v1/people")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["count"], 1)
        person = body["items"][0]
        self.assertEqual(person["name"], "山田 太郎")
        self.assertEqual(person["department"], "総務部/総務課/文書係")
        self.assertEqual(person["id"], str(self.person_a.public_id))
        self.assertNotIn("pk", person)

    def test_it_filters_by_department_subtree_and_text(self):
        make_person(self.ward_a, "税務 次郎", department=self.tax, name_kana="ぜいむ じろう")
        response = self.get("/api/v1/people", department=str(self.tax.public_id))
        self.assertEqual([p["name"] for p in response.json()["items"]], ["税務 次郎"])
        response = self.get("/api/v1/people", q="ぜいむ")
        self.assertEqual([p["name"] for p in response.json()["items"]], ["税務 次郎"])

    def test_it_filters_inactive_people(self):
        make_person(self.ward_a, "退職 三郎", active=False)
        names = [p["name"] for p in self.get("/api/v1/people", active="false").json()["items"]]
        self.assertEqual(names, ["退職 三郎"])

    def test_it_paginates(self):
        for index in range(5):
            make_person(self.ward_a, f"職員 {index}")
        body = self.get("/api/v1/people", limit=2, offset=2).json()
        self.assertEqual(body["count"], 6)
        self.assertEqual(len(body["items"]), 2)

    def test_person_detail_is_scoped(self):
        self.assertEqual(self.get(f"/api/v1/people/{self.person_a.public_id}").status_code, 200)
        self.assertEqual(self.get(f"/api/v1/people/{self.person_b.public_id}").status_code, 404)

    def test_department_of_another_ward_is_not_found(self):
        other = make_department(self.ward_b, "総務部")
        self.assertEqual(self.get("/api/v1/people", department=str(other.public_id)).status_code, 404)

    def test_it_lists_departments_with_parents(self):
        body = self.get("/api/v1/departments").json()
        paths = {d["path"]: d for d in body["items"]}
        self.assertIn("総務部/総務課/文書係", paths)
        self.assertEqual(paths["総務部/総務課/文書係"]["parent_id"], str(self.general_affairs.parent.public_id))
        self.assertIsNone(paths["総務部"]["parent_id"])

    def test_dept_manager_token_sees_own_subtree_only(self):
        manager = make_user("dana")
        Membership.objects.create(
            user=manager, organization=self.ward_a, role=Membership.Role.DEPT_MANAGER, department=self.tax
        )
        make_person(self.ward_a, "税務 次郎", department=self.tax)
        _, token = APIToken.issue(user=manager, organization=self.ward_a, name="manager")
        names = [p["name"] for p in self.get("/api/v1/people", token=token).json()["items"]]
        self.assertEqual(names, ["税務 次郎"])

    def test_list_cost_is_flat(self):
        for index in range(20):
            make_person(self.ward_a, f"職員 {index}", department=self.tax, manager=self.person_a)
        with self.assertNumQueries(5):
            response = self.get("/api/v1/people")
        self.assertEqual(response.json()["count"], Person.objects.filter(organization=self.ward_a).count())


class APITokenAuthTests(BaseTestCase):
    def test_it_rejects_a_wrong_secret(self):
        _, token = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        forged = token[:-4] + "AAAA"
        response = self.client.get("/api/v1/people", headers={"Authorization": f"Bearer {forged}"})
        self.assertEqual(response.status_code, 401)

    def test_it_rejects_a_revoked_token(self):
        api_token, token = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        APIToken.objects.filter(pk=api_token.pk).update(revoked_at=api_token.created_at)
        response = self.client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(response.status_code, 401)

    def test_it_rejects_a_token_whose_user_left_the_organization(self):
        _, token = APIToken.issue(user=self.bob, organization=self.ward_a, name="t")
        Membership.objects.filter(user=self.bob).delete()
        response = self.client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
        self.assertEqual(response.status_code, 401)

    def test_it_stores_only_a_hash(self):
        api_token, token = APIToken.issue(user=self.alice, organization=self.ward_a, name="t")
        self.assertNotIn(token.rsplit("_", 1)[1], api_token.secret_hash)
        self.assertTrue(token.startswith(f"mmr_{api_token.prefix}_"))

    @override_settings(LANGUAGE_CODE="ja")
    def test_openapi_schema_is_public_and_describes_people(self):
        schema = self.client.get("/api/v1/openapi.json").json()
        self.assertIn("/api/v1/people", schema["paths"])
        self.assertIn("/api/v1/people/{person_id}", schema["paths"])
