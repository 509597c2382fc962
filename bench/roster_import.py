"""Benchmark: importing a 100,000-person roster (名簿取込), first import and a re-sync with ~5% changes.

Runs alone: it creates a fresh SQLite file (or a throwaway PostgreSQL database next to the one named by
--database-url), migrates it, creates a ward with a verified domain, generates a realistic roster
(Japanese names, a 部›課›係 tree, managers, mixed employment types) and times the same path as
`mamori import-roster`: validation on upload, then re-validation and apply in one transaction.

The baseline, measured in the same run, reads the same CSV with the csv module and bulk_creates the
rows as people without any checking, departments or managers. The last line printed is one JSON object.
"""

import argparse
import csv
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_SECONDS = 15
DOMAIN = "bench.city.lg.jp"

SURNAMES = [
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
    ("山田", "やまだ"),
    ("佐々木", "ささき"),
    ("山口", "やまぐち"),
    ("松本", "まつもと"),
    ("井上", "いのうえ"),
    ("木村", "きむら"),
    ("林", "はやし"),
    ("斎藤", "さいとう"),
    ("清水", "しみず"),
    ("山崎", "やまざき"),
    ("森", "もり"),
    ("池田", "いけだ"),
    ("橋本", "はしもと"),
    ("阿部", "あべ"),
    ("石川", "いしかわ"),
    ("山下", "やました"),
    ("中島", "なかじま"),
    ("石井", "いしい"),
    ("小川", "おがわ"),
]
GIVEN_NAMES = [
    ("太郎", "たろう"),
    ("花子", "はなこ"),
    ("翔太", "しょうた"),
    ("美咲", "みさき"),
    ("大輔", "だいすけ"),
    ("陽子", "ようこ"),
    ("健一", "けんいち"),
    ("由美", "ゆみ"),
    ("誠", "まこと"),
    ("恵", "めぐみ"),
    ("拓也", "たくや"),
    ("愛", "あい"),
    ("直樹", "なおき"),
    ("彩", "あや"),
    ("浩", "ひろし"),
    ("真由美", "まゆみ"),
    ("亮", "りょう"),
    ("香織", "かおり"),
    ("隆", "たかし"),
    ("千尋", "ちひろ"),
]
BUREAUS = [
    "総務部",
    "企画経営部",
    "区民部",
    "地域振興部",
    "福祉部",
    "健康部",
    "子ども家庭部",
    "環境清掃部",
    "都市整備部",
    "土木部",
    "危機管理室",
    "情報政策部",
    "産業経済部",
    "文化スポーツ部",
    "教育委員会事務局",
    "会計管理室",
    "議会事務局",
    "選挙管理委員会事務局",
    "監査事務局",
    "保健所",
]
SECTIONS = ["総務課", "企画調整課", "管理課", "事業推進課", "指導課", "窓口サービス課"]
UNITS = ["庶務係", "管理係", "第一係", "第二係"]
EMPLOYMENT_TYPES = [("正規", 70), ("会計年度任用職員", 20), ("派遣", 6), ("委託先", 4)]
STAFF_POSITIONS = ["主任", "主事", "主事", "主事補", "主査"]
HEADER = ["職員番号", "氏名", "かな", "メール", "所属", "役職", "雇用区分", "上長"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000, help="roster size (default 100000)")
    parser.add_argument(
        "--database-url",
        default="",
        help="postgres://user@host:port/db: a throwaway database is created on that server and dropped "
        "afterwards (default: a fresh SQLite file in a temporary directory)",
    )
    parser.add_argument("--changes", type=float, default=0.05, help="share of rows changed in the re-sync")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


# --- the roster ------------------------------------------------------------------------------------


def generate_roster(rows: int, rng: random.Random) -> list[list[str]]:
    """A ward: 部長 → 課長 → 係長 → staff, rows shuffled so managers often come after their staff."""
    units = [(bureau, section, unit) for bureau in BUREAUS for section in SECTIONS for unit in UNITS]
    numbers = iter(range(1, 10_000_000))
    roster: list[list[str]] = []

    def person(path: str, position: str, manager: str, employment: str = "正規") -> str:
        number = f"{next(numbers):07d}"
        surname, surname_kana = rng.choice(SURNAMES)
        given, given_kana = rng.choice(GIVEN_NAMES)
        # One row in ten names its manager by address instead of number: both are accepted.
        roster.append(
            [
                number,
                f"{surname} {given}",
                f"{surname_kana} {given_kana}",
                f"s{number}@{DOMAIN}",
                path,
                position,
                employment,
                manager,
            ]
        )
        return number

    heads: dict[str, str] = {}
    for bureau in BUREAUS:
        heads[bureau] = person(bureau, "部長", "")
        for section in SECTIONS:
            heads[f"{bureau}/{section}"] = person(f"{bureau}/{section}", "課長", heads[bureau])
            for unit in UNITS:
                path = f"{bureau}/{section}/{unit}"
                heads[path] = person(path, "係長", heads[f"{bureau}/{section}"])
    kinds, weights = zip(*EMPLOYMENT_TYPES, strict=True)
    while len(roster) < rows:
        bureau, section, unit = rng.choice(units)
        path = f"{bureau}/{section}/{unit}"
        employment = rng.choices(kinds, weights)[0]
        manager = heads[path] if rng.random() > 0.1 else f"s{heads[path]}@{DOMAIN}"
        person(path, "" if employment == "委託先" else rng.choice(STAFF_POSITIONS), manager, employment)
    rng.shuffle(roster)
    return roster[:rows]


