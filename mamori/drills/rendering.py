"""Rendering drill mails: scenario templates in a Jinja2 sandbox with an explicit context.

Administrators author the templates, so they are untrusted: they run in a ``SandboxedEnvironment`` with
no globals, ``StrictUndefined`` (a misspelt variable is an error, not an empty string) and autoescaping
for the HTML body only. ``validate_scenario_templates`` reports every problem in Japanese when a scenario
is saved, so a broken template never reaches the sender.

The sender renders 1,000+ mails/s: each scenario's templates are compiled once per process and reused,
the date strings are computed once per day, and the QR code PNG is made only when the HTML uses it.
"""

import base64
import datetime
import functools
import io
import operator
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import segno
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from mamori.drills import attachments, links
from mamori.drills.schedule import is_business_day

# The variables a scenario may use, with what they hold (shown to authors next to the editor).
CONTEXT_VARIABLES: dict[str, Any] = {
    "person_name": gettext_lazy("受信者の氏名（例: 佐藤 花子）"),
    "person_family_name": gettext_lazy("受信者の姓（氏名の空白より前。空白がなければ氏名全体）"),
    "department": gettext_lazy("受信者の所属名（例: 文書係）"),
    "department_path": gettext_lazy("受信者の所属（部から。例: 総務部 総務課 文書係）"),
    "position": gettext_lazy("受信者の役職（例: 主事）"),
    "organization": gettext_lazy("区の名称（例: デモ区）"),
    "link": gettext_lazy("受信者ごとの訓練リンク（クリックを記録）"),
    "qr_image": gettext_lazy("QRコード画像（HTML では img の src、テキストでは QR 用の URL）"),
    "qr_url": gettext_lazy("QRコードが指す URL"),
    "attachment_link": gettext_lazy("添付ファイルのダウンロードリンク"),
    "today": gettext_lazy("今日の日付（例: 2026年11月24日）"),
    "today_jp": gettext_lazy("今日の日付と曜日（例: 2026年11月24日（火））"),
    "today_wareki": gettext_lazy("今日の日付・和暦（例: 令和8年11月24日）"),
    "deadline": gettext_lazy("回答期限＝3開庁日後（例: 2026年11月27日（金））"),
    "deadline_wareki": gettext_lazy("回答期限・和暦（例: 令和8年11月27日）"),
}

# Business days until the ``deadline`` a drill mail asks for: short enough to create urgency.
DEADLINE_BUSINESS_DAYS = 3
# Stop a template from building huge strings ("x" * 10**9) that would exhaust the sender's memory.
MAX_REPEATED_LENGTH = 10_000
# Filters an author may use. Others are refused: ``safe`` would unescape recipient data in HTML, and
# padding filters (``center``, ``indent``, ``wordwrap``) can build huge strings.
ALLOWED_FILTERS = frozenset(
    {"default", "d", "upper", "lower", "trim", "truncate", "escape", "e", "length", "first", "last", "join", "string"}
)
# Compiled scenarios kept per process; far more than the scenarios of the campaigns running at once.
COMPILED_CACHE_SIZE = 256

REIWA_START = datetime.date(2019, 5, 1)
WEEKDAYS_JA = "月火水木金土日"


class TemplateRenderError(Exception):
    """A scenario could not be rendered; the message is in Japanese and names the part that failed."""


@dataclass(frozen=True)
class RenderedMail:
    """One personalised drill mail, ready for the sender to build MIME from.

    ``inline_images`` are ``(content_id, png_bytes)``: the HTML refers to them as ``cid:<content_id>``
    (the Content-ID header wraps it in angle brackets). ``attachments`` are ``(filename, bytes, mimetype)``.
    """

    subject: str
    text: str
    html: str = ""
    sender_name: str = ""
    sender_address: str = ""
    inline_images: list[tuple[str, bytes]] = field(default_factory=list)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


