"""The demo ward (デモ区): a realistic 部›課›係 tree with ~300 staff, and the demo's two logins.

Everything is generated from a fixed random seed, so seeding twice gives the same people and the second
run adds nothing: the demo can be restarted at will without duplicating anyone.
"""

import random
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from mamori.accounts.models import LoginFailure, User
from mamori.core.audit import record
from mamori.core.models import Department, Membership, Organization, Person, VerifiedDomain
from mamori.core.models.people import PATH_SEPARATOR
from mamori.incidents.demo import seed_demo_cases

DEMO_CODE = "demo-ku"
DEMO_NAME = "デモ区"
DEMO_DOMAIN = "demo-ku.example.jp"
DEMO_STAFF = 300
DEMO_RANDOM_SEED = 20250401

# (部, head's title, [(課, head's title, [係, …]), …]): the shape of a Tokyo special ward's office.
DEPARTMENT_TREE: list[tuple[str, str, list[tuple[str, str, list[str]]]]] = [
    (
        "総務部",
        "部長",
        [
            ("総務課", "課長", ["文書係", "庶務係"]),
            ("人事課", "課長", ["人事係", "給与係"]),
            ("情報政策課", "課長", ["情報システム係", "情報セキュリティ係"]),
            ("防災課", "課長", ["防災計画係"]),
        ],
    ),
    (
        "企画経営部",
        "部長",
        [
            ("企画課", "課長", ["企画調整係"]),
            ("財政課", "課長", ["財政係"]),
            ("広報課", "課長", ["広報係", "広聴係"]),
        ],
    ),
    (
        "区民部",
        "部長",
        [
            ("戸籍住民課", "課長", ["戸籍係", "住民記録係", "証明係"]),
            ("税務課", "課長", ["課税係", "収納係"]),
            ("保険年金課", "課長", ["国民健康保険係", "国民年金係"]),
        ],
    ),
    (
        "福祉部",
        "部長",
        [
            ("福祉管理課", "課長", ["福祉管理係"]),
            ("障害福祉課", "課長", ["障害者支援係"]),
            ("高齢福祉課", "課長", ["介護保険係", "高齢者支援係"]),
            ("生活福祉課", "課長", ["保護第一係"]),
        ],
    ),
    (
        "健康部",
        "部長",
        [
            ("健康推進課", "課長", ["健康づくり係"]),
            ("保健予防課", "課長", ["感染症対策係"]),
        ],
    ),
    (
        "子ども家庭部",
        "部長",
        [
            ("子育て支援課", "課長", ["子育て給付係"]),
            ("保育課", "課長", ["保育入園係"]),
            ("子ども家庭支援センター", "所長", ["相談係"]),
        ],
    ),
    (
        "都市整備部",
        "部長",
        [
            ("都市計画課", "課長", ["都市計画係"]),
            ("建築課", "課長", ["建築審査係"]),
            ("道路公園課", "課長", ["道路管理係", "公園係"]),
        ],
    ),
    (
        "環境清掃部",
        "部長",
        [
            ("環境課", "課長", ["環境対策係"]),
            ("清掃事務所", "所長", ["作業係"]),
        ],
    ),
    (
        "教育委員会事務局",
        "教育次長",
        [
            ("教育総務課", "課長", ["庶務係"]),
            ("学務課", "課長", ["学事係"]),
            ("指導室", "指導室長", ["指導係"]),
            ("生涯学習課", "課長", ["図書館係"]),
        ],
    ),
    ("会計管理室", "会計管理者", [("会計課", "課長", ["審査係", "出納係"])]),
    ("区議会事務局", "事務局長", [("議事調査課", "課長", ["議事係", "調査係"])]),
]

# Resident contractors (委託先) where wards really have them: system maintenance and counter services.
CONTRACTED_TEAMS = {
    "総務部/情報政策課/情報システム係": ("常駐SE", 3),
    "区民部/戸籍住民課/証明係": ("窓口受付（委託）", 3),
}
# Every 係 has a 係長, a 主任 and two 主事; the rest of the staff is spread by these weights.
CORE_TEAM = ["主任", "主事", "主事"]
EXTRA_STAFF_WEIGHTS = [
    (("主事", Person.EmploymentType.REGULAR), 30),
    (("主任", Person.EmploymentType.REGULAR), 10),
    (("主事補", Person.EmploymentType.REGULAR), 5),
    (("事務補助員", Person.EmploymentType.FISCAL_YEAR), 45),
    (("派遣社員", Person.EmploymentType.DISPATCHED), 10),
]