def changed_roster(roster: list[list[str]], share: float, rng: random.Random) -> list[list[str]]:
    """About ``share`` of the rows changed: leavers, newcomers, transfers, new positions."""
    managers = {row[7] for row in roster}
    staff = [row for row in roster if row[0] not in managers and f"s{row[0]}@{DOMAIN}" not in managers]
    part = max(1, int(len(roster) * share / 5))
    leavers = {row[0] for row in rng.sample(staff, part)}
    result = [list(row) for row in roster if row[0] not in leavers]
    movable = [row for row in result if row[5] not in {"部長", "課長", "係長"}]
    for row in rng.sample(movable, 2 * part):  # transfers: another 係 and its 係長
        target = rng.choice(movable)
        row[4], row[7] = target[4], target[7]
    for row in rng.sample(movable, part):
        row[5] = "主任" if row[5] != "主任" else "主査"
    next_number = max(int(row[0]) for row in roster) + 1
    for offset in range(part):
        template = rng.choice(movable)
        number = f"{next_number + offset:07d}"
        result.append(
            [
                number,
                "新規 職員",
                "しんき しょくいん",
                f"s{number}@{DOMAIN}",
                template[4],
                "主事補",
                "正規",
                template[7],
            ]
        )
    return result


def to_csv(roster: list[list[str]]) -> bytes:
    """As Excel's 「CSV UTF-8」 writes it: UTF-8 with BOM, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(roster)
    return buffer.getvalue().encode("utf-8-sig")


# --- the database ----------------------------------------------------------------------------------


@contextmanager
def throwaway_database(database_url: str):
    """Yield a DATABASE_URL for a fresh database; remove it afterwards."""
    if not database_url:
        with tempfile.TemporaryDirectory(prefix="mamori-bench-") as directory:
            os.environ["MAMORI_DATA_DIR"] = directory
            yield f"sqlite:///{directory}/bench.sqlite3", "sqlite"
        return
    import psycopg

    parts = urlsplit(database_url)
    name = f"mamori_bench_{uuid.uuid4().hex[:8]}"
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    data_directory = tempfile.TemporaryDirectory(prefix="mamori-bench-")
    os.environ["MAMORI_DATA_DIR"] = data_directory.name
    try:
        yield urlunsplit(parts._replace(path=f"/{name}")), "postgresql"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        data_directory.cleanup()


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "mamori.settings"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


# --- the measurements ------------------------------------------------------------------------------


def timed_import(organization, content: bytes, filename: str) -> tuple[float, dict]:
    """Upload (validate) and apply as `mamori import-roster` does; seconds and the applied counts."""
    from mamori.core.actions import run_roster_import_now, upload_roster
    from mamori.core.models import RosterImport

    started = time.perf_counter()
    roster_import = upload_roster(organization, filename=filename, content=content, by=None)
    if roster_import.state != RosterImport.State.VALIDATED:
        raise SystemExit(f"the generated roster did not validate: {roster_import.errors[:5]}")
    run_roster_import_now(roster_import, by=None)
    seconds = time.perf_counter() - started
    if roster_import.state != RosterImport.State.DONE:
        raise SystemExit(f"the import failed: {roster_import.errors[:5]}")
    return seconds, roster_import.summary["result"]


def timed_baseline(organization, content: bytes) -> float:
    """The floor: csv module + one plain bulk_create of the rows (no checks, departments or managers)."""
    from django.db import transaction
    from django.utils import timezone

    from mamori.core.models import Person

    started = time.perf_counter()
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))[1:]
    now = timezone.now()
    with transaction.atomic():
        Person.objects.bulk_create(
            [
                Person(
                    organization=organization,
                    employee_number=row[0],
                    name=row[1],
                    name_kana=row[2],
                    email=row[3],
                    position=row[5],
                    created_at=now,
                    updated_at=now,
                )
                for row in rows
            ],
            batch_size=1000,
        )
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    first = generate_roster(args.rows, rng)
    second = changed_roster(first, args.changes, rng)
    first_csv, second_csv = to_csv(first), to_csv(second)
    with throwaway_database(args.database_url) as (database_url, database):
        setup_django(database_url)
        from mamori.core.tests.makers import make_organization

        ward = make_organization("bench-ward", "ベンチ区", domain=DOMAIN)
        baseline_ward = make_organization("bench-baseline", "基準区", domain=DOMAIN)
        baseline_s = timed_baseline(baseline_ward, first_csv)
        import_s, first_counts = timed_import(ward, first_csv, "roster-1.csv")
        resync_s, second_counts = timed_import(ward, second_csv, "roster-2.csv")
    print(f"first import ({len(first_csv) / 1e6:.1f} MB): {import_s:.2f} s  {first_counts}", file=sys.stderr)
    print(f"re-sync ({len(second)} rows): {resync_s:.2f} s  {second_counts}", file=sys.stderr)
    print(f"baseline (csv + bulk_create): {baseline_s:.2f} s", file=sys.stderr)
    result = {
        "rows": args.rows,
        "import_s": round(import_s, 2),
        "resync_s": round(resync_s, 2),
        "baseline_s": round(baseline_s, 2),
        "ratio": round(import_s / baseline_s, 2),
        "target_s": TARGET_SECONDS,
        "database": database,
        "resync_changes": {key: value for key, value in second_counts.items() if value},
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