class DrillSandbox(SandboxedEnvironment):
    """The sandbox: no globals at all (only the explicit context), and no runaway string repetition."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, autoescape: bool):
        super().__init__(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True)
        self.globals.clear()
        self.filters = {name: function for name, function in self.filters.items() if name in ALLOWED_FILTERS}

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            raise SecurityError("power operator is not allowed in drill templates")
        for sequence, count in ((left, right), (right, left)):
            repeats = isinstance(sequence, str | list | tuple) and isinstance(count, int)
            if repeats and len(sequence) * count > MAX_REPEATED_LENGTH:
                raise SecurityError("repetition too long")
        return operator.mul(left, right)


TEXT_ENVIRONMENT = DrillSandbox(autoescape=False)
HTML_ENVIRONMENT = DrillSandbox(autoescape=True)


# --- Japanese dates ---------------------------------------------------------------------------------


def wareki(day: datetime.date) -> str:
    """The date in the Japanese era calendar: 令和8年11月24日 (the first year is 元年).

    Drills are sent from the Reiwa era on; an earlier date is refused rather than guessed.
    """
    if day < REIWA_START:
        raise ValueError("dates before 令和 (2019-05-01) are not supported")
    year = day.year - 2018
    year_label = "元" if year == 1 else str(year)
    return f"令和{year_label}年{day.month}月{day.day}日"


def japanese_date(day: datetime.date, *, weekday: bool = False) -> str:
    """2026年11月24日, or 2026年11月24日（火） with ``weekday``."""
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（{WEEKDAYS_JA[day.weekday()]}）" if weekday else text


def add_business_days(day: datetime.date, count: int) -> datetime.date:
    """``count`` office days after ``day``: weekends, holidays and 年末年始 skipped (``schedule``)."""
    while count > 0:
        day += datetime.timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day


@functools.lru_cache(maxsize=8)
def date_variables(today: datetime.date) -> dict[str, str]:
    """The date strings of one day; cached because every mail of the day shares them."""
    deadline = add_business_days(today, DEADLINE_BUSINESS_DAYS)
    return {
        "today": japanese_date(today),
        "today_jp": japanese_date(today, weekday=True),
        "today_wareki": wareki(today),
        "deadline": japanese_date(deadline, weekday=True),
        "deadline_wareki": wareki(deadline),
    }


# --- Context ----------------------------------------------------------------------------------------


def family_name(full_name: str) -> str:
    """The part of 氏名 before the first (half- or full-width) space, or the whole name without one."""
    parts = full_name.split()
    return parts[0] if parts else full_name


def person_variables(person, organization) -> dict[str, str]:
    department = person.department
    return {
        "person_name": person.name,
        "person_family_name": family_name(person.name),
        "department": department.name if department else "",
        "department_path": department.path.replace("/", " ") if department else "",
        "position": person.position,
        "organization": organization.name,
    }


def link_variables(token: str) -> dict[str, str]:
    return {
        "link": links.click_url(token),
        "qr_url": links.qr_url(token),
        "attachment_link": links.attachment_url(token),
    }


def build_context(person, organization, token: str, *, today: datetime.date | None = None) -> dict[str, str]:
    """The explicit context: exactly the names of ``CONTEXT_VARIABLES`` (``qr_image`` is set per part)."""
    context = person_variables(person, organization)
    context.update(link_variables(token))
    context.update(date_variables(today or timezone.localdate()))
    context["qr_image"] = context["qr_url"]
    return context


@dataclass(frozen=True)
class SamplePerson:
    """A stand-in recipient for validating templates and for the library's own checks."""

    name: str = "佐藤 花子"
    position: str = "主事"
    department: Any = None


@dataclass(frozen=True)
class SampleDepartment:
    name: str = "文書係"
    path: str = "総務部/総務課/文書係"


@dataclass(frozen=True)
class SampleOrganization:
    name: str = "デモ区"


def sample_person() -> SamplePerson:
    return SamplePerson(department=SampleDepartment())


def sample_context() -> dict[str, str]:
    return build_context(sample_person(), SampleOrganization(), "SAMPLE-TOKEN", today=datetime.date(2026, 11, 24))


# --- Validation -------------------------------------------------------------------------------------

PART_LABELS = {
    "subject": gettext_lazy("件名"),
    "text_body": gettext_lazy("本文（テキスト）"),
    "html_body": gettext_lazy("本文（HTML）"),
    "attachment_body": gettext_lazy("添付文書の本文"),
}


def validate_template(source: str, *, html: bool = False) -> list[str]:
    """Japanese authoring errors of one template; empty when it is safe to send.

    1. Syntax errors, with the line.
    2. Statically, over every branch: variables outside the context, attributes starting with ``_``,
       filters outside the allow-list, ``include``/``import``/``extends`` (there is nothing to load).
    3. A render against a sample context, which catches what only shows at run time (a misspelt
       attribute, ``attr('__class__')``, an over-long repetition).
    """
    environment = HTML_ENVIRONMENT if html else TEXT_ENVIRONMENT
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as error:
        return [
            _("%(line)s行目に書式の誤りがあります（%(detail)s）。") % {"line": error.lineno, "detail": error.message}
        ]
    errors = static_errors(tree)
    if errors:
        return errors
    try:
        environment.from_string(source).render(sample_context())
    except SecurityError:
        return [_("安全のため許可されていない操作が含まれています（内部の属性へのアクセスや巨大な文字列など）。")]
    except UndefinedError as error:
        return [_("存在しない値を参照しています（%(detail)s）。") % {"detail": error.message}]
    except Exception as error:  # any failure of an authored template is an authoring error
        return [_("表示時にエラーになります（%(detail)s）。") % {"detail": error}]
    return []


