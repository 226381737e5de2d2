"""The status round trip: upload the list's CSV export back after editing it in a spreadsheet.

An analyst exports ``/recommendations/export.csv``, changes statuses, owners, next
review dates (and priorities) and fills the ``rationale`` column, then uploads the
file here. The upload answers with a preview of every change and every refused
row; nothing is written until the analyst confirms, and then every valid change
is applied in one transaction through ``services.status_import_apply``, which
writes the normal history (a status update with the rationale, field changes for
the rest) with the uploader as the author.

How the confirmation carries the changes: the preview page holds one hidden
field with the *cells* of the rows that change (id, version, status, owner,
next review, priority, rationale, status_as_of, line), signed with
``django.core.signing`` for this user and valid for a few hours. The confirm
view accepts nothing else: it checks the signature and then validates those
cells against the database again with the same code as the preview, so a
forged field is refused and a recommendation that moved since the preview is
caught. Only the changed rows travel (not the recommendations' verbatim text),
which keeps the field small; re-uploading the file would need the user to pick
it again, and storing it server-side would need cleanup: signing needs neither.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tracker import services
from tracker.exports import FORMULA_STARTS
from tracker.filters import trackers
from tracker.forms import TEXT_LIMIT
from tracker.models import Recommendation, Status

TEMPLATE = "tracker/status_import.html"
PERMISSION = "tracker.track_recommendation"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
REQUIRED = ("id", "version", "status", "owner", "next_review", "rationale")
# Read when present: priority is a tracked field; status_as_of tells an "as of" export.
OPTIONAL = ("priority", "status_as_of")
# What the signed preview carries for each changed row: the cells, never parsed values.
CARRIED = ("line", *REQUIRED, *OPTIONAL)
SIGNING_SALT = "tracker.status_import"
PREVIEW_MAX_AGE = 4 * 60 * 60  # seconds a preview can be confirmed
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ImportFileError(ValueError):
    """The whole file is refused (not CSV, too big, missing columns...)."""


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    old: str
    new: str


@dataclass
class RowChange:
    """A valid row that changes its recommendation."""

    line: int
    recommendation: Recommendation
    version: int
    changes: dict[str, Any]  # tracked field -> new value, for recommendation_change
    diffs: list[FieldDiff]
    rationale: str
    cells: dict[str, Any]  # what the signed preview carries

    @property
    def changes_status(self) -> bool:
        return "status" in self.changes


@dataclass
class Problem:
    """A refused row, with every reason found."""

    line: int
    id: str
    reasons: list[str]
    recommendation: Recommendation | None = None


@dataclass
class Preview:
    changes: list[RowChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unchanged: int = 0

    @property
    def change_count(self) -> int:
        """Field changes, as listed on the preview and applied."""
        return sum(len(row.diffs) for row in self.changes)

    def payload(self, user) -> str:
        rows = [row.cells for row in self.changes]
        return signing.dumps({"rows": rows}, salt=_salt(user), compress=True)


# Reading the file ---------------------------------------------------------------------


def read_rows(data: bytes) -> list[dict[str, Any]]:
    """The file's data rows as dicts of cleaned cells, each with its ``line``.

    Lines count the header as line 1, as a spreadsheet numbers its rows (a cell
    with line breaks stays on one line). Raises ``ImportFileError`` for a file
    that cannot be taken as a whole.
    """
    if len(data) > MAX_BYTES:
        raise ImportFileError("The file is larger than 5 MB. Upload fewer rows at a time.")
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "This looks like a spreadsheet workbook, not a CSV file. "
            "Save it as “CSV UTF-8” in your spreadsheet and upload that."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” in your spreadsheet, "
            "or start again from Export CSV."
        ) from None
    if "\x00" in text:
        raise ImportFileError("The file is binary, not a CSV text file.")
    if not text.strip():
        raise ImportFileError("The file is empty.")

    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            names = ", ".join(f"“{name}”" for name in missing)
            raise ImportFileError(
                f"The file has no {names} column{'s' if len(missing) > 1 else ''}. "
                "Start from Export CSV on the recommendation list and keep its header row."
            )
        repeated = sorted(name for name, n in Counter(header).items() if n > 1 and name)
        if set(repeated) & set(CARRIED):
            raise ImportFileError(
                f"The column “{repeated[0]}” appears more than once in the header."
            )
        wanted = {name: header.index(name) for name in CARRIED if name in header}
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, e.g. the one a spreadsheet leaves at the end
            if len(rows) == MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {MAX_ROWS:,} rows. Split it and upload each part."
                )
            row: dict[str, Any] = {"line": line}
            for name, index in wanted.items():
                row[name] = _clean(cells[index]) if index < len(cells) else ""
            rows.append(row)
    except csv.Error as error:
        raise ImportFileError(
            f"The file could not be read as CSV near line {reader.line_num}: {error}."
        ) from None
    if not rows:
        raise ImportFileError("The file has a header but no rows.")
    return rows


def _dialect(text: str) -> type[csv.Dialect]:
    """Commas, or the semicolons or tabs some spreadsheets save "CSV" with."""
    first_line = text.split("\n", 1)[0]
    for delimiter in (",", ";", "\t"):
        names = {name.strip().strip('"').lower() for name in first_line.split(delimiter)}
        if names.issuperset(REQUIRED):
            return type("Imported", (csv.excel,), {"delimiter": delimiter})
    return csv.excel


def _clean(cell: str) -> str:
    """Trim the cell and undo the apostrophe the export puts before formula characters."""
    cell = cell.strip()
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        cell = cell[1:].strip()
    return cell


# Checking the rows against the database -----------------------------------------------


class _Lookups:
    """What validating rows needs, read once for the whole file."""

    def __init__(self, rows: list[dict[str, Any]]):
        ids = {int(row["id"]) for row in rows if row.get("id", "").isdecimal()}
        # Big ids would overflow the database's integer; they are unknown anyway.
        ids = {pk for pk in ids if pk < 2**31}
        self.recommendations = (
            Recommendation.objects.select_related("dialogue", "status", "owner")
            .only(
                "id",
                "number",
                "title",
                "version",
                "priority",
                "next_review",
                "updated_at",
                "status",
                "owner",
                "dialogue__title",
            )
            .in_bulk(ids)
        )
        statuses = list(Status.objects.all())
        self.statuses = {status.slug.casefold(): status for status in statuses}
        # A name wins over another status's slug.
        self.statuses.update({status.name.casefold(): status for status in statuses})
        self.owners = {user.get_username(): user for user in trackers()}
        self.owners_folded: dict[str, list] = {}
        for name, user in self.owners.items():
            self.owners_folded.setdefault(name.casefold(), []).append(user)
        self.priorities = {
            label.casefold(): value for value, label in Recommendation.Priority.choices
        }

    def owner(self, username: str):
        if username in self.owners:
            return self.owners[username]
        # Spreadsheets like to capitalise; accept that when it is unambiguous.
        matches = self.owners_folded.get(username.casefold(), [])
        return matches[0] if len(matches) == 1 else None


def check_rows(rows: list[dict[str, Any]], *, at_confirm: bool = False) -> Preview:
    """Sort rows into changes, problems and unchanged rows against the database now.

    A row is a change where one of its values differs from the current one. At
    confirmation (``at_confirm``) every row was a valid change at the preview, so
    one whose recommendation moved on is stale even if it now matches.
    """
    lookups = _Lookups(rows)
    preview = Preview()
    lines_by_id: dict[Any, list[int]] = {}
    for row in rows:
        lines_by_id.setdefault(_id_key(row.get("id", "")), []).append(row["line"])
    for row in rows:
        outcome = _check_row(row, lookups, lines_by_id, at_confirm)
        if isinstance(outcome, Problem):
            preview.problems.append(outcome)
        elif outcome is None:
            preview.unchanged += 1
        else:
            preview.changes.append(outcome)
    return preview


def _id_key(raw_id: str) -> Any:
    """Ids as numbers, so that "5" and "05" are the same row twice."""
    return int(raw_id) if raw_id.isdecimal() else raw_id


def _check_row(row, lookups: _Lookups, lines_by_id, at_confirm: bool) -> RowChange | Problem | None:
    line, raw_id = row["line"], row.get("id", "")
    recommendation = lookups.recommendations.get(int(raw_id)) if raw_id.isdecimal() else None
    problem = Problem(line=line, id=raw_id, reasons=[], recommendation=recommendation)
    if recommendation is None:
        problem.reasons.append(
            f"Unknown id “{raw_id}”: there is no such recommendation."
            if raw_id
            else "Unknown id: the id is empty."
        )
        return problem
    others = [other for other in lines_by_id[_id_key(raw_id)] if other != line]
    if others:
        problem.reasons.append(
            f"Duplicate id {raw_id}: it is also on line {', '.join(map(str, others))}. "
            "Neither row is applied."
        )
        return problem

    changes: dict[str, Any] = {}
    diffs: list[FieldDiff] = []

    status_name = row.get("status", "")
    status = lookups.statuses.get(status_name.casefold())
    if status is None:
        problem.reasons.append(
            f"Unknown status “{status_name}”." if status_name else "Unknown status: it is empty."
        )
    elif status.pk != recommendation.status_id:
        changes["status"] = status
        diffs.append(FieldDiff("status", "Status", recommendation.status.name, status.name))

    username = row.get("owner", "")
    current_owner = recommendation.owner.get_username() if recommendation.owner else ""
    if username != current_owner:
        owner = lookups.owner(username) if username else None
        if username and owner is None:
            problem.reasons.append(
                f"Unknown owner “{username}”: not the username of someone who can own "
                "recommendations."
            )
        elif owner != recommendation.owner:
            changes["owner"] = owner
            diffs.append(FieldDiff("owner", "Owner", _person(recommendation.owner), _person(owner)))

    review = row.get("next_review", "")
    try:
        next_review = _review_date(review)
    except ValueError as error:
        problem.reasons.append(str(error))
    else:
        if next_review != recommendation.next_review:
            changes["next_review"] = next_review
            diffs.append(
                FieldDiff(
                    "next_review",
                    "Next review",
                    _day(recommendation.next_review),
                    _day(next_review),
                )
            )

    if "priority" in row:
        priority = lookups.priorities.get(row["priority"].casefold())
        if priority is None:
            problem.reasons.append(
                f"Unknown priority “{row['priority']}”: use High, Medium or Low."
            )
        elif priority != recommendation.priority:
            changes["priority"] = priority
            diffs.append(
                FieldDiff(
                    "priority",
                    "Priority",
                    recommendation.get_priority_display(),
                    Recommendation.Priority(priority).label,
                )
            )

    rationale = row.get("rationale", "")
    if "status" in changes and not rationale:
        problem.reasons.append("Missing rationale: a status change needs one.")
    if len(rationale) > TEXT_LIMIT:
        problem.reasons.append(f"The rationale is longer than {TEXT_LIMIT:,} characters.")

    version = int(row["version"]) if row.get("version", "").isdecimal() else None
    if version is None:
        problem.reasons.append(
            f"Bad version “{row.get('version', '')}”: keep the number the export wrote."
        )
    elif (changes or problem.reasons or at_confirm) and _moved_on(recommendation, version, row):
        since = "the preview" if at_confirm else "the export"
        problem.reasons.append(
            f"Changed since {since} (version {version} in the file, now "
            f"{recommendation.version}): export again and redo this row."
        )

    if problem.reasons:
        return problem
    if not changes:
        return None
    return RowChange(
        line=line,
        recommendation=recommendation,
        version=version,
        changes=changes,
        diffs=diffs,
        rationale=rationale,
        cells={name: row[name] for name in CARRIED if name in row},
    )


def _moved_on(recommendation: Recommendation, version: int, row: dict[str, Any]) -> bool:
    """The recommendation changed after the state the row shows.

    The version catches a change after a normal export. An export "as of" a past
    day carries today's version with that day's values, so the ``status_as_of``
    stamp catches those: a recommendation changed after it (the export writes
    whole seconds).
    """
    if version != recommendation.version:
        return True
    try:
        stamp = datetime.datetime.fromisoformat(row.get("status_as_of", ""))
    except ValueError:
        return False
    if timezone.is_naive(stamp):
        stamp = timezone.make_aware(stamp)
    return recommendation.updated_at.replace(microsecond=0) > stamp


def _review_date(value: str) -> datetime.date | None:
    if not value:
        return None
    error = ValueError(f"Bad next review date “{value}”: use YYYY-MM-DD, or leave it empty.")
    if not ISO_DATE.fullmatch(value):
        raise error
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise error from None
    if not datetime.date(2000, 1, 1) <= day <= datetime.date(2100, 12, 31):
        raise ValueError(f"Bad next review date “{value}”: give a date between 2000 and 2100.")
    return day


def _person(user) -> str:
    if user is None:
        return "nobody"
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else "none"


def _salt(user) -> str:
    # Bound to the uploader: a preview cannot be confirmed by someone else.
    return f"{SIGNING_SALT}:{user.pk}"


# Views --------------------------------------------------------------------------------


def _require_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _page(request: HttpRequest, status: int = 200, **context) -> HttpResponse:
    preview = context.get("preview")
    if preview is not None and preview.changes:
        payload = preview.payload(request.user)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # The confirm POST must fit Django's limit on a request's form data.
        if limit is not None and len(payload) > limit - 10_000:
            context["error"] = (
                "These changes are too many to apply at once. Split the file and upload each part."
            )
            status = 400
        else:
            context["payload"] = payload
    return render(request, TEMPLATE, {"max_rows": f"{MAX_ROWS:,}", **context}, status=status)


@login_required
def status_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST: the preview of the uploaded file; nothing is written."""
    _require_permission(request)
    if request.method != "POST":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, 400, error="Choose a CSV file to upload.")
    if upload.size > MAX_BYTES:
        return _page(
            request, 400, error="The file is larger than 5 MB. Upload fewer rows at a time."
        )
    try:
        rows = read_rows(upload.read(MAX_BYTES + 1))
    except ImportFileError as error:
        return _page(request, 400, error=str(error))
    return _page(request, preview=check_rows(rows), filename=upload.name)


