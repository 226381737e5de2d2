"""The status round trip: export the CSV, edit it in a spreadsheet, upload it, preview, apply."""

import csv
import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from zeal import zeal_ignore

from tracker import services, status_import
from tracker.models import FieldChange, Recommendation, Status, StatusUpdate
from tracker.tests.helpers import make_dialogue, make_recommendation, make_user

pytestmark = pytest.mark.usefixtures("seed")
IMPORT = reverse("status_import")
CONFIRM = reverse("status_import_confirm")


@pytest.fixture
def analyst(client):
    user = make_user("ana", role="Analyst", first_name="Ana", last_name="Lyst")
    client.force_login(user)
    return user


def rec(number: int) -> Recommendation:
    return Recommendation.objects.get(number=number)


def history() -> tuple[int, int]:
    return StatusUpdate.objects.count(), FieldChange.objects.count()


def export(client) -> list[dict]:
    """The real export's rows, as a spreadsheet would open them."""
    response = client.get(reverse("export_csv"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def to_csv(rows: list[dict], *, bom: bool = True, lineterminator: str = "\r\n") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator=lineterminator)
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def by_number(rows: list[dict], number: int) -> dict:
    return next(row for row in rows if row["number"] == str(number))


def upload(client, content: bytes, name: str = "statuses.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content, "text/csv")})


def confirm(client, preview_response):
    return client.post(CONFIRM, {"payload": preview_response.context["payload"]})


def problems(response) -> dict[int, str]:
    return {p.line: " ".join(p.reasons) for p in response.context["preview"].problems}


# The page ------------------------------------------------------------------------------


def test_the_upload_form_has_a_labelled_csv_file_input(client, analyst):
    response = client.get(IMPORT)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_file">CSV file</label>' in page
    assert 'type="file" name="file" id="id_file" accept=".csv"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "Export CSV" in page  # the explanation of the round trip


def test_a_viewer_gets_403_and_nothing_is_written(client):
    client.force_login(make_user("vic", role="Viewer"))
    assert client.get(IMPORT).status_code == 403
    assert upload(client, b"id,version\r\n1,1\r\n").status_code == 403
    assert client.post(CONFIRM, {"payload": "x"}).status_code == 403
    assert history() == (0, 0)


def test_anonymous_users_are_sent_to_log_in(client):
    for response in (client.get(IMPORT), client.post(CONFIRM, {"payload": "x"})):
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_confirm_only_accepts_post(client, analyst):
    assert client.get(CONFIRM).status_code == 405


# The round trip ------------------------------------------------------------------------


def test_the_round_trip_previews_then_applies_exactly_the_changes(client, analyst):
    colleague = make_user("olga", role="Analyst", first_name="Olga", last_name="Other")
    rows = export(client)
    row = by_number(rows, 1)
    row["status"], row["rationale"] = "On track", "The 11th SMA was signed."
    row["owner"] = "olga"
    by_number(rows, 2)["next_review"] = "2030-06-30"
    row = by_number(rows, 3)
    row["status"], row["rationale"] = "stalled", "No talks this year."  # a slug works too
    by_number(rows, 4)["priority"] = "High"
    by_number(rows, 5)["rationale"] = "A rationale alone changes nothing."

    preview = upload(client, to_csv(rows))

    assert preview.status_code == 200
    assert history() == (0, 0)  # nothing is written at the preview
    assert all(r.version == 1 for r in Recommendation.objects.all())
    result = preview.context["preview"]
    assert [row.line for row in result.changes] == [2, 3, 4, 5]
    assert (result.unchanged, result.problems) == (2, [])
    page = preview.content.decode()
    arrow = '<span aria-hidden="true">→</span><span class="visually-hidden">to</span>'
    assert f"Not started {arrow} <strong>On track</strong>" in page
    assert f"nobody {arrow} <strong>Olga Other (olga)</strong>" in page
    assert "The 11th SMA was signed." in page
    assert "Apply 5 changes" in page

    response = confirm(client, preview)

    assert response.status_code == 302 and response.url == reverse("recommendation_list")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["4 recommendations updated"]
    first, second, third, fourth = rec(1), rec(2), rec(3), rec(4)
    assert (first.status.name, first.owner, first.version) == ("On track", colleague, 2)
    assert second.next_review == datetime.date(2030, 6, 30)
    assert third.status.name == "Stalled"
    assert fourth.priority == Recommendation.Priority.HIGH
    assert (rec(5).version, rec(6).version) == (1, 1)
    updates = StatusUpdate.objects.order_by("recommendation__number")
    assert [(u.recommendation.number, u.by, u.rationale) for u in updates] == [
        (1, analyst, "The 11th SMA was signed."),
        (3, analyst, "No talks this year."),
    ]
    changes = FieldChange.objects.order_by("recommendation__number")
    assert [(c.recommendation.number, c.field, c.new_value, c.by) for c in changes] == [
        (1, "owner", str(colleague.pk), analyst),
        (2, "next_review", "2030-06-30", analyst),
        (4, "priority", "1", analyst),
    ]


def test_uploading_the_same_file_again_changes_nothing(client, analyst):
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="Agreed.")
    assert confirm(client, upload(client, to_csv(rows))).status_code == 302
    again = upload(client, to_csv(rows)).context["preview"]
    # The file's version is now old, but its values are the current ones: unchanged.
    assert (again.changes, again.problems, again.unchanged) == ([], [], 6)


def test_bad_rows_are_refused_with_their_reason_and_the_rest_applies(client, analyst):
    make_user("vic", role="Viewer")  # exists, but cannot own recommendations
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="Good row.")
    by_number(rows, 2).update(status="Stalled", rationale="")  # line 3
    by_number(rows, 3).update(status="Adopted-ish", rationale="x")  # line 4
    by_number(rows, 4).update(owner="vic")  # line 5
    by_number(rows, 5).update(next_review="31/12/2030")  # line 6
    by_number(rows, 6).update(next_review="2030-02-30", version="7")  # line 7
    duplicate = {**by_number(rows, 1), "id": "0" + by_number(rows, 1)["id"]}  # line 8, and 2
    unknown = {**by_number(rows, 2), "id": "999999"}  # line 9
    response = upload(client, to_csv([*rows, duplicate, unknown]))

    assert response.status_code == 200
    reasons = problems(response)
    assert "Missing rationale" in reasons[3]
    assert "Unknown status “Adopted-ish”" in reasons[4]
    assert "Unknown owner “vic”" in reasons[5]
    assert "Bad next review date “31/12/2030”: use YYYY-MM-DD" in reasons[6]
    assert "Bad next review date “2030-02-30”" in reasons[7]
    assert "Changed since the export (version 7 in the file, now 1)" in reasons[7]
    assert "Duplicate id" in reasons[2] and "also on line 8" in reasons[2]
    assert "Duplicate id" in reasons[8]
    assert "Unknown id “999999”" in reasons[9]
    assert response.context["preview"].changes == []
    page = response.content.decode()
    for reason in ("Missing rationale", "Unknown owner", "Duplicate id", "Unknown id"):
        assert reason in page
    assert "There is nothing to apply." in page and "Apply 0" not in page

    # Without the duplicate, the good row is the only one applied.
    response = confirm(client, upload(client, to_csv([*rows, unknown])))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["1 recommendation updated"]
    assert StatusUpdate.objects.get().rationale == "Good row."
    assert history() == (1, 0)
    assert [r.version for r in Recommendation.objects.order_by("number")] == [2, 1, 1, 1, 1, 1]