def static_errors(tree: nodes.Template) -> list[str]:
    errors = [
        _("%(line)s行目のフィルター「%(name)s」は使えません。使えるフィルター: %(names)s")
        % {"line": node.lineno, "name": node.name, "names": ", ".join(sorted(ALLOWED_FILTERS))}
        for node in tree.find_all(nodes.Filter)
        if node.name not in ALLOWED_FILTERS
    ]
    errors += [
        _("%(line)s行目: 他のテンプレートの読み込み（include・import・extends）は使えません。") % {"line": node.lineno}
        for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends))
    ]
    errors += [
        _("%(line)s行目の「%(name)s」は使えません。「_」で始まる名前には安全のためアクセスできません。")
        % {"line": line, "name": name}
        for line, name in underscore_accesses(tree)
    ]
    try:
        # Compiles the tree, so it also refuses unknown tests (``is nonsense``) and unknown filters.
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as error:
        if errors:
            return errors  # the unknown filter, already named above
        return [
            _("%(line)s行目に書式の誤りがあります（%(detail)s）。") % {"line": error.lineno, "detail": error.message}
        ]
    return errors + [
        _("「%(name)s」という変数はありません。使える変数: %(names)s")
        % {"name": name, "names": ", ".join(CONTEXT_VARIABLES)}
        for name in sorted(undeclared - CONTEXT_VARIABLES.keys())
    ]


def underscore_accesses(tree: nodes.Template) -> list[tuple[int, str]]:
    """Attribute or item lookups of names starting with ``_`` (the first step of every sandbox escape)."""
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(name, str) and name.startswith("_"):
            found.append((node.lineno, name))
    return found


def validate_scenario_templates(
    subject: str, text_body: str, html_body: str = "", attachment_body: str = ""
) -> list[str]:
    """Every authoring error of a scenario's templates, each prefixed with the part it is in."""
    parts = {"subject": subject, "text_body": text_body, "html_body": html_body, "attachment_body": attachment_body}
    errors = []
    for part, source in parts.items():
        errors += [f"{PART_LABELS[part]}: {error}" for error in validate_template(source, html=part == "html_body")]
    return errors


# The variable the text body must carry for each lure: sanitising gateways (無害化) turn HTML into text,
# so the plain-text body alone must be able to lure. Reply-bait needs no link.
LURE_VARIABLES = {
    "link": ("link",),
    "credential_form": ("link",),
    "qr_code": ("qr_image", "qr_url"),
    "attachment": ("attachment_link",),
}


def lure_error(lure_type: str, attachment_mode: str, text_body: str) -> str:
    """Why the text body cannot lure the way ``lure_type`` says, or an empty string.

    An attached document carries the link itself, so an attachment scenario in an attaching mode needs
    nothing in the body.
    """
    wanted = LURE_VARIABLES.get(lure_type)
    if not wanted or (lure_type == "attachment" and attachment_mode != "link"):
        return ""
    try:
        used = meta.find_undeclared_variables(TEXT_ENVIRONMENT.parse(text_body))
    except TemplateSyntaxError:
        return ""  # reported by validate_template
    if used.intersection(wanted):
        return ""
    return _("この誘導の種類では、本文（テキスト）に %(variables)s を入れてください。") % {
        "variables": _("または").join(f"{{{{ {name} }}}}" for name in wanted)
    }


# --- Rendering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledScenario:
    sources: tuple[str, str, str, str]
    subject: Any
    text: Any
    html: Any
    attachment: Any
    html_uses_qr_image: bool


_compiled: OrderedDict[tuple, CompiledScenario] = OrderedDict()


def compiled(scenario) -> CompiledScenario:
    """The scenario's templates, compiled once per process.

    Keyed by primary key and ``updated_at``; the sources are compared as well, so an edit that forgot
    to touch ``updated_at`` (or an unsaved scenario) is never served stale templates.
    """
    sources = (scenario.subject, scenario.text_body, scenario.html_body, scenario.attachment_body)
    key = (scenario.pk, scenario.updated_at)
    entry = _compiled.get(key)
    if entry is not None and entry.sources == sources:
        return entry
    html_tree = HTML_ENVIRONMENT.parse(scenario.html_body) if scenario.html_body else None
    entry = CompiledScenario(
        sources=sources,
        subject=TEXT_ENVIRONMENT.from_string(scenario.subject),
        text=TEXT_ENVIRONMENT.from_string(scenario.text_body),
        html=HTML_ENVIRONMENT.from_string(scenario.html_body) if html_tree else None,
        attachment=TEXT_ENVIRONMENT.from_string(scenario.attachment_body),
        html_uses_qr_image=bool(html_tree and "qr_image" in meta.find_undeclared_variables(html_tree)),
    )
    if scenario.pk is not None:
        _compiled[key] = entry
        if len(_compiled) > COMPILED_CACHE_SIZE:
            _compiled.popitem(last=False)
    return entry