@login_required
@require_POST
def status_import_confirm(request: HttpRequest) -> HttpResponse:
    """Apply the previewed changes, all or nothing, after checking them again.

    409 with a fresh preview (the rows that no longer apply as problems, the rest
    ready to apply) when the data changed after the preview; nothing is written then.
    """
    _require_permission(request)
    payload = request.POST.get("payload", "")
    try:
        rows = signing.loads(payload, salt=_salt(request.user), max_age=PREVIEW_MAX_AGE)["rows"]
    except signing.SignatureExpired:
        return _page(request, 400, error="This preview has expired. Upload the file again.")
    except (signing.BadSignature, KeyError, TypeError):
        return _page(request, 400, error="This preview could not be read. Upload the file again.")
    if not rows:
        return _page(request, 400, error="There was nothing to apply. Upload the file again.")

    preview = check_rows(rows, at_confirm=True)
    if preview.problems:
        return _page(request, 409, preview=preview, conflict=True)
    try:
        count = services.status_import_apply(
            rows=[
                {
                    "recommendation": row.recommendation,
                    "version": row.version,
                    "changes": row.changes,
                    "rationale": row.rationale,
                }
                for row in preview.changes
            ],
            by=request.user,
        )
    except services.ConflictError:
        # Someone saved between our check and our writes: all was undone; say which.
        preview = check_rows(rows, at_confirm=True)
        return _page(request, 409, preview=preview, conflict=True)
    except services.ChangeError as error:
        return _page(request, 400, error=f"Nothing was written: {error}")
    messages.success(request, f"{count} recommendation{'s' if count != 1 else ''} updated")
    return redirect("recommendation_list")