def test_a_row_whose_recommendation_changed_after_the_export_is_refused(client, analyst):
    rows = export(client)
    services.status_change(
        recommendation=rec(2), to=Status.objects.get(name="Stalled"), by=make_user(), rationale="x"
    )
    by_number(rows, 2).update(status="On track", rationale="Based on an old export.")
    # Row 3 was not touched in the spreadsheet: the file still shows its old status.
    services.recommendation_change(recommendation=rec(3), by=make_user(), priority=1)
    response = upload(client, to_csv(rows))
    reasons = problems(response)
    assert set(reasons) == {3, 4}
    assert "Changed since the export (version 1 in the file, now 2)" in reasons[3]
    assert "Changed since the export" in reasons[4]  # never silently undone
    assert response.context["preview"].unchanged == 4


def test_an_as_of_export_cannot_undo_later_changes(client, analyst):
    Recommendation.objects.update(created_at=timezone.now() - datetime.timedelta(days=10))
    services.status_change(
        recommendation=rec(2), to=Status.objects.get(name="Stalled"), by=make_user(), rationale="x"
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    body = b"".join(
        client.get(reverse("export_csv"), {"as_of": yesterday.isoformat()}).streaming_content
    )
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert by_number(rows, 2)["status"] == "Not started" and by_number(rows, 2)["version"] == "2"
    response = upload(client, to_csv(rows))
    assert "Changed since the export" in problems(response)[3]
    assert response.context["preview"].changes == []


def test_a_conflict_at_confirm_writes_nothing_and_names_the_stale_rows(client, analyst):
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="Fine.")
    by_number(rows, 2).update(status="Stalled", rationale="Will go stale.")
    preview = upload(client, to_csv(rows))
    services.recommendation_change(recommendation=rec(2), by=make_user("olga"), owner=analyst)
    before = history()

    response = confirm(client, preview)

    assert response.status_code == 409
    assert history() == before
    assert [r.version for r in Recommendation.objects.order_by("number")] == [1, 2, 1, 1, 1, 1]
    page = response.content.decode()
    assert (
        "Nothing was written: 1 row no longer applies: the data changed after the preview." in page
    )
    assert f"Line 3, 2. {rec(2).title}: Changed since the preview (version 1" in page
    # The other row is ready to apply again, from a fresh preview.
    assert "Apply 1 change" in page
    assert client.post(CONFIRM, {"payload": response.context["payload"]}).status_code == 302
    assert rec(1).status.name == "On track" and rec(2).status.name == "Not started"