def qr_png(url: str) -> bytes:
    """A QR code PNG of ``url``, large enough to scan from a screen.

    The mask is fixed: choosing the best of eight (the default) triples the cost of a QR mail, and
    every mask decodes; the choice only tunes contrast patterns, which screens do not need.
    """
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False, mask=0).save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def tracking_markup(token: str, *, open_pixel: bool) -> str:
    """What every HTML drill mail carries besides its body.

    The trap link is inside a ``hidden`` element and has no text: no person can see or click it, so a
    hit on it is an automated scanner. The open pixel is unreliable behind sanitising gateways (無害化)
    and is only one signal among several.
    """
    markup = f'<div hidden><a href="{links.trap_url(token)}" tabindex="-1" aria-hidden="true"></a></div>'
    if open_pixel:
        markup += f'<img src="{links.open_pixel_url(token)}" width="1" height="1" alt="">'
    return markup


_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def append_before_body_end(html: str, markup: str) -> str:
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + markup
    position = matches[-1].start()
    return html[:position] + markup + html[position:]


def render_for_delivery(delivery, *, today: datetime.date | None = None) -> RenderedMail:
    """The mail of one delivery, rendered now (the dates are those of the sending day, in JST).

    Select ``person__department``, ``organization`` and ``scenario`` with the delivery: rendering
    itself runs no query.
    """
    context = build_context(delivery.person, delivery.organization, delivery.token, today=today)
    return render_scenario(delivery.scenario, context, delivery.token, preview=False)


# Previews use a token that no delivery has, so a click from a preview records nothing.
PREVIEW_TOKEN = "preview-0000000000000"  # noqa: S105 — not a secret


def render_preview(scenario, person, organization, *, today: datetime.date | None = None) -> RenderedMail:
    """The mail as ``person`` would receive it, for the preview page.

    The QR code is a data URI (a browser cannot resolve ``cid:``) and there is no open pixel, which
    would only load a tracking URL from the administrator's browser.
    """
    context = build_context(person, organization, PREVIEW_TOKEN, today=today)
    return render_scenario(scenario, context, PREVIEW_TOKEN, preview=True)


def render_scenario(scenario, context: dict[str, str], token: str, *, preview: bool) -> RenderedMail:
    templates = compiled(scenario)
    part = "subject"
    try:
        subject = single_line(templates.subject.render(context))
        part = "text_body"
        text = templates.text.render(context)
        part = "html_body"
        html, inline_images = render_html(templates, context, token, preview=preview)
        part = "attachment_body"
        documents = render_attachments(scenario, templates, context, token)
    except Exception as error:  # the sender fails this one delivery with the reason, and goes on
        label = PART_LABELS[part]
        raise TemplateRenderError(
            _("%(part)s を表示できません（%(detail)s）。") % {"part": label, "detail": error}
        ) from error
    return RenderedMail(
        subject=subject,
        text=text,
        html=html,
        sender_name=scenario.sender_name,
        sender_address=scenario.sender_address,
        inline_images=inline_images,
        attachments=documents,
    )


def single_line(subject: str) -> str:
    """A subject is one header line: a line break from a template must never start a new header."""
    return re.sub(r"[\r\n]+", " ", subject).strip()


def render_html(templates: CompiledScenario, context: dict[str, str], token: str, *, preview: bool):
    """The HTML part with the trap link (and, when sent, the open pixel); ``("", [])`` without HTML."""
    if templates.html is None:
        return "", []
    inline_images = []
    if templates.html_uses_qr_image:
        png = qr_png(context["qr_url"])
        if preview:
            source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        else:
            content_id = f"qr.{token}@mamori"
            inline_images.append((content_id, png))
            source = f"cid:{content_id}"
        context = {**context, "qr_image": source}
    html = templates.html.render(context)
    return append_before_body_end(html, tracking_markup(token, open_pixel=not preview)), inline_images


def render_attachments(scenario, templates: CompiledScenario, context: dict[str, str], token: str) -> list:
    """The generated document of an attachment scenario in an attaching mode; none for a download link.

    The document's link names the document (``links.document_link``), so opening it is recorded as such.
    """
    if scenario.lure_type != "attachment" or scenario.attachment_mode not in attachments.MIMETYPES:
        return []
    filename = attachments.attachment_filename(scenario.attachment_name, scenario.attachment_mode)
    link = links.document_link(token, scenario.attachment_mode)
    document = attachments.build_attachment(
        scenario.attachment_mode,
        filename=filename,
        title=attachments.document_title(filename, scenario.subject),
        body=templates.attachment.render({**context, "attachment_link": link}),
        link=link,
    )
    return [document]
