"""The built-in scenario library: one TOML file per scenario in this folder, written for municipal staff.

``load_library`` reads and checks every file; ``mamori.drills.actions.scenarios.sync_library`` writes them
into the database (organization empty), which wards then copy and adapt. A file that breaks a rule below
stops the load with every problem listed, so a bad edit is caught by the tests, not by a ward.
"""

import tomllib
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from mamori.drills import attachments, rendering
from mamori.drills.models import Scenario

LIBRARY_DIR = Path(__file__).resolve().parent

# Threat tags of scenarios (library and wards' own), with the label shown to administrators.
THREAT_TAGS = {
    "notice": _("通達・庁内連絡"),
    "invoice": _("請求書"),
    "contractor": _("委託先・取引先"),
    "personnel": _("人事"),
    "disaster": _("災害"),
    "tax": _("税"),
    "password": _("パスワード・アカウント"),
    "reply_chain": _("返信チェーン（Emotet型）"),
    "ai_fluent": _("生成AIの自然な日本語"),
    "quishing": _("QRコード（クイッシング）"),
    "delivery": _("宅配"),
    "training": _("研修"),
    "resident_inquiry": _("住民からの問い合わせ"),
    "government_inquiry": _("国・都からの照会"),
    "assembly": _("議会"),
    "health": _("健康・福利厚生"),
    "executive_impersonation": _("幹部なりすまし"),
    "personal": _("個人あて"),
    "confidential": _("秘密・取扱注意"),
    "urgent": _("至急"),
}

MIN_CUES, MAX_CUES = 3, 6
REQUIRED_KEYS = {
    "key",
    "name",
    "lure_type",
    "threat_tags",
    "premise_alignment",
    "sender_name",
    "sender_address",
    "subject",
    "text_body",
    "cues",
}
OPTIONAL_KEYS = {"cue_count", "html_body", "attachment_mode", "attachment_name", "attachment_body"}
CUE_KEYS = {"label", "detail", "excerpt"}
# A library scenario never names a real organization's domain: only the reserved example domains.
EXAMPLE_DOMAINS = ("example.jp", "example.com", "example.net", "example.org", "example")


class LibraryError(Exception):
    """One or more library files break the rules; the message lists every problem."""


def load_library(directory: Path = LIBRARY_DIR) -> list[dict]:
    """Every scenario of the library as model field values (with ``library_key``), sorted by file name."""
    entries, problems = [], []
    for path in sorted(directory.glob("*.toml")):
        try:
            with path.open("rb") as file:
                entry = tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            problems.append(f"{path.name}: {error}")
            continue
        entry_problems = entry_errors(entry, path.stem)
        problems += [f"{path.name}: {problem}" for problem in entry_problems]
        if not entry_problems:
            entries.append(scenario_fields(entry))
    if problems:
        raise LibraryError("\n".join(problems))
    return entries


def scenario_fields(entry: dict) -> dict:
    fields = {name: value for name, value in entry.items() if name != "key"}
    fields["library_key"] = entry["key"]
    fields.setdefault("cue_count", None)
    for name in ("html_body", "attachment_name", "attachment_body"):
        fields.setdefault(name, "")
    fields.setdefault("attachment_mode", "link")
    return fields


def entry_errors(entry: dict, file_stem: str) -> list[str]:
    """What is wrong with one file's scenario; empty when it may be loaded."""
    missing = REQUIRED_KEYS - entry.keys()
    unknown = entry.keys() - REQUIRED_KEYS - OPTIONAL_KEYS
    if missing or unknown:
        return [f"missing keys {sorted(missing)}, unknown keys {sorted(unknown)}"]
    problems = []
    if entry["key"] != file_stem:
        problems.append(f"key {entry['key']!r} must equal the file name")
    if entry["lure_type"] not in Scenario.LureType.values:
        problems.append(f"unknown lure_type {entry['lure_type']!r}")
    if entry["premise_alignment"] not in Scenario.PremiseAlignment.values:
        problems.append(f"unknown premise_alignment {entry['premise_alignment']!r}")
    problems += [f"unknown threat tag {tag!r}" for tag in entry["threat_tags"] if tag not in THREAT_TAGS]
    if not entry["sender_address"].rsplit("@", 1)[-1].endswith(EXAMPLE_DOMAINS):
        problems.append("sender_address must use a reserved example domain")
    problems += cue_errors(entry)
    problems += rendering.validate_scenario_templates(
        entry["subject"], entry["text_body"], entry.get("html_body", ""), entry.get("attachment_body", "")
    )
    mode = entry.get("attachment_mode", "link")
    if error := rendering.lure_error(entry["lure_type"], mode, entry["text_body"]):
        problems.append(error)
    if mode not in Scenario.AttachmentMode.values:
        problems.append(f"unknown attachment_mode {mode!r}")
    problems += attachments.validate_attachment_name(entry.get("attachment_name", ""), mode)
    return problems


def cue_errors(entry: dict) -> list[str]:
    """3–6 cues, each with a label, a detail and an excerpt found in the mail as a sample person gets it."""
    cues = entry["cues"]
    if not MIN_CUES <= len(cues) <= MAX_CUES:
        return [f"{len(cues)} cues; a library scenario has {MIN_CUES}–{MAX_CUES}"]
    problems = []
    if entry.get("cue_count") is not None and entry["cue_count"] < len(cues):
        problems.append("cue_count is smaller than the number of listed cues")
    mail = sample_mail_text(entry)
    for number, cue in enumerate(cues, start=1):
        if set(cue) != CUE_KEYS or not all(str(value).strip() for value in cue.values()):
            problems.append(f"cue {number} needs exactly a non-empty label, detail and excerpt")
        elif cue["excerpt"] not in mail:
            problems.append(f"cue {number}: excerpt {cue['excerpt']!r} is not in the mail")
    return problems


def sample_mail_text(entry: dict) -> str:
    """Sender, subject and bodies as a sample person would get them, for finding the cues' excerpts."""
    context = rendering.sample_context()
    parts = [entry["sender_name"], entry["sender_address"]]
    for name in ("subject", "text_body", "html_body"):
        try:
            parts.append(rendering.TEXT_ENVIRONMENT.from_string(entry.get(name, "")).render(context))
        except Exception:  # noqa: S112 — a broken template is reported by the template check
            continue
    return "\n".join(parts)