def test_a_conflict_during_the_writes_undoes_the_rows_already_written(client, analyst, monkeypatch):
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="Written first, then undone.")
    by_number(rows, 2).update(next_review="2031-01-01")
    preview = upload(client, to_csv(rows))
    check_rows = status_import.check_rows

    def then_someone_saves(*args, **kwargs):
        result = check_rows(*args, **kwargs)
        # Another user's save, injected inside the request: not the view's own queries.
        with zeal_ignore():
            if rec(2).version == 1:  # only the first check: the race between check and write
                services.recommendation_change(recommendation=rec(2), by=make_user(), priority=1)
        return result

    monkeypatch.setattr(status_import, "check_rows", then_someone_saves)
    response = confirm(client, preview)

    assert response.status_code == 409
    assert StatusUpdate.objects.count() == 0
    assert rec(1).version == 1 and rec(1).status.name == "Not started"
    assert f"Line 3, 2. {rec(2).title}: Changed since the preview" in response.content.decode()


def test_a_forged_or_foreign_preview_is_refused(client, analyst):
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="Mine.")
    payload = upload(client, to_csv(rows)).context["payload"]
    forged = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    response = client.post(CONFIRM, {"payload": forged})
    assert response.status_code == 400
    assert "This preview could not be read" in response.content.decode()
    client.force_login(make_user("olga", role="Analyst"))
    assert client.post(CONFIRM, {"payload": payload}).status_code == 400
    assert client.post(CONFIRM, {}).status_code == 400
    assert history() == (0, 0)


def test_an_expired_preview_is_refused(client, analyst, monkeypatch):
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="Too late.")
    preview = upload(client, to_csv(rows))
    monkeypatch.setattr(status_import, "PREVIEW_MAX_AGE", -1)
    response = confirm(client, preview)
    assert response.status_code == 400
    assert "This preview has expired. Upload the file again." in response.content.decode()
    assert history() == (0, 0)


