"""Every change of a scenario: syncing the built-in library, copying into a ward, saving, archiving.

Library scenarios (organization empty) change only through ``sync_library``; a ward copies one and edits
its copy. Each ward action goes to the audit log.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mamori.core.audit import record
from mamori.drills.library import load_library
from mamori.drills.models import Scenario

# What a scenario says and how it is rated: copied with it, and written by the library sync.
CONTENT_FIELDS = (
    "subject",
    "sender_name",
    "sender_address",
    "text_body",
    "html_body",
    "lure_type",
    "threat_tags",
    "cues",
    "cue_count",
    "premise_alignment",
    "attachment_mode",
    "attachment_name",
    "attachment_body",
)


class ScenarioError(Exception):
    """A scenario action that cannot be done; the message (Japanese) is shown to the admin as it is."""


@dataclass
class LibrarySync:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0


@transaction.atomic
def sync_library(entries: list[dict] | None = None, *, using: str = "default") -> LibrarySync:
    """Make the database's library equal to the library files; running it again changes nothing.

    A scenario removed from the files is archived, not deleted: campaigns and deliveries refer to it.
    ``updated_at`` moves only when something changed, so compiled templates stay cached otherwise.
    """
    entries = load_library() if entries is None else entries
    library = Scenario.objects.using(using).filter(organization__isnull=True).exclude(library_key="")
    existing = {scenario.library_key: scenario for scenario in library}
    now = timezone.now()
    result = LibrarySync()
    for fields in entries:
        values = {**fields, "archived": False}
        scenario = existing.pop(fields["library_key"], None)
        if scenario is None:
            Scenario.objects.using(using).create(**values, created_at=now, updated_at=now)
            result.created += 1
        elif any(getattr(scenario, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(scenario, name, value)
            scenario.updated_at = now
            scenario.save(using=using)
            result.updated += 1
        else:
            result.unchanged += 1
    for scenario in existing.values():
        if not scenario.archived:
            scenario.archived = True
            scenario.updated_at = now
            scenario.save(using=using, update_fields=["archived", "updated_at"])
            result.archived += 1
    return result


def copy_scenario(source: Scenario, *, organization, by, request=None) -> Scenario:
    """The ward's own editable copy of a library scenario (or of one of its own)."""
    if source.organization_id not in (None, organization.pk):
        raise ScenarioError(_("このシナリオはコピーできません。"))
    name = source.name if source.is_library else _("%(name)s（コピー）") % {"name": source.name}
    now = timezone.now()
    copy = Scenario.objects.create(
        organization=organization,
        copied_from=source,
        name=name[: Scenario._meta.get_field("name").max_length],
        created_by=by,
        created_at=now,
        updated_at=now,
        **{field: getattr(source, field) for field in CONTENT_FIELDS},
    )
    # The learning app owns the fake login page's look; it depends on drills, so import it here.
    from mamori.learning.actions import copy_landing_page

    copy_landing_page(source, copy)
    record(
        "scenario.copied",
        organization=organization,
        actor=by,
        request=request,
        target=copy.name,
        scenario=str(copy.public_id),
        source=str(source.public_id),
    )
    return copy


def save_scenario(form, *, by, request=None) -> Scenario:
    """Save a scenario form (new or edited) of the ward; its templates were checked by the form."""
    scenario = form.instance
    if scenario.pk is not None and scenario.is_library:
        raise ScenarioError(_("ライブラリのシナリオは編集できません。コピーしてから編集してください。"))
    created = scenario.pk is None
    if created:
        scenario.created_by = by
    # Moves the compiled-template cache key (mamori.drills.rendering.compiled).
    scenario.updated_at = timezone.now()
    scenario = form.save()
    record(
        "scenario.created" if created else "scenario.updated",
        organization=scenario.organization,
        actor=by,
        request=request,
        target=scenario.name,
        scenario=str(scenario.public_id),
        changed=sorted(form.changed_data),
    )
    return scenario


def set_archived(scenario: Scenario, archived: bool, *, by, request=None) -> Scenario:
    """Archive a ward's scenario (hidden from new campaigns; history kept) or bring it back."""
    if scenario.is_library:
        raise ScenarioError(_("ライブラリのシナリオはアーカイブできません。"))
    scenario.archived = archived
    scenario.updated_at = timezone.now()
    scenario.save(update_fields=["archived", "updated_at"])
    record(
        "scenario.archived" if archived else "scenario.restored",
        organization=scenario.organization,
        actor=by,
        request=request,
        target=scenario.name,
        scenario=str(scenario.public_id),
    )
    return scenario


def sync_library_after_migrate(sender, *, using: str, apps=None, verbosity: int = 1, **kwargs) -> None:
    """``post_migrate`` receiver: a fresh install (and every upgrade) has the current library.

    Skipped while the database's scenario table is behind the model (``migrate drills 0001``). ``flush``
    (TransactionTestCase) sends the signal without ``apps``: its tables are current.
    """
    if apps is not None:
        try:
            migrated = {field.name for field in apps.get_model("drills", "Scenario")._meta.concrete_fields}
        except LookupError:
            return
        if migrated != {field.name for field in Scenario._meta.concrete_fields}:
            return
    result = sync_library(using=using)
    if verbosity >= 2:
        print(f"  Scenario library: {result.created} created, {result.updated} updated, {result.archived} archived")
