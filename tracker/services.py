"""Writes to recommendations. Every change of a tracked field goes through here.

Each function runs in one transaction and makes its change with one conditional
UPDATE (``WHERE version = based_on_version``), so two writers racing on the same
version cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from tracker.models import FieldChange, Note, Recommendation, Status, StatusUpdate

UNSET: Any = object()


class ConflictError(Exception):
    """The recommendation changed after the version the caller based its change on."""

    def __init__(self, recommendation: Recommendation, based_on_version: int):
        self.recommendation = recommendation
        self.based_on_version = based_on_version
        super().__init__(
            f"Recommendation {recommendation.pk} is at version {recommendation.version}, "
            f"not {based_on_version}."
        )


class ChangeError(ValueError):
    """The change asked for is not allowed (e.g. a status change without a rationale)."""


@dataclass(frozen=True)
class _Value:
    raw: str
    label: str


def _describe(field: str, value: Any) -> _Value:
    if value is None:
        return _Value("", "")
    if field == "owner":
        return _Value(str(value.pk), value.get_full_name() or value.get_username())
    if field == "priority":
        return _Value(str(value), Recommendation.Priority(value).label)
    if field == "next_review":
        return _Value(value.isoformat(), value.strftime("%d %b %Y").lstrip("0"))
    raise ValueError(field)


def recommendation_change(
    *,
    recommendation: Recommendation,
    by: AbstractBaseUser,
    based_on_version: int | None = None,
    status: Status = UNSET,
    rationale: str = "",
    evidence_source: str = "",
    evidence_url: str = "",
    evidence_date: datetime.date | None = None,
    owner: AbstractBaseUser | None = UNSET,
    priority: int = UNSET,
    next_review: datetime.date | None = UNSET,
    at: datetime.datetime | None = None,
    current: Recommendation | None = None,
) -> Recommendation:
    """Change any of the tracked fields at once, writing one history entry per change.

    ``based_on_version`` is the version the user saw; ``None`` means "whatever is
    current" (admin edits, bulk actions, scripts). Raises ``ConflictError`` if the
    row moved on meanwhile, ``ChangeError`` for a status change without a
    rationale. Fields left ``UNSET`` are not touched; a field set to its current
    value is not a change. ``at`` back-dates the entries (imports and the demo
    history, applied in time order); the default is now. Returns the
    recommendation as saved. Bulk callers pass ``current``, the row as read in their
    transaction, to save a query per row.
    """
    requested = {
        "status": status,
        "owner": owner,
        "priority": priority,
        "next_review": next_review,
    }
    requested = {field: value for field, value in requested.items() if value is not UNSET}
    rationale = rationale.strip()

    with transaction.atomic():
        current = current or Recommendation.objects.select_related("status", "owner").get(
            pk=recommendation.pk
        )
        if based_on_version is None:
            based_on_version = current.version
        elif current.version != based_on_version:
            raise ConflictError(current, based_on_version)

        changes = {
            field: value
            for field, value in requested.items()
            if _key(getattr(current, field)) != _key(value)
        }
        if not changes:
            return current
        if at is not None and _has_history_after(current, at):
            # tracker.history undoes later entries to rebuild the past: they must form a chain.
            raise ChangeError("History is written in time order: later entries already exist.")
        if "status" in changes and not rationale:
            raise ChangeError("A status change needs a rationale.")

        now = at or timezone.now()
        updated = Recommendation.objects.filter(pk=current.pk, version=based_on_version).update(
            **changes, version=F("version") + 1, updated_at=now
        )
        if updated != 1:
            raise ConflictError(Recommendation.objects.get(pk=current.pk), based_on_version)

        if "status" in changes:
            StatusUpdate.objects.create(
                recommendation=current,
                from_status=current.status,
                to_status=changes["status"],
                by=by,
                at=now,
                previous_at=StatusUpdate.objects.filter(recommendation_id=current.pk)
                .order_by("-at", "-id")
                .values_list("at", flat=True)
                .first(),
                version=based_on_version + 1,
                rationale=rationale,
                evidence_source=evidence_source.strip(),
                evidence_url=evidence_url.strip(),
                evidence_date=evidence_date,
            )
        FieldChange.objects.bulk_create(
            FieldChange(
                recommendation=current,
                field=field,
                old_value=(old := _describe(field, getattr(current, field))).raw,
                old_label=old.label,
                new_value=(new := _describe(field, value)).raw,
                new_label=new.label,
                by=by,
                at=now,
                version=based_on_version + 1,
            )
            for field, value in changes.items()
            if field != "status"
        )

    for field, value in changes.items():
        setattr(recommendation, field, value)
    recommendation.version = based_on_version + 1
    recommendation.updated_at = now
    return recommendation


def _has_history_after(recommendation: Recommendation, at: datetime.datetime) -> bool:
    return (
        StatusUpdate.objects.filter(recommendation=recommendation, at__gt=at).exists()
        or FieldChange.objects.filter(recommendation=recommendation, at__gt=at).exists()
    )


def _key(value: Any) -> Any:
    """Compare model instances by primary key and everything else by value."""
    return getattr(value, "pk", value)


def status_change(
    *,
    recommendation: Recommendation,
    to: Status,
    by: AbstractBaseUser,
    rationale: str,
    based_on_version: int | None = None,
    evidence_source: str = "",
    evidence_url: str = "",
    evidence_date: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> Recommendation:
    if to.pk == recommendation.status_id:
        raise ChangeError(f"The recommendation is already {to.name}.")
    return recommendation_change(
        recommendation=recommendation,
        by=by,
        based_on_version=based_on_version,
        status=to,
        rationale=rationale,
        evidence_source=evidence_source,
        evidence_url=evidence_url,
        evidence_date=evidence_date,
        at=at,
    )


def status_change_bulk(
    *, recommendations: QuerySet[Recommendation], to: Status, by: AbstractBaseUser, rationale: str
) -> int:
    """Move every selected recommendation not already there to ``to``, all or nothing.

    Returns how many changed.
    """
    if not rationale.strip():
        raise ChangeError("A status change needs a rationale.")
    with transaction.atomic():
        to_change = list(recommendations.exclude(status=to).select_related("status", "owner"))
        for recommendation in to_change:
            recommendation_change(
                recommendation=recommendation,
                by=by,
                status=to,
                rationale=rationale,
                current=recommendation,
            )
    return len(to_change)


def note_add(
    *,
    recommendation: Recommendation,
    by: AbstractBaseUser,
    text: str,
    based_on_version: int | None = None,
    at: datetime.datetime | None = None,
) -> Note:
    """Add a note. A note changes nothing, so it does not bump the version; but one
    written against an older version is refused, so that its author first sees
    what changed."""
    text = text.strip()
    if not text:
        raise ChangeError("A note needs some text.")
    with transaction.atomic():
        if based_on_version is not None:
            current = Recommendation.objects.get(pk=recommendation.pk)
            if current.version != based_on_version:
                raise ConflictError(current, based_on_version)
        return Note.objects.create(
            recommendation=recommendation, author=by, text=text, created_at=at or timezone.now()
        )


def status_import_apply(*, rows: list[dict[str, Any]], by: AbstractBaseUser) -> int:
    """Apply the rows of a status import (``tracker.status_import``), all or nothing.

    Each row is a mapping with ``recommendation``, ``version`` (the version the
    exported row showed), ``changes`` (tracked field name -> new value) and
    ``rationale``. Each goes through ``recommendation_change`` based on its
    version, so it writes the usual history with ``by`` as the author. A
    ``ConflictError`` or ``ChangeError`` from any row undoes every row. Returns
    how many recommendations changed.
    """
    changed = 0
    with transaction.atomic():
        current = Recommendation.objects.select_related("status", "owner").in_bulk(
            [row["recommendation"].pk for row in rows]
        )
        for row in rows:
            saved = recommendation_change(
                recommendation=row["recommendation"],
                by=by,
                based_on_version=row["version"],
                rationale=row["rationale"],
                current=current[row["recommendation"].pk],
                **row["changes"],
            )
            changed += saved.version != row["version"]
    return changed