def test_a_preview_too_big_to_confirm_says_so_instead_of_offering_to_apply(
    client, analyst, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_100  # leaves 100 bytes for the signed rows
    rows = export(client)
    for row in rows:
        row.update(status="Stalled", rationale=f"Rationale for {row['title']}.")
    response = upload(client, to_csv(rows))
    assert response.status_code == 400
    assert "too many to apply at once" in response.content.decode()
    assert not response.context.get("payload")


def test_a_script_in_a_rationale_is_escaped_on_the_preview(client, analyst):
    rows = export(client)
    by_number(rows, 1).update(status="On track", rationale="<script>alert(1)</script>")
    page = upload(client, to_csv(rows)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Reading the file ----------------------------------------------------------------------


def test_a_hand_made_file_without_bom_with_lf_and_a_trailing_blank_line(client, analyst):
    first = rec(1)
    content = (
        "ID,Version,Status,Owner,Next_Review,Rationale\n"
        f"{first.pk},1,on TRACK,ANA,,'=Agreed; '-quoted\n"
        "\n"
    ).encode()
    response = upload(client, content)
    assert response.status_code == 200
    (row,) = response.context["preview"].changes
    assert row.changes == {"status": Status.objects.get(name="On track"), "owner": analyst}
    assert row.rationale == "=Agreed; '-quoted"  # the export's apostrophe, and only it, goes


@pytest.mark.parametrize(
    "value", ["31/12/2030", "20301231", "2030-02-30", "2030-1-5", "1999-12-31", "tomorrow"]
)
def test_only_an_iso_review_date_from_2000_to_2100_is_taken(value):
    with pytest.raises(ValueError, match="Bad next review date"):
        status_import._review_date(value)


def test_semicolons_and_windows_line_endings_are_read(client, analyst):
    rows = export(client)
    by_number(rows, 1).update(status="Stalled", rationale="Semicolons, as some Excels save.")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    response = upload(client, out.getvalue().encode("utf-8"))
    assert [row.line for row in response.context["preview"].changes] == [2]


def test_a_row_without_a_priority_column_keeps_the_priority(client, analyst):
    rows = [
        {key: value for key, value in row.items() if key != "priority"} for row in export(client)
    ]
    Recommendation.objects.filter(number=1).update(priority=1)
    preview = upload(client, to_csv(rows)).context["preview"]
    assert (preview.changes, preview.unchanged) == ([], 6)


HEADER = b"id,version,status,owner,next_review,rationale\r\n"
BAD_FILES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8"),
    "nul": (b"id,version\x00,status", "binary"),
    "workbook": (b"PK\x03\x04" + b"\x00" * 40, "spreadsheet workbook"),
    "latin-1": (HEADER + "1,1,Réversé,,,\r\n".encode("latin-1"), "not UTF-8"),
    "empty": (b"", "The file is empty."),
    "bom only": (b"\xef\xbb\xbf\r\n", "The file is empty."),
    "no columns": (
        b"id,title,status\r\n1,A,Stalled\r\n",
        "no “version”, “owner”, “next_review”, “rationale” columns",
    ),
    "no rows": (HEADER, "no rows"),
    "too big": (HEADER + b"x" * 5 * 1024 * 1024, "larger than 5 MB"),
    "too many rows": (HEADER + b"1,1,Stalled,,,x\r\n" * 20_001, "more than 20,000 rows"),
    "bad csv": (HEADER + b'1,1,"' + b"x" * 200_000, "could not be read as CSV"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_gets_400_with_a_message_and_writes_nothing(client, analyst, name):
    content, message = BAD_FILES[name]
    response = upload(client, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Nothing was changed." in page and 'role="alert"' in page
    assert not response.context.get("payload")
    assert history() == (0, 0)


def test_a_post_without_a_file_gets_400(client, analyst):
    response = client.post(IMPORT, {})
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()


def test_the_preview_query_count_does_not_grow_with_the_rows(client, analyst):
    def preview_queries() -> tuple[int, bytes]:
        rows = export(client)
        for row in rows:
            row.update(status="Stalled", rationale="Same query count.", owner="ana")
        content = to_csv(rows)
        with CaptureQueriesContext(connection) as queries:
            assert upload(client, content).status_code == 200
        return len(queries), content

    small, _ = preview_queries()
    dialogue = make_dialogue()
    for number in range(1, 60):
        make_recommendation(dialogue, number=number)
    large, _ = preview_queries()
    assert large <= small