# (漢字, かな, romaji) — common surnames and given names, for readable addresses like sato.taro@….
SURNAMES = [
    ("佐藤", "さとう", "sato"), ("鈴木", "すずき", "suzuki"), ("高橋", "たかはし", "takahashi"),
    ("田中", "たなか", "tanaka"), ("伊藤", "いとう", "ito"), ("渡辺", "わたなべ", "watanabe"),
    ("山本", "やまもと", "yamamoto"), ("中村", "なかむら", "nakamura"), ("小林", "こばやし", "kobayashi"),
    ("加藤", "かとう", "kato"), ("吉田", "よしだ", "yoshida"), ("山田", "やまだ", "yamada"),
    ("佐々木", "ささき", "sasaki"), ("山口", "やまぐち", "yamaguchi"), ("松本", "まつもと", "matsumoto"),
    ("井上", "いのうえ", "inoue"), ("木村", "きむら", "kimura"), ("林", "はやし", "hayashi"),
    ("斎藤", "さいとう", "saito"), ("清水", "しみず", "shimizu"), ("山崎", "やまざき", "yamazaki"),
    ("森", "もり", "mori"), ("池田", "いけだ", "ikeda"), ("橋本", "はしもと", "hashimoto"),
    ("阿部", "あべ", "abe"), ("石川", "いしかわ", "ishikawa"), ("山下", "やました", "yamashita"),
    ("中島", "なかじま", "nakajima"), ("石井", "いしい", "ishii"), ("小川", "おがわ", "ogawa"),
    ("前田", "まえだ", "maeda"), ("岡田", "おかだ", "okada"), ("長谷川", "はせがわ", "hasegawa"),
    ("藤田", "ふじた", "fujita"), ("後藤", "ごとう", "goto"), ("近藤", "こんどう", "kondo"),
    ("村上", "むらかみ", "murakami"), ("遠藤", "えんどう", "endo"), ("青木", "あおき", "aoki"),
    ("坂本", "さかもと", "sakamoto"), ("福田", "ふくだ", "fukuda"), ("太田", "おおた", "ota"),
    ("西村", "にしむら", "nishimura"), ("藤井", "ふじい", "fujii"), ("金子", "かねこ", "kaneko"),
    ("岡本", "おかもと", "okamoto"), ("藤原", "ふじわら", "fujiwara"), ("中野", "なかの", "nakano"),
    ("三浦", "みうら", "miura"), ("原田", "はらだ", "harada"), ("松田", "まつだ", "matsuda"),
    ("竹内", "たけうち", "takeuchi"), ("小野", "おの", "ono"), ("田村", "たむら", "tamura"),
    ("中山", "なかやま", "nakayama"), ("和田", "わだ", "wada"), ("石田", "いしだ", "ishida"),
    ("森田", "もりた", "morita"), ("上田", "うえだ", "ueda"), ("柴田", "しばた", "shibata"),
    ("酒井", "さかい", "sakai"), ("工藤", "くどう", "kudo"), ("横山", "よこやま", "yokoyama"),
    ("宮崎", "みやざき", "miyazaki"), ("宮本", "みやもと", "miyamoto"), ("内田", "うちだ", "uchida"),
    ("高木", "たかぎ", "takagi"), ("安藤", "あんどう", "ando"), ("谷口", "たにぐち", "taniguchi"),
    ("丸山", "まるやま", "maruyama"), ("今井", "いまい", "imai"), ("河野", "こうの", "kono"),
    ("藤本", "ふじもと", "fujimoto"), ("村田", "むらた", "murata"), ("武田", "たけだ", "takeda"),
    ("上野", "うえの", "ueno"), ("杉山", "すぎやま", "sugiyama"), ("増田", "ますだ", "masuda"),
    ("大塚", "おおつか", "otsuka"), ("平野", "ひらの", "hirano"), ("菅原", "すがわら", "sugawara"),
    ("久保", "くぼ", "kubo"), ("松井", "まつい", "matsui"), ("千葉", "ちば", "chiba"),
    ("岩崎", "いわさき", "iwasaki"), ("桜井", "さくらい", "sakurai"), ("野口", "のぐち", "noguchi"),
    ("菊地", "きくち", "kikuchi"), ("野村", "のむら", "nomura"), ("新井", "あらい", "arai"),
]  # fmt: skip
GIVEN_NAMES = [
    ("太郎", "たろう", "taro"), ("一郎", "いちろう", "ichiro"), ("健太", "けんた", "kenta"),
    ("翔太", "しょうた", "shota"), ("大輔", "だいすけ", "daisuke"), ("拓也", "たくや", "takuya"),
    ("直樹", "なおき", "naoki"), ("和也", "かずや", "kazuya"), ("浩", "ひろし", "hiroshi"),
    ("誠", "まこと", "makoto"), ("隆", "たかし", "takashi"), ("修", "おさむ", "osamu"),
    ("健一", "けんいち", "kenichi"), ("裕介", "ゆうすけ", "yusuke"), ("亮", "りょう", "ryo"),
    ("悠斗", "ゆうと", "yuto"), ("蓮", "れん", "ren"), ("大樹", "だいき", "daiki"),
    ("雄一", "ゆういち", "yuichi"), ("正人", "まさと", "masato"), ("康弘", "やすひろ", "yasuhiro"),
    ("博之", "ひろゆき", "hiroyuki"), ("達也", "たつや", "tatsuya"), ("陽介", "ようすけ", "yosuke"),
    ("智也", "ともや", "tomoya"), ("俊介", "しゅんすけ", "shunsuke"), ("学", "まなぶ", "manabu"),
    ("花子", "はなこ", "hanako"), ("陽子", "ようこ", "yoko"), ("恵子", "けいこ", "keiko"),
    ("裕子", "ゆうこ", "yuko"), ("美穂", "みほ", "miho"), ("由美", "ゆみ", "yumi"),
    ("直美", "なおみ", "naomi"), ("真由美", "まゆみ", "mayumi"), ("久美子", "くみこ", "kumiko"),
    ("智子", "ともこ", "tomoko"), ("麻衣", "まい", "mai"), ("彩", "あや", "aya"),
    ("美咲", "みさき", "misaki"), ("結衣", "ゆい", "yui"), ("葵", "あおい", "aoi"),
    ("千尋", "ちひろ", "chihiro"), ("明美", "あけみ", "akemi"), ("香織", "かおり", "kaori"),
    ("沙織", "さおり", "saori"), ("理恵", "りえ", "rie"), ("奈々", "なな", "nana"),
    ("綾香", "あやか", "ayaka"), ("里美", "さとみ", "satomi"), ("紀子", "のりこ", "noriko"),
]  # fmt: skip


