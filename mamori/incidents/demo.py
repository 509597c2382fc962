"""Demo cases for デモ区: what a CSIRT's case list looks like after a few weeks, made through the actions.

Transitions are recorded at the time they are made (the actions allow nothing else), so each case's history
is honest: a case is opened with a detection time in the past and moved on now. Its MTTR is then the time
from that detection to the demo's start, as it would be for a real case closed today.
"""

import datetime

from django.utils import timezone

from mamori.core.models import Department, Organization, Person
from mamori.incidents import actions
from mamori.incidents.models import Case, TimelineEntry, TimePrecision

State = Case.State


def seed_demo_cases(ward: Organization, actor) -> int:
    """Open the demo cases that are not there yet (by title); the number opened."""
    existing = set(Case.objects.filter(organization=ward).values_list("title", flat=True))
    opened = 0
    for make in (_closed_phishing_case, _false_alarm, _lost_usb_stick):
        title, build = make()
        if title not in existing:
            build(ward, actor, title)
            opened += 1
    return opened


def _hours_ago(hours: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=hours)


def _move(case: Case, states: list[str], actor, ward: Organization, **closing) -> None:
    for state in states:
        extra = closing if state == State.CLOSED else {}
        actions.transition(case, state, actor=actor, organization=ward, **extra)


def _closed_phishing_case():
    def build(ward, actor, title):
        reporter = Person.objects.filter(organization=ward, active=True).order_by("employee_number").first()
        case = actions.open_case(
            ward,
            actor=actor,
            title=title,
            category=Case.Category.TARGETED_MAIL,
            severity=Case.Severity.HIGH,
            summary="職員が請求書を装ったメールの添付ファイル（ZIP 内のショートカット）を開いたと報告。"
            "端末は再起動せず、LAN ケーブルは情報政策課の指示で抜いた。",
            detected_at=_hours_ago(9),
            occurred_at=_hours_ago(9.5),
            occurred_precision=TimePrecision.HOUR,
            reporter=reporter,
            affected_departments=Department.objects.filter(organization=ward, depth=1)[:1],
        )
        actions.add_timeline_entry(
            case,
            actor=actor,
            organization=ward,
            at=_hours_ago(8.5),
            text="同じ件名のメールが他の 12 人にも届いていることを確認。送信元ドメインと URL をゲートウェイで遮断。",
            kind=TimelineEntry.Kind.ACTION,
        )
        _move(
            case,
            [State.TRIAGE, State.IN_PROGRESS, State.CONTAINED, State.ERADICATED, State.RECOVERED, State.CLOSED],
            actor,
            ward,
            resolution=Case.Resolution.RESOLVED,
            resolution_note="端末のメモリとディスクを保全後に初期化。認証情報を変更。ほかに開いた職員なし。",
        )

    return "請求書を装ったメールの添付ファイルを開いた", build


def _false_alarm():
    def build(ward, actor, title):
        case = actions.open_case(
            ward,
            actor=actor,
            title=title,
            category=Case.Category.TARGETED_MAIL,
            severity=Case.Severity.LOW,
            summary="宅配業者を名乗る SMS の URL を業務用スマートフォンで開いたかもしれないとの報告。",
            detected_at=_hours_ago(3),
            detected_precision=TimePrecision.EXACT,
        )
        _move(
            case,
            [State.TRIAGE, State.CLOSED],
            actor,
            ward,
            resolution=Case.Resolution.FALSE_POSITIVE,
            resolution_note="URL は開かれておらず、端末の記録にもアクセスなし。",
        )

    return "宅配業者を名乗る SMS の URL", build


def _lost_usb_stick():
    def build(ward, actor, title):
        case = actions.open_case(
            ward,
            actor=actor,
            title=title,
            category=Case.Category.LOSS_THEFT,
            severity=Case.Severity.CRITICAL,
            summary="イベント会場からの帰庁途中に、参加者名簿を保存した USB メモリを紛失。暗号化なし。",
            detected_at=_hours_ago(30),
            occurred_at=_hours_ago(33),
            occurred_precision=TimePrecision.DAY,
        )
        actions.update_case(
            case,
            actor=actor,
            organization=ward,
            personal_records_count=1200,
            personal_record_kinds=[Case.PersonalRecordKind.NAME_ADDRESS],
        )
        _move(case, [State.TRIAGE, State.IN_PROGRESS], actor, ward)

    return "参加者名簿を保存した USB メモリの紛失", build