@dataclass(frozen=True)
class StaffRow:
    """One line of the demo ward's HR roster."""

    employee_number: str
    name: str
    name_kana: str
    email: str
    department_path: str
    position: str
    employment_type: str
    manager_number: str | None


def department_paths() -> list[str]:
    """Every node of the tree, parents before children (「総務部」, 「総務部/総務課」, …)."""
    paths = []
    for bu, _, sections in DEPARTMENT_TREE:
        paths.append(bu)
        for ka, _, teams in sections:
            paths.append(PATH_SEPARATOR.join([bu, ka]))
            paths.extend(PATH_SEPARATOR.join([bu, ka, kakari]) for kakari in teams)
    return paths


class _RosterWriter:
    """Hands out unique names, addresses and employee numbers in a reproducible order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.rows: list[StaffRow] = []
        self.names: set[str] = set()
        self.emails: set[str] = set()

    def add(self, path: str, position: str, employment_type: str, manager: StaffRow | None) -> StaffRow:
        surname, given = self._unused_name()
        email = self._unused_email(f"{surname[2]}.{given[2]}")
        row = StaffRow(
            employee_number=f"{100001 + len(self.rows)}",
            name=f"{surname[0]} {given[0]}",
            name_kana=f"{surname[1]} {given[1]}",
            email=email,
            department_path=path,
            position=position,
            employment_type=employment_type,
            manager_number=manager.employee_number if manager else None,
        )
        self.rows.append(row)
        return row

    def _unused_name(self):
        while True:
            surname, given = self.rng.choice(SURNAMES), self.rng.choice(GIVEN_NAMES)
            if f"{surname[0]} {given[0]}" not in self.names:
                self.names.add(f"{surname[0]} {given[0]}")
                return surname, given

    def _unused_email(self, local: str) -> str:
        candidate, number = local, 1
        while f"{candidate}@{DEMO_DOMAIN}" in self.emails:
            number += 1
            candidate = f"{local}{number}"
        self.emails.add(f"{candidate}@{DEMO_DOMAIN}")
        return f"{candidate}@{DEMO_DOMAIN}"


def demo_roster() -> list[StaffRow]:
    """The demo ward's ~300 staff: heads along the tree, then teams, then the rest spread by weight.

    1. Each 部 gets its head, each 課 its head (reporting to the 部's head), each 係 its 係長.
    2. Each 係 gets its core team and resident contractors, reporting to the 係長.
    3. The remaining places up to DEMO_STAFF go to random 係 with the weighted positions.
    """
    rng = random.Random(DEMO_RANDOM_SEED)  # noqa: S311 (reproducible demo data, not a secret)
    roster = _RosterWriter(rng)
    leaders: dict[str, StaffRow] = {}
    regular = Person.EmploymentType.REGULAR
    for bu, bu_title, sections in DEPARTMENT_TREE:
        leaders[bu] = roster.add(bu, bu_title, regular, None)
        for ka, ka_title, teams in sections:
            ka_path = PATH_SEPARATOR.join([bu, ka])
            leaders[ka_path] = roster.add(ka_path, ka_title, regular, leaders[bu])
            for kakari in teams:
                path = PATH_SEPARATOR.join([bu, ka, kakari])
                leaders[path] = roster.add(path, "係長", regular, leaders[ka_path])
    teams = [path for path in department_paths() if path.count(PATH_SEPARATOR) == 2]
    for path in teams:
        for position in CORE_TEAM:
            roster.add(path, position, regular, leaders[path])
        title, count = CONTRACTED_TEAMS.get(path, ("", 0))
        for _ in range(count):
            roster.add(path, title, Person.EmploymentType.CONTRACTOR, leaders[path])
    kinds, weights = zip(*EXTRA_STAFF_WEIGHTS, strict=True)
    while len(roster.rows) < DEMO_STAFF:
        path = rng.choice(teams)
        position, employment_type = rng.choices(kinds, weights)[0]
        roster.add(path, position, employment_type, leaders[path])
    return roster.rows


def ensure_departments(ward: Organization) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for path in department_paths():
        parent_path, _, name = path.rpartition(PATH_SEPARATOR)
        departments[path], _ = Department.objects.get_or_create(
            organization=ward,
            path=path,
            defaults={"name": name, "parent": departments.get(parent_path), "depth": path.count(PATH_SEPARATOR)},
        )
    return departments


def ensure_people(ward: Organization, departments: dict[str, Department]) -> int:
    """Add the roster's missing people and set managers; returns how many were added."""
    rows = demo_roster()
    existing = set(Person.objects.filter(organization=ward).values_list("employee_number", flat=True))
    missing = [
        Person(
            organization=ward,
            employee_number=row.employee_number,
            name=row.name,
            name_kana=row.name_kana,
            email=row.email,
            department=departments[row.department_path],
            position=row.position,
            employment_type=row.employment_type,
        )
        for row in rows
        if row.employee_number not in existing
    ]
    Person.objects.bulk_create(missing)
    people = {person.employee_number: person for person in Person.objects.filter(organization=ward)}
    changed = []
    for row in rows:
        person = people[row.employee_number]
        manager_id = people[row.manager_number].pk if row.manager_number else None
        if person.manager_id != manager_id:
            person.manager_id = manager_id
            changed.append(person)
    Person.objects.bulk_update(changed, ["manager"])
    return len(missing)


@transaction.atomic
def seed_demo_ward() -> Organization:
    """Create or complete デモ区 with its verified domain, department tree and staff; safe to repeat."""
    ward, _ = Organization.objects.get_or_create(
        code=DEMO_CODE, defaults={"name": DEMO_NAME, "name_kana": "でもく", "kind": Organization.Kind.WARD}
    )
    VerifiedDomain.objects.get_or_create(
        organization=ward, domain=DEMO_DOMAIN, defaults={"verified_at": timezone.now()}
    )
    added = ensure_people(ward, ensure_departments(ward))
    if added:
        record("demo.seeded", organization=ward, target=DEMO_NAME, people_added=added)
    return ward


@transaction.atomic
def reset_demo_login(ward: Organization, username: str, role: str, display_name: str) -> str:
    """Give ``username`` the ``role`` in the demo ward and a fresh random password, which is returned.

    Each demo start prints new passwords, so an old terminal scroll-back never holds a working one;
    earlier failed attempts are forgotten so that a lockout from the last session does not linger.
    """
    password = secrets.token_urlsafe(12)
    user, _ = User.objects.get_or_create(
        username=username, defaults={"display_name": display_name, "email": f"{username}@{DEMO_DOMAIN}"}
    )
    user.is_active = True
    user.set_password(password)
    user.save()
    Membership.objects.get_or_create(user=user, organization=ward, role=role)
    LoginFailure.objects.filter(username=username).delete()
    record("demo.login_reset", organization=ward, target=username, role=role)
    return password


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    needs_mfa: bool


DEMO_LOGINS = [
    ("admin", Membership.Role.SECURITY_ADMIN, "デモ管理者"),
    ("auditor", Membership.Role.AUDITOR, "デモ監査担当"),
    # The 23-ward comparison (指標 › 23区の比較): デモ区 by name, the made-up neighbour wards anonymised.
    ("joint", Membership.Role.JOINT_ADMIN, "デモ共同管理者"),
]


def prepare_demo() -> list[DemoLogin]:
    """Seed デモ区 and give the demo logins fresh passwords."""
    ward = seed_demo_ward()
    # Imported here: the synthetic outcomes reuse this module's tree and names (a top-level import would cycle).
    from mamori.metrics.synthetic import seed_demo_outcomes

    seed_demo_outcomes(ward)
    logins = [
        DemoLogin(username, reset_demo_login(ward, username, role, label), role, role in Membership.MFA_ROLES)
        for username, role, label in DEMO_LOGINS
    ]
    # A few CSIRT cases opened by the demo admin.
    seed_demo_cases(ward, User.objects.get(username=DEMO_LOGINS[0][0]))
    return logins
